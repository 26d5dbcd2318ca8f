"""Paging the orders table by key (``after=``/``before=``, app/services/keyset.py): "Next"
never shows a row of the page it came from while orders arrive, every sort pages through
the same rows as the offsets do when nothing moves, the page count follows the live count,
and a cursor that is no cursor falls back to the first page (never a 500)."""

import re
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import User
from tests import snapshots
from tests.factories import make_order, make_product

START = datetime(2026, 12, 1, 8, 0)


@pytest.fixture
def sixty(app, shop):
    """60 of alice's orders a minute apart (totals 5..64 credits, in a shuffled order, so
    the total sort differs from the time sort); every seventh cancelled, every fifth
    Shipped. Built once per process and database kind, then written back from a snapshot
    (tests/snapshots.py): these tests read the orders through the API only."""
    snapshots.restore_or_build(app, "sixty", lambda app: _place_sixty(app, shop))


def _place_sixty(app, shop) -> None:
    from app.services.status import cancel_order, change_status

    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        alice.credits = 100_000
        for i in range(60):
            product = make_product(name=f"Loaf {i}", credit_value=5 + (i * 37) % 60)
            order = make_order(alice, [(product, 1)], now=START + timedelta(minutes=i))
            if i % 7 == 3:
                cancel_order(order, "Customer asked")
            elif i % 5 == 1:
                change_status(order, "Shipped")
            db.session.commit()


def arrive(app, shop, count: int, minute: int = 100) -> None:
    """``count`` new orders, placed after every order of ``sixty``."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        for i in range(count):
            make_order(alice, now=START + timedelta(minutes=minute + i))


def table(client, **query) -> dict:
    response = client.get("/admin/api/dashboard", query_string=query)
    assert response.status_code == 200, response.get_data(True)
    return response.get_json()


def numbers(page: dict) -> list[str]:
    return [row["order_number"] for row in page["rows"]]


def every_page(client, **query) -> list[str]:
    """All rows of the view, following ``next_cursor`` from the first page."""
    seen, page = [], table(client, **query)
    while True:
        seen += numbers(page)
        if not page["next_cursor"]:
            return seen
        page = table(client, after=page["next_cursor"], **query)


def test_next_never_repeats_a_row_while_orders_arrive(app, admin_client, shop, sixty):
    first = table(admin_client)
    assert first["page"] == 1 and first["pages"] == 3 and first["first"] == 1
    arrive(app, shop, 8)
    second = table(admin_client, after=first["next_cursor"])
    # Offsets would have shown 8 of page 1's rows again; the key starts right after them.
    assert not set(numbers(second)) & set(numbers(first))
    assert len(numbers(second)) == 25
    # Where it sits now: 25 seen + 8 new above; the page count follows the count (68).
    assert second["first"] == 34 and second["total"] == 68 and second["pages"] == 3
    assert second["page"] == 2
    arrive(app, shop, 8, minute=200)
    third = table(admin_client, after=second["next_cursor"])
    assert not set(numbers(third)) & (set(numbers(first)) | set(numbers(second)))
    assert numbers(first) + numbers(second) + numbers(third) == every_page(admin_client)[16:]
    assert third["next_cursor"] is None and third["total"] == 76


def cursor_of(row: dict) -> str:
    """The default sort's cursor of a row as the API shows it (whole seconds, UTC)."""
    return row["date_ordered"].removesuffix("Z") + "," + str(row["id"])


def test_previous_ends_right_before_the_first_row(app, admin_client, shop, sixty):
    everything = every_page(admin_client)
    second = table(admin_client, page=2)
    back = table(admin_client, before=second["prev_cursor"])
    assert numbers(back) == everything[:25] and back["prev_cursor"] is None
    third = table(admin_client, page=3)
    middle = table(admin_client, before=third["prev_cursor"])
    assert numbers(middle) == everything[25:50]
    # Orders arrived: the page before page 2's first row now starts 3 rows down.
    arrive(app, shop, 3)
    shifted = table(admin_client, before=second["prev_cursor"])
    assert numbers(shifted) == everything[:25] and shifted["prev_cursor"]
    # Fewer than a page before the cursor: the first page, as a whole.
    near_top = table(admin_client, before=cursor_of(table(admin_client)["rows"][9]))
    assert near_top["page"] == 1 and numbers(near_top) == every_page(admin_client)[:25]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"dir": "asc"},
        {"sort": "total"},
        {"sort": "total", "dir": "asc"},
        {"sort": "status"},
        {"sort": "status", "dir": "asc"},
        {"status": "Pending"},
        {"status": "Cancelled", "per_page": "25"},
        {"q": "loaf"},
        {"q": "LOAF 1", "sort": "total"},
    ],
)
def test_keys_page_through_the_same_rows_as_offsets(admin_client, sixty, query):
    by_offset = []
    for page in (1, 2, 3):
        by_offset += numbers(table(admin_client, page=page, **query))
        if table(admin_client, page=page, **query)["pages"] <= page:
            break
    assert every_page(admin_client, **query) == by_offset
    assert len(set(by_offset)) == len(by_offset) > 0


def test_search_by_key_keeps_its_count(app, admin_client, shop, sixty):
    first = table(admin_client, q="loaf")  # the product names: all 60
    assert first["total"] == 60 and first["pages"] == 3
    arrive(app, shop, 4)  # "Product …": not in the search
    second = table(admin_client, q="loaf", after=first["next_cursor"])
    assert not set(numbers(second)) & set(numbers(first))
    assert second["total"] == 60 and second["first"] == 26 and second["page"] == 2


def test_the_page_links_follow_keys_and_count_the_live_total(app, admin_client, shop, sixty):
    html = admin_client.get("/admin/manage_orders?page=2").get_data(True)
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1)
    prev = re.search(r'rel="prev" href="([^"]+)"', html).group(1)
    assert "after=" in nxt and "page=" not in nxt
    assert "before=" in prev
    assert "data-page-count>3<" in html
    arrive(app, shop, 20)
    html = admin_client.get(nxt.replace("&amp;", "&")).get_data(True)
    assert re.search(r"data-page-count>(\d+)<", html).group(1) == "4"  # 80 orders


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "2026-13-01T00:00:00,5",
        "2026-12-01T08:00:00+00:00,5",  # naive UTC only
        "1,2,3",
        "²,1",
        "9" * 30 + ",1",
        "x" * 300,
        "",
        ",",
    ],
)
@pytest.mark.one_database
def test_a_bad_cursor_shows_the_first_page(admin_client, sixty, cursor):
    first = numbers(table(admin_client))
    for arg in ("after", "before"):
        assert numbers(table(admin_client, **{arg: cursor})) == first
        page = admin_client.get("/admin/manage_orders", query_string={arg: cursor})
        assert page.status_code == 200


def test_a_cursor_past_either_end(admin_client, sixty):
    everything = every_page(admin_client)
    past_end = table(admin_client, after="2000-01-01T00:00:00,1")
    assert numbers(past_end) == everything[50:] and past_end["next_cursor"] is None
    before_start = table(admin_client, before="2099-01-01T00:00:00,1")
    assert numbers(before_start) == everything[:25]
