""" "Select all N matching", pinned to the version the page counted its N at.

The dashboard's count follows pushed frames, so it is the view's size as of the page's
version V; by the time the admin clicks, orders may have been placed or moved. The page
sends V, and this answers with the orders that matched the view *at V*: the change log
(``order_activity``, stamped with versions) says which orders were placed after V (left
out) and, for an order moved after V, the state it had at V (its first move after V
started from it). So "Select all 90 matching" selects those 90, never an order placed
since, and each id comes with the status the page showed for it (the bulk ``from``).

The view's other parts (text, dates, tag) are read as they are now: only a tag added or
removed in the moment between the count and the click can make the two differ, and the
page then says how many it selected.
"""

from dataclasses import replace

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.models.activity import STATE_KINDS
from app.services import Conflict, order_search
from app.services.counts import read_version
from app.services.order_query import OrderFilter

# How many moves a page may be behind and still be answered as of its version: a live
# page is a few frames behind at most; one further behind reloads first.
MAX_BEHIND = 5000


def shown(status: str, cancelled: bool) -> str:
    """A state as the page shows it: the status, or ``"Cancelled"``."""
    return "Cancelled" if cancelled else status


def _status_matches(wanted: str | None, status: str, cancelled: bool) -> bool:
    """``OrderFilter``'s status rule, for a state read from the change log."""
    if not wanted:
        return True
    if wanted == "Cancelled":
        return cancelled
    return not cancelled and status == wanted


def states_at(version: int) -> dict[int, tuple[str, bool] | None]:
    """``{order id: (status, cancelled) at version, or None when placed after it}`` for
    every order whose state changed after ``version`` (its first change after it says
    where it started). One index range on ``order_activity.version``. Raises ``Conflict``
    (409) beyond ``MAX_BEHIND`` changes: the page must reload."""
    rows = db.session.execute(
        sa.select(OrderActivity.order_id, OrderActivity.kind, OrderActivity.from_status)
        .where(OrderActivity.version > version, OrderActivity.kind.in_(STATE_KINDS))
        .order_by(OrderActivity.version, OrderActivity.id)
        .limit(MAX_BEHIND + 1)
    ).all()
    if len(rows) > MAX_BEHIND:
        raise Conflict("The page is too far behind to count from: reload it and try again")
    states: dict[int, tuple[str, bool] | None] = {}
    for order_id, kind, from_status in rows:
        if order_id in states:
            continue
        # Where the first change after V started: a cancel's undo from a cancelled order,
        # every other move from a live one, a placement from nothing.
        states[order_id] = None if kind == "created" else (from_status, kind == "cancel_undone")
    return states


def ids_as_of(view: OrderFilter, version: int, limit: int) -> tuple[list[int], int, dict]:
    """``(ids, total, seen)``: the first ``limit`` ids (in the view's order) of the orders
    that matched ``view`` at ``version``, how many did (a text search counts up to
    ``order_search.CAP``) and ``{id: status shown}`` for the ids returned. A ``version``
    ahead of the database's is read as now."""
    version = min(version, read_version())
    changed = states_at(version)
    then = {i: state for i, state in changed.items() if state is not None}
    back: list[int] = []
    if then:
        # Orders moved after V: in if their state at V passes the status filter and the
        # rest of the view matches them now (text, dates, tag).
        rest = replace(view, status=None).apply(sa.select(Order.id))
        for order_id in db.session.scalars(rest.where(Order.id.in_(list(then)))):
            if _status_matches(view.status, *then[order_id]):
                back.append(order_id)
    where = sa.and_(sa.true(), *view.conditions())
    if changed:
        where = sa.and_(where, Order.id.not_in(list(changed)))
    if back:
        where = sa.or_(where, Order.id.in_(back))
    query = (
        sa.select(Order.id, Order.status, Order.cancelled)
        .join(User, User.id == Order.user_id)
        .where(where)
    )
    if view.q:
        first = db.session.execute(
            query.order_by(*view.ordering()).limit(max(limit, order_search.CAP + 1))
        ).all()
        total = min(len(first), order_search.CAP)
        rows = first[: min(limit, order_search.CAP)]
    else:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        rows = db.session.execute(query.order_by(*view.ordering()).limit(limit)).all()
    seen = {
        order_id: shown(*then[order_id]) if order_id in then else shown(status, cancelled)
        for order_id, status, cancelled in rows
    }
    return [r[0] for r in rows], total, seen
