"""Admin JSON API: polling fallback, order details, status changes (docs/design.md §4)."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from app.extensions import db
from app.metrics import FALLBACK_POLLS
from app.models import Order, OrderActivity
from app.models.timestamps import isoformat, utcnow
from app.routes.admin import view_args
from app.routes.presence import from_page_script, note_focus
from app.security import admin_required
from app.services import dashboard, order_request
from app.services.activity import MAX_LIMIT, recent_activity
from app.services.analytics import MAX_OFFSET_MINUTES, check_offset, hourly_revenue
from app.services.counts import read_stats
from app.services.feed import recent_orders
from app.services.history import last_change, order_history
from app.services.notes import order_notes
from app.services.serializers import order_details, order_summary
from app.services.status import cancel_order, change_status
from app.services.undo import parse_activity_id, undo_change
from app.web.args import MAX_VERSION, int_arg

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")

MAX_MINUTES = 24 * 60


@bp.get("/order-updates")
@admin_required
def order_updates():
    """Polling fallback (docs/design.md §4), for pages whose stream cannot open.

    ``?since=V`` (the version the page has): ``{success, reset: false, stats: {..., version},
    recent_orders: [summary], activity: [entry], revenue, timestamp, poll_interval_ms}`` with
    what changed after V, the same resume window as the stream; beyond it ``{success,
    reset: true, stats, ...}`` (reload with ``GET /admin/api/dashboard``). Without
    ``since``: ``?minutes=`` (1..1440, default 5) bounds ``recent_orders`` (at most 100,
    newest change first), the seed contract's shape. 400 for a bad ``since`` or ``minutes``.
    """
    FALLBACK_POLLS.inc()
    extra = {"timestamp": isoformat(utcnow()), "poll_interval_ms": _poll_ms()}
    if "since" in request.args:
        since = int_arg("since", 0, MAX_VERSION, None, strict=True)
        return jsonify(success=True, **dashboard.since(since), **extra)
    minutes = int_arg("minutes", 1, MAX_MINUTES, 5, strict=True)
    orders = recent_orders(minutes * 60, limit=100)
    summaries = [order_summary(o) for o in orders]
    return jsonify(success=True, stats=read_stats(), recent_orders=summaries, **extra)


def _poll_ms() -> int:
    return int(current_app.config.get("FALLBACK_POLL_MS", 10000))


@bp.get("/dashboard")
@admin_required
def dashboard_view():
    """One request that reloads everything the dashboard shows for a view (after a
    ``type: "reset"`` frame): the page's query string (``status``, ``q``, dates, sort,
    ``per_page``, ``page``; bad values fall back to the defaults). Returns ``{success,
    version, stats, rows: [summary], total, total_capped (a broad search counted up to
    10,000 only), page, pages, per_page, first (the 1-based place of the first row in
    the view), next_cursor, prev_cursor (``after=``/``before=`` of the pages beside it,
    null at either end: keyset paging, ``app/services/keyset.py``), activity: [entry]
    (oldest first), revenue: {bucket_seconds, buckets: [[start, revenue, orders]]},
    timestamp}``."""
    data = dashboard.view(*view_args())
    pagination = data.pop("page")
    return jsonify(
        success=True,
        total=pagination.total,
        total_capped=getattr(pagination, "capped", False),
        page=pagination.page,
        pages=pagination.pages,
        per_page=pagination.per_page,
        first=pagination.first,
        next_cursor=pagination.next_cursor,
        prev_cursor=pagination.prev_cursor,
        **data,
    )


@bp.get("/order/<int:order_id>/details")
@admin_required
def order_details_view(order_id: int):
    """``{success, order: {...contract keys, tags, refunded_credits, refundable_credits,
    carrier, tracking_number, tracking_url}, history: [activity entry] (oldest first:
    placed, moves, cancel, undos, notes, tags, refunds, with actor and time), notes: [note]
    (the current internal notes, ``notes.note_entry``)}``; 404 unknown order. Asked by the
    dashboard's script (``X-CSRFToken``), it also tells the other dashboards that this
    admin is viewing the order (presence rides the request: docs/design.md §5a)."""
    order = db.get_or_404(Order, order_id, description=f"Order {order_id} not found")
    if from_page_script():
        note_focus(order.id, "viewing")
    return jsonify(
        success=True,
        order=order_details(order),
        history=order_history(order),
        notes=order_notes(order),
    )


def _changed(order: Order):
    """The answer to a change: ``{success, order: details, activity: the change's entry
    (its id is what undo takes), undo_seconds}``."""
    undo = current_app.config["UNDO_SECONDS"]
    return jsonify(
        success=True, order=order_details(order), activity=last_change(order), undo_seconds=undo
    )


@bp.post("/order/<int:order_id>/status")
@admin_required
def order_status(order_id: int):
    """Body ``{"status": str, "from": str, "carrier": str, "tracking_number": str}``: the
    next status, (optional) the status the page showed, and (optional, the move to Shipped
    only, both or neither) the shipment's carrier and tracking number
    (``order_request.parse_move``, before the order is read). Answers ``_changed``'s shape;
    400 malformed body (not an object; ``status``, ``from``, carrier or number not a
    string), 404 unknown order, 409 illegal move
    (backwards, skip, cancelled) or a stale ``from`` (the error names who changed it and
    when; ``order`` is its state now, ``changed`` that activity entry), 422 unknown status,
    unknown carrier, malformed tracking number, or tracking on another move."""
    move = order_request.parse_move(request.get_json(silent=True))
    order = db.get_or_404(Order, order_id, description=f"Order {order_id} not found")
    change_status(order, move.status, actor=current_user, seen=move.seen, tracking=move.tracking)
    db.session.commit()
    return _changed(order)


@bp.post("/order/<int:order_id>/cancel")
@admin_required
def order_cancel(order_id: int):
    """Body ``{"reason": str (1..300 chars), "from": str (optional, as for a move)}``
    (``order_request.parse_cancel``, before the order is read); refunds the customer.
    Answers ``_changed``'s shape; 400 malformed body (not an object, ``from`` not a
    string), 404 unknown order, 409 already cancelled or delivered, or a stale ``from``,
    422 reason."""
    reason, seen = order_request.parse_cancel(request.get_json(silent=True))
    order = db.get_or_404(Order, order_id, description=f"Order {order_id} not found")
    cancel_order(order, reason, actor=current_user, seen=seen)
    db.session.commit()
    return _changed(order)


@bp.post("/order/<int:order_id>/undo")
@admin_required
def order_undo(order_id: int):
    """Body ``{"activity_id": int}``: revert that advance or cancel of the caller's, made
    within ``UNDO_SECONDS`` (+5 s), as a change of its own (``app/services/undo.py``).
    Answers ``_changed``'s shape (``activity``: the undo's entry, ``kind`` ``status_undone``
    or ``cancel_undone``). 400 malformed body, 403 another admin's change, 404 unknown order
    or a change of another order, 409 too late, changed since, or the customer's balance no
    longer covers a cancelled order's credits, 422 not an advance or a cancel."""
    activity_id = parse_activity_id(request.get_json(silent=True))
    order = db.get_or_404(Order, order_id, description=f"Order {order_id} not found")
    undo_change(order, activity_id, actor=current_user)
    db.session.commit()
    return _changed(order)


