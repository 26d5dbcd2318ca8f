"""Register, log in, log out."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from app import login_guard
from app.extensions import db
from app.forms import EmptyForm, LoginForm, RegisterForm
from app.security import start_session
from app.services import ServiceError, accounts, sessions, usernames

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(default: str) -> str:
    target = request.args.get("next") or ""
    # Only same-site relative paths: an open redirect would make phishing easy. Browsers
    # read "/\\host" as "//host", and drop control characters, so refuse both.
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


@bp.route("/login", methods=["GET", "POST"])
@login_guard.login_limits
def login():
    """Log in with ``username`` (any case or Unicode width) and ``password``; a wrong pair
    flashes an error (200), taking as long for an unknown username as for a known one.

    Success renews the session (only the cart is kept), sets the device cookie that exempts
    this browser from the limits others can fill, and redirects (302). Failed attempts are
    limited per address and username, per address, and per username (``app/login_guard.py``);
    past a limit every attempt is refused for the window: a flash and a 303 back to the form
    (429 JSON for clients that ask for JSON)."""
    if current_user.is_authenticated:
        # A page whose session was rotated by this browser (a password change in another
        # tab) comes here with ?next=: it goes back there, still signed in.
        return redirect(_safe_next(url_for("shop.index")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            flash("Wrong username or password.", "error")
            return render_template("auth/login.html", form=form), 200
        start_session(user)
        db.session.commit()
        default = url_for("admin.manage_orders") if user.is_admin else url_for("shop.index")
        response = redirect(_safe_next(default))
        login_guard.remember_device(response, usernames.canonical(user.username))
        return response
    return render_template("auth/login.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@login_guard.register_limit
def register():
    """Create a customer account with ``SIGNUP_CREDITS`` credits and log it in (302).

    A taken username (in any case or width) or email answers 409, a name mixing alphabets
    422, both with a flash; ``RATELIMIT_REGISTER`` POSTs per client address (429: a flash
    and a 303 back)."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data,
                form.email.data,
                form.password.data,
                credits=current_app.config["SIGNUP_CREDITS"],
            )
            db.session.commit()
        except ServiceError as exc:  # 409 name or email taken, 422 (the form checks first)
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("auth/register.html", form=form), exc.status_code
        start_session(user)
        db.session.commit()
        flash(f"Welcome, {user.username}! You have {user.credits} credits to spend.", "success")
        return redirect(url_for("shop.index"))
    return render_template("auth/register.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (POST with CSRF, so no link can log someone out): the server-side session
    ends, so a copy of the cookie is anonymous too, and this session's open streams close
    on every worker."""
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            sessions.end(current_user.id, current_user.session_id, "logout")
            db.session.commit()
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("shop.index"))
