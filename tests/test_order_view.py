"""The orders table's view in the URL: date range, presets, sorting, page size, pages past
the end; bad values fall back to defaults on pages and are 400s on the API, never 500s."""

import re
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import User
from app.models.timestamps import utcnow
from app.services import shop_time
from tests import snapshots
from tests.factories import make_order, make_product
from tests.helpers import assert_json_error


@pytest.fixture
def dated(app, shop):
    """Five orders of alice's on 2026-11-20..24 at 23:30 UTC, totals 10, 50, 30, 20, 40;
    the third cancelled. Returns their numbers, oldest first. Built once per process and
    database kind, then written back from a snapshot (tests/snapshots.py): these tests
    read the orders through pages and the API only."""
    return snapshots.restore_or_build(app, "dated", lambda app: _place_dated(app, shop))


def _place_dated(app, shop) -> list[str]:
    from app.services.status import cancel_order

    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        numbers = []
        for day, price in zip(range(20, 25), (10, 50, 30, 20, 40), strict=True):
            product = make_product(credit_value=price)
            order = make_order(alice, [(product, 1)], now=datetime(2026, 11, day, 23, 30))
            numbers.append(order.order_number)
            if day == 22:
                cancel_order(order, "Customer asked")
                db.session.commit()
        return numbers


def shown(response) -> list[str]:
    """Order numbers of the table's rows, top to bottom."""
    assert response.status_code == 200
    return re.findall(r'<span class="order-number">([^<]+)</span>', response.get_data(True))


def page_of(response) -> tuple[int, int]:
    """``(page, pages)`` of the table's "page 3 of 27" (its numbers live-updatable spans)."""
    found = re.search(
        r"page <span data-page-number>(\d+)</span> of <span data-page-count>(\d+)</span>",
        response.get_data(True),
    )
    return int(found.group(1)), int(found.group(2))


def ids_api(client, **query):
    return client.get("/admin/api/orders/ids", query_string=query)


def test_default_view_is_newest_first(admin_client, dated):
    assert shown(admin_client.get("/admin/manage_orders")) == dated[::-1]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"sort": "ordered", "dir": "asc"}, [0, 1, 2, 3, 4]),
        ({"sort": "total"}, [1, 4, 2, 3, 0]),
        ({"sort": "total", "dir": "asc"}, [0, 3, 2, 4, 1]),
        # Workflow position: every Pending order (newest first), the cancelled one last.
        ({"sort": "status"}, [2, 4, 3, 1, 0]),
        ({"sort": "status", "dir": "asc"}, [0, 1, 3, 4, 2]),
    ],
)
def test_sorting(admin_client, dated, query, expected):
    assert shown(admin_client.get("/admin/manage_orders", query_string=query)) == [
        dated[i] for i in expected
    ]


def test_date_range_is_inclusive_in_utc(admin_client, dated):
    query = {"from": "2026-11-21", "to": "2026-11-23", "sort": "ordered", "dir": "asc"}
    assert shown(admin_client.get("/admin/manage_orders", query_string=query)) == dated[1:4]


def test_date_range_follows_the_shop_zone(make_app, database):
    # 23:30 UTC is already the next day in Paris.
    from tests.factories import seed_shop
    from tests.helpers import logged_in_client

    app = make_app(SHOP_TIMEZONE="Europe/Paris")
    shop = seed_shop(app)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        number = make_order(alice, now=datetime(2026, 11, 20, 23, 30)).order_number
    admin = logged_in_client(app, shop.admin.username)
    on = {"from": "2026-11-21", "to": "2026-11-21"}
    assert shown(admin.get("/admin/manage_orders", query_string=on)) == [number]
    before = {"from": "2026-11-20", "to": "2026-11-20"}
    assert shown(admin.get("/admin/manage_orders", query_string=before)) == []


def test_from_after_to_is_swapped_on_the_page_and_400_on_the_api(admin_client, dated):
    query = {"from": "2026-11-23", "to": "2026-11-21"}
    assert len(shown(admin_client.get("/admin/manage_orders", query_string=query))) == 3
    assert_json_error(ids_api(admin_client, **query), 400, "from")


