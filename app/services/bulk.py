"""Bulk actions on orders: advance, cancel or tag many orders in one request.

A bulk action means what the page showed (docs/design.md §5a): the request names each
order *and* the status the admin saw it in (``from``). An order that moved meanwhile is
refused, named with who moved it and when, and left as it is; every other order gets the
same rules, entries and live events as the single-order services (``status``,
``tags``), so every dashboard sees the same changes as the same clicks made one by one.

The request is checked as a whole first (nothing is written when it is malformed). The
orders are then locked and read once, refused one by one where they must be, and the rest
written set-based in one transaction (``bulk_moves``): a few statements for 500 orders, one
version and one activity entry per order, one ``NOTIFY``. The view commits once; a refused
order never undoes another's move, since it is never written.
"""

import re
from dataclasses import dataclass

from app.extensions import db
from app.models import ORDER_STATUSES, Order, User
from app.models.limits import MAX_DB_INT
from app.models.timestamps import utcnow
from app.services import Conflict, Invalid, NotFound, ServiceError, tags, write_gate
from app.services.bulk_moves import advance_all, cancel_all, lock_orders
from app.services.changes import Move, record_changes
from app.services.serializers import order_summary
from app.services.status import MAX_REASON, who_changed

MAX_IDS = 500
ACTIONS = ("advance", "cancel", "tag")
# What a page can have shown an order as: its status, or "Cancelled" (a cancelled order
# keeps the status it was cancelled in).
SHOWN = (*ORDER_STATUSES, "Cancelled")
_ID_KEY = re.compile(r"[1-9][0-9]{0,9}")


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


def parse_bulk(payload) -> BulkRequest:
    """Check ``{"ids": [int, ...], "action": "advance"|"cancel"|"tag", "from": {"<id>":
    "<status shown>", ...}, "reason": str, "add": [str], "remove": [str]}``.

    Raises ``Invalid`` with 400 for a body that is not an object, ``ids`` that is not a
    list of integers (``true`` is not an id), ids outside 1..2³¹−1, or a ``from`` that is
    not an object of decimal id keys and string values; with 422 for an unknown action, no
    ids, more than ``MAX_IDS`` ids, repeated ids, a missing ``from`` (advance and cancel:
    a bulk action acts only on what its admin saw), a ``from`` whose keys are not exactly
    the ids or whose value is not a status (or ``"Cancelled"``), a missing, blank or
    overlong (> 300 characters) reason for ``cancel``, and bad tags for ``tag``
    (``tags.parse_tag_change``'s rules).
    """
    if not isinstance(payload, dict):
        raise Invalid('Send JSON {"ids": [...], "action": "advance"|"cancel", "from": {...}}', 400)
    ids, action = payload.get("ids"), payload.get("action")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise Invalid("ids must be a list of integer order ids", 400)
    if not all(1 <= i <= MAX_DB_INT for i in ids):
        raise Invalid(f"ids must be integers from 1 to {MAX_DB_INT}", 400)
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {list(ACTIONS)}")
    if not ids:
        raise Invalid("ids is empty: select at least one order")
    if len(ids) > MAX_IDS:
        raise Invalid(f"At most {MAX_IDS} orders per bulk action (got {len(ids)})")
    if len(set(ids)) != len(ids):
        raise Invalid("ids contains the same order more than once")
    seen = _parse_seen(payload.get("from"), ids, required=action != "tag")
    reason = None
    if action == "cancel":
        # cancel_order's rule, checked here once, up front, so a bad reason refuses the
        # whole request before any order is touched.
        reason = payload.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise Invalid("A cancellation reason is required")
        reason = reason.strip()
        if len(reason) > MAX_REASON:
            raise Invalid(f"The reason is longer than {MAX_REASON} characters")
    if action == "tag":
        add, remove = tags.parse_tag_change(payload)
        return BulkRequest(tuple(ids), action, add=tuple(add), remove=tuple(remove), seen=seen)
    return BulkRequest(tuple(ids), action, reason, seen=seen)


