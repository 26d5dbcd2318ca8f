"""GET /admin/orders.csv: the current view as CSV, streamed; quoting, formula injection,
the shop's time zone, filters, access."""

import csv
import io
import re
from datetime import datetime

import pytest

from app.extensions import db
from app.models import User
from app.services import export
from app.services.status import cancel_order
from tests.factories import make_order, make_product, make_user, seed_shop
from tests.helpers import assert_json_error, logged_in_client


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


@pytest.fixture
def paris(make_app):
    """An app in Europe/Paris with the usual shop: ``(app, shop)``."""
    app = make_app(SHOP_TIMEZONE="Europe/Paris")
    return app, seed_shop(app)


def test_columns_values_and_quoting(paris):
    app, shop = paris
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        bread = make_product('Bread, "the good one"', credit_value=6)
        tea = make_product("Tea\nleaves", credit_value=9)
        address = '1 Quote "Street",\nFlat 2'
        first = make_order(
            alice,
            [(bread, 2), (tea, 1)],
            "home delivery",
            address,
            now=datetime(2026, 11, 20, 23, 30, 5),
        )
        second = make_order(alice, [(bread, 1)], now=datetime(2026, 7, 1, 8, 0))
        cancel_order(second, "Out of stock")
        db.session.commit()
        numbers = first.order_number, second.order_number
    admin = logged_in_client(app, shop.admin.username)
    response = admin.get("/admin/orders.csv")
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="orders-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    header, *rows = rows_of(response)
    assert header == list(export.COLUMNS)
    email = "alice@example.com"
    assert rows == [
        [
            numbers[0],
            "2026-11-21T00:30:05+01:00",  # the shop's zone, with its offset
            "alice",
            email,
            "Pending",
            "false",
            "",
            "21",
            "home delivery",
            address,
            '2 x Bread, "the good one"; 1 x Tea\nleaves',
            *NO_EXTRAS,
        ],
        # Cancelled as the dashboard shows it, with the reason.
        [numbers[1], "2026-07-01T10:00:00+02:00", "alice", email, "Cancelled", "true"]
        + ["Out of stock", "6", "pickup", "", '1 x Bread, "the good one"', *NO_EXTRAS],
    ]


# refunded_credits, tags, carrier, tracking_number of an order with none of them.
NO_EXTRAS = ["0", "", "", ""]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_formula_injection_is_neutralised(app, admin_client, shop, start):
    with app.app_context():
        user = make_user(username=f"{start}cmd|' /C calc'!A0", email="evil@example.com")
        product = make_product(f'{start}HYPERLINK("http://evil.example")', credit_value=3)
        make_order(user, [(product, 1)], "home delivery", f"{start}1+1")
    [row] = rows_of(admin_client.get("/admin/orders.csv"))[1:]
    customer, address, items = row[2], row[9], row[10]
    assert customer == f"'{start}cmd|' /C calc'!A0"
    assert address == f"'{start}1+1"
    assert items == f'1 x {start}HYPERLINK("http://evil.example")'  # starts with "1": text
    for cell in row:
        assert not cell.startswith(export.FORMULA_STARTS), row


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        ("'quoted", "'quoted"),
        ("Main St;=cmd|' /C calc'!A0;", "Main St;'=cmd|' /C calc'!A0;"),
        ("a, -3 floors", "a, '-3 floors"),
        ("1 x tea; 2 x bread", "1 x tea; 2 x bread"),
        ("x\n@SUM(A1)", "x\n'@SUM(A1)"),
        (" =1+1", " '=1+1"),
    ],
)
def test_neutralise(value, expected):
    assert export.neutralise(value) == expected


