"""CSRF on every state-changing rule of the url_map.

Each POST/PUT/PATCH/DELETE rule has a case below: who sends it, a body that *works* with the
token, and what must not have changed without it. The walk fails when a new write route has
no case, so no route can skip the check unnoticed.
"""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, User, UserSession
from app.services import notes, saved_views, sessions
from app.services.history import last_change
from app.services.order_query import OrderFilter
from app.services.status import change_status
from tests.factories import PASSWORD
from tests.helpers import assert_json_error, csrf_token
from tests.security_helpers import (
    WRITE_METHODS,
    cart_of,
    concrete_url,
    flashes,
    is_json_path,
    is_logged_in,
    login_with_token,
    rules,
    snapshot,
)

# CSRF does not depend on the database (docs/testing.md, "Databases"): SQLite only.
pytestmark = pytest.mark.one_database


def order_body(shop):
    return {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "pickup",
    }


def last_product(shop) -> dict:
    return {"_url": {"product_id": shop.products[-1].id}}


# endpoint → (who, kind, body(shop) → JSON or form fields). ``who`` is "anonymous",
# "customer" (alice, 2 × product 0 in her cart) or "admin"; kind "json" or "form".
CASES = {
    "api.create_order": ("customer", "json", order_body),
    "admin_api.order_status": ("admin", "json", lambda shop: {"status": "Shipped"}),
    "admin_api.order_cancel": ("admin", "json", lambda shop: {"reason": "Out of stock"}),
    # A body that depends on the order acted on is a function of its id (see send()).
    "bulk_api.orders_bulk": (
        "admin",
        "json",
        lambda shop: (
            lambda order_id: {
                "ids": [order_id],
                "action": "advance",
                "from": {str(order_id): "Pending"},
            }
        ),
    ),
    "presence.presence": (
        "admin",
        "json",
        lambda shop: lambda order_id: {"order_id": order_id, "action": "cancelling"},
    ),
    # Its body is made by PREPARE (below): the id of a change boss has just made.
    "admin_api.order_undo": ("admin", "json", lambda shop: {}),
    "auth.login": ("anonymous", "form", lambda s: {"username": "alice", "password": PASSWORD}),
    "auth.register": (
        "anonymous",
        "form",
        lambda shop: {
            "username": "mallory",
            "email": "mallory@example.com",
            "password": "longpassword1",
            "confirm": "longpassword1",
        },
    ),
    "auth.logout": ("customer", "form", lambda shop: {}),
    "account.cancel_order": ("customer", "form", lambda shop: {"confirm": "y"}),
    "shop.cart_add": (
        "customer",
        "form",
        lambda shop: {"product_id": shop.products[1].id, "quantity": 3},
    ),
    "shop.view_cart": (
        "customer",
        "form",
        lambda shop: {"product_id": shop.products[0].id, "quantity": 5},
    ),
    "shop.checkout": ("customer", "form", lambda shop: {"delivery_method": "pickup"}),
    # The same password again: a new hash (new salt) and the other sessions end, while
    # alice can still log in for the cases after this one.
    "settings.change_password": (
        "customer",
        "form",
        lambda shop: {"current": PASSWORD, "password": PASSWORD, "confirm": PASSWORD},
    ),
    # alice is signed in on a second browser too (setup), so there is a session to end.
    "settings.end_other_sessions": ("customer", "form", lambda shop: {}),
    # Its URL names alice's session on her second browser (URL_VALUES).
    "settings.end_session": ("customer", "form", lambda shop: {}),
    "order_tools_api.add_note": ("admin", "json", lambda shop: {"text": "Called her"}),
    # Bodies made by PREPARE: a note (or view) boss has just written.
    "order_tools_api.edit_note": ("admin", "json", lambda shop: {}),
    "order_tools_api.delete_note": ("admin", "json", lambda shop: {}),
    "order_tools_api.change_tags": ("admin", "json", lambda shop: {"add": ["vip"]}),
    "order_tools_api.refund": ("admin", "json", lambda shop: {"credits": 1, "reason": "Late"}),
    "saved_views_api.create_view": (
        "admin",
        "json",
        lambda shop: {"name": "Pending", "query": "status=Pending"},
    ),
    "saved_views_api.delete_view": ("admin", "json", lambda shop: {}),
    "catalogue.api_create": (
        "admin",
        "json",
        lambda shop: {"name": "Oat loaf", "category": "Bakery", "credit_value": 4},
    ),
    # The last product: the orders every case places take the first one.
    "catalogue.api_update": ("admin", "json", lambda shop: {"stock": 7, **last_product(shop)}),
    "catalogue.product_new": (
        "admin",
        "form",
        lambda shop: {"name": "Oat loaf", "category": "Bakery", "credit_value": 4},
    ),
    "catalogue.product_edit": (
        "admin",
        "form",
        lambda shop: {
            "name": "Rye",
            "category": "Bakery",
            "credit_value": 5,
            **last_product(shop),
        },
    ),
    "catalogue.product_active": ("admin", "form", lambda shop: last_product(shop)),
}
CREATED = {"saved_views_api.create_view", "catalogue.api_create", "order_tools_api.add_note"}


