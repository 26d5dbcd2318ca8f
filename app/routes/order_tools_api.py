"""Admin JSON API for what an admin adds to an order: internal notes, tags and partial
refunds (docs/admin-tools.md). Each write is one transaction through its service, which
records the change (``record_change``): every open dashboard hears of it after commit."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.extensions import db
from app.models import Order
from app.security import admin_required
from app.services import notes, refunds, tags
from app.services.history import order_history
from app.services.serializers import order_details, order_summary

bp = Blueprint("order_tools_api", __name__, url_prefix="/admin/api")


def _order(order_id: int) -> Order:
    return db.get_or_404(Order, order_id, description=f"Order {order_id} not found")


@bp.get("/order/<int:order_id>/notes")
@admin_required
def list_notes(order_id: int):
    """``{success, notes: [{id, order_id, author, text, created_at, updated_at, edited,
    editable_until}]}``, oldest first, deleted ones left out; 404 unknown order."""
    return jsonify(success=True, notes=notes.order_notes(_order(order_id)))


@bp.post("/order/<int:order_id>/notes")
@admin_required
def add_note(order_id: int):
    """Body ``{"text": str (1..1000 chars)}``: an internal note (admins only, never shown
    to the customer). ``201 {success, note, activity}`` (``activity``: the ``note`` entry,
    pushed to every dashboard as ``event: order``); 400 malformed, 404 unknown order, 422
    blank or long text."""
    text = notes.parse_text(request.get_json(silent=True))
    order = _order(order_id)
    note = notes.add_note(order, text, current_user)
    db.session.commit()
    return _noted(order, note.id), 201


@bp.patch("/order/<int:order_id>/notes/<int:note_id>")
@admin_required
def edit_note(order_id: int, note_id: int):
    """Body ``{"text": str}``: replace the text of your own note within
    ``NOTE_EDIT_SECONDS``. ``{success, note, activity}``; 400 malformed, 403 another
    admin's note, 404 unknown or deleted note, 409 too late, 422 blank or long text."""
    text = notes.parse_text(request.get_json(silent=True))
    order = _order(order_id)
    note = notes.edit_note(order, notes.find_note(order, note_id), text, current_user)
    db.session.commit()
    return _noted(order, note.id)


@bp.delete("/order/<int:order_id>/notes/<int:note_id>")
@admin_required
def delete_note(order_id: int, note_id: int):
    """Delete your own note within ``NOTE_EDIT_SECONDS``: ``{success, activity}`` (the
    ``note_deleted`` entry); 403 another admin's note, 404 unknown or deleted, 409 too
    late."""
    order = _order(order_id)
    notes.delete_note(order, notes.find_note(order, note_id), current_user)
    db.session.commit()
    return jsonify(success=True, activity=order_history(order)[-1])


def _noted(order: Order, note_id: int):
    note = next(n for n in notes.order_notes(order) if n["id"] == note_id)
    return jsonify(success=True, note=note, activity=order_history(order)[-1])


@bp.post("/order/<int:order_id>/tags")
@admin_required
def change_tags(order_id: int):
    """Body ``{"add": [str], "remove": [str]}`` (≤ 20 each): ``{success, changed: bool,
    tags: [str], order: summary}``; ``changed`` false when the order already had exactly
    that (nothing written, no event). 400 malformed, 404 unknown order, 422 a bad tag,
    nothing to do, a tag both added and removed, more than 20 tags on the order."""
    add, remove = tags.parse_tag_change(request.get_json(silent=True))
    order = _order(order_id)
    changed = tags.apply_tags(order, add, remove, current_user)
    db.session.commit()
    return jsonify(success=True, changed=changed, tags=order.tags, order=order_summary(order))


@bp.post("/order/<int:order_id>/refund")
@admin_required
def refund(order_id: int):
    """Body ``{"credits": int >= 1, "reason": str (1..300 chars)}``: give the customer back
    part of what the order cost, up to ``refundable_credits``. ``{success, order: details
    (with refunded_credits, refundable_credits), activity}``; 400 malformed (credits not
    an integer), 404 unknown order, 409 cancelled or more than remains refundable
    (``refundable_credits`` in the answer), 422 credits below 1 or a bad reason."""
    amount, reason = refunds.parse_refund(request.get_json(silent=True))
    order = _order(order_id)
    refunds.refund_order(order, amount, reason, current_user)
    db.session.commit()
    return jsonify(success=True, order=order_details(order), activity=order_history(order)[-1])
