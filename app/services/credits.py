"""Customers' credit balances: every change is one conditional ``UPDATE`` in the caller's
transaction, so concurrent checkouts, refunds and undos never lose a write and a balance
never goes negative (the database decides, not a value read earlier)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import User

_users = User.__table__
CHARGE = (
    sa.update(_users)
    .where(_users.c.id == sa.bindparam("user_id"), _users.c.credits >= sa.bindparam("amount"))
    .values(credits=_users.c.credits - sa.bindparam("amount"))
    .returning(_users.c.credits)
)


def charge(user_id: int, amount: int) -> bool:
    """Take ``amount`` credits from user ``user_id`` if the balance covers it. Returns
    whether it was taken (``False``: the balance was short, or no such user); the caller
    raises and rolls back. A ``User`` already loaded in the session shows the new balance
    (a Core statement: the ORM's own ``UPDATE`` costs several times more Python)."""
    left = db.session.connection().execute(CHARGE, {"user_id": user_id, "amount": amount})
    left = left.scalar()
    if left is None:
        return False
    loaded = db.session.identity_map.get(so.util.identity_key(User, user_id))
    if loaded is not None:
        so.attributes.set_committed_value(loaded, "credits", left)
    return True


def refund(user_id: int, amount: int) -> None:
    """Give ``amount`` credits back to user ``user_id`` (a cancel)."""
    db.session.execute(
        sa.update(User).where(User.id == user_id).values(credits=User.credits + amount)
    )
