""" "Load older" on the activity feed: ``GET /admin/api/activity?before=<entry id>`` pages
back by the feed's own order (time, then id), repeats nothing while entries arrive, says
when nothing older remains, and answers bad input with 400/404 JSON."""

from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import User
from app.services.notes import add_note
from app.services.status import change_status
from tests import snapshots
from tests.factories import make_order
from tests.helpers import assert_json_error

URL = "/admin/api/activity"
START = datetime(2026, 12, 1, 8, 0)


@pytest.fixture
def feed(app, shop):
    """20 orders a minute apart, each moved to Shipped: 40 entries, plus a note on the first
    order written last (its entry is stamped with the order's time, not the note's: the
    feed's order is by time, so ids alone do not give it). Built once per process and
    database kind, then written back from a snapshot (tests/snapshots.py): these tests
    read the feed through the API only."""
    snapshots.restore_or_build(app, "feed", lambda app: _write_feed(app, shop))


def _write_feed(app, shop) -> None:
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        admin = db.session.get(User, shop.admin.id)
        orders = [make_order(alice, now=START + timedelta(minutes=i)) for i in range(20)]
        for order in orders:
            change_status(order, "Shipped", admin)
            db.session.commit()
        add_note(orders[0], "Call before delivery", admin)
        db.session.commit()
        db.session.remove()


def get(client, **query):
    response = client.get(URL, query_string=query)
    assert response.status_code == 200, response.get_data(True)
    return response.get_json()


def test_before_pages_back_through_the_whole_feed(admin_client, feed):
    everything = get(admin_client, limit=200)["activity"]
    assert len(everything) == 41
    seen, page = [], get(admin_client, limit=15)
    while True:
        seen += page["activity"]
        if not page["has_more"]:
            break
        page = get(admin_client, limit=15, before=page["activity"][-1]["id"])
    assert [e["id"] for e in seen] == [e["id"] for e in everything]
    assert page["activity"] and len(page["activity"]) == 41 - 30


def test_entries_added_meanwhile_shift_nothing(app, admin_client, shop, feed):
    first = get(admin_client, limit=10)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        for _ in range(5):  # placed now: the newest entries
            make_order(alice)
        db.session.remove()
    older = get(admin_client, limit=10, before=first["activity"][-1]["id"])
    assert not {e["id"] for e in older["activity"]} & {e["id"] for e in first["activity"]}
    everything = [e["id"] for e in get(admin_client, limit=200)["activity"]]
    assert [e["id"] for e in older["activity"]] == everything[15:25]


def test_the_oldest_entry_has_nothing_before_it(admin_client, feed):
    oldest = get(admin_client, limit=200)["activity"][-1]
    body = get(admin_client, before=oldest["id"])
    assert body == {**body, "success": True, "activity": [], "has_more": False}


@pytest.mark.parametrize("before", ["abc", "0", "-3", "1.5", "²", "9" * 40, ""])
@pytest.mark.one_database
def test_a_bad_before_is_a_400(admin_client, feed, before):
    assert_json_error(admin_client.get(URL, query_string={"before": before}), 400, "before")


def test_an_unknown_entry_is_a_404(admin_client, feed):
    assert_json_error(admin_client.get(URL, query_string={"before": 99999}), 404)


def test_admins_only(client, customer_client, feed):
    assert_json_error(client.get(URL, query_string={"before": 1}), 401)
    assert_json_error(customer_client.get(URL, query_string={"before": 1}), 403)
