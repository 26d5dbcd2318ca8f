"""Helpers for the security and property tests: a whole-database snapshot, a url_map walk
that fills in any converter, and logins that carry the CSRF token."""

import re

import sqlalchemy as sa
from prometheus_client import REGISTRY

from app.extensions import db
from app.models import (
    Order,
    OrderCount,
    OrderItem,
    OrderNote,
    OrderTag,
    OrderVersion,
    Product,
    SavedView,
    User,
    UserSession,
)
from tests.factories import PASSWORD
from tests.helpers import csrf_token

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Values that make a rule's URL concrete; an unknown converter fails the walk loudly
# instead of silently testing a URL that matches nothing.
SAMPLE_ARGUMENTS = {
    "order_id": "1",
    "order_number": "ORD-19990101-00001",
    "filename": "x",
    "handle": "0123456789abcdef01234567",
    "note_id": "1",
    "product_id": "1",
    "view_id": "1",
    "username": "alice",
    "action": "deactivate",
}
_ARGUMENT = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>")


def snapshot(app) -> dict:
    """Everything a refused request must leave alone: users (count, balances, roles,
    passwords), server-side sessions,
    orders (count, statuses, cancellations), order items, every ``order_counts`` row and
    the presence announced by this process."""
    with app.app_context():
        state = {
            "users": db.session.execute(
                sa.select(
                    User.id, User.username, User.role, User.credits, User.password_hash
                ).order_by(User.id)
            ).all(),
            "sessions": db.session.scalar(sa.select(sa.func.count(UserSession.id))),
            "orders": db.session.execute(
                sa.select(
                    Order.id, Order.status, Order.cancelled, Order.cancellation_reason
                ).order_by(Order.id)
            ).all(),
            "items": db.session.scalar(sa.select(sa.func.count(OrderItem.id))),
            "notes": db.session.execute(
                sa.select(OrderNote.id, OrderNote.text, OrderNote.deleted).order_by(OrderNote.id)
            ).all(),
            "tags": db.session.execute(
                sa.select(OrderTag.order_id, OrderTag.tag).order_by(
                    OrderTag.order_id, OrderTag.tag
                )
            ).all(),
            "products": db.session.execute(
                sa.select(Product.id, Product.name, Product.stock, Product.active).order_by(
                    Product.id
                )
            ).all(),
            "views": db.session.scalar(sa.select(sa.func.count(SavedView.id))),
            "refunded": db.session.scalar(sa.select(sa.func.sum(Order.refunded_credits))),
            "order_counts": db.session.execute(
                sa.select(OrderCount.name, OrderCount.shard, OrderCount.count).order_by(
                    OrderCount.name, OrderCount.shard
                )
            ).all(),
            "version": db.session.scalar(sa.select(OrderVersion.version)),
            # Presence lives in the hubs, not the database: what this process announced.
            "presence": REGISTRY.get_sample_value(
                "orderpulse_presence_messages_total", {"op": "focus"}
            ),
        }
        db.session.remove()
    return state


def concrete_url(rule, **values) -> str:
    """``rule.rule`` with each ``<converter:name>`` replaced (``values`` first, then
    ``SAMPLE_ARGUMENTS``); ``KeyError`` for an argument nobody knows how to fill."""
    samples = SAMPLE_ARGUMENTS | {k: str(v) for k, v in values.items()}
    return _ARGUMENT.sub(lambda m: samples[m.group(1)], rule.rule)


def is_json_path(url: str) -> bool:
    """The paths whose errors are JSON (``app.security.wants_json`` without Accept)."""
    return url.startswith(("/api/", "/admin/api/")) or url.endswith(("/stream", ".csv"))


def rules(app, prefix: str = "/", methods=None):
    """``[(rule, method)]`` for every rule under ``prefix`` (HEAD included, OPTIONS not),
    restricted to ``methods`` when given."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        for method in sorted(rule.methods - {"OPTIONS"}):
            if methods is None or method in methods:
                found.append((rule, method))
    return found


def login_with_token(app, username: str, password: str = PASSWORD):
    """``(client, token)`` for an app with CSRF on: logged in through the form, and the
    token read again afterwards (login renews the session and with it the CSRF secret)."""
    client = app.test_client()
    response = client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True).split('flash-text">')[-1][
        :200
    ]
    assert "/auth/login" not in response.headers["Location"]
    return client, csrf_token(client)


def flashes(client) -> list[tuple[str, str]]:
    """Flashed ``(category, message)`` pairs still waiting in the client's session."""
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def cart_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("cart", {}))


def is_logged_in(client) -> bool:
    # /orders needs a login; an anonymous visitor is sent to the login page.
    return client.get("/orders").status_code == 200