def test_the_export_follows_the_view(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        bob = db.session.get(User, shop.bob.id)
        cheap, dear = make_product(credit_value=5), make_product(credit_value=50)
        a1 = make_order(alice, [(cheap, 1)], now=datetime(2026, 11, 20, 12)).order_number
        a2 = make_order(alice, [(dear, 1)], now=datetime(2026, 11, 21, 12)).order_number
        b1 = make_order(bob, [(dear, 1)], now=datetime(2026, 11, 22, 12)).order_number

    def numbers(**query):
        return [
            r[0] for r in rows_of(admin_client.get("/admin/orders.csv", query_string=query))[1:]
        ]

    assert numbers() == [b1, a2, a1]
    assert numbers(q="alice") == [a2, a1]
    assert numbers(sort="total", dir="asc") == [a1, a2, b1]
    assert numbers(**{"from": "2026-11-21", "to": "2026-11-21"}) == [a2]
    assert numbers(status="Shipped") == []
    named = admin_client.get("/admin/orders.csv?from=2026-11-21&to=2026-11-22")
    assert named.headers["Content-Disposition"].endswith('"orders-2026-11-21_2026-11-22.csv"')


def test_many_orders_stream_in_batches_and_chunks(app, admin_client, shop, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 3)
    monkeypatch.setattr(export, "CHUNK_BYTES", 200)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product(credit_value=1)
        made = [make_order(alice, [(product, i % 3 + 1)]).order_number for i in range(11)]
    response = admin_client.get("/admin/orders.csv")
    chunks = [c.decode() if isinstance(c, bytes) else c for c in response.response]
    assert len(chunks) > 3 and all(len(c) < 400 for c in chunks)
    rows = list(csv.reader(io.StringIO("".join(chunks), newline="")))[1:]
    assert [r[0] for r in rows] == made[::-1]
    items = export.COLUMNS.index("items")
    assert [r[items] for r in rows] == [f"{i % 3 + 1} x {product.name}" for i in range(11)][::-1]


def test_customers_get_403_and_anonymous_401_json(client, customer_client, shop):
    assert_json_error(customer_client.get("/admin/orders.csv"), 403)
    response = client.get("/admin/orders.csv")
    assert_json_error(response, 401)
    assert "Location" not in response.headers


def test_an_empty_view_is_just_the_header(admin_client, shop):
    assert rows_of(admin_client.get("/admin/orders.csv")) == [list(export.COLUMNS)]


def test_pace_limits_rows_per_second_without_a_clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(export.time, "monotonic", lambda: now[0])
    pace = export.Pace(1000)
    assert pace.wait(500) == 0.5  # 500 rows at once: half a second ahead of 1,000 rows/s
    now[0] += 2.0
    assert pace.wait(1000) == 0  # behind the pace: no wait
    assert export.Pace(0).wait(10**9) == 0  # 0: no limit


def test_every_text_cell_is_quoted_and_safe_whatever_the_separator(app, admin_client, shop):
    """A spreadsheet that splits on ";" (Excel in many locales) read
    ``Main St;=cmd|' /C calc'!A0;`` unquoted as a formula cell."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        make_order(
            alice,
            [(make_product(credit_value=4), 1)],
            "home delivery",
            "Main St;=cmd|' /C calc'!A0;",
        )
    text = admin_client.get("/admin/orders.csv").get_data(as_text=True)
    line = text.splitlines()[1]
    assert "\"Main St;'=cmd|' /C calc'!A0;\"" in line
    cells = next(csv.reader([line]))
    for quoted, cell in zip(line.split(","), cells, strict=False):
        if not cell.isdigit():
            assert quoted.startswith('"'), (quoted, line)
    for delimiter in (";", ",", "\t"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            for cell in row:
                assert not cell.lstrip(' "').startswith(("=", "+", "-", "@")), (delimiter, cell)
    for piece in re.split(r"[;,]", line):  # even split naively, quotes and all
        assert not piece.strip(' "').startswith(("=", "+", "@")), piece


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("range=today", "orders-today-{today}.csv"),
        ("status=Pending", "orders-pending-{today}.csv"),
        ("status=Out for Delivery&range=today", "orders-out-for-delivery-today-{today}.csv"),
        ("status=Cancelled", "orders-cancelled-{today}.csv"),
        ("q=Rye Bread", "orders-matching-rye-bread-{today}.csv"),
        ("q=%%%", "orders-matching-search-{today}.csv"),
        ("from=2026-12-01&to=2026-12-05", "orders-2026-12-01_2026-12-05.csv"),
        ("from=2026-12-05&to=2026-12-05", "orders-2026-12-05.csv"),
        ("from=2026-12-01", "orders-2026-12-01_now.csv"),
        ("", "orders-{today}.csv"),
    ],
)
@pytest.mark.one_database
def test_the_file_name_names_the_view(app, admin_client, shop, query, name):
    from app.services import shop_time

    with app.app_context():
        today = shop_time.today().isoformat()
    response = admin_client.get("/admin/orders.csv?" + query)
    expected = name.format(today=today)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{expected}"'
