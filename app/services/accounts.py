"""Creating accounts."""

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from app.extensions import db
from app.models import User
from app.services import Conflict, Invalid

__all__ = ["Conflict", "User", "create_user", "normalise_email"]


def normalise_email(email: str) -> str:
    """``email`` checked and lower-cased; raises ``Invalid`` (422) for a malformed address
    or a special-use domain (``.test``, ``.local``, ``.localhost``, ``.invalid``, ...).

    The one rule for every account (registration, demo data, CLI, test factories):
    email-validator's defaults without a DNS lookup, the same check as the registration
    form's ``Email()`` validator, which refuses RFC 6761 special-use names because no mail
    can be delivered there. Placeholder addresses use RFC 2606's ``example.com``.
    """
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(f"Invalid email address: {exc}") from None


def create_user(
    username: str, email: str, password: str, role: str = "customer", credits: int = 0
) -> User:
    """Add a user (not committed). Raises ``Conflict`` (409) when the username or email is
    taken and ``Invalid`` (422) for an unknown role, a password under 8 characters or an
    email address ``normalise_email`` refuses."""
    username, email = username.strip(), normalise_email(email)
    if role not in ("customer", "admin"):
        raise Invalid(f"Unknown role {role!r}")
    if len(password) < 8:
        raise Invalid("Passwords need at least 8 characters")
    taken = db.session.scalar(
        sa.select(User).where(sa.or_(User.username == username, User.email == email))
    )
    if taken is not None:
        field = "username" if taken.username == username else "email"
        raise Conflict(f"That {field} is already registered")
    user = User(username=username, email=email, role=role, credits=credits)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
