"""The SSE streams, read frame by frame from the response iterator with deadlines."""

from app.extensions import db
from app.models import Order, Product, User
from app.services.status import change_status
from tests.factories import make_order, seed_shop
from tests.helpers import (
    ORDER_EVENT_KEYS,
    STAT_KEYS,
    assert_json_error,
    data,
    is_heartbeat,
    logged_in_client,
    message,
    order_event,
)

ADMIN_STREAM = "/admin/orders/stream"
ORDER_KEYS = ORDER_EVENT_KEYS
TRACKING_KEYS = {
    "type",
    "order_number",
    "status",
    "cancelled",
    "cancellation_reason",
    "estimated_delivery",
    "actual_delivery",
    "updated_at",
    "balance",
    "carrier",
    "tracking_number",
    "tracking_url",
    "refunded_credits",
}


def open_admin(open_stream, admin_client):
    """Open the dashboard stream and read ``retry:`` and the snapshot; returns
    ``(stream, snapshot_body)``."""
    stream = open_stream(admin_client, ADMIN_STREAM)
    assert stream.response.status_code == 200
    assert "retry" in stream.next_frame()
    snapshot = stream.next_frame()
    assert data(snapshot)["type"] == "initial"
    return stream, data(snapshot)


def grew(before: dict, **deltas):
    """Predicate: an ``update`` snapshot whose stats moved by ``deltas`` from ``before``."""

    def check(frame):
        if not message("update")(frame):
            return False
        body = data(frame)
        return all(body[key] == before[key] + delta for key, delta in deltas.items())

    return check