def shipped_by_boss(app, order) -> dict:
    """Undo's setup, before the request is sent: boss ships the order; the body undoes it."""
    with app.app_context():
        boss = db.session.scalar(sa.select(User).where(User.username == "boss"))
        shipped = change_status(db.session.get(Order, order[0]), "Shipped", actor=boss)
        db.session.commit()
        body = {"activity_id": last_change(shipped)["id"]}
        db.session.remove()
    return body


def note_by_boss(app, order) -> dict:
    """Boss's note on the order; the body edits it (``_url`` fills the rule's note_id)."""
    with app.app_context():
        boss = db.session.scalar(sa.select(User).where(User.username == "boss"))
        note = notes.add_note(db.session.get(Order, order[0]), "Fragile", boss)
        db.session.commit()
        body = {"text": "Very fragile", "_url": {"note_id": note.id}}
        db.session.remove()
    return body


def view_by_boss(app, order) -> dict:
    with app.app_context():
        boss = db.session.scalar(sa.select(User).where(User.username == "boss"))
        view = saved_views.create(boss, f"Mine {order[0]}", OrderFilter(status="Shipped"), False)
        db.session.commit()
        body = {"_url": {"view_id": view.id}}
        db.session.remove()
    return body


# endpoint → setup(app, order) run before the "before" snapshot; it returns the body to send.
PREPARE = {
    "admin_api.order_undo": shipped_by_boss,
    "order_tools_api.edit_note": note_by_boss,
    "order_tools_api.delete_note": note_by_boss,
    "saved_views_api.delete_view": view_by_boss,
}


def alices_newest_session(app) -> dict:
    """The handle of alice's newest session (her second browser, made by ``setup``)."""
    with app.app_context():
        newest = db.session.scalars(
            sa.select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == "alice")
            .order_by(UserSession.created_at.desc())
        ).first()
        value = sessions.handle(newest)
        db.session.remove()
    return {"handle": value}


# endpoint → values(app) for the rule's URL arguments that depend on the data.
URL_VALUES = {"settings.end_session": alices_newest_session}


def write_rules(app):
    return [(rule, method) for rule, method in rules(app, methods=WRITE_METHODS)]


def test_every_write_rule_has_a_case(csrf_app):
    endpoints = {rule.endpoint for rule, _ in write_rules(csrf_app)}
    assert endpoints == set(CASES), "add a CSRF case for each new state-changing route"


