"""Register, log in, log out."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from app.extensions import db, limiter
from app.forms import EmptyForm, LoginForm, RegisterForm
from app.security import (
    failed_login,
    limits_off,
    login_limit,
    login_limit_key,
    start_session,
)
from app.services import ServiceError, accounts

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
@limiter.limit(
    login_limit,
    key_func=login_limit_key,
    methods=["POST"],
    deduct_when=failed_login,
    exempt_when=limits_off,
    error_message="Too many login attempts: wait a minute and try again.",
)
def login():
    """Log in with ``username`` and ``password``; a wrong pair flashes an error (200).

    Success renews the session (only the cart is kept) and redirects (302). After
    ``RATELIMIT_LOGIN`` failed attempts per client address and username every attempt is
    refused for the window: a flash and a 303 back to the form (429 JSON for clients that
    ask for JSON)."""
    if current_user.is_authenticated:
        return redirect(url_for("shop.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            sa.select(accounts.User).where(accounts.User.username == form.username.data.strip())
        )
        if user is None or not user.check_password(form.password.data):
            flash("Wrong username or password.", "error")
            return render_template("auth/login.html", form=form), 200
        start_session(user)
        default = url_for("admin.manage_orders") if user.is_admin else url_for("shop.index")
        return redirect(_safe_next(default))
    return render_template("auth/login.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a customer account with ``SIGNUP_CREDITS`` credits and log it in."""
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
        flash(f"Welcome, {user.username}! You have {user.credits} credits to spend.", "success")
        return redirect(url_for("shop.index"))
    return render_template("auth/register.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (POST with CSRF, so no link can log someone out)."""
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("shop.index"))