def api_order(client, shop, product=0, quantity=1):
    payload = {
        "items": [{"product_id": shop.products[product].id, "quantity": quantity}],
        "delivery_method": "pickup",
    }
    response = client.post("/api/orders", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order"]


def service_order(app, user_id, product_id) -> dict:
    """Place and commit an order through the services in ``app`` (not over HTTP)."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        order = make_order(db.session.get(User, user_id), [(product, 1)])
        made = {"id": order.id, "number": order.order_number}
        db.session.remove()
    return made


# -- admin stream --------------------------------------------------------------------------


def test_headers_retry_and_snapshot(app, admin_client, open_stream, shop):
    service_order(app, shop.alice.id, shop.products[0].id)
    stream = open_stream(admin_client, ADMIN_STREAM)
    headers = stream.headers
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["Cache-Control"] == "no-store"  # never kept by any cache
    assert headers["X-Accel-Buffering"] == "no"
    assert stream.next_frame()["retry"] == str(app.config["SSE_RETRY_MS"])
    snapshot = stream.next_frame()
    body = data(snapshot)
    assert snapshot["event"] == "message"
    assert body["type"] == "initial"
    assert set(body) >= STAT_KEYS | {"recent_updates", "timestamp"}
    assert snapshot["id"] == str(body["version"]) and body["version"] > 0
    assert (body["total_orders"], body["pending_count"]) == (1, 1)
    assert [row["username"] for row in body["recent_updates"]] == ["alice"]


def test_a_new_order_reaches_the_stream(open_stream, admin_client, customer_client, shop):
    """How fast is for bench/stream_bench.py; here: the frames and what they carry."""
    stream, before = open_admin(open_stream, admin_client)
    order = api_order(customer_client, shop)
    event = stream.wait_for(order_event("created"), timeout=5)
    body = data(event)["order"]
    assert set(body) >= ORDER_KEYS
    assert (body["id"], body["order_number"], body["username"]) == (
        order["id"],
        order["order_number"],
        "alice",
    )
    update = stream.wait_for(grew(before, total_orders=1, pending_count=1), timeout=5)
    body = data(update)
    assert body["version"] > before["version"] and update["id"] == str(body["version"])
    assert order["id"] in [row["id"] for row in body["recent_updates"]]


def test_status_and_cancel_events(open_stream, admin_client, customer_client, shop):
    order = api_order(customer_client, shop)
    stream, before = open_admin(open_stream, admin_client)
    admin_client.post(f"/admin/api/order/{order['id']}/status", json={"status": "Shipped"})
    moved = data(stream.wait_for(order_event("status")))
    assert (moved["order"]["id"], moved["order"]["status"]) == (order["id"], "Shipped")
    stream.wait_for(grew(before, pending_count=-1, shipped_count=1))
    admin_client.post(f"/admin/api/order/{order['id']}/cancel", json={"reason": "Lost"})
    assert data(stream.wait_for(order_event("cancelled")))["order"]["id"] == order["id"]
    stream.wait_for(grew(before, shipped_count=0, cancelled_count=1, total_orders=0))


def test_rejected_order_sends_nothing(open_stream, admin_client, customer_client, shop):
    stream, before = open_admin(open_stream, admin_client)
    response = customer_client.post(
        "/api/orders",
        json={"items": [{"product_id": 999, "quantity": 1}], "delivery_method": "pickup"},
    )
    assert response.status_code == 404
    api_order(customer_client, shop)  # a later real order is the first event seen
    event = stream.wait_for(lambda f: f["event"] == "order")
    assert data(event)["kind"] == "created"
    assert data(stream.wait_for(message("update")))["total_orders"] == before["total_orders"] + 1


def test_heartbeat_comments(open_stream, admin_client, app):
    stream, _ = open_admin(open_stream, admin_client)
    assert app.config["SSE_HEARTBEAT_SECONDS"] < 0.5
    stream.wait_for(is_heartbeat, timeout=5)
    stream.wait_for(is_heartbeat, timeout=5)


def test_stream_ends_after_its_lifetime_with_retry(make_app, open_stream):
    app = make_app(SSE_LIFETIME_SECONDS=0.5)  # heartbeats every 0.2 s (TestConfig)
    seed_shop(app)
    stream, _ = open_admin(open_stream, logged_in_client(app, "boss"))
    frames = stream.read_to_end(timeout=10)
    assert stream.ended
    assert any(is_heartbeat(f) for f in frames), "it lived its lifetime, not ended at once"
    assert "retry" in frames[-1]
    assert app.extensions["realtime"].stream_count == 0


def test_commit_from_another_process_reaches_the_stream(
    make_app, app, open_stream, admin_client, shop
):
    other = make_app()  # same SQLite file, its own (idle) hub: like a CLI process
    assert other.config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
    stream, before = open_admin(open_stream, admin_client)
    service_order(other, shop.bob.id, shop.products[1].id)
    update = stream.wait_for(grew(before, total_orders=1, pending_count=1), timeout=5)
    assert data(update)["version"] > before["version"]
    assert other.extensions["realtime"].stream_count == 0


def test_stream_holds_no_db_connection(make_app, open_stream):
    # A slow version poll keeps the hub thread off the pool while we look at it.
    app = make_app("quiet.db", HUB_VERSION_POLL_SECONDS=60)
    seed_shop(app)
    client = logged_in_client(app, "boss")
    stream, _ = open_admin(open_stream, client)
    stream.wait_for(is_heartbeat)
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert app.extensions["realtime"].stream_count == 1


def test_open_streams_metric(app, open_stream, admin_client, client):
    def gauge():
        text = client.get("/metrics").get_data(as_text=True)
        line = next(x for x in text.splitlines() if x.startswith("orderpulse_open_streams "))
        return float(line.split()[1])

    assert gauge() == 0
    stream, _ = open_admin(open_stream, admin_client)
    assert gauge() == 1
    stream.close()
    assert gauge() == 0


def test_anonymous_stream_is_401_json(client):
    response = client.get(ADMIN_STREAM)
    assert_json_error(response, 401)
    assert "Location" not in response.headers


def test_customer_stream_is_403_json(customer_client):
    assert_json_error(customer_client.get(ADMIN_STREAM), 403)


def test_stream_chunks_are_bytes(open_stream, admin_client):
    # PEP 3333: a WSGI body is bytes (gunicorn raises TypeError on str).
    stream, _ = open_admin(open_stream, admin_client)
    stream.wait_for(is_heartbeat)
    assert stream.chunks and all(isinstance(chunk, bytes) for chunk in stream.chunks)


def test_change_during_subscribe_is_not_lost(app, open_stream, admin_client, shop, monkeypatch):
    first, before = open_admin(open_stream, admin_client)
    hub = app.extensions["realtime"]
    build_first_frame = hub.state.first_frame

    def first_frame_then_commit(since):
        frame = build_first_frame(since)
        service_order(app, shop.bob.id, shop.products[0].id)  # lands between frame and send
        return frame

    monkeypatch.setattr(hub.state, "first_frame", first_frame_then_commit)
    late, late_snapshot = open_admin(open_stream, admin_client)
    assert late_snapshot["total_orders"] == before["total_orders"]
    late.wait_for(grew(before, total_orders=1), timeout=2.0)
    first.wait_for(grew(before, total_orders=1), timeout=2.0)


# -- customer order stream -----------------------------------------------------------------


def order_url(number):
    return f"/orders/{number}/stream"


def test_owner_follows_the_order_status(open_stream, customer_client, admin_client, shop):
    order = api_order(customer_client, shop)
    stream = open_stream(customer_client, order_url(order["order_number"]))
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert "retry" in stream.next_frame()
    initial = data(stream.next_frame())
    assert set(initial) == TRACKING_KEYS
    assert (initial["type"], initial["status"]) == ("initial", "Pending")
    admin_client.post(f"/admin/api/order/{order['id']}/status", json={"status": "Shipped"})
    update = data(stream.wait_for(message("update")))
    assert (update["order_number"], update["status"]) == (order["order_number"], "Shipped")
    admin_client.post(f"/admin/api/order/{order['id']}/cancel", json={"reason": "Lost van"})
    update = data(stream.wait_for(message("update")))
    assert (update["cancelled"], update["cancellation_reason"]) == (True, "Lost van")


def test_order_stream_sees_changes_from_another_process(
    make_app, open_stream, customer_client, shop
):
    order = api_order(customer_client, shop)
    stream = open_stream(customer_client, order_url(order["order_number"]))
    stream.wait_for(message("initial"))
    other = make_app()
    with other.app_context():
        change_status(db.session.get(Order, order["id"]), "Shipped")
        db.session.commit()
        db.session.remove()
    assert data(stream.wait_for(message("update")))["status"] == "Shipped"


def test_order_stream_is_private(customer_client, other_client, client, shop):
    order = api_order(customer_client, shop)
    url = order_url(order["order_number"])
    assert_json_error(other_client.get(url), 404)
    assert_json_error(customer_client.get(order_url("ORD-19990101-00001")), 404)
    response = client.get(url)
    assert_json_error(response, 401)
    assert "Location" not in response.headers


def test_streams_per_user_are_capped_and_released(make_app, open_stream):
    app = make_app(SSE_MAX_STREAMS_PER_USER=2)
    seed_shop(app)
    admin = logged_in_client(app, "boss")
    first = open_stream(admin, ADMIN_STREAM)
    open_stream(admin, ADMIN_STREAM)
    refused = admin.get(ADMIN_STREAM)
    assert_json_error(refused, 429)
    assert "limit 2" in refused.get_json()["error"]
    hub = app.extensions["realtime"]
    assert hub.stream_count == 2
    first.close()  # closing a stream gives its slot back
    assert hub.stream_count == 1
    assert open_stream(admin, ADMIN_STREAM).response.status_code == 200


def test_a_stream_closed_before_it_ever_ran_is_forgotten(app, admin_client):
    hub = app.extensions["realtime"]
    response = admin_client.get(ADMIN_STREAM, buffered=False)
    assert hub.stream_count == 1
    response.close()  # the server drops a client that left at once: no frame was read
    assert hub.stream_count == 0


def test_a_draining_worker_ends_its_streams_and_answers_new_ones_with_retry(
    app, admin_client, open_stream
):
    """docs/design.md §5b: a worker that shuts down answers a stream request with 200
    text/event-stream, ``retry:`` and ``Connection: close``; never a 503, which would end
    a browser's EventSource for good."""
    from app.realtime import close_all_streams

    stream, _ = open_admin(open_stream, admin_client)
    assert close_all_streams() >= 1
    frames = stream.read_to_end(timeout=2)
    assert "retry" in frames[-1], "the stream ends with a reconnect hint"
    # A keep-alive connection to this dying worker must not bring the stream back here.
    again = admin_client.get(ADMIN_STREAM)
    assert again.status_code == 200
    assert again.mimetype == "text/event-stream"
    assert again.headers["Connection"] == "close"
    assert again.get_data(as_text=True).startswith(f"retry: {app.config['SSE_RETRY_MS']}\n\n")
    assert app.extensions["realtime"].stream_count == 0
