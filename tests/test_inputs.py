"""Input corners: one integer rule (ASCII digits only) for every query argument, so a
superscript or Arabic-Indic digit is a 400 (never a 500); search text matched literally
(``%``, ``_`` and ``\\`` are no wildcards); search by product name."""

import csv
import io

import pytest

from app.extensions import db
from app.models import User
from app.services.order_search import like_pattern
from app.web.args import parse_int
from tests.factories import make_order, make_product, make_user
from tests.helpers import assert_json_error, message

JUNK = ["²", "١٢", "1²", "1.5", "0x10", "1e3", "--1", " ", "9" * 31]


@pytest.mark.parametrize("raw", JUNK)
def test_parse_int_takes_ascii_digits_only(raw):
    assert parse_int(raw) is None


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("42", 42), (" -7 ", -7), ("+3", 3)])
def test_parse_int_reads_plain_integers(raw, value):
    assert parse_int(raw) == value


@pytest.mark.parametrize(
    "url",
    [
        "/admin/api/activity?limit={}",
        "/admin/api/revenue?offset={}",
        "/admin/api/order-updates?since={}",
        "/admin/api/order-updates?minutes={}",
    ],
)
@pytest.mark.parametrize("raw", ["²", "١٢", "1²"])
@pytest.mark.one_database
def test_a_non_ascii_digit_is_400_never_500(admin_client, url, raw):
    name = url.split("?")[1].split("=")[0]
    assert_json_error(admin_client.get(url.format(raw)), 400, name)


@pytest.mark.parametrize("raw", ["²", "١٢"])
def test_pages_fall_back_to_the_default_page(admin_client, customer_client, raw):
    assert admin_client.get(f"/admin/manage_orders?page={raw}&per_page={raw}").status_code == 200
    assert customer_client.get(f"/orders?page={raw}").status_code == 200
    assert customer_client.get(f"/?page={raw}").status_code == 200


def test_a_stream_resuming_from_a_superscript_gets_a_reset(admin_client, open_stream):
    stream = open_stream(admin_client, "/admin/orders/stream?last_event_id=²")
    assert stream.response.status_code == 200
    stream.wait_for(message("reset"), timeout=3)


@pytest.fixture
def named(app, shop):
    """Orders of customers whose names hold LIKE's wildcards, and one with a product."""
    with app.app_context():
        people = {
            name: make_user(username=name, email=f"{email}@example.com")
            for name, email in [("a_b", "ab"), ("axb", "axb"), ("pct", "p100"), ("back", "bk")]
        }
        rye = make_product("Organic Rye Bread", credit_value=7)
        numbers = {name: make_order(user).order_number for name, user in people.items()}
        numbers["rye"] = make_order(db.session.get(User, shop.alice.id), [(rye, 2)]).order_number
    return numbers


def numbers_found(admin_client, q) -> set[str]:
    response = admin_client.get("/admin/orders.csv", query_string={"q": q})
    assert response.status_code == 200
    rows = csv.reader(io.StringIO(response.get_data(as_text=True), newline=""))
    return {row[0] for row in list(rows)[1:]}


def test_wildcards_in_search_are_literal(admin_client, named):
    assert numbers_found(admin_client, "a_b") == {named["a_b"]}  # not axb
    assert numbers_found(admin_client, "%") == set()  # not everything
    assert numbers_found(admin_client, "_") == {named["a_b"]}
    assert numbers_found(admin_client, "\\") == set()
    assert numbers_found(admin_client, "%_" * 50) == set()
    ids = admin_client.get("/admin/api/orders/ids?q=%25").get_json()
    assert ids["total"] == 0


def test_like_pattern_escapes_its_wildcards():
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_search_finds_product_names(admin_client, named):
    assert numbers_found(admin_client, "rye bread") == {named["rye"]}
    assert numbers_found(admin_client, "ORGANIC") == {named["rye"]}
    rows = admin_client.get("/admin/api/dashboard?q=rye").get_json()["rows"]
    assert [row["order_number"] for row in rows] == [named["rye"]]


@pytest.mark.parametrize(
    "path", ["/admin/api/order-updates", "/admin/orders/stream", "/admin/orders.csv"]
)
def test_a_401_carries_a_challenge(client, path):
    """RFC 9110 §11.6.1: a 401 sends at least one WWW-Authenticate challenge."""
    response = client.get(path)
    assert_json_error(response, 401)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Cookie ") and 'form-action="/auth/login"' in challenge


def test_a_401_on_the_json_checkout_and_order_stream_too(client):
    response = client.post("/api/orders", json={})
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    stream = client.get("/orders/ORD-20260101-00001/stream")
    assert stream.status_code == 401 and "WWW-Authenticate" in stream.headers


def test_a_broad_search_counts_up_to_the_cap_and_still_finds_every_row(
    app, admin_client, shop, monkeypatch
):
    """On a large shop a text that matches most orders is counted up to ``CAP`` ("10,000+")
    instead of counting a million; a narrow one keeps its exact count."""
    from app.services import order_search

    monkeypatch.setattr(order_search, "CAP", 3)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        mine = [make_order(alice).order_number for _ in range(5)]
        theirs = make_order(db.session.get(User, shop.bob.id)).order_number
    broad = admin_client.get("/admin/api/dashboard?q=alice").get_json()
    assert broad["total"] == 3 and broad["total_capped"] is True
    # The newest CAP of them, in pages; the export has them all.
    assert [row["order_number"] for row in broad["rows"]] == mine[::-1][:3]
    assert "3+" in admin_client.get("/admin/manage_orders?q=alice").get_data(as_text=True)
    assert numbers_found(admin_client, "alice") == set(mine)
    ids = admin_client.get("/admin/api/orders/ids?q=alice").get_json()
    assert ids["total"] == 3 and len(ids["ids"]) == 3
    narrow = admin_client.get("/admin/api/dashboard?q=bob").get_json()
    assert (narrow["total"], narrow["total_capped"]) == (1, False)
    assert [row["order_number"] for row in narrow["rows"]] == [theirs]
