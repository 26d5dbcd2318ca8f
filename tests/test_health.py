"""Ops endpoints and the security headers."""

import pytest

from app import create_app


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