def setup(app, shop, who):
    """``(client, token)`` as ``who``, an order of alice's to act on, her cart filled."""
    if who == "anonymous":
        client = app.test_client()
        return client, csrf_token(client)
    alice, alice_token = login_with_token(app, "alice")
    alice.post(
        "/cart/add",
        data={"product_id": shop.products[0].id, "quantity": 2, "csrf_token": alice_token},
    )
    if who == "customer":
        login_with_token(app, "alice")  # another browser of hers
        return alice, alice_token
    return login_with_token(app, "boss")


def placed_order(app, shop):
    """A Pending order of alice's (so she may cancel it herself): ``(id, order_number)``."""
    client, token = login_with_token(app, "alice")
    response = client.post("/api/orders", json=order_body(shop), headers={"X-CSRFToken": token})
    assert response.status_code == 201
    order = response.get_json()["order"]
    return order["id"], order["order_number"]


def send(client, rule, method, kind, body, order, token=None):
    order_id, order_number = order
    if callable(body):
        body = body(order_id)
    body = dict(body)
    values = body.pop("_url", {})
    if rule.endpoint in URL_VALUES:
        values.update(URL_VALUES[rule.endpoint](client.application))
    url = concrete_url(rule, order_id=order_id, order_number=order_number, **values)
    if kind == "json":
        headers = {"X-CSRFToken": token} if token else {}
        return url, client.open(url, method=method, json=body, headers=headers)
    form = dict(body, csrf_token=token) if token else body
    return url, client.open(url, method=method, data=form)


def session_view(client):
    return cart_of(client), is_logged_in(client)


@pytest.mark.parametrize("bad_token", [None, "forged", "other-session"])
def test_every_write_rule_refuses_a_missing_or_wrong_token(csrf_app, csrf_shop, bad_token):
    order = placed_order(csrf_app, csrf_shop)
    for rule, method in write_rules(csrf_app):
        who, kind, body = CASES[rule.endpoint]
        client, _ = setup(csrf_app, csrf_shop, who)
        token = bad_token
        if bad_token == "other-session":
            token = csrf_token(csrf_app.test_client())  # valid, but for another session
        seen_before = session_view(client)
        client.get("/")  # shows (and so consumes) the flashes so far
        sent = PREPARE[rule.endpoint](csrf_app, order) if rule.endpoint in PREPARE else None
        before = snapshot(csrf_app)
        sent = sent if sent is not None else body(csrf_shop)
        url, response = send(client, rule, method, kind, sent, order, token)
        if is_json_path(url):
            assert_json_error(response, 400, "csrf")
        else:
            assert response.status_code == 303, (method, url, response.status_code)
            categories = [category for category, _ in flashes(client)]
            assert categories == ["error"], (method, url, categories)
        assert snapshot(csrf_app) == before, (method, url)
        assert session_view(client) == seen_before, (method, url)


def test_every_write_rule_works_with_the_token(csrf_app, csrf_shop):
    """The same requests with the page's token change something: the refusals above are
    the CSRF check's doing, not a bad body."""
    for rule, method in write_rules(csrf_app):
        order = placed_order(csrf_app, csrf_shop)  # Pending: every action can act on it
        who, kind, body = CASES[rule.endpoint]
        client, token = setup(csrf_app, csrf_shop, who)
        sent = PREPARE[rule.endpoint](csrf_app, order) if rule.endpoint in PREPARE else None
        before, seen_before = snapshot(csrf_app), session_view(client)
        sent = sent if sent is not None else body(csrf_shop)
        url, response = send(client, rule, method, kind, sent, order, token)
        # Forms redirect on success, the JSON checkout creates (201), admin actions answer 200.
        expected = 302 if kind == "form" else 200 if url.startswith("/admin") else 201
        expected = 201 if rule.endpoint in CREATED else expected
        assert response.status_code == expected, (method, url, response.status_code)
        changed = snapshot(csrf_app) != before or session_view(client) != seen_before
        if rule.endpoint == "auth.login":
            changed = is_logged_in(client)
        assert changed, (method, url)
