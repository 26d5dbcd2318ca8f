"""Resume, don't refetch: a stream opened with ``Last-Event-ID`` (or ``?last_event_id=``)
starts with what changed since that version, within the resume window; beyond it, or for
an id that is no version, with one ``reset`` frame. The polling fallback answers the same."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Order
from app.services.counts import read_version
from app.services.status import cancel_order, change_status
from tests.helpers import assert_json_error, data, logged_in_client, message, order_event
from tests.test_stream import ADMIN_STREAM, grew, service_order


def version_of(app) -> int:
    with app.app_context():
        version = read_version()
        db.session.remove()
    return version


def advance(app, order_id: int, status: str) -> None:
    with app.app_context():
        change_status(db.session.get(Order, order_id), status)
        db.session.commit()
        db.session.remove()


def first_snapshot(open_stream, client, since=None, header=True) -> dict:
    """Open the admin stream from ``since`` and return the first data frame's body."""
    url = ADMIN_STREAM
    if since is not None and not header:
        url += f"?last_event_id={since}"
    if since is not None and header:
        stream = open_stream_with_header(open_stream, client, str(since))
    else:
        stream = open_stream(client, url)
    assert stream.response.status_code == 200
    frame = stream.wait_for(lambda f: f["data"] is not None)
    body = data(frame)
    assert frame["id"] == str(body["version"])
    return body


def open_stream_with_header(open_stream, client, last_id: str):
    original = client.get

    def get(url, **kwargs):
        return original(url, headers={"Last-Event-ID": last_id}, **kwargs)

    client.get = get
    try:
        return open_stream(client, ADMIN_STREAM)
    finally:
        client.get = original


def test_back_within_the_window_gets_exactly_what_it_missed(app, admin_client, open_stream, shop):
    seen = service_order(app, shop.alice.id, shop.products[0].id)
    since = version_of(app)
    placed = service_order(app, shop.bob.id, shop.products[1].id)
    advance(app, seen["id"], "Shipped")
    body = first_snapshot(open_stream, admin_client, since)
    assert body["type"] == "initial" and body["resumed_from"] == since
    assert body["version"] == since + 2
    assert sorted(o["id"] for o in body["recent_updates"]) == sorted([seen["id"], placed["id"]])
    shipped = next(o for o in body["recent_updates"] if o["id"] == seen["id"])
    assert shipped["status"] == "Shipped"
    assert [(a["kind"], a["order_id"]) for a in body["activity"]] == [
        ("created", placed["id"]),
        ("status", seen["id"]),
    ]
    assert (body["total_orders"], body["pending_count"], body["shipped_count"]) == (2, 1, 1)
    assert {b[0] for b in body["revenue"]["buckets"]}, "the revenue window comes along"


def test_the_query_parameter_resumes_like_the_header(app, admin_client, open_stream, shop):
    since = version_of(app)
    placed = service_order(app, shop.alice.id, shop.products[0].id)
    body = first_snapshot(open_stream, admin_client, since, header=False)
    assert body["resumed_from"] == since
    assert [o["id"] for o in body["recent_updates"]] == [placed["id"]]


def test_back_at_the_current_version_gets_nothing_again(app, admin_client, open_stream, shop):
    service_order(app, shop.alice.id, shop.products[0].id)
    current = version_of(app)
    body = first_snapshot(open_stream, admin_client, current)
    assert (body["type"], body["resumed_from"], body["version"]) == ("initial", current, current)
    assert body["recent_updates"] == [] and body["activity"] == []


def test_beyond_the_version_window_is_a_reset(make_app, open_stream):
    from tests.factories import seed_shop

    app = make_app(SSE_RESUME_MAX_VERSIONS=2)
    shop = seed_shop(app)
    client = logged_in_client(app, shop.admin.username)
    since = version_of(app)
    for _ in range(3):
        service_order(app, shop.alice.id, shop.products[0].id)
    body = first_snapshot(open_stream, client, since)
    assert body["type"] == "reset"
    assert (body["version"], body["total_orders"]) == (since + 3, 3)
    assert "recent_updates" not in body


def test_beyond_the_time_window_is_a_reset(make_app, open_stream):
    from tests.factories import seed_shop

    app = make_app(SSE_RESUME_MAX_SECONDS=60)
    shop = seed_shop(app)
    client = logged_in_client(app, shop.admin.username)
    since = version_of(app)
    placed = service_order(app, shop.alice.id, shop.products[0].id)
    with app.app_context():  # the change the client missed happened two minutes ago
        db.session.execute(
            sa.text("UPDATE order_activity SET at = :at WHERE order_id = :id"),
            {"at": "2020-01-01 00:00:00", "id": placed["id"]},
        )
        db.session.commit()
        db.session.remove()
    assert first_snapshot(open_stream, client, since)["type"] == "reset"


def test_unknown_or_future_ids_are_a_reset(app, admin_client, open_stream, shop):
    service_order(app, shop.alice.id, shop.products[0].id)
    current = version_of(app)
    for since in ("not-a-version", "-3", str(current + 5), "9" * 40):
        body = first_snapshot(open_stream, admin_client, since)
        assert (body["type"], body["version"]) == ("reset", current), since


