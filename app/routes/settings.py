"""The account page: change the password, see and end one's sessions (issue 11)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.forms import ChangePasswordForm, EmptyForm
from app.security import customer_required
from app.services import ServiceError, accounts, sessions

bp = Blueprint("settings", __name__, url_prefix="/account")


def _page(form=None, status=200):
    return render_template(
        "account/settings.html",
        form=form or ChangePasswordForm(),
        end_form=EmptyForm(),
        sessions=sessions.of_user(current_user.id),
    ), status


@bp.get("")
@customer_required
def account():
    """The signed-in user's password form and sessions (this one marked)."""
    return _page()


@bp.post("/password")
@customer_required
def change_password():
    """Change the password (the current one required): every other session ends, with its
    open streams; this one goes on. A wrong current password or a bad new one: a flash and
    the form again (422)."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        flash("Please check the form.", "error")
        return _page(form, 422)
    try:
        ended = accounts.change_password(current_user, form.current.data, form.password.data)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page(form, exc.status_code)
    flash(f"Password changed. {_sessions(ended)} ended.", "success")
    return redirect(url_for("settings.account"))


@bp.post("/sessions/end-others")
@customer_required
def end_other_sessions():
    """Log out every other session of this account (a lost phone, a shared computer)."""
    if not EmptyForm().validate_on_submit():
        flash("Please try again.", "error")
        return redirect(url_for("settings.account"))
    ended = sessions.end_all(current_user.id, "other-sessions", keep=current_user.session_id)
    db.session.commit()
    flash(f"{_sessions(ended)} ended.", "success")
    return redirect(url_for("settings.account"))


def _sessions(n: int) -> str:
    return "No other session" if n == 0 else ("1 other session" if n == 1 else f"{n} others")
