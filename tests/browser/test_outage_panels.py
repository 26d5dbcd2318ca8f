"""What an operator sees during a database outage: a real gunicorn worker on PostgreSQL
behind a TCP gate, a customer browsing and an admin stream open; the gate is cut for a few
seconds, ``/metrics`` is scraped throughout, and the dashboard's main panels are drawn from
those scrapes and shot in Chromium (``artifacts/dashboard-outage.png``; the copy in docs/
is one of these). The panels must show it: the Database stat DOWN, 503s, the 5xx ratio."""

import threading
import time

import pytest
from sqlalchemy.engine import make_url

from tests.browser.conftest import ARTIFACTS
from tests.browser.outage_panels import page, parse, series
from tests.helpers import wait_until
from tests.servers import Session, StreamReader
from tests.tcp_gate import Gate

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.services]


def database_up(sample: dict):
    return sample.get(("orderpulse_dependency_up", '{dependency="database"}'))


def wait_for(scrapes: list, predicate, count: int) -> None:
    """Until ``count`` more scrapes matching ``predicate`` arrived."""
    seen = len(scrapes)
    wait_until(
        lambda: sum(predicate(s) for _, s in scrapes[seen:]) >= count,
        what=f"{count} more matching scrapes (see the caller)",
    )


def test_the_dashboard_panels_during_a_database_outage(shared_db, servers, browser):
    url, shop = shared_db
    gate = Gate(make_url(url).port or 5432)
    gated = make_url(url).set(port=gate.port).render_as_string(hide_password=False)
    server = servers(gated, workers=1, DATABASE_POOL_TIMEOUT_SECONDS="2")
    scraper = Session(server.base)
    customer = Session(server.base, shop.alice.username, shop.password)
    admin = Session(server.base, shop.admin.username, shop.password)
    stream = StreamReader(admin)
    stream.wait_for(lambda frame: frame.get("id") is not None)
    scrapes, stop = [], threading.Event()

    def scrape():
        while not stop.is_set():
            status, text = scraper.request("GET", "/metrics")
            if status == 200:
                scrapes.append((time.monotonic(), parse(text)))
            stop.wait(0.4)

    def browse():
        while not stop.is_set():
            customer.request("GET", "/")
            stop.wait(0.1)

    threads = [threading.Thread(target=f, daemon=True) for f in (scrape, browse)]
    for thread in threads:
        thread.start()
    try:
        # Each phase lasts a number of scrapes (what the panels plot), not a time.
        wait_for(scrapes, lambda s: database_up(s) == 1.0, count=4)  # before: normal
        began = time.monotonic()
        gate.cut()
        wait_for(scrapes, lambda s: database_up(s) == 0.0, count=6)
        ended = time.monotonic()
        gate.restore()
        wait_for(scrapes, lambda s: database_up(s) == 1.0, count=4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        stream.close()
        gate.close()
    start = scrapes[0][0]
    panels = series(scrapes)
    during = [v for t, v in panels["Requests/s, 503"] if began - start < t <= ended - start + 1]
    assert max(during) > 0, "503 answers while the database is away"
    database = panels["Database (orderpulse_dependency_up)"]
    assert min(v for t, v in database if began - start < t <= ended - start) == 0
    assert database[0][1] == 1 and database[-1][1] == 1, "up before and after the outage"
    assert max(v for _, v in panels["5xx ratio"]) > 0.5

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1500, "height": 620})
    try:
        shot = context.new_page()
        shot.set_content(
            page(panels, (began - start, ended - start), "Order Pulse: a database outage")
        )
        shot.screenshot(path=str(ARTIFACTS / "dashboard-outage.png"), full_page=True)
    finally:
        context.close()
