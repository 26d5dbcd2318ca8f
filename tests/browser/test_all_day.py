"""In Chromium: the admin who keeps the dashboard open all day in a background tab.
A hidden tab keeps listening (title count, one desktop notification per burst, the chime);
new orders make one grouped toast, shown above dialogs and usable there; the indicator is
green again within 3 s of a restarted server's return."""

import re

import pytest

from tests.browser.conftest import (
    customer,
    place_orders,
    set_hidden,
    show_toast,
    wait_live,
)
from tests.browser.test_return_and_paging import QUIET_MS, quick_bursts

pytestmark = pytest.mark.browser

# The Notification API and Web Audio, recorded instead of shown and played.
STUBS = """
window.__notes = [];
window.__oscillators = 0;
class FakeNotification {
  constructor(title, options) {
    this.title = title; this.options = options || {}; this.closed = false;
    window.__notes.push(this);
  }
  close() { this.closed = true; }
}
FakeNotification.permission = 'default';
FakeNotification.requestPermission = () => {
  FakeNotification.permission = 'granted';
  return Promise.resolve('granted');
};
window.Notification = FakeNotification;
class FakeAudio {
  constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createOscillator() {
    window.__oscillators++;
    return {type: '', frequency: {value: 0}, connect() {}, start() {}, stop() {}};
  }
  createGain() {
    return {gain: {setValueAtTime() {}, exponentialRampToValueAtTime() {}}, connect() {}};
  }
}
window.AudioContext = FakeAudio;
"""


def unread(page) -> int:
    match = re.match(r"\((\d+)\) ", page.title())
    return int(match.group(1)) if match else 0


def test_a_hidden_tab_keeps_its_count_and_notifies_once_per_burst(
    new_context, live_server, artifacts
):
    context = new_context()
    context.add_init_script(STUBS)
    page = context.new_page()
    quick_bursts(page)  # a burst ends after 0.7 s of quiet instead of 4 s
    page.goto("/admin/manage_orders")
    wait_live(page)
    toggle = page.locator("[data-desktop-alerts]")
    assert toggle.inner_text() == "Desktop alerts: off"
    toggle.click()  # the opt-in: the browser asks for permission on this click
    page.wait_for_function(
        "() => document.querySelector('[data-desktop-alerts]').textContent.endsWith('on')"
    )
    assert toggle.get_attribute("aria-pressed") == "true"
    shop = customer(live_server, "judy")

    # Visible: a new order is a toast, not a desktop notification.
    place_orders(shop, 1)
    page.locator(".toast-new").wait_for()
    page.click("[data-mark-seen]")
    assert unread(page) == 0

    assert page.evaluate("window.__notes.length") == 0
    # The next burst is a burst of its own once the quiet gap has passed since the last one.
    page.wait_for_function(
        f"() => Date.now() - Number(localStorage.getItem('orderpulse.lastChime')) > {QUIET_MS * 2}"
    )
    set_hidden(page, True)
    oscillators = page.evaluate("window.__oscillators")
    first = place_orders(shop, 3)
    page.wait_for_function("() => window.__notes.length === 1", timeout=10000)
    note = page.evaluate("({title: __notes[0].title, body: __notes[0].options.body})")
    newest = max(first, key=lambda o: o["id"])
    assert note["title"] == "3 new orders since you left this tab"
    assert newest["order_number"] in note["body"]
    assert unread(page) == 3  # the title count moved while hidden
    assert page.evaluate("window.__oscillators") > oscillators  # the chime played hidden
    # The tab kept its stream: the server still counts it.
    assert page.locator("[data-live-indicator]").get_attribute("data-state") == "live"

    second = place_orders(shop, 2)
    page.wait_for_function("() => window.__notes.length === 2", timeout=10000)
    # Every order since the tab was hidden, not only this burst's.
    assert page.evaluate("__notes[1].title") == "5 new orders since you left this tab"
    assert unread(page) == 5
    # Clicking the notification focuses the tab and opens the newest order.
    set_hidden(page, False)
    page.evaluate("__notes[1].onclick()")
    newest = max(second, key=lambda o: o["id"])
    page.locator("#details-dialog", has_text=f"Order {newest['order_number']}").wait_for()
    assert page.evaluate("__notes[1].closed")
    assert page.evaluate("__notes.length") == 2


