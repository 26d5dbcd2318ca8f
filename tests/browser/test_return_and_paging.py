"""A busy shop seen through the dashboard in Chromium: "Next" never shows an order of the
page before while orders arrive and the page count follows the count; a hidden tab chimes
and notifies once per burst, and the return says "N new orders while you were away" once,
marking those rows New until seen; the activity feed loads older entries; the cancel
dialog keeps a reason closed unsent; the bulk dialog counts in words; a cancelled order's
details give no delivery date; a tap on a touch screen leaves no row held."""

import re
import time

import pytest

from tests.browser.conftest import (
    customer,
    place_order,
    place_orders,
    row,
    set_hidden,
    sized_dashboard,
    wait_live,
)

pytestmark = pytest.mark.browser

NUMBERS = """() => [...document.querySelectorAll('[data-orders-body] tr[data-order-id]')]
    .map((r) => r.querySelector('.order-number').textContent)"""
# A fake Notification (granted) that records what the page raises, and desktop alerts on.
NOTIFICATIONS = """() => {
    window.__notes = [];
    window.Notification = class {
        static permission = 'granted';
        static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, opts) { window.__notes.push({title, body: opts && opts.body}); }
        close() {}
    };
    localStorage.setItem('orderpulse.desktopAlerts', 'on');
    window.__chimes = 0;
    document.addEventListener('orderpulse:chime', () => { window.__chimes += 1; });
}"""
QUIET_MS = 700


