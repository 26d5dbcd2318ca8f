"""Creating accounts and checking passwords."""

import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.models.timestamps import utcnow
from app.models.user import ROLES
from app.services import Conflict, Invalid, sessions, usernames

__all__ = [
    "Conflict",
    "User",
    "WrongPassword",
    "authenticate",
    "change_password",
    "create_user",
    "normalise_email",
    "set_active",
    "set_role",
]

_dummy_hash: str | None = None


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
    """Add a user (not committed). The username is stored NFKC-normalised and must be unique
    case-insensitively (``app/services/usernames.py``).

    Raises ``Conflict`` (409) when the username (in any case or width) or the email is
    taken, and ``Invalid`` (422) for an unknown role, a password under 8 characters, an
    empty username or one that mixes alphabets, or an email address ``normalise_email``
    refuses."""
    username, email = usernames.normalize(username), normalise_email(email)
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}")
    if len(password) < 8:
        raise Invalid("Passwords need at least 8 characters")
    if not username:
        raise Invalid("A username is required")
    usernames.check_scripts(username)
    key = usernames.canonical(username)
    # Hash first, before this request holds a pooled connection: under a burst the hash
    # waits for the bounded hash threads, and connections held meanwhile starve checkouts.
    user = User(username=username, username_canonical=key, email=email, role=role, credits=credits)
    user.set_password(password)
    taken = db.session.scalar(
        sa.select(User).where(sa.or_(User.username_canonical == key, User.email == email))
    )
    if taken is not None:
        field = "username" if taken.username_canonical == key else "email"
        raise Conflict(f"That {field} is already registered")
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same name won
        raise Conflict("That username or email is already registered") from exc
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else ``None``.

    An unknown username is verified against a dummy hash made the same way as real ones, so
    both answers cost one hash (no enumeration by timing). The request's
    database session is closed before the hash (call this before writing anything): a burst
    of logins waits for the hash threads without holding pooled connections."""
    dummy = dummy_hash()
    key = usernames.canonical(username)
    row = db.session.execute(
        sa.select(User.id, User.password_hash).where(User.username_canonical == key)
    ).first()
    db.session.close()
    if not User(password_hash=row.password_hash if row else dummy).check_password(password):
        return None
    user = db.session.get(User, row.id) if row else None
    return user if user is not None and user.active else None


class WrongPassword(Invalid):
    """The current password given was not the user's (422); limited like a failed login."""


def change_password(user: User, current: str, new: str) -> int:
    """Set ``user``'s password to ``new`` after checking ``current``; the current session
    gets a new id and every other session ends (``sessions.rotate``: a copied cookie, even
    of this session, is shut out), and login device cookies made before stop exempting
    their browser from the login limits (``password_changed_at``). Returns how many other
    sessions ended. Raises ``Invalid`` (422) for a new password under 8 characters and
    ``WrongPassword`` (422) for a wrong current one. The caller commits and logs the user
    in again on the new id. Both hashes run off the event loop (``app/offload.py``)."""
    if len(new or "") < 8:
        raise Invalid("Passwords need at least 8 characters")
    if not user.check_password(current or ""):
        raise WrongPassword("Your current password is not right")
    user.set_password(new)
    user.password_changed_at = utcnow()
    return sessions.rotate(user, "password")


def set_role(user: User, role: str) -> int:
    """Make ``user`` a ``customer`` or an ``admin``; a change ends all their sessions (a
    demoted admin's open dashboards close). Returns how many ended. Raises ``Invalid``
    (422) for an unknown role."""
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}; expected one of {list(ROLES)}")
    if user.role == role:
        return 0
    user.role = role
    return sessions.end_all(user.id, "role")


def set_active(user: User, active: bool) -> int:
    """Deactivate (every session ends, no new login) or reactivate ``user``."""
    user.active = active
    return 0 if active else sessions.end_all(user.id, "deactivated")


def dummy_hash() -> str:
    """A hash of a random password with the current method and cost (made once)."""
    global _dummy_hash
    if _dummy_hash is None:
        probe = User()
        probe.set_password(secrets.token_urlsafe(24))
        _dummy_hash = probe.password_hash
    return _dummy_hash
