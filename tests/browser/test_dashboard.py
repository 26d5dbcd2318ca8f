"""The admin dashboard and the order page in a real browser (Chromium via Playwright)
against a real gunicorn gevent server. Each scenario asserts what the page shows."""

import re

import pytest

from tests.browser.conftest import (
    card_values,
    customer,
    customer_page,
    old_hidden_behaviour,
    place_order,
    row,
    set_hidden,
    wait_cards,
    wait_live,
)
from tests.browser.seed import XSS_PASSWORD, XSS_USERNAME

pytestmark = pytest.mark.browser


def test_admin_sees_database_numbers(dashboard, live_server, artifacts):
    page = dashboard()
    assert card_values(page) == live_server.stats()
    assert page.title().startswith("Orders dashboard")
    page.wait_for_selector("[data-activity-list] li")
    page.wait_for_function(
        "document.querySelector('[data-revenue-summary]').textContent.startsWith('Today so far')"
    )
    page.wait_for_timeout(300)  # let the chart draw
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.screenshot(path=str(artifacts / "dashboard-top.png"))  # the first screen, for README


def test_new_order_arrives_live_and_only_changed_cards_change(dashboard, new_context, live_server):
    page = dashboard()
    shop = customer(live_server, "bob")
    before = card_values(page)
    # Tag every card node and record which ones the page mutates.
    page.evaluate(
        """() => {
            window.__mutated = new Set();
            document.querySelectorAll('.stat-card [data-stat]').forEach(n => {
                n.__tag = 'kept';
                new MutationObserver(() => window.__mutated.add(n.dataset.stat))
                    .observe(n, {childList: true, characterData: true, subtree: true});
            });
        }"""
    )
    order = place_order(shop)
    page.locator(f'tr[data-order-id="{order["id"]}"]').wait_for(timeout=5000)
    page.wait_for_selector(".toast-new", timeout=5000)
    wait_cards(page, live_server.stats(), timeout=5.0)
    after = card_values(page)
    assert after["total_orders"] == before["total_orders"] + 1
    assert after["pending_count"] == before["pending_count"] + 1
    assert order["order_number"] in page.locator(".toast-new").first.inner_text()
    assert "bob" in row(page, order["id"]).inner_text()
    assert sorted(page.evaluate("[...window.__mutated]")) == ["pending_count", "total_orders"]
    assert page.evaluate(
        "[...document.querySelectorAll('.stat-card [data-stat]')].every(n => n.__tag === 'kept')"
    )
    # Unread badge in the title, cleared by "Mark seen"; the feed has the order.
    assert re.match(r"\(\d+\) Orders dashboard", page.title())
    assert page.locator("[data-activity-list]").inner_text().count(order["order_number"]) >= 1
    page.click("[data-mark-seen]")
    assert page.title().startswith("Orders dashboard")
    assert page.locator("[data-unread]").is_hidden()


def test_stream_cut_falls_back_to_polling_and_recovers(dashboard, new_context, live_server):
    page = dashboard()
    shop = customer(live_server, "carol")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "order-updates" in r.url else None)
    # The stream's URL carries a query (?last_event_id=, &focus=): a glob ending in "stream"
    # would not match it.
    stream_url = re.compile(r"/admin/orders/stream(\?|$)")
    page.route(stream_url, lambda route: route.abort())
    live_server.recycle_workers()  # ends every open stream; the route blocks reconnects
    page.wait_for_selector('[data-live-indicator][data-state="offline"]', timeout=5000)
    assert "Offline" in page.locator("[data-live-text]").inner_text()
    order = place_order(shop)
    wait_cards(page, live_server.stats(), timeout=3.0)  # from polling: the stream is blocked
    row(page, order["id"]).wait_for(timeout=2000)
    assert page.locator("[data-live-indicator]").get_attribute("data-state") == "offline"
    page.unroute(stream_url)
    wait_live(page, timeout=5000)  # by itself: backoff retries, no reload
    # The stream's opening stops the poll loop (one in flight may still finish): no poll
    # starts while two more orders arrive over the stream.
    polled = len(polls)
    for _ in range(2):
        order = place_order(shop)
        row(page, order["id"]).wait_for(timeout=5000)
        wait_cards(page, live_server.stats(), timeout=5.0)
    assert page.locator("[data-live-indicator]").get_attribute("data-state") == "live"
    assert polls[polled:] == [], "polling went on after the stream came back"