def _parse_seen(raw, ids: list[int], required: bool) -> dict[int, str] | None:
    """``from``: ``{"<id>": "<status shown>"}`` for exactly ``ids`` (``parse_bulk``)."""
    if raw is None:
        if required:
            raise Invalid(
                '"from" is required: the status the page showed for each order, '
                '{"<id>": "Pending", ...}'
            )
        return None
    shape = '"from" must be an object {"<order id>": "<status shown>", ...}'
    if not isinstance(raw, dict):
        raise Invalid(shape, 400)
    seen: dict[int, str] = {}
    for key, value in raw.items():
        if not _ID_KEY.fullmatch(key) or not isinstance(value, str):
            raise Invalid(shape, 400)
        if value not in SHOWN:
            raise Invalid(f"Unknown status {value[:40]!r} in from; expected one of {list(SHOWN)}")
        seen[int(key)] = value
    missing = [i for i in ids if i not in seen]
    extra = sorted(set(seen) - set(ids))
    if missing or extra:
        said = "; ".join(
            f"{what}: {', '.join(map(str, found[:5]))}{' …' if len(found) > 5 else ''}"
            for what, found in (("missing", missing), ("not selected", extra))
            if found
        )
        raise Invalid(
            f'"from" must give the status of every selected order, and only those ({said})'
        )
    return seen


def run_bulk(request: BulkRequest, actor: User) -> list[dict]:
    """Apply ``request`` inside the caller's transaction (the caller commits once) and
    return one result per id, in the order sent: ``{id, ok: true, order: summary}`` or
    ``{id, ok: false, status: 404|409|422, error}``. A 409 for an order no longer as the
    page showed it also carries ``changed`` (the activity entry of its last move: who and
    when) and ``order`` (its summary now), and its ``error`` names them ("ORD-… changed
    meanwhile: maria moved it to Shipped 3 s ago."); that order is not touched."""
    write_gate.enter()
    orders = lock_orders(request.ids, with_items=request.action == "cancel")
    results: dict[int, dict] = {}
    ready: list[Order] = []
    for order_id in request.ids:
        order = orders.get(order_id)
        try:
            _check(order, order_id, request)
        except ServiceError as exc:
            results[order_id] = _refused(order_id, exc)
        else:
            ready.append(order)
    now = utcnow()
    if request.action == "advance":
        done, raced = advance_all(ready, actor, now)
    elif request.action == "cancel":
        done, raced = cancel_all(ready, request.reason, actor, now)
    else:
        done, raced = _tag_all(ready, request, actor, now, results), []
    for order in raced:  # changed between the read and the write: only without row locks
        db.session.refresh(order)
        results[order.id] = _stale(order)
    for order in done:
        results[order.id] = {"id": order.id, "ok": True, "order": order_summary(order)}
    return [results[order_id] for order_id in request.ids]


def _check(order: Order | None, order_id: int, request: BulkRequest) -> None:
    """Raise what refuses this one order: 404 missing, 409 not as the page showed it
    (``_stale``'s words) or not movable by this action."""
    if order is None:
        raise NotFound(f"Order {order_id} not found")
    shown = "Cancelled" if order.cancelled else order.status
    # A tag does not depend on the status: its ``from`` is checked for shape only.
    if request.seen is not None and request.action != "tag" and request.seen[order_id] != shown:
        message, entry = who_changed(order)
        raise Conflict(message, extra={"changed": entry, "order": order_summary(order)})
    if request.action == "advance" and order.next_status is None:
        state = "cancelled" if order.cancelled else "delivered"
        raise Conflict(f"Order {order.order_number} is {state} and cannot move forward")
    if request.action == "cancel" and order.cancelled:
        raise Conflict(f"Order {order.order_number} is already cancelled")
    if request.action == "cancel" and order.status == "Delivered":
        raise Conflict(f"Order {order.order_number} was delivered and cannot be cancelled")


def _stale(order: Order) -> dict:
    message, entry = who_changed(order)
    return _refused(order.id, Conflict(message, extra={"changed": entry}), order)


def _refused(order_id: int, exc: ServiceError, order: Order | None = None) -> dict:
    result = {"id": order_id, "ok": False, "status": exc.status_code, "error": exc.message}
    result.update(exc.extra)
    if order is not None:
        result["order"] = order_summary(order)
    return result


def _tag_all(orders, request: BulkRequest, actor: User, now, results: dict) -> list[Order]:
    """Change each order's tags (``tags.write_tags``), then record every entry at once; an
    order past 20 tags is refused (422) in ``results``. Returns the orders done (those
    already tagged so succeed without a change)."""
    done, moves = [], []
    for order in orders:
        try:
            said = tags.write_tags(order, list(request.add), list(request.remove))
        except ServiceError as exc:
            results[order.id] = _refused(order.id, exc)
            continue
        done.append(order)
        if said is not None:
            moves.append(Move(order, "tagged", {}, note=said))
    record_changes(moves, actor, now)
    return done