def test_a_resumed_stream_goes_on_live(app, admin_client, open_stream, shop, customer_client):
    since = version_of(app)
    service_order(app, shop.alice.id, shop.products[0].id)
    stream = open_stream_with_header(open_stream, admin_client, str(since))
    before = data(stream.wait_for(message("initial")))
    later = service_order(app, shop.bob.id, shop.products[0].id)
    event = data(stream.wait_for(order_event("created"), timeout=2))
    assert event["order"]["id"] == later["id"] and event["activity"]["kind"] == "created"
    stream.wait_for(grew(before, total_orders=1), timeout=2)


def test_resume_costs_no_query_per_stream(make_app, open_stream):
    """A reconnect storm: every client asks for the same version; the hub reads the change
    log once for it, whatever the number of streams."""
    from tests.factories import seed_shop

    app = make_app(HUB_VERSION_POLL_SECONDS=60)
    shop = seed_shop(app)
    admin_client = logged_in_client(app, shop.admin.username)
    service_order(app, shop.alice.id, shop.products[0].id)
    since = version_of(app)
    service_order(app, shop.bob.id, shop.products[1].id)
    hub = app.extensions["realtime"]
    first_snapshot(open_stream, admin_client, since)  # the hub runs and has read the state
    statements = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        bodies = [first_snapshot(open_stream, admin_client, since) for _ in range(6)]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert all(b == bodies[0] for b in bodies) and bodies[0]["resumed_from"] == since
    log_reads = [s for s in statements if "order_activity" in s]
    assert log_reads == [], f"the change log was read again: {log_reads}"
    # At most one background tick (PostgreSQL's listener resyncs once it listens).
    stats_reads = [s for s in statements if "order_counts" in s]
    assert len(stats_reads) <= 1, stats_reads
    assert hub.stream_count >= 7


def test_orders_of_another_process_arrive_as_order_events(
    make_app, app, admin_client, open_stream, shop
):
    other = make_app()  # same database, an idle hub: like a CLI job
    stream = open_stream(admin_client, ADMIN_STREAM)
    before = data(stream.wait_for(message("initial")))
    placed = service_order(other, shop.bob.id, shop.products[1].id)
    with other.app_context():
        cancel_order(db.session.get(Order, placed["id"]), "Changed my mind")
        db.session.commit()
        db.session.remove()
    created = data(stream.wait_for(order_event("created"), timeout=3))
    assert created["order"]["id"] == placed["id"] and created["activity"]["actor"] == "bob"
    cancelled = data(stream.wait_for(order_event("cancelled"), timeout=3))
    assert cancelled["activity"]["note"] == "Changed my mind"
    assert cancelled["actor"] is None  # the system (a CLI job)
    stream.wait_for(grew(before, total_orders=1, cancelled_count=1), timeout=3)


# -- the polling fallback answers in the same shape --------------------------------------


def test_poll_since_a_version(app, admin_client, shop):
    since = version_of(app)
    placed = service_order(app, shop.alice.id, shop.products[0].id)
    body = admin_client.get(f"/admin/api/order-updates?since={since}").get_json()
    assert body["success"] is True and body["reset"] is False
    assert [o["id"] for o in body["recent_orders"]] == [placed["id"]]
    assert [a["kind"] for a in body["activity"]] == ["created"]
    assert body["stats"]["version"] == since + 1
    assert body["revenue"]["bucket_seconds"] == 900


def test_poll_beyond_the_window_says_reset(make_app):
    from tests.factories import seed_shop

    app = make_app(SSE_RESUME_MAX_VERSIONS=1)
    shop = seed_shop(app)
    client = logged_in_client(app, shop.admin.username)
    for _ in range(2):
        service_order(app, shop.alice.id, shop.products[0].id)
    body = client.get("/admin/api/order-updates?since=0").get_json()
    assert body["reset"] is True and body["stats"]["total_orders"] == 2
    future = client.get("/admin/api/order-updates?since=999").get_json()
    assert future["reset"] is True


def test_poll_with_a_bad_since_is_400(admin_client):
    for bad in ("abc", "-1", "1.5", "", "9" * 30):
        assert_json_error(admin_client.get(f"/admin/api/order-updates?since={bad}"), 400)


def test_dashboard_reload_returns_the_view(app, admin_client, shop):
    service_order(app, shop.alice.id, shop.products[0].id)
    shipped = service_order(app, shop.bob.id, shop.products[1].id)
    advance(app, shipped["id"], "Shipped")
    body = admin_client.get("/admin/api/dashboard?status=Shipped").get_json()
    assert body["success"] is True and body["version"] == version_of(app)
    assert [r["id"] for r in body["rows"]] == [shipped["id"]]
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    assert body["stats"]["total_orders"] == 2 and len(body["activity"]) == 3
    assert body["revenue"]["buckets"]
    ignored = admin_client.get("/admin/api/dashboard?status=Nope&page=x").get_json()
    assert ignored["total"] == 2


def test_the_page_carries_its_data_and_version(app, admin_client, shop):
    import html
    import json
    import re

    service_order(app, shop.alice.id, shop.products[0].id)
    page = admin_client.get("/admin/manage_orders").get_data(as_text=True)
    raw = re.search(r"data-bootstrap='([^']*)'", page).group(1)
    boot = json.loads(html.unescape(raw))
    assert boot["version"] == version_of(app)
    assert [a["kind"] for a in boot["activity"]] == ["created"]
    assert boot["revenue"]["buckets"][0][1:] == [shop.products[0].price, 1, 0]
