"""Revenue and orders by hour, today against yesterday (service and endpoint)."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, User
from app.services import Invalid
from app.services.analytics import check_offset, hourly_revenue
from app.services.status import cancel_order
from tests.factories import make_order, make_product
from tests.helpers import assert_json_error

URL = "/admin/api/revenue"
NOW = datetime(2026, 3, 10, 15, 30)


def _order(user, credits, when):
    return make_order(user, items=[(make_product(credit_value=credits), 1)], now=when)


def test_buckets_today_and_yesterday_by_hour(ctx, shop):
    alice = db.session.get(User, shop.alice.id)
    _order(alice, 10, NOW.replace(hour=9, minute=5))
    _order(alice, 15, NOW.replace(hour=9, minute=59))
    _order(alice, 7, NOW - timedelta(days=1, hours=1))  # yesterday 14:30
    _order(alice, 99, NOW - timedelta(days=2))  # the day before: ignored
    gone = _order(alice, 20, NOW.replace(hour=1))
    cancel_order(gone, "test")
    db.session.commit()
    data = hourly_revenue(0, now=NOW)
    assert data["today"][9] == 25 and data["orders_today"][9] == 2
    # Cancelled: neither revenue nor a live order, counted apart.
    assert data["today"][1] == 0 and data["orders_today"][1] == 0
    assert data["cancelled_today"][1] == 1 and sum(data["cancelled_today"]) == 1
    assert data["yesterday"][14] == 7 and data["orders_yesterday"][14] == 1
    assert sum(data["yesterday"]) == 7 and sum(data["today"]) == 25
    assert all(len(data[k]) == 24 for k in ("today", "yesterday", "orders_today"))
    assert data["day_start"] == datetime(2026, 3, 10)


def test_offset_moves_the_day_boundary(ctx, shop):
    alice = db.session.get(User, shop.alice.id)
    _order(alice, 10, datetime(2026, 3, 9, 23, 30))  # 01:30 on the 10th at UTC+2
    db.session.commit()
    assert hourly_revenue(0, now=NOW)["yesterday"][23] == 10
    east = hourly_revenue(120, now=NOW)
    assert east["today"][1] == 10 and sum(east["yesterday"]) == 0
    assert east["day_start"] == datetime(2026, 3, 9, 22)


@pytest.mark.parametrize("offset", [0, 60, -300, 840, -840])
def test_check_offset(offset):
    assert check_offset(offset) == offset


@pytest.mark.parametrize("offset", [841, -900, 7, -50])
def test_check_offset_rejects(offset):
    with pytest.raises(Invalid):
        check_offset(offset)


@pytest.mark.parametrize("raw", ["abc", "841", "-900", "1.5", "--1", "7", "-50", "²", "١٢٠"])
def test_a_bad_offset_is_400_never_500(admin_client, raw):
    assert_json_error(admin_client.get(URL + "?offset=" + raw), 400, "offset")


def test_endpoint_shape(app, admin_client, shop):
    with app.app_context():
        make_order(db.session.get(User, shop.alice.id))
        total = db.session.scalar(sa.select(Order.total_credits))
        db.session.remove()
    body = admin_client.get(URL + "?offset=0").get_json()
    assert body["success"] is True
    assert {"today", "yesterday", "orders_today", "orders_yesterday"} <= set(body)
    assert sum(body["today"]) == total and sum(body["orders_today"]) == 1
    assert body["timestamp"].endswith("Z") and body["day_start"].endswith("Z")


def test_endpoint_errors_and_access(client, customer_client, admin_client, shop):
    assert_json_error(client.get(URL), 401)
    assert_json_error(customer_client.get(URL), 403)
    assert_json_error(admin_client.get(URL + "?offset=9999"), 400, "offset")
