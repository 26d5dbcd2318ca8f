"""Ops endpoints and the security headers."""

import pytest

from app import create_app
from tests.helpers import message
from tests.test_stream import service_order

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_reports_an_unreachable_database(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir.db")
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["realtime"].stop()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["reason"].startswith("database")


def test_metrics_is_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "orderpulse_open_streams 0.0" in text
    assert "orderpulse_frames_sent" in text


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def _metric(client, name: str) -> float:
    """One sample's value from ``/metrics`` (0.0 when absent)."""
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_metrics_refuses_other_addresses(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403
    assert response.get_json()["success"] is False


def test_metrics_accepts_the_configured_token_from_anywhere(make_app):
    app = make_app(METRICS_TOKEN="s3cret-token")
    client = app.test_client()
    far = {"REMOTE_ADDR": "203.0.113.9"}
    wrong = client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", environ_base=far, headers={"Authorization": "Bearer s3cret-token"}
    )
    assert right.status_code == 200 and b"orderpulse_frames_sent" in right.data


def test_readyz_is_degraded_not_unready_without_redis(make_app):
    """The shop and streams work without Redis (version poll, in-memory limits): a load
    balancer must keep the host, so 200, with the body naming what is missing."""
    # Port 1 on loopback refuses at once: a configured but dead Redis.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["degraded"] == ["redis"]
    assert body["reason"].startswith("redis")


def test_fallback_polls_and_delivery_lag_are_counted(app, admin_client, open_stream, shop):
    polls = _metric(admin_client, "orderpulse_fallback_polls_total")
    assert admin_client.get("/admin/api/order-updates").status_code == 200
    assert _metric(admin_client, "orderpulse_fallback_polls_total") == polls + 1

    lag_count = _metric(admin_client, "orderpulse_publish_delivery_seconds_count")
    stream = open_stream(admin_client, "/admin/orders/stream")
    stream.wait_for(message("initial"), timeout=5)  # live from here on
    service_order(app, shop.alice.id, shop.products[0].id)
    stream.wait_for(lambda frame: frame.get("event") == "order")
    assert _metric(admin_client, "orderpulse_publish_delivery_seconds_count") == lag_count + 1