def test_new_orders_make_one_grouped_toast_above_dialogs(
    dashboard, new_context, live_server, artifacts
):
    page = dashboard()
    shop = customer(live_server, "ivan")
    placed = place_orders(shop, 5)
    group = page.locator(".toast-new")
    group.locator(".toast-title", has_text="5 new orders").wait_for()
    assert group.count() == 1  # one toast for the burst, not five
    newest = max(placed, key=lambda o: o["id"])
    assert newest["order_number"] in group.inner_text()

    # A dialog opens: the toasts stay above it and their buttons still work there.
    page.locator("[data-orders-body] [data-action='details']").first.click()
    dialog = page.locator("#details-dialog")
    dialog.locator("[data-history] li").first.wait_for()
    assert page.evaluate("document.getElementById('toasts').closest('dialog') !== null")
    assert page.evaluate("document.getElementById('toasts').matches(':popover-open')")
    show_toast(page, "Saved.", {"type": "success", "timeout": 0})
    page.screenshot(path=str(artifacts / "toasts-over-dialog.png"))
    page.click("[data-dismiss-toasts]")  # "Dismiss all": clickable over the modal dialog
    page.wait_for_function("() => !document.querySelector('#toasts .toast')")
    assert dialog.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.getElementById('details-dialog').open")
    # Back on the page, the region left the dialog.
    show_toast(page, "Again.", {"timeout": 0})
    assert page.evaluate("document.getElementById('toasts').parentNode === document.body")


def test_the_indicator_is_green_within_3_s_of_the_servers_return(dashboard, live_server):
    page = dashboard()

    def while_down():
        # Red: the stream failed past the grace and the page polls a server that is gone.
        page.wait_for_selector('[data-live-indicator][data-state="offline"]', timeout=10000)

    live_server.restart_with(while_down)  # returns once the new server answers /healthz
    wait_live(page, timeout=3000)
    assert page.locator("[data-live-text]").inner_text() == "Live"


def test_times_show_in_the_shops_zone_with_its_abbreviation(new_context):
    """Every time on the page is in the shop's zone (SHOP_TIMEZONE: New York here, by
    rewriting the page's data-time-zone; the server runs on UTC), whatever the browser's
    zone (Tokyo), with the zone's abbreviation, "Today"/"Yesterday" by the shop's days, and
    the exact instant on hover."""
    context = new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()

    def new_york(route):
        response = route.fetch()
        body = response.text().replace('data-time-zone="UTC"', 'data-time-zone="America/New_York"')
        route.fulfill(response=response, body=body)

    page.route("**/admin/manage_orders*", new_york)
    page.goto("/admin/manage_orders")
    wait_live(page)
    shown = page.evaluate(
        """async () => {
            const t = await import('/static/js/lib/shop-time.js');
            return {
                old: t.formatLocal('2025-01-15T04:47:00Z'),
                title: t.exactTime('2025-01-15T04:47:00Z'),
                now: t.formatLocal(new Date().toISOString()),
                day: t.localDay(new Date('2025-01-15T04:47:00Z')),
            };
        }"""
    )
    # 04:47 UTC on the 15th is 11:47 PM on the 14th in New York (not Tokyo's 13:47).
    assert shown["old"] == "Jan 14, 2025, 11:47 PM EST"
    assert shown["day"] == "2025-01-14"
    assert shown["title"].endswith("11:47:00 PM EST · 2025-01-15 04:47:00 UTC")
    assert shown["now"].startswith("Today, ")
    cell = page.locator("[data-orders-body] tr time").first
    assert re.search(r"\b(EST|EDT)$", cell.inner_text())
    assert re.search(r"\d\d:\d\d:\d\d .* UTC$", cell.get_attribute("title"))
