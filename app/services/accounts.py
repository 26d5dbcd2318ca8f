"""Creating accounts."""

import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.services import Conflict, Invalid

__all__ = ["Conflict", "User", "create_user"]


def create_user(
    username: str, email: str, password: str, role: str = "customer", credits: int = 0
) -> User:
    """Add a user (not committed). Raises ``Conflict`` (409) when the username or email is
    taken and ``Invalid`` (422) for an unknown role or a password under 8 characters."""
    username, email = username.strip(), email.strip().lower()
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
