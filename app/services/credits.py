"""Customers' credit balances: every change is one conditional ``UPDATE`` in the caller's
transaction, so concurrent checkouts, refunds and undos never lose a write and a balance
never goes negative (the database decides, not a value read earlier)."""

import sqlalchemy as sa

from app.extensions import db
from app.models import User


def charge(user_id: int, amount: int) -> bool:
    """Take ``amount`` credits from user ``user_id`` if the balance covers it. Returns
    whether it was taken (``False``: the balance was short, or no such user); the caller
    raises and rolls back."""
    taken = db.session.execute(
        sa.update(User)
        .where(User.id == user_id, User.credits >= amount)
        .values(credits=User.credits - amount)
    ).rowcount
    return taken == 1


def refund(user_id: int, amount: int) -> None:
    """Give ``amount`` credits back to user ``user_id`` (a cancel)."""
    db.session.execute(
        sa.update(User).where(User.id == user_id).values(credits=User.credits + amount)
    )
