"""SSE endpoints. Each view authenticates, reads what it needs and returns
``stream_response`` (``app/web/sse_response.py``), which releases its DB session and whose
body touches only the hub (docs/design.md §1: no connection while streaming;
never wrapped in ``stream_with_context``, which would keep the request's session alive)."""

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.extensions import limiter
from app.realtime import get_hub
from app.realtime.presence import parse_focus
from app.realtime.registry import Draining
from app.realtime.subscription import Subscription
from app.routes.account import own_order_or_404
from app.security import admin_required, limits_off, user_limit_key
from app.services import Invalid
from app.web.args import parse_int
from app.web.sse_response import draining_answer, stream_response

bp = Blueprint("stream", __name__)


def last_event_id():
    """The version the client already has: the ``Last-Event-ID`` header EventSource sends
    when it reconnects by itself (HTML Living Standard, "Server-sent events"), else the
    ``?last_event_id=`` a page passes when it opens a new EventSource (after its own
    backoff, or when another tab hands the stream over). ``None`` when neither is given;
    ``Subscription.RESET`` for a value that is no version (the client gets a reset)."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.args.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    version = parse_int(raw)
    return version if version is not None and version >= 0 else Subscription.RESET


def stream_focus(args):
    """``?focus=`` as ``(order id, action)``: ``(None, None)`` when empty, ``None`` when
    absent or malformed (presence keeps what it knew)."""
    raw = args.get("focus")
    if raw is None:
        return None
    if raw == "":
        return (None, None)
    action, _, order_id = raw.partition(":")
    order_id = parse_int(order_id)
    if order_id is None:
        return None
    try:
        return parse_focus(order_id, action or None)
    except Invalid:
        return None


@bp.get("/admin/orders/stream")
@admin_required
def admin_stream():
    """``text/event-stream`` for the dashboard (docs/design.md §4).

    Frames: ``retry:``; the first snapshot (``id:`` version, ``data: {type: "initial",
    stats..., version, recent_updates, activity, revenue, resumed_from, timestamp}``); then
    ``type: "update"`` snapshots (``recent_updates`` and ``revenue`` buckets changed since
    the previous one) and ``event: order`` ``{kind, order, actor, activity}`` frames as
    commits happen; ``: heartbeat`` every ``SSE_HEARTBEAT_SECONDS``; ends after
    ``SSE_LIFETIME_SECONDS`` ± jitter; ``event: revoked`` ``{reason}`` and the end when
    this session ends (logout, password change, demotion, deactivation). ``event:
    presence`` ``{admins: [{user_id, username, session, order_id, action, since}],
    timestamp}`` after the first frame and whenever presence changes (docs/design.md §5a);
    ``?focus=<action>:<order id>`` (or ``focus=`` for none) is the dialog the page has open
    (ignored when malformed: a stream never fails over presence). With
    ``Last-Event-ID`` (or ``?last_event_id=``) V
    within the resume window, the first snapshot carries the orders and activity changed
    since V (``resumed_from: V``); beyond it, or for an unknown or future id, the first
    frame is ``{type: "reset", stats...}``. 401 JSON logged out, 403 JSON for customers,
    429 JSON past ``SSE_MAX_STREAMS_PER_USER``; while the worker restarts, ``retry:`` and the
    end (``draining_answer``).
    """
    hub = get_hub()
    user = current_user
    try:
        sub = hub.open_admin(
            user.id, user.session_id, last_event_id(), user.username, stream_focus(request.args)
        )
    except Draining:
        return draining_answer()
    return stream_response(hub, sub)


@bp.get("/orders/<order_number>/stream")
@login_required
def order_stream(order_number: str):
    """The owner's live tracking: ``data: {type: "initial"|"update", order_number, status,
    cancelled, cancellation_reason, estimated_delivery, actual_delivery, updated_at,
    balance}`` (``balance``: the customer's credits; updates also carry the ``activity``
    entry of the change), and ``{type: "balance", balance}`` when another order of the
    customer charges or refunds credits. 401 JSON logged out, 404 JSON for an unknown or
    someone else's order; while the worker restarts, ``draining_answer``."""
    order = own_order_or_404(order_number)
    hub = get_hub()
    try:
        sub = hub.open_order(order.id, current_user.id, current_user.session_id)
    except Draining:
        return draining_answer()
    return stream_response(hub, sub)


# Streams with no rate limit of their own: a reconnect storm is thousands of them a second,
# and the per-user stream cap (SSE_MAX_STREAMS_PER_USER) already bounds each account, so
# the limiter skips them before it resolves any limit (the storefront's stream keeps its
# per-client limit below).
UNLIMITED = frozenset({"stream.admin_stream", "stream.order_stream"})


@limiter.request_filter
def _unlimited_stream() -> bool:
    return request.endpoint in UNLIMITED


def _storefront_limit() -> str:
    return current_app.config["RATELIMIT_STOREFRONT_STREAM"]


@bp.get("/catalogue/stream")
@limiter.limit(_storefront_limit, key_func=user_limit_key, exempt_when=limits_off)
def catalogue_stream():
    """The storefront's live stock, for anyone (signed in or not): ``data: {type:
    "initial", version, products: [{id, stock, active, label}]}`` with the products changed
    since ``?since=`` (the version the page was rendered at), then ``{type: "stock",
    version, products}`` whenever a checkout, a cancel or an admin changes stock or withdraws
    a product (``label``: "Out of stock", "Only N left" or null). ``: heartbeat`` and the
    lifetime as for every stream. 429 JSON past ``RATELIMIT_STOREFRONT_STREAM`` opens per
    client; a draining worker answers as for every stream (``draining_answer``,
    docs/design.md §5b)."""
    since = parse_int(request.args.get("since"))
    since = since if since is not None and 0 <= since < 2**63 else None
    user_id = current_user.id if current_user.is_authenticated else None
    session_id = current_user.session_id if user_id is not None else None
    hub = get_hub()
    try:
        sub = hub.open_catalogue(user_id, session_id, since=since)
    except Draining:
        return draining_answer()
    return stream_response(hub, sub)
