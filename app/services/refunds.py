"""Partial refunds: give a customer back part of what an order cost, up to what remains.

A refund is a change of its own through ``record_change`` (kind ``refunded``, the amount in
the entry's ``credits``, the reason in its ``note``): the customer's balance, the revenue
bucket of the order's time and the CSV's ``refunded_credits`` move in one transaction, so
``flask reconcile-counts`` finds no drift and every open page hears of it. A later cancel
refunds only the rest (``status.cancel_order``).
"""

from typing import Annotated

import sqlalchemy as sa
import sqlalchemy.orm as so
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from app.extensions import db
from app.models import Order, User
from app.models.limits import MAX_DB_INT
from app.models.timestamps import utcnow
from app.services import Conflict, credits, write_gate
from app.services.bodies import Refusal, check, refuse
from app.services.changes import record_change

MAX_REASON = 300
_NOT_AN_INT = ("missing", "int_type")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise refuse("reason", "A refund reason is required")
    if len(reason) > MAX_REASON:
        raise refuse("reason", f"The reason is longer than {MAX_REASON} characters")
    return reason


class RefundBody(BaseModel):
    """``{"credits": int 1..2³¹−1, "reason": str}`` (the reason stripped, 1..300
    characters)."""

    model_config = ConfigDict(strict=True)

    credits: Annotated[StrictInt, Field(ge=1, le=MAX_DB_INT)]
    reason: Annotated[StrictStr, AfterValidator(_reason)]


# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal((), 'Send JSON {"credits": <int>, "reason": "..."}', 400, ("model_type",)),
    Refusal(("credits",), "credits must be a whole number of credits", 400, _NOT_AN_INT),
    # Past 2³¹−1, more than any order can cost: said so, not "at least 1".
    Refusal(("credits",), "credits are more than the order's total", 422, ("less_than_equal",)),
    Refusal(("credits",), "credits must be at least 1"),
    Refusal(("reason",), types=("reason",)),
    Refusal(("reason",), "A refund reason is required"),  # missing, or not a string
)


def parse_refund(payload) -> tuple[int, str]:
    """``{"credits": int >= 1, "reason": str (1..300 chars)}`` → ``(credits, reason)``
    (``RefundBody``). Raises ``Invalid``: 400 for a body that is not an object or
    ``credits`` that is not an integer (``true``, ``"5"``, ``5.0`` are not), 422 for credits
    below 1 or above 2³¹−1 (more than any order's total), or a missing, blank or overlong
    reason. One refusal per body: the first in ``REFUSALS``' order."""
    body = check(RefundBody, payload, REFUSALS)
    return body.credits, body.reason


def refund_order(order: Order, amount: int, reason: str, actor: User) -> Order:
    """Refund ``amount`` credits of ``order`` to its customer, inside the caller's
    transaction; returns ``order`` as it is now.

    One conditional ``UPDATE`` (``refunded_credits + amount <= total_credits``, not
    cancelled) takes the order's row lock: of two refunds racing for the remainder the
    second finds it spent and is refused. Raises ``Conflict`` (409) for a cancelled order
    (the cancel refunded everything) or an amount above what remains refundable (naming
    it).
    """
    write_gate.enter()
    now = utcnow()
    done = db.session.execute(
        sa.update(Order)
        .where(
            Order.id == order.id,
            Order.cancelled.is_(False),
            Order.refunded_credits + amount <= Order.total_credits,
        )
        .values(refunded_credits=Order.refunded_credits + amount, updated_at=now)
        .returning(Order.refunded_credits)
        .execution_options(synchronize_session=False)
    ).scalar()
    if done is None:
        db.session.refresh(order)
        if order.cancelled:
            raise Conflict(f"{order.order_number} is cancelled: its credits were refunded")
        raise Conflict(
            f"Only {order.refundable_credits} of {order.total_credits} credits of "
            f"{order.order_number} remain refundable (asked for {amount})",
            extra={"refundable_credits": order.refundable_credits},
        )
    so.attributes.set_committed_value(order, "refunded_credits", done)
    so.attributes.set_committed_value(order, "updated_at", now)
    credits.refund(order.user_id, amount)
    record_change(order, "refunded", actor, {}, credits=-amount, note=reason, amount=amount)
    return order
