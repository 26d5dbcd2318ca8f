"""Push, don't pull, measured in the real page (Chromium, Playwright request events): while
orders flow the dashboard makes no request besides its stream; after a server restart or a
hidden period it resumes with at most one; everything it shows follows the pushed frames.
The page's requests are checked against app/static/js/dashboard/requests.json, the list the
benchmark replays too."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.models import Order, User
from app.services.orders import parse_checkout
from app.services.orders import place_order as service_place_order
from app.services.status import change_status
from tests.browser.conftest import (
    card_values,
    customer,
    old_hidden_behaviour,
    other_admin,
    place_order,
    post_json,
    row,
    set_hidden,
    wait_cards,
    wait_live,
)

pytestmark = pytest.mark.browser
REQUESTS = json.loads(
    (Path(__file__).resolve().parents[2] / "app/static/js/dashboard/requests.json").read_text()
)
STREAM_PATH = urlsplit(REQUESTS["stream"].split(" ", 1)[1]).path


class Requests:
    """The page's own requests besides its stream: ``sent`` (every attempt) and
    ``served`` (those the server answered, of the ones sent since the last ``recount``)."""

    def __init__(self, page):
        self.sent: list[str] = []
        self.served: list[str] = []
        self.streams = 0
        self._counted: set = set()
        page.on("request", self._sent)
        page.on("response", self._served)

    @staticmethod
    def _name(request) -> str:
        parts = urlsplit(request.url)
        return f"{request.method} {parts.path}"

    def _sent(self, request):
        if urlsplit(request.url).path == STREAM_PATH:
            self.streams += 1
        else:
            self.sent.append(self._name(request))
            self._counted.add(request)

    def _served(self, response):
        if urlsplit(response.url).path != STREAM_PATH and response.request in self._counted:
            self.served.append(self._name(response.request))

    def recount(self):
        """Count from now: requests already sent (a poll still waiting for a server that
        is booting) are not counted when they are answered; streams opened stay counted."""
        self.sent.clear()
        self.served.clear()
        self._counted.clear()


def revenue_orders(page) -> int:
    text = page.locator("[data-revenue-summary]").inner_text()
    return int(re.search(r"credits in ([\d,]+) orders\b", text).group(1).replace(",", ""))


def test_following_orders_costs_the_page_no_request(dashboard, new_context, live_server):
    assert REQUESTS["on_change"] == [] and REQUESTS["on_load"] == []
    page = dashboard()
    page.wait_for_function(
        "document.querySelector('[data-revenue-summary]').textContent.startsWith('Today')"
    )
    requests = Requests(page)
    orders_before = revenue_orders(page)
    shop = customer(live_server, "heidi")
    maria = other_admin(live_server)
    placed = [place_order(shop) for _ in range(20)]
    for order in placed[:4]:
        result = post_json(maria, f"/admin/api/order/{order['id']}/status", {"status": "Shipped"})
        assert result["status"] == 200, result
    cancelled = placed[4]
    result = post_json(
        maria, f"/admin/api/order/{cancelled['id']}/cancel", {"reason": "Customer called"}
    )
    assert result["status"] == 200, result

    wait_cards(page, live_server.stats(), timeout=5)
    for order in placed:
        row(page, order["id"]).wait_for(timeout=3000)
    row(page, placed[0]["id"]).locator(".badge", has_text="Shipped").wait_for(timeout=3000)
    row(page, cancelled["id"]).locator(".badge", has_text="Cancelled").wait_for(timeout=3000)
    activity = page.locator("[data-activity-list]")
    activity.locator(f"text=cancelled {cancelled['order_number']}").wait_for(timeout=3000)
    page.wait_for_function(
        f"""() => {{
            const t = document.querySelector('[data-revenue-summary]').textContent;
            const m = t.match(/credits in ([\\d,]+) orders\\b/);
            // 20 placed, one of them cancelled: the line counts live orders.
            return m && parseInt(m[1].replace(/,/g, ''), 10) === {orders_before + 19};
        }}""",
        timeout=3000,
    )
    assert requests.sent == [], f"the page fetched while following: {requests.sent}"
    assert requests.streams == 0, "the stream stayed open"


def test_a_server_restart_costs_at_most_one_request(dashboard, live_server):
    page = dashboard()
    requests = Requests(page)
    changed = live_server.restart_with(lambda: commit_while_down(live_server))
    # Count from the moment the new server answers: while the old one drained and the new
    # one booted, the page's fallback polls (by design, for a stream that cannot open) met
    # a server shutting down or nobody.
    page.evaluate("0")  # a round trip: Playwright hands over the events queued before it
    # The streams opened stay counted: the page may be back on the new server already (its
    # retries are frequent in these tests), and at least one stream must have reopened.
    requests.recount()
    wait_live(page, timeout=15000)
    wait_cards(page, live_server.stats(), timeout=5)
    for order_id, status in changed:
        row(page, order_id).locator(".badge", has_text=status).wait_for(timeout=3000)
    assert requests.streams >= 1
    # At most one request besides the new stream: a poll that finds the server back.
    assert len(requests.served) <= 1, requests.served
    assert set(requests.served) <= {"GET /admin/api/order-updates"}, requests.served


def commit_while_down(live_server) -> list[tuple[int, str]]:
    """Orders a CLI job commits while the web server is down: one placed, one moved;
    returns ``[(order id, status)]``."""
    app = live_server.app()
    with app.app_context():
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        request = parse_checkout([{"product_id": 1, "quantity": 1}], "pickup", None)
        new = service_place_order(alice, request)
        old = db.session.scalar(  # the newest other one: it is on the page's first page
            db.select(Order)
            .where(Order.status == "Pending", ~Order.cancelled, Order.id != new.id)
            .order_by(Order.date_ordered.desc(), Order.id.desc())
        )
        change_status(old, "Shipped")
        db.session.commit()
        changed = [(new.id, "Pending"), (old.id, "Shipped")]
        db.session.remove()
    return changed


def test_a_tab_back_from_hidden_resumes_without_a_request(new_context, live_server):
    """The shop's setting that makes hidden tabs give up their stream (LIVE_HIDDEN_GRACE_MS,
    here 600 ms for this page; the server runs with the default, 0): shown again, the tab
    resumes from its version with no other request."""
    assert REQUESTS["on_visible"] == []
    live_server.wait_for_streams(0)
    page = new_context().new_page()
    old_hidden_behaviour(page)
    page.goto("/admin/manage_orders")
    wait_live(page)
    requests = Requests(page)
    set_hidden(page, True)
    page.wait_for_selector('[data-live-indicator][data-state="paused"]', timeout=3000)
    live_server.wait_for_streams(0)
    order = place_order(customer(live_server, "ivan"))
    set_hidden(page, False)
    row(page, order["id"]).wait_for(timeout=3000)
    wait_cards(page, live_server.stats(), timeout=3)
    assert requests.sent == [], requests.sent
    assert requests.streams == 1
    assert card_values(page)["total_orders"] == live_server.stats()["total_orders"]


@pytest.mark.parametrize(
    "zone,midnight_utc",
    [("Asia/Kolkata", "2026-11-27T18:30:00Z"), ("America/Los_Angeles", "2026-11-28T08:00:00Z")],
)
def test_revenue_is_bucketed_in_the_pages_zone(browser, live_server, zone, midnight_utc):
    """Buckets 20 minutes either side of local midnight (+5:30 and -8) land in yesterday's
    last hour and today's first, seen from 30 minutes after midnight and from before it."""
    context = browser.new_context(base_url=live_server.url, timezone_id=zone)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        result = page.evaluate(
            """async (midnight) => {
                const { hourly } = await import('/static/js/dashboard/revenue-hours.js');
                const m = Date.parse(midnight) / 1000;
                const buckets = new Map([[m - 900, [10, 1]], [m, [20, 2]], [m + 900, [5, 1]]]);
                const after = hourly(buckets, new Date((m + 1800) * 1000));
                const before = hourly(buckets, new Date((m - 300) * 1000));
                return {after, before};
            }""",
            midnight_utc,
        )
    finally:
        context.close()
    after, before = result["after"], result["before"]
    assert after["yesterday"][23] == 10 and sum(after["yesterday"]) == 10
    assert after["today"][0] == 25 and after["orders_today"][0] == 3 and after["hour"] == 0
    assert before["today"][23] == 10 and sum(before["today"]) == 10 and before["hour"] == 23
    assert sum(before["yesterday"]) == 0
