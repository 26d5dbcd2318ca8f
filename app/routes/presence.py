"""Presence: the dashboard tells the server which order's dialog its admin opened or closed
(docs/design.md §5a). Only on the admin's own action; renewal is the server's business
(the hub that holds the session's stream), so a page never polls to stay present."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from app.extensions import db
from app.models import Order
from app.realtime import get_hub
from app.realtime.presence import parse_presence
from app.security import admin_required

bp = Blueprint("presence", __name__, url_prefix="/admin/api")


@bp.post("/presence")
@admin_required
def presence():
    """Body ``{"order_id": int | null, "action": "viewing" | "cancelling" | "advancing" |
    null}``: the dialog the admin has open (``action`` defaults to ``"viewing"``), or none.
    Every dashboard shows it within moments (``event: presence``). Answers ``200 {success:
    true, order_id, action}``; 400 malformed body or id, 404 unknown order, 422 unknown
    action or an action without an order."""
    order_id, action = parse_presence(request.get_json(silent=True))
    if order_id is not None:
        db.get_or_404(Order, order_id, description=f"Order {order_id} not found")
    note_focus(order_id, action)
    return jsonify(success=True, order_id=order_id, action=action)


def note_focus(order_id, action) -> None:
    """Tell every worker what the current admin's session has open now."""
    user = current_user
    get_hub().presence.focus(user.id, user.username, user.session_id, order_id, action)


def from_page_script() -> bool:
    """Whether this GET came from the dashboard's own script: it carries the page's CSRF
    token in ``X-CSRFToken``, which no other site can read or set on a cross-site request
    (OWASP CSRF Prevention: custom request headers). A GET that rides presence along
    (the details dialog: "viewing") records it only then."""
    token = request.headers.get("X-CSRFToken")
    if not token:
        return False
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True
