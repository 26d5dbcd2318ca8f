"""The bodies of one order's status move (``POST /admin/api/order/<id>/status``) and cancel
(``.../cancel``), checked as a whole before the order is read: pydantic models (``MoveBody``,
``CancelBody``) and the order their refusals are told in (through ``bodies.check``).
``parse_move`` and ``parse_cancel`` give ``status.change_status`` and
``status.cancel_order`` what they take; those check the status, the reason and ``from``
against the order.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from app.services import tracking
from app.services.bodies import Refusal, check, refuse

SEND_MOVE = 'Send JSON {"status": "<next status>", "from": "<shown>"}'
SEND_CANCEL = 'Send JSON {"reason": "..."}'
FROM_SHOWN = '"from" must be the status the page showed, e.g. "Pending"'


@dataclass(frozen=True)
class MoveRequest:
    """A checked move: the next ``status`` (any string: the move's rules name a wrong one),
    ``seen`` (the status the page showed; ``None``: not checked) and ``tracking``
    (``(carrier, tracking_number)`` or ``None``)."""

    status: str
    seen: str | None = None
    tracking: tuple[str, str] | None = None


def _seen(seen: Any) -> str | None:
    if seen is not None and not isinstance(seen, str):
        raise refuse("from", FROM_SHOWN)
    return seen


class MoveBody(BaseModel):
    """``{"status": str, "from": str | null, "carrier": str | null, "tracking_number": str
    | null}``. The tracking rule needs both strings, and ``from`` has always been checked
    after it, so the model checks both once the fields are valid."""

    model_config = ConfigDict(strict=True)

    status: StrictStr
    carrier: StrictStr | None = None
    tracking_number: StrictStr | None = None
    seen: Any = Field(None, alias="from")

    @model_validator(mode="after")
    def _shipment_then_seen(self) -> "MoveBody":
        shipped = tracking.shipment(self.carrier, self.tracking_number)
        self.carrier, self.tracking_number = shipped or (None, None)
        self.seen = _seen(self.seen)
        return self


TRACKING_STRINGS = "carrier and tracking_number must be strings"
# The order the rules have always been checked in: the first one broken is the answer.
MOVE_REFUSALS = (
    Refusal((), SEND_MOVE, 400, ("model_type",)),
    Refusal(("status",), SEND_MOVE, 400),  # missing, or not a string
    (
        Refusal(("carrier",), TRACKING_STRINGS, 400),
        Refusal(("tracking_number",), TRACKING_STRINGS, 400),
    ),
    Refusal(types=("tracking",)),
    Refusal(status=400, types=("from",)),
)


def parse_move(payload) -> MoveRequest:
    """Check a status body (``MoveBody``). Raises ``Invalid``: 400 for a body that is not
    an object or a ``status`` that is not a string, a carrier or tracking number that is
    not a string, a ``from`` that is not a string; 422 for a carrier or number given
    without the other, an unknown carrier or a malformed number (``tracking.shipment``).
    One refusal per body: the first in ``MOVE_REFUSALS``' order."""
    body = check(MoveBody, payload, MOVE_REFUSALS)
    shipped = (body.carrier, body.tracking_number) if body.carrier else None
    return MoveRequest(body.status, body.seen, shipped)


class CancelBody(BaseModel):
    """``{"reason": str, "from": str | null}``; the reason is ``status.cancel_order``'s to
    check (its rule holds for every caller)."""

    model_config = ConfigDict(strict=True)

    reason: Any = None
    seen: StrictStr | None = Field(None, alias="from")


CANCEL_REFUSALS = (
    Refusal((), SEND_CANCEL, 400, ("model_type",)),
    Refusal(("from",), FROM_SHOWN, 400),
)


def parse_cancel(payload) -> tuple[Any, str | None]:
    """``(reason, seen)`` of a cancel body (``CancelBody``): the reason as sent, the status
    the page showed or ``None``. Raises ``Invalid`` (400) for a body that is not an object
    or a ``from`` that is not a string."""
    body = check(CancelBody, payload, CANCEL_REFUSALS)
    return body.reason, body.seen
