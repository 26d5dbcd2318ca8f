"""The shop's day (SHOP_TIMEZONE): local midnights, presets, offsets, startup validation."""

from datetime import date, datetime

import pytest

from app import create_app
from app.services import shop_time

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


@pytest.fixture
def paris(make_app):
    app = make_app(SHOP_TIMEZONE="Europe/Paris")
    with app.app_context():
        yield app


def test_default_zone_is_utc(ctx):
    assert shop_time.zone().key == "UTC"
    assert shop_time.day_start(date(2026, 11, 28)) == datetime(2026, 11, 28)


def test_local_midnight_in_winter_and_summer(paris):
    assert shop_time.day_start(date(2026, 1, 15)) == datetime(2026, 1, 14, 23)  # UTC+1
    assert shop_time.day_start(date(2026, 7, 15)) == datetime(2026, 7, 14, 22)  # UTC+2


def test_days_around_dst_changes_are_23_and_25_hours(paris):
    start, end = shop_time.day_bounds(date(2026, 3, 29), date(2026, 3, 29))
    assert (end - start).total_seconds() == 23 * 3600
    start, end = shop_time.day_bounds(date(2026, 10, 25), date(2026, 10, 25))
    assert (end - start).total_seconds() == 25 * 3600


def test_midnight_that_does_not_exist_starts_at_the_jump(make_app):
    # Havana springs forward at 00:00 (to 01:00): the local day starts at the jump.
    app = make_app(SHOP_TIMEZONE="America/Havana")
    with app.app_context():
        assert shop_time.day_start(date(2026, 3, 8)) == datetime(2026, 3, 8, 5)


def test_today_and_presets_follow_the_shop_zone(make_app):
    app = make_app(SHOP_TIMEZONE="Pacific/Auckland")  # UTC+13 in November
    now = datetime(2026, 11, 28, 12, 0)  # already the 29th in Auckland
    with app.app_context():
        assert shop_time.today(now) == date(2026, 11, 29)
        assert shop_time.preset("today", now) == (date(2026, 11, 29), date(2026, 11, 29))
        assert shop_time.preset("yesterday", now) == (date(2026, 11, 28), date(2026, 11, 28))
        assert shop_time.preset("7d", now) == (date(2026, 11, 23), date(2026, 11, 29))


def test_order_numbers_carry_the_shops_date(make_app):
    """In New York an order placed at 04:47 UTC on the 28th is the 27th's."""
    from app.extensions import db
    from app.models import Order
    from tests.factories import make_order, make_user

    app = make_app(SHOP_TIMEZONE="America/New_York")
    with app.app_context():
        buyer = make_user()
        late = make_order(buyer, now=datetime(2026, 11, 28, 4, 47))
        morning = make_order(buyer, now=datetime(2026, 11, 28, 5, 1))  # 00:01 in New York
        assert late.order_number == f"ORD-20261127-{late.id:05d}"
        assert morning.order_number == f"ORD-20261128-{morning.id:05d}"
        assert db.session.get(Order, late.id).order_number.startswith("ORD-20261127-")


def test_isoformat_carries_the_offset(paris):
    assert (
        shop_time.isoformat(datetime(2026, 11, 28, 9, 15, 7, 999)) == "2026-11-28T10:15:07+01:00"
    )
    assert shop_time.isoformat(datetime(2026, 7, 1, 23, 30)) == "2026-07-02T01:30:00+02:00"
    assert shop_time.isoformat(None) is None


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "  ", "../etc/passwd", "UTC+1"])
def test_a_bad_zone_stops_the_app_with_a_clear_error(tmp_path, name):
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(RuntimeError, match="SHOP_TIMEZONE"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=uri, SHOP_TIMEZONE=name)