@bp.get("/revenue")
@admin_required
def revenue():
    """Revenue and orders by hour, today against yesterday, for the dashboard chart.

    ``?offset=`` minutes east of UTC (-840..840, default 0) sets where "today" starts.
    Returns ``200 {success, today: [24 ints, credits], yesterday: [24 ints, credits],
    orders_today: [24 ints], orders_yesterday: [24 ints], cancelled_today: [24 ints],
    cancelled_yesterday: [24 ints], day_start, offset, timestamp}`` (``day_start`` is
    today's local midnight in UTC, ISO 8601). A cancelled order is neither revenue nor a
    live order: ``orders_*`` count the live ones, as the status cards do. 400 for a bad
    ``offset``.
    """
    offset = check_offset(int_arg("offset", -MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES, 0, True))
    data = hourly_revenue(offset)
    data["day_start"] = isoformat(data["day_start"])
    return jsonify(success=True, offset=offset, timestamp=isoformat(utcnow()), **data)


@bp.get("/activity")
@admin_required
def activity():
    """The activity feed, newest first. ``?limit=`` 1..200 (default 50); ``?before=`` an
    entry's id: only the entries older than it (the dashboard's "Load older"; a keyset on
    the feed's order, time then id, so entries added meanwhile never repeat or skip one).

    Returns ``200 {success, activity: [{id, order_id, order_number, kind, from_status,
    to_status, note, ref_id, credits, actor, at}], has_more, timestamp}``: ``kind`` is one
    of ``ACTIVITY_KINDS``, ``actor`` a username or null (the system), ``has_more`` whether
    older entries remain. 400 JSON for a ``limit`` or ``before`` that is not an integer in
    range, 404 JSON for a ``before`` that names no entry.
    """
    limit = int_arg("limit", 1, MAX_LIMIT, 50, strict=True)
    before = None
    if "before" in request.args:
        before_id = int_arg("before", 1, MAX_VERSION, None, strict=True)
        before = db.get_or_404(OrderActivity, before_id, description="No such activity entry")
    entries = recent_activity(limit + 1, before)
    return jsonify(
        success=True,
        activity=entries[:limit],
        has_more=len(entries) > limit,
        timestamp=isoformat(utcnow()),
    )
