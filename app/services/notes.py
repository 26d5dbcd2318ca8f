"""Internal notes on orders: a timeline for admins, never shown to the customer.

Writing, editing and deleting a note are changes of their own through ``record_change``
(kinds ``note``, ``note_edited``, ``note_deleted``; ``ref_id`` names the note), so every
open dashboard hears of them like a status move, at no cost per dashboard. The hub sends
these kinds to admin streams only (``app/realtime/frames.py``). An author may edit or delete
their own note within ``NOTE_EDIT_SECONDS`` (config, default 900).
"""

from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from flask import current_app
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr

from app.extensions import db
from app.models import Order, OrderNote, User
from app.models.timestamps import isoformat, utcnow
from app.services import Conflict, NotFound, ServiceError
from app.services.bodies import Refusal, check, refuse
from app.services.changes import record_change

MAX_TEXT = 1000


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise refuse("text", "A note needs some text")
    if len(text) > MAX_TEXT:
        raise refuse(
            "text", f"A note has at most {MAX_TEXT} characters (this one has {len(text)})"
        )
    return text


class NoteBody(BaseModel):
    """``{"text": str}``, stripped, 1..1000 characters."""

    model_config = ConfigDict(strict=True)

    text: Annotated[StrictStr, AfterValidator(_text)]


REFUSALS = (
    Refusal(("text",), types=("text",)),
    Refusal((), 'Send JSON {"text": "..."}', 400),  # not an object, no text, not a string
)


def parse_text(payload) -> str:
    """``{"text": str}`` → the stripped text (1..1000 characters; ``NoteBody``). Raises
    ``Invalid``: 400 for a body that is not an object or a text that is not a string, 422
    blank or long."""
    return check(NoteBody, payload, REFUSALS).text


def note_entry(note: OrderNote, author: str | None) -> dict:
    """``{id, order_id, author, text, created_at, updated_at, edited, editable_until}``
    (times ISO 8601 UTC; ``editable_until``: when its author can no longer change it)."""
    until = note.created_at + timedelta(seconds=current_app.config["NOTE_EDIT_SECONDS"])
    return {
        "id": note.id,
        "order_id": note.order_id,
        "author": author,
        "text": note.text,
        "created_at": isoformat(note.created_at),
        "updated_at": isoformat(note.updated_at),
        "edited": note.updated_at != note.created_at,
        "editable_until": isoformat(until),
    }


def order_notes(order: Order) -> list[dict]:
    """The order's notes that are not deleted, oldest first (one query)."""
    rows = db.session.execute(
        sa.select(OrderNote, User.username)
        .outerjoin(User, User.id == OrderNote.author_id)
        .where(OrderNote.order_id == order.id, OrderNote.deleted.is_(False))
        .order_by(OrderNote.id)
    ).all()
    return [note_entry(note, name) for note, name in rows]


def add_note(order: Order, text: str, author: User) -> OrderNote:
    """Write a note on ``order`` (inside the caller's transaction)."""
    now = utcnow()
    note = OrderNote(order_id=order.id, author_id=author.id, text=text, created_at=now)
    note.updated_at = now
    db.session.add(note)
    db.session.flush()
    record_change(order, "note", author, {}, note=text, ref_id=note.id, at=now)
    return note


def find_note(order: Order, note_id: int) -> OrderNote:
    """``order``'s note ``note_id``; ``NotFound`` (404) for another order's, a deleted one
    or none."""
    note = db.session.get(OrderNote, note_id)
    if note is None or note.order_id != order.id or note.deleted:
        raise NotFound(f"No note {note_id} on {order.order_number}")
    return note


def _check_own(note: OrderNote, user: User) -> None:
    if note.author_id != user.id:
        raise ServiceError("Only its author can change a note", 403)
    window = current_app.config["NOTE_EDIT_SECONDS"]
    if utcnow() - note.created_at > timedelta(seconds=window):
        raise Conflict(f"Too late: a note can be changed for {window // 60} min after writing")


def edit_note(order: Order, note: OrderNote, text: str, user: User) -> OrderNote:
    """Replace the text of ``user``'s own note. Raises 403 for another admin's note and
    ``Conflict`` (409) past ``NOTE_EDIT_SECONDS``."""
    _check_own(note, user)
    now = utcnow()
    note.text, note.updated_at = text, now
    db.session.flush()
    record_change(order, "note_edited", user, {}, note=text, ref_id=note.id, at=now)
    return note


def delete_note(order: Order, note: OrderNote, user: User) -> None:
    """Delete ``user``'s own note (its row stays, marked, for the entries that name it).
    Raises 403 for another admin's note and ``Conflict`` (409) past the window."""
    _check_own(note, user)
    note.deleted = True
    db.session.flush()
    record_change(order, "note_deleted", user, {}, ref_id=note.id, at=utcnow())
