"""The customer's side: cancelled and step times on the order page, the short
balance at checkout, /login, and one email rule for registration, demo data and factories."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from wtforms.validators import Email

from app.extensions import db
from app.models import Order, User
from app.services import Invalid, accounts, demo
from app.services.status import cancel_order, change_status
from tests.factories import make_order, make_product


@pytest.fixture
def order(app, shop):
    """A 12-credit pickup order of alice's placed 2026-11-20 09:00 UTC: its number."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product(credit_value=12)
        return make_order(alice, [(product, 1)], now=datetime(2026, 11, 20, 9)).order_number


def page(client, number):
    response = client.get(f"/orders/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def move(app, number, *statuses, cancel=None):
    with app.app_context():
        found = db.session.scalar(sa.select(Order).where(Order.order_number == number))
        for status in statuses:
            change_status(found, status)
        if cancel:
            cancel_order(found, cancel)
        db.session.commit()


def step_times(html) -> dict:
    """``{step: datetime attribute or None}`` from the timeline."""
    found = {}
    for step, body in re.findall(r'data-step="([^"]+)"(.*?)</li>', html, re.S):
        time = re.search(r'data-step-time><time[^>]*datetime="([^"]+)"', body)
        found[step] = time.group(1) if time else None
    return found


def test_the_timeline_shows_when_each_step_happened(app, customer_client, order):
    times = step_times(page(customer_client, order))
    assert times == {
        "Pending": "2026-11-20T09:00:00Z",
        "Shipped": None,
        "Out for Delivery": None,
        "Delivered": None,
    }
    move(app, order, "Shipped")
    times = step_times(page(customer_client, order))
    assert times["Pending"] == "2026-11-20T09:00:00Z"
    assert times["Shipped"] and times["Out for Delivery"] is None


def test_a_cancelled_order_hides_the_estimate_and_says_when_and_why(app, customer_client, order):
    live = page(customer_client, order)
    assert re.search(r"<div data-estimated-row>", live)
    assert re.search(r"<div data-cancelled-row hidden>", live)
    move(app, order, "Shipped", cancel="Address unreachable")
    html = page(customer_client, order)
    assert re.search(r"<div data-estimated-row hidden>", html)
    assert re.search(r"<div data-actual-row hidden>", html)
    assert re.search(r"<div data-cancelled-row>", html)
    assert "Reason: Address unreachable" in html
    banner = re.search(r"data-cancelled-banner.*?</div>", html, re.S).group(0)
    assert re.search(r"cancelled<span data-cancelled-at> on <time", banner)


# -- checkout with a short balance --------------------------------------------------------


def test_checkout_says_how_many_credits_are_missing_and_disables_the_button(
    app, customer_client, shop
):
    customer_client.post("/cart/add", data={"product_id": shop.products[3].id, "quantity": 99})
    html = customer_client.get("/checkout").get_data(as_text=True)
    assert 'data-credits-missing="89"' in html  # 99 × 11 = 1089, alice has 1000
    assert "You are 89 credits short" in html
    button = re.search(r"<button[^>]*data-submit[^>]*>", html).group(0)
    assert "disabled" in button
    assert "Balance after order" not in html and "-89" not in html
    # The server is still the judge.
    assert customer_client.post("/checkout", data={"delivery_method": "pickup"}).status_code == 422


def test_checkout_with_enough_credits_is_enabled(customer_client, shop):
    customer_client.post("/cart/add", data={"product_id": shop.products[0].id, "quantity": 1})
    html = customer_client.get("/checkout").get_data(as_text=True)
    assert 'data-credits-missing="0"' in html
    assert "disabled" not in re.search(r"<button[^>]*data-submit[^>]*>", html).group(0)


# -- /login and emails -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, location",
    [
        ("", "/auth/login"),
        ("?next=/orders", "/auth/login?next=/orders"),
        ("?next=/admin/manage_orders?status%3DPending", "/auth/login?next=/admin/manage_orders"),
    ],
)
def test_login_redirects_to_the_form_keeping_next(client, query, location):
    response = client.get(f"/login{query}")
    assert response.status_code == 301
    assert response.headers["Location"].startswith(location)


def test_login_alias_then_login_follows_next(client, shop):
    target = client.get("/login?next=/orders").headers["Location"]
    response = client.post(target, data={"username": "alice", "password": shop.password})
    assert response.headers["Location"] == "/orders"


def register(client, email):
    return client.post(
        "/auth/register",
        data={"username": "zoe", "email": email, "password": "longpass1", "confirm": "longpass1"},
    )


@pytest.mark.parametrize("email", ["zoe@example.test", "zoe@shop.local", "zoe@localhost"])
def test_special_use_domains_are_refused_everywhere(app, client, email):
    response = register(client, email)
    assert response.status_code == 200 and "email" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "zoe")) is None
        with pytest.raises(Invalid, match="email"):
            accounts.create_user("zoe", email, "longpass1")


def test_registration_accepts_the_demo_domain(app, client):
    assert register(client, "Zoe@Example.com").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.email).where(User.username == "zoe")) == (
            "zoe@example.com"
        )


def test_demo_data_passes_the_registration_rule(ctx):
    demo.seed_demo(orders=5, days=1)
    db.session.commit()
    emails = db.session.scalars(sa.select(User.email)).all()
    assert len(emails) == 21
    check = Email()

    class Field:
        data = None

    for email in emails:
        Field.data = email
        check(None, Field)  # raises ValidationError if the form would refuse it
        assert accounts.normalise_email(email) == email
