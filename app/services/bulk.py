"""Bulk actions on orders: advance, cancel or tag many orders in one request.

A bulk action means what the page showed (docs/design.md §5a): the request names each
order *and* the status the admin saw it in (``from``). An order that moved meanwhile is
refused, named with who moved it and when, and left as it is; every other order gets the
same rules, entries and live events as the single-order services (``status``,
``tags``), so every dashboard sees the same changes as the same clicks made one by one.

The request is checked as a whole first (``parse_bulk``, in ``bulk_request``: nothing is
written when it is malformed). The orders are then locked and read once, refused one by one
where they must be, and the rest written set-based in one transaction (``bulk_moves``): a
few statements for 500 orders, one version and one activity entry per order, one
``NOTIFY``. The view commits once; a refused order never undoes another's move, since it is
never written.
"""

from app.extensions import db
from app.models import Order, User
from app.models.timestamps import utcnow
from app.services import Conflict, NotFound, ServiceError, tags, write_gate
from app.services.bulk_moves import advance_all, cancel_all, lock_orders
from app.services.bulk_request import MAX_IDS, BulkRequest, parse_bulk
from app.services.changes import Move, record_changes
from app.services.serializers import order_summary
from app.services.status import who_changed

# The request's shape lives in ``bulk_request``; callers know it by this module's names.
__all__ = ["MAX_IDS", "BulkRequest", "parse_bulk", "run_bulk"]


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