def test_presets(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        now = utcnow()
        today = make_order(alice, now=now).order_number
        old = make_order(alice, now=now - timedelta(days=3)).order_number
        ancient = make_order(alice, now=now - timedelta(days=30)).order_number
    page = admin_client.get("/admin/manage_orders", query_string={"range": "today"})
    assert shown(page) == [today]
    assert 'data-range="today"' in page.get_data(True)
    last7 = shown(admin_client.get("/admin/manage_orders", query_string={"range": "7d"}))
    assert last7 == [today, old] and ancient not in last7


def test_page_size_and_last_page(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product()
        for _ in range(60):
            make_order(alice, [(product, 1)])
    assert len(shown(admin_client.get("/admin/manage_orders"))) == 25
    assert len(shown(admin_client.get("/admin/manage_orders?per_page=50"))) == 50
    assert len(shown(admin_client.get("/admin/manage_orders?per_page=100"))) == 60
    # Past the end: the last page, with the real page number.
    response = admin_client.get("/admin/manage_orders?page=999&per_page=25")
    assert len(shown(response)) == 10
    assert page_of(response) == (3, 3)


@pytest.mark.parametrize(
    "query",
    [
        "per_page=7",
        "per_page=abc",
        "per_page=-25",
        "page=-3",
        "page=abc",
        "page=99999999999999999999",
        "page=²",
        "sort=price",
        "dir=sideways",
        "from=2026-13-45",
        "from=20261120",
        "from=2026-W47-1",
        "to=0001-01-01",
        "to=9999-12-31",
        "from=%EF%BC%92026-11-20",
        "range=forever",
        "status=Bogus",
        "per_page=100&page=0&q=",
    ],
)
@pytest.mark.one_database
def test_bad_values_fall_back_to_defaults_on_the_page(admin_client, dated, query):
    response = admin_client.get(f"/admin/manage_orders?{query}")
    assert response.status_code == 200
    assert len(shown(response)) >= 1


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "price"},
        {"dir": "up"},
        {"from": "2026-02-30"},
        {"to": "tomorrow"},
        {"range": "forever"},
        {"status": "Lost"},
    ],
)
@pytest.mark.one_database
def test_bad_values_are_400_on_the_api_and_the_export(admin_client, dated, query):
    name = next(iter(query))
    assert_json_error(ids_api(admin_client, **query), 400, name)
    assert_json_error(admin_client.get("/admin/orders.csv", query_string=query), 400, name)


def test_links_keep_every_other_argument(admin_client, dated):
    query = {"status": "Pending", "q": "ORD", "from": "2026-11-20", "sort": "total", "dir": "asc"}
    page = admin_client.get("/admin/manage_orders", query_string={**query, "per_page": 50})
    html = page.get_data(True).replace("&amp;", "&")
    # The "Cancelled" chip keeps the search, dates, sort and page size.
    chip = re.search(r'class="chip chip-cancelled[^"]*" href="([^"]*)"', html).group(1)
    for part in ("q=ORD", "from=2026-11-20", "sort=total", "dir=asc", "per_page=50"):
        assert part in chip, (part, chip)
    for attr in ('data-from="2026-11-20"', 'data-to=""', 'data-sort="total"', 'data-dir="asc"'):
        assert attr in html
    assert 'data-per-page="50"' in html


def test_my_orders_and_the_catalogue_show_their_last_page(app, customer_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product()
        numbers = [make_order(alice, [(product, 1)]).order_number for _ in range(21)]
    page = customer_client.get("/orders?page=999").get_data(True)
    assert numbers[0] in page and numbers[1] not in page  # page 2 of 2: the oldest one
    catalogue = customer_client.get("/?page=999").get_data(True)
    assert "Sourdough loaf" in catalogue


def test_order_filter_dates_use_local_midnight(make_app):
    app = make_app(SHOP_TIMEZONE="America/New_York")
    with app.app_context(), app.test_request_context("/?from=2026-11-20&to=2026-11-20"):
        from app.web.args import order_filter_args

        view = order_filter_args()
        assert shop_time.day_start(view.date_from) == datetime(2026, 11, 20, 5)


def test_a_huge_page_number_shows_the_last_page(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product()
        for _ in range(30):
            make_order(alice, [(product, 1)])
    response = admin_client.get("/admin/manage_orders", query_string={"page": "9" * 25})
    assert len(shown(response)) == 5
    assert page_of(response) == (2, 2)