def wait_until(predicate, timeout: float, every: float = 0.05) -> None:
    """Wait for ``predicate()`` to hold, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s")
        time.sleep(every)


@pytest.fixture(autouse=True)
def customers_can_pay(live_server):
    """These tests place many orders: every customer gets credits enough for them."""
    live_server.query("UPDATE users SET credits = 100000 WHERE role = 'customer'")


def place_spread(live_server, count: int, names=("grace", "heidi", "ivan", "judy")) -> None:
    """``count`` orders as one burst, at most 8 per customer."""
    shares = [min(8, count - 8 * i) for i in range(-(-count // 8))]
    assert len(shares) <= len(names), "more customers needed"
    for name, share in zip(names, shares, strict=False):
        place_orders(customer(live_server, name), share)


def quick_bursts(page, quiet_ms=QUIET_MS):
    """Serve ``page`` the dashboard with LIVE_BURST_QUIET_MS=``quiet_ms`` (the server runs
    with the default; the setting is tried per page by rewriting its data attribute)."""

    def rewrite(route):
        response = route.fetch()
        body = re.sub(
            r'data-burst-quiet-ms="\d+"', f'data-burst-quiet-ms="{quiet_ms}"', response.text()
        )
        route.fulfill(response=response, body=body)

    page.route("**/admin/manage_orders*", rewrite)


def test_next_never_repeats_an_order_while_orders_arrive(dashboard, new_context, live_server):
    page = dashboard()
    place_spread(live_server, 30)  # at least three pages
    page.reload()
    wait_live(page)
    first = page.evaluate(NUMBERS)
    assert len(first) == 25
    place_spread(live_server, 8, ("bob",))  # arrive while the admin reads page 1
    page.click('.pager [rel="next"]')
    wait_live(page)
    second = page.evaluate(NUMBERS)
    assert len(second) == 25 and not set(second) & set(first)
    assert "after=" in page.url
    place_spread(live_server, 8, ("carol",))
    page.click('.pager [rel="next"]')
    wait_live(page)
    third = page.evaluate(NUMBERS)
    assert third and not set(third) & (set(first) | set(second))
    # Back: the page right before page 3's first row, which is page 2 as it was shown.
    page.click('.pager [rel="prev"]')
    wait_live(page)
    assert page.evaluate(NUMBERS) == second


def test_the_page_count_follows_the_live_count(dashboard, new_context, live_server):
    page = dashboard()
    pages = int(page.locator("[data-page-count]").inner_text())
    total = live_server.stats()["total_orders"]
    assert pages == -(-total // 25)
    more = 25 * pages - total + 1  # one order past the last page
    place_spread(live_server, more, ("dave", "erin", "frank", "alice"))
    wait_until(lambda: int(page.locator("[data-page-count]").inner_text()) == pages + 1, 5)


def test_a_hidden_tab_chimes_and_notifies_once_per_burst(dashboard, new_context, live_server):
    context = new_context()
    context.add_init_script(f"({NOTIFICATIONS})()")
    page = context.new_page()
    quick_bursts(page)
    page.goto("/admin/manage_orders")
    wait_live(page)
    page.click("h1")  # a first click: browsers let a page make sound only after one
    set_hidden(page, True)
    shop = customer(live_server, "carol")
    placed = []
    for burst in range(3):
        # A burst: five orders at once; its notification comes once the quiet gap ends it.
        placed += sorted(o["order_number"] for o in place_orders(shop, 5))
        wait_until(lambda b=burst: page.evaluate("window.__notes.length") == b + 1, 5)
    notes = page.evaluate("window.__notes")
    assert page.evaluate("window.__chimes") == 3  # 15 orders, 3 bursts: 3 chimes
    # Each notification counts every order since the tab was left, not its burst only.
    assert [n["title"] for n in notes] == [
        "5 new orders since you left this tab",
        "10 new orders since you left this tab",
        "15 new orders since you left this tab",
    ]
    assert placed[-1] in notes[-1]["body"]  # names the newest

    # The return: one summary, and the rows of those orders marked New until seen.
    set_hidden(page, False)
    summary = page.locator("#toasts [data-away-summary]")
    summary.wait_for()
    assert "15 new orders while you were away" in summary.inner_text()
    assert page.locator("#toasts [data-away-summary]").count() == 1
    unseen = page.locator("[data-orders-body] tr.row-unseen")
    assert unseen.count() == 15
    # Rows on screen for a moment count as seen; those below the fold stay marked.
    wait_until(lambda: unseen.count() < 15, 5)
    page.locator("[data-away-summary] .toast-action", has_text="Mark all seen").click()
    assert unseen.count() == 0


def test_the_activity_feed_loads_older_entries(dashboard, live_server):
    page = dashboard()
    page.set_viewport_size({"width": 1600, "height": 1200})  # the feed shown by default
    items = page.locator("[data-activity-list] > li")
    wait_until(lambda: items.count() >= 20, 5)  # what the page was drawn with
    total = live_server.query("SELECT COUNT(*) FROM order_activity")[0][0]
    older = page.locator("[data-activity-older]")
    clicks = 0
    while older.is_visible():
        shown = items.count()
        older.click()
        wait_until(lambda n=shown: items.count() > n or not older.is_visible(), 5)
        clicks += 1
        assert clicks < 50
    ids = page.evaluate(
        """() => [...document.querySelectorAll('[data-activity-list] > li')]
            .map((li) => li.dataset.activityId)"""
    )
    assert len(ids) == len(set(ids)) >= total  # every entry once
    assert page.locator("[data-activity-end]").is_visible()


def test_esc_keeps_the_typed_reason_and_bulk_counts_in_words(dashboard):
    page = dashboard()
    first = page.locator("[data-orders-body] tr").filter(
        has=page.locator('[data-action="cancel"]')
    )
    first.first.locator('[data-action="cancel"]').click()
    dialog = page.locator("#cancel-dialog")
    page.fill("#cancel-reason", "Customer called: wrong size")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    first.first.locator('[data-action="cancel"]').click()
    assert page.input_value("#cancel-reason") == "Customer called: wrong size"
    assert "reason from before is kept" in dialog.locator("[data-cancel-change]").inner_text()
    page.keyboard.press("Escape")

    for n, title in ((1, "Cancel 1 order"), (3, "Cancel 3 orders")):
        for i in range(n):
            first.nth(i).locator("[data-select]").check()
        page.click('[data-bulk-action="cancel"]')
        assert dialog.locator("#cancel-title").inner_text().strip() == title
        assert dialog.locator("[data-cancel-submit]").inner_text().strip() == title
        page.keyboard.press("Escape")
        page.click("[data-bulk-clear]")


def test_a_cancelled_orders_details_give_no_delivery_date(dashboard, new_context, live_server):
    page = dashboard()
    order = place_order(customer(live_server, "dave"), "home delivery", "1 Main St")
    tr = row(page, order["id"])
    tr.wait_for()
    tr.locator('[data-action="cancel"]').click()
    page.fill("#cancel-reason", "Out of stock")
    page.click("[data-cancel-submit]")
    wait_until(lambda: tr.get_attribute("data-cancelled") == "true", 5)
    tr.locator('[data-action="details"]').click()
    body = page.locator("#details-dialog .details-grid")
    body.wait_for()
    text = body.inner_text()
    assert "None: the order was cancelled" in text
    assert "Estimated" not in text and "Not yet" not in text


def test_a_tap_leaves_no_row_held_on_a_touch_screen(live_server, new_context):
    context, page = sized_dashboard(new_context, "phone", has_touch=True, is_mobile=True)
    assert page.evaluate("matchMedia('(hover: hover)').matches") is False
    order = place_order(customer(live_server, "erin"))
    card = row(page, order["id"])
    card.wait_for()
    # The tap leaves :hover on the card's buttons; the moved order's new buttons show at
    # once all the same (a held, stale "Advance to Shipped" was the trap).
    card.locator('[data-action="advance"]').tap()
    wait_until(lambda: card.get_attribute("data-status") == "Shipped", 5)
    advance = card.locator('[data-action="advance"]')
    wait_until(lambda: advance.inner_text() == "Advance to Out for Delivery", 5)
    assert advance.get_attribute("aria-busy") != "true"
