"""What an operator relies on, in process: request ids, the access line, request metrics by
route, the database URL's driver, and outages (the database cut by a TCP gate in front of
the real PostgreSQL): 503 pages logged in or not, one log line per outage and one per
recovery, the startup check."""

import logging
import re
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from app import create_app, startup
from app.extensions import db
from tests.factories import seed_shop
from tests.helpers import logged_in_client, login
from tests.servers import ROOT
from tests.tcp_gate import Gate

OUTAGE = "orderpulse.outage"


def test_a_request_id_is_echoed_or_made(client):
    sent = client.get("/healthz", headers={"X-Request-ID": "a1b2c3d4e5f60718293a4b5c6d7e8f90"})
    assert sent.headers["X-Request-ID"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    # Spaces and control characters would end up in every log line: replaced.
    odd = client.get("/healthz", headers={"X-Request-ID": "x y\tz"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])


def test_one_access_line_per_request_with_route_status_duration_and_bytes(client, caplog):
    caplog.set_level(logging.INFO, logger="orderpulse.access")
    response = client.get("/healthz", headers={"X-Request-ID": "rid-123"})
    response.close()  # the server closes every answer; the line is written then
    lines = [r for r in caplog.records if r.name == "orderpulse.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.route, line.status) == (
        "GET",
        "/healthz",
        "/healthz",
        200,
    )
    assert line.bytes == len(response.data) and line.duration_ms >= 0
    assert "GET /healthz 200" in line.getMessage()


def metric(client, name: str, **labels) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0 if wanted else pytest.fail(f"{name} not exported")


def test_requests_are_counted_by_url_rule_and_status(customer_client, placed):
    route = "/orders/<order_number>"
    before = metric(customer_client, "orderpulse_http_requests_total", route=route, status="200")
    page = customer_client.get(f"/orders/{placed['number']}", buffered=True)
    assert page.status_code == 200
    after = metric(customer_client, "orderpulse_http_requests_total", route=route, status="200")
    assert after == before + 1
    customer_client.get("/no/such/page", buffered=True)
    assert metric(customer_client, "orderpulse_http_requests_total", route="unmatched") >= 1
    assert metric(customer_client, "orderpulse_http_request_duration_seconds_count", route=route)
    # Each scrape checks the database: the alert rules and the dashboard read this.
    assert metric(customer_client, "orderpulse_dependency_up", dependency="database") == 1


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgresql://u:pw@db.example:5433/shop",
            "postgresql+psycopg://u:pw@db.example:5433/shop",
        ),
        ("postgres://u:pw@db.example/shop", "postgresql+psycopg://u:pw@db.example/shop"),
        ("postgresql+psycopg://u@h/shop", "postgresql+psycopg://u@h/shop"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_a_plain_postgresql_url_uses_psycopg_3(given, used):
    assert startup.database_url(given) == used


def test_another_postgresql_driver_is_refused_with_what_to_write():
    with pytest.raises(RuntimeError, match=r"write postgresql\+psycopg://"):
        startup.database_url("postgresql+psycopg2://u@h/shop")


def test_log_format_json_gives_one_json_object_per_line():
    code = (
        "import logging, logsetup; logsetup.configure('json');"
        "logging.getLogger('orderpulse.access').info('GET / 200', extra={'status': 200})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    import json

    record = json.loads(out.stderr.strip())
    assert record["message"] == "GET / 200" and record["status"] == 200
    assert record["logger"] == "orderpulse.access" and record["request_id"] == "-"
    assert {"time", "level"} <= set(record)


@pytest.fixture
def gated_app(shared_db):
    """An app whose every database connection goes through a ``Gate``."""
    url, shop = shared_db
    gate = Gate(make_url(url).port or 5432)
    gated = make_url(url).set(port=gate.port).render_as_string(hide_password=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=gated)
    yield app, gate, shop
    app.extensions["realtime"].stop()
    with app.app_context():
        db.engine.dispose()
    gate.close()


def outage_lines(caplog, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == OUTAGE and word in r.getMessage()]


def test_database_away_every_page_is_a_503_logged_in_or_not(gated_app, caplog):
    """The 503 page must not load the user again (that failed too, and the client got the
    server's bare 500): pages for an admin, a customer and a visitor."""
    app, gate, shop = gated_app
    caplog.set_level(logging.INFO, logger=OUTAGE)
    admin = app.test_client()
    login(admin, shop.admin.username, shop.password)
    customer = app.test_client()
    login(customer, shop.alice.username, shop.password)
    visitor = app.test_client()
    assert admin.get("/admin/manage_orders").status_code == 200

    gate.cut()
    for client, path in [
        (admin, "/admin/manage_orders"),
        (customer, "/orders"),
        (customer, "/"),
        (visitor, "/"),
    ]:
        response = client.get(path)
        assert response.status_code == 503, (path, response.status_code)
        assert "Database unavailable" in response.get_data(as_text=True)
    # The login form needs no database; logging in does.
    assert visitor.get("/auth/login").status_code == 200
    form = {"username": shop.bob.username, "password": shop.password}
    assert visitor.post("/auth/login", data=form).status_code == 503
    api = admin.get("/admin/api/order-updates?minutes=5")
    assert api.status_code == 503 and api.get_json()["success"] is False
    assert len(outage_lines(caplog, "unreachable")) == 1, "one line per outage"

    gate.restore()
    assert admin.get("/admin/manage_orders").status_code == 200
    assert len(outage_lines(caplog, "reachable again")) == 1


def test_the_startup_check_logs_an_unreachable_database(gated_app, caplog):
    app, gate, _shop = gated_app
    caplog.set_level(logging.INFO, logger=OUTAGE)
    gate.cut()
    assert startup.check(app) is False
    assert outage_lines(caplog, "database unreachable (startup check)")
    gate.restore()
    assert startup.check(app) is True
    line = startup.describe(app, 2)
    assert "backend=postgres" in line and "workers=2" in line
    assert "forwarded_allow_ips=127.0.0.1,::1" in line
    assert f"127.0.0.1:{gate.port}/" in line


def test_redis_away_one_line_each_way_and_ready_but_degraded(make_app, private_redis, caplog):
    """Every commit publishes to Redis; while it is away that must cost one log line, not a
    traceback per commit, and the host stays ready (degraded): the shop works."""
    app = make_app(REDIS_URL=private_redis.url, REDIS_CHANNEL="orderpulse:test:outage")
    shop = seed_shop(app)
    customer = logged_in_client(app, shop.alice.username, shop.password)
    item = {"product_id": shop.products[0].id, "quantity": 1}
    body = {"items": [item], "delivery_method": "pickup"}
    caplog.set_level(logging.INFO, logger=OUTAGE)
    assert customer.post("/api/orders", json=body).status_code == 201

    private_redis.stop()
    for _ in range(3):
        assert customer.post("/api/orders", json=body).status_code == 201
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
    assert len(outage_lines(caplog, "redis unreachable")) == 1
    assert not [r for r in caplog.records if r.exc_info], "no traceback per commit"

    private_redis.start()
    assert customer.post("/api/orders", json=body).status_code == 201
    assert len(outage_lines(caplog, "redis reachable again")) == 1
    assert app.test_client().get("/readyz").get_json() == {"status": "ready"}