def test_two_tabs_share_one_stream_and_hand_over(dashboard, new_context, live_server):
    live_server.wait_for_streams(0)
    context = new_context()
    first = dashboard(context)
    second = dashboard(context)  # "live" as told by the first tab over BroadcastChannel
    live_server.wait_for_streams(1)
    shop = customer(live_server, "dave")
    order = place_order(shop)
    for page in (first, second):
        row(page, order["id"]).wait_for(timeout=5000)
        wait_cards(page, live_server.stats(), timeout=5.0)
    # Both tabs have followed an order by now, the second from the first's stream: a second
    # stream of its own would have opened long before and stayed. (The leader may have
    # reconnected meanwhile, its watchdog finding a heartbeat late on a loaded machine: the
    # old stream then counts until the server sees it closed, so wait for one.)
    live_server.wait_for_streams(1)
    first.close()  # the leader: the second tab takes the lock and opens the stream
    wait_live(second)
    live_server.wait_for_streams(1)
    order = place_order(shop)
    row(second, order["id"]).wait_for(timeout=2000)
    wait_cards(second, live_server.stats(), timeout=1.0)


def test_hidden_tab_stops_streaming_and_catches_up(new_context, live_server):
    """The shops' old behaviour (LIVE_HIDDEN_GRACE_MS > 0): a hidden tab gives up its
    stream, and catches up at once when shown."""
    live_server.wait_for_streams(0)
    page = new_context().new_page()
    old_hidden_behaviour(page)
    page.goto("/admin/manage_orders")
    wait_live(page)
    live_server.wait_for_streams(1)
    set_hidden(page, True)
    page.wait_for_selector('[data-live-indicator][data-state="paused"]', timeout=3000)
    live_server.wait_for_streams(0)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    watcher = new_context().new_page()  # a visible dashboard: when it has the order, so
    watcher.goto("/admin/manage_orders")  # would the hidden one if it still listened
    wait_live(watcher)
    shop = customer(live_server, "erin")
    order = place_order(shop)
    row(watcher, order["id"]).wait_for(timeout=5000)
    assert row(page, order["id"]).count() == 0  # no stream, no polling while hidden
    assert card_values(page) != live_server.stats()
    assert requests == []
    watcher.close()
    set_hidden(page, False)
    row(page, order["id"]).wait_for(timeout=5000)
    wait_cards(page, live_server.stats(), timeout=5.0)
    wait_live(page)
    live_server.wait_for_streams(1)


