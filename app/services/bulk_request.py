"""The body of a bulk action (``POST /admin/api/orders/bulk``), checked as a whole before any
order is read: a pydantic model (``BulkBody``) and the order its refusals are told in
(``REFUSALS``, through ``bodies.check``), then the tags by ``tags.parse_tag_change``.
``parse_bulk`` gives ``bulk.run_bulk`` a ``BulkRequest``.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from app.models import ORDER_STATUSES
from app.models.limits import MAX_DB_INT
from app.services import Invalid, tags
from app.services.bodies import Refusal, check, refuse
from app.services.status import cancel_reason

MAX_IDS = 500
ACTIONS = ("advance", "cancel", "tag")
# What a page can have shown an order as: its status, or "Cancelled" (a cancelled order
# keeps the status it was cancelled in).
SHOWN = (*ORDER_STATUSES, "Cancelled")
SEND_JSON = 'Send JSON {"ids": [...], "action": "advance"|"cancel", "from": {...}}'
_NOT_INTS = ("missing", "list_type", "int_type")
_OUT_OF_RANGE = ("greater_than_equal", "less_than_equal")


@dataclass(frozen=True)
class BulkRequest:
    """A checked bulk request: ``ids`` (distinct order ids, as sent), ``action``, the
    cancellation ``reason`` (``None`` but for ``cancel``), the tags to ``add`` and
    ``remove`` (``tag`` only) and ``seen``: each id's status as the page showed it
    (``None`` only for a ``tag`` sent without ``from``)."""

    ids: tuple[int, ...]
    action: str
    reason: str | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    seen: dict[int, str] | None = None


def _selection(ids: list[int]) -> list[int]:
    if not ids:
        raise refuse("ids", "ids is empty: select at least one order")
    if len(ids) > MAX_IDS:
        raise refuse("ids", f"At most {MAX_IDS} orders per bulk action (got {len(ids)})")
    if len(set(ids)) != len(ids):
        raise refuse("ids", "ids contains the same order more than once")
    return ids


def _shown(status: str) -> str:
    if status not in SHOWN:
        raise refuse(
            "status", f"Unknown status {status[:40]!r} in from; expected one of {list(SHOWN)}"
        )
    return status


# An order id as a key of ``from``: ASCII digits, no sign, no leading zero, no spaces.
IdKey = Annotated[StrictStr, Field(pattern=r"^[1-9][0-9]{0,9}$"), AfterValidator(int)]
OrderId = Annotated[StrictInt, Field(ge=1, le=MAX_DB_INT)]


class BulkBody(BaseModel):
    """The body before its tags (``tags.parse_tag_change``, as for one order's tags).
    ``reason`` is a string only for ``cancel`` and ignored otherwise, so the model checks
    it, with what ``from`` must match, once the fields are valid."""

    model_config = ConfigDict(strict=True)

    ids: Annotated[list[OrderId], AfterValidator(_selection)]
    action: Literal[ACTIONS]
    seen: dict[IdKey, Annotated[StrictStr, AfterValidator(_shown)]] | None = Field(
        None, alias="from"
    )
    reason: Any = None

    @model_validator(mode="after")
    def _from_names_the_ids(self) -> "BulkBody":
        if self.seen is None:
            if self.action != "tag":  # a bulk action acts only on what its admin saw
                raise refuse(
                    "from",
                    '"from" is required: the status the page showed for each order, '
                    '{"<id>": "Pending", ...}',
                )
            return self
        missing = [i for i in self.ids if i not in self.seen]
        extra = sorted(set(self.seen) - set(self.ids))
        if missing or extra:
            said = "; ".join(
                f"{what}: {', '.join(map(str, found[:5]))}{' …' if len(found) > 5 else ''}"
                for what, found in (("missing", missing), ("not selected", extra))
                if found
            )
            raise refuse(
                "from",
                f'"from" must give the status of every selected order, and only those ({said})',
            )
        return self

    @model_validator(mode="after")
    def _cancel_reason(self) -> "BulkBody":
        # cancel_order's rule, checked here once, up front, so a bad reason refuses the
        # whole request before any order is touched.
        if self.action != "cancel":
            self.reason = None
            return self
        try:
            self.reason = cancel_reason(self.reason)
        except Invalid as exc:
            raise refuse("reason", exc.message) from exc
        return self


# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal((), SEND_JSON, 400, ("model_type",)),
    Refusal(("ids",), "ids must be a list of integer order ids", 400, _NOT_INTS),
    Refusal(("ids",), f"ids must be integers from 1 to {MAX_DB_INT}", 400, _OUT_OF_RANGE),
    Refusal(("action",), f"action must be one of {list(ACTIONS)}"),
    Refusal(("ids",), types=("ids",)),
    # ``from``, entry by entry: a bad key or a value that is not a string, or a status
    # that is not one.
    (
        Refusal(("from",), types=("status",)),
        Refusal(("from",), '"from" must be an object {"<order id>": "<status shown>", ...}', 400),
    ),
    Refusal(types=("from", "reason")),
)


def parse_bulk(payload) -> BulkRequest:
    """Check ``{"ids": [int, ...], "action": "advance"|"cancel"|"tag", "from": {"<id>":
    "<status shown>", ...}, "reason": str, "add": [str], "remove": [str]}`` (``BulkBody``,
    then ``tags.parse_tag_change`` for ``tag``).

    Raises ``Invalid`` with 400 for a body that is not an object, ``ids`` that is not a
    list of integers (``true`` is not an id), ids outside 1..2³¹−1, or a ``from`` that is
    not an object of decimal id keys and string values; with 422 for an unknown action, no
    ids, more than ``MAX_IDS`` ids, repeated ids, a missing ``from`` (advance and cancel:
    a bulk action acts only on what its admin saw), a ``from`` whose keys are not exactly
    the ids or whose value is not a status (or ``"Cancelled"``), a missing, blank or
    overlong (> 300 characters) reason for ``cancel``, and bad tags for ``tag``
    (``tags.parse_tag_change``'s rules). One refusal per request: the first in
    ``REFUSALS``' order.
    """
    body = check(BulkBody, payload, REFUSALS)
    ids = tuple(body.ids)
    if body.action == "tag":
        add, remove = tags.parse_tag_change(payload)
        return BulkRequest(ids, "tag", add=tuple(add), remove=tuple(remove), seen=body.seen)
    return BulkRequest(ids, body.action, body.reason, seen=body.seen)
