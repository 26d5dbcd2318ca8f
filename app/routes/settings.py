"""The account page: change the password, see one's sessions (device, address, last seen)
and end any of them, or all but this one."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import login_guard
from app.extensions import db
from app.forms import ChangePasswordForm, EmptyForm
from app.services import ServiceError, accounts, devices, sessions

bp = Blueprint("settings", __name__, url_prefix="/account")


def _page(form=None, status=200):
    return render_template(
        "account/settings.html",
        form=form or ChangePasswordForm(),
        end_form=EmptyForm(),
        sessions=devices.describe(sessions.of_user(current_user.id), current_user.session_id),
        idle_days=devices.duration_text(current_app.config["SESSION_IDLE_TIMEOUT_SECONDS"]),
        max_days=devices.duration_text(current_app.config["SESSION_ABSOLUTE_TIMEOUT_SECONDS"]),
    ), status


@bp.get("")
@login_required
def account():
    """The signed-in user's password form and sessions: each with its device ("Chrome on
    Android"), address, sign-in time, last seen, "this device", and a "Log out" button."""
    return _page()


@bp.get("/password")
@login_required
def password_form():
    """The form lives on the account page (a refused change comes back here: 303)."""
    return redirect(url_for("settings.account") + "#password-title")


@bp.post("/password")
@login_required
@login_guard.password_limits
def change_password():
    """Change the password (the current one required): this session gets a new id (a copy
    of its cookie stops working), every other session ends with its open streams, older
    device cookies stop counting (302 with a flash). A wrong current password or a bad new
    one: a flash and the form again (422). Wrong current passwords are limited per session
    and per user (429: a flash and a 303 back)."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        flash("Please check the form.", "error")
        return _page(form, 422)
    try:
        ended = accounts.change_password(current_user, form.current.data, form.password.data)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        g.wrong_password = isinstance(exc, accounts.WrongPassword)
        flash(exc.message, "error")
        return _page(form, exc.status_code)
    login_user(current_user._get_current_object())  # the cookie names the new session id
    flash(f"Password changed. {_sessions(ended)} ended.", "success")
    return redirect(url_for("settings.account"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    """Log out every other session of this account (a lost phone, a shared computer); this
    one goes on under a new id, so a copy of its cookie is logged out too."""
    if not EmptyForm().validate_on_submit():
        flash("Please try again.", "error")
        return redirect(url_for("settings.account")), 303
    ended = sessions.rotate(current_user, "other-sessions")
    db.session.commit()
    login_user(current_user._get_current_object())
    flash(f"{_sessions(ended)} ended.", "success")
    return redirect(url_for("settings.account"))


@bp.post("/sessions/<handle>/end")
@login_required
def end_session(handle: str):
    """Log out one session of this account, named by its handle on the account page (CSRF
    checked). This session: a logout. Not one of the user's live sessions: 404 with a
    flash (the page again)."""
    if not EmptyForm().validate_on_submit():
        flash("Please try again.", "error")
        return redirect(url_for("settings.account")), 303
    record = sessions.by_handle(current_user.id, handle)
    if record is None:
        flash("That session has already ended.", "error")
        return _page(status=404)
    sessions.end(current_user.id, record.id, "logout" if _is_this(record) else "ended")
    db.session.commit()
    if _is_this(record):
        logout_user()
        flash("You are logged out.", "info")
        return redirect(url_for("shop.index"))
    flash("That session is logged out.", "success")
    return redirect(url_for("settings.account"))


def _is_this(record) -> bool:
    return record.id == current_user.session_id


def _sessions(n: int) -> str:
    return "No other session" if n == 0 else ("1 other session" if n == 1 else f"{n} others")