def test_details_advance_and_cancel_reach_every_tab(dashboard, new_context, live_server):
    shop = customer(live_server, "frank")
    order = place_order(shop, "home delivery", "1 Test Road")
    context = new_context()
    page, other = dashboard(context), dashboard(new_context())  # same admin, another browser
    oid, number = order["id"], order["order_number"]
    row(page, oid).wait_for()
    row(other, oid).wait_for()

    row(page, oid).locator('[data-action="details"]').click()
    dialog = page.locator("#details-dialog")
    dialog.locator(f"text=Order {number}").wait_for()
    assert "1 Test Road" in dialog.inner_text()
    dialog.locator('[data-action="advance"]').click()
    for p in (page, other):
        row(p, oid).locator(".badge", has_text="Shipped").wait_for(timeout=1500)
        wait_cards(p, live_server.stats())
    dialog.locator(".badge", has_text="Shipped").wait_for()
    dialog.locator("[data-close-dialog]").last.click()

    # An illegal move (a stale button asking to skip a step): the server's 409 message shows.
    button = row(other, oid).locator('[data-action="advance"]')
    button.evaluate("b => b.setAttribute('data-next-status', 'Delivered')")
    button.click()
    other.click("[data-confirm-yes]")  # moving to Delivered asks first
    error = other.locator(".toast-error")
    error.wait_for()
    assert f"Cannot move {number} from Shipped to Delivered" in error.inner_text()

    row(page, oid).locator('[data-action="cancel"]').click()
    page.fill("#cancel-reason", "Out of stock <b>today</b>")
    page.click("[data-cancel-submit]")
    for p in (page, other):
        row(p, oid).locator(".badge", has_text="Cancelled").wait_for(timeout=1500)
        wait_cards(p, live_server.stats())
        p.locator("[data-activity-list]", has_text=f"cancelled {number}").wait_for(timeout=1500)
    assert "Out of stock <b>today</b>" in other.locator("[data-activity-list]").inner_text()


def test_order_page_follows_status_live(dashboard, new_context, live_server, artifacts):
    order = place_order(customer(live_server, "grace"), "home delivery", "5 Garden Lane")
    shop = customer_page(new_context, "grace", path=f"/orders/{order['order_number']}")
    shop.wait_for_selector('[data-live-indicator][data-state="live"]')
    admin = dashboard()
    for status in ("Shipped", "Out for Delivery"):
        row(admin, order["id"]).locator(
            f'[data-action="advance"][data-next-status="{status}"]'
        ).click()
        # The row's buttons keep their labels while the pointer is on them: move it off.
        admin.mouse.move(0, 0)
        shop.locator("[data-status-badge] .badge", has_text=status).wait_for(timeout=1500)
        current = shop.locator('.timeline-step[aria-current="step"]')
        assert current.get_attribute("data-step") == status
    assert "Current status: Out for Delivery." in shop.locator("[data-status-text]").inner_text()
    shop.wait_for_timeout(800)  # let the step highlight fade for the screenshot
    shop.screenshot(path=str(artifacts / "order-page.png"), full_page=True)
    row(admin, order["id"]).locator('[data-next-status="Delivered"]').click()
    admin.click("[data-confirm-yes]")  # Delivered asks first
    shop.locator("[data-status-text]", has_text="Delivered").wait_for(timeout=1500)
    shop.wait_for_selector('[data-live-indicator][data-state="final"]')


def test_html_in_names_and_addresses_is_shown_as_text(dashboard, new_context, live_server):
    address = '<script>window.__xss=3</script><b>Flat 2</b> & "Co"'
    page = dashboard()
    order = place_order(
        customer(live_server, XSS_USERNAME, XSS_PASSWORD), "home delivery", address
    )
    tr = row(page, order["id"])
    tr.wait_for(timeout=1500)
    assert tr.locator('td[data-label="Customer"]').inner_text() == XSS_USERNAME
    tr.locator('[data-action="details"]').click()
    dialog = page.locator("#details-dialog")
    dialog.locator(".pre-line").wait_for()
    assert dialog.locator(".pre-line").inner_text() == address
    assert XSS_USERNAME in dialog.inner_text()
    assert XSS_USERNAME in page.locator(".toast-new").last.inner_text()
    page.reload()  # the server-rendered row too
    wait_live(page)
    assert row(page, order["id"]).locator('td[data-label="Customer"]').inner_text() == (
        XSS_USERNAME
    )
    shop = customer_page(
        new_context, XSS_USERNAME, XSS_PASSWORD, path=f"/orders/{order['order_number']}"
    )
    assert address in shop.locator(".detail-list").inner_text()
    for p in (page, shop):
        assert p.evaluate("window.__xss") is None
        assert p.locator("#main img[src=x], #main b").count() == 0
