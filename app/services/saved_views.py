"""Saved views: a named set of the orders table's arguments, private or shared with every
admin, one click away on the dashboard with its live count.

Counts are the hub's work, not the page's: after a tick that could change them (an order
placed, moved, cancelled or tagged; a view saved or deleted) it counts every saved view
once (``counts``: one ``COUNT`` per view, on the same indexes as the table) and pushes
``event: views`` to every dashboard when a number moved. That is O(views) per tick, never
per open dashboard (docs/architecture.md).
"""

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StrictStr

from app.extensions import db
from app.models import Order, SavedView, User
from app.services import Conflict, Invalid, NotFound, ServiceError
from app.services.bodies import ANY, Refusal, check, refuse
from app.services.changes import record_catalogue_change
from app.services.order_query import OrderFilter

MAX_NAME = 60
MAX_VIEWS = 20  # per admin (their own, private or shared)


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise refuse("name", f"A view needs a name of 1 to {MAX_NAME} characters")
    return name


class ViewBody(BaseModel):
    """``{"name": str, "query": str | {arg: str}, "shared": bool | null}``: the name with
    its whitespace collapsed (1..60 characters), the query as sent (a missing one is
    empty, ``null`` is not one)."""

    model_config = ConfigDict(strict=True)

    name: Annotated[StrictStr, AfterValidator(_name)]
    query: StrictStr | dict[str, StrictStr] = ""
    shared: StrictBool | None = None


TYPES = "name must be a string and shared true or false"
QUERY = "the table's query string or an object of its arguments"
# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal(
        (),
        'Send JSON {"name": "...", "query": "status=Pending", "shared": false}',
        400,
        ("model_type",),
    ),
    (Refusal(("name",), TYPES, 400, ("missing", "string_type")), Refusal(("shared",), TYPES, 400)),
    # The query is a string or an object (the union's two arms): a value of the object's
    # that is not a string is named as such, anything else names the query.
    Refusal(("query", ANY, ANY), "query's values must be strings", 400),
    Refusal(("query",), f"query must be {QUERY}", 400),
    Refusal(("name",), types=("name",)),
)


def parse_view(payload) -> tuple[str, str, bool]:
    """``{"name": str (1..60), "query": str | {arg: value}, "shared": bool}`` → ``(name,
    query string, shared)`` (``ViewBody``); the query is checked by the caller
    (``view_from_query``). Raises ``Invalid``: 400 for a body or field of the wrong type,
    422 for a blank or long name. One refusal per body: the first in ``REFUSALS``' order."""
    body = check(ViewBody, payload, REFUSALS)
    query = urlencode(body.query) if isinstance(body.query, dict) else body.query
    return body.name, query, bool(body.shared)


def view_entry(view: SavedView, owner: str, user: User, count: int | None = None) -> dict:
    """``{id, name, query, shared, owner, mine, count}``."""
    return {
        "id": view.id,
        "name": view.name,
        "query": view.query,
        "shared": view.shared,
        "owner": owner,
        "mine": view.owner_id == user.id,
        "count": count,
    }


def visible_to(user: User) -> list[tuple[SavedView, str]]:
    """``user``'s own views and every shared one, shared first then by name: ``[(view,
    owner's username)]`` (one query)."""
    return list(
        db.session.execute(
            sa.select(SavedView, User.username)
            .join(User, User.id == SavedView.owner_id)
            .where(sa.or_(SavedView.owner_id == user.id, SavedView.shared.is_(True)))
            .order_by(SavedView.shared.desc(), SavedView.name, SavedView.id)
        ).tuples()
    )


def create(user: User, name: str, view: OrderFilter, shared: bool) -> SavedView:
    """Save ``view`` (its normalised arguments) as ``name``. Raises ``Conflict`` (409) for a
    name the admin already uses and ``Invalid`` (422) past ``MAX_VIEWS``."""
    mine = db.session.scalar(
        sa.select(sa.func.count()).select_from(SavedView).where(SavedView.owner_id == user.id)
    )
    if mine >= MAX_VIEWS:
        raise Invalid(f"At most {MAX_VIEWS} saved views per admin: delete one first")
    taken = db.session.scalar(
        sa.select(SavedView.id).where(SavedView.owner_id == user.id, SavedView.name == name)
    )
    if taken is not None:
        raise Conflict(f"You already have a view named {name!r}")
    saved = SavedView(owner_id=user.id, name=name, query=urlencode(view.params()), shared=shared)
    db.session.add(saved)
    db.session.flush()
    record_catalogue_change()  # a new version: every hub counts the views again
    return saved


def delete(view_id: int, user: User) -> None:
    """Delete ``user``'s own view ``view_id``. ``NotFound`` (404) for none or another admin's
    private view; 403 for another admin's shared view."""
    view = db.session.get(SavedView, view_id)
    if view is None or (view.owner_id != user.id and not view.shared):
        raise NotFound(f"No saved view {view_id}")
    if view.owner_id != user.id:
        raise ServiceError("Only its owner can delete a shared view", 403)
    db.session.delete(view)
    db.session.flush()
    record_catalogue_change()


def count(view: OrderFilter) -> int:
    """How many orders ``view`` matches (one ``COUNT``)."""
    matching = view.apply(sa.select(Order.id))
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())))


def filter_of(query: str) -> OrderFilter:
    """The ``OrderFilter`` of a stored query string (written by ``create`` from a checked
    view, so it parses)."""
    return OrderFilter.from_params(dict(parse_qsl(query)))


def counts() -> dict[int, int]:
    """``{view id: matching orders}`` for every saved view (private ones too: the hub sends
    every dashboard the numbers, and a page shows those of the views it lists)."""
    rows = db.session.execute(sa.select(SavedView.id, SavedView.query)).all()
    return {view_id: count(filter_of(query)) for view_id, query in rows}
