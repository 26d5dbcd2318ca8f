"""Live filtered, paged and searched views in Chromium: a "Pending" view gains new
orders through "N new matching orders — Show" and loses those that move on, its count right
all along; a searched view counts from the pushed activity; a later page marks a changed row
instead of reshuffling; all with no request but the stream."""

import re

import pytest

from tests.browser.conftest import (
    customer,
    other_admin,
    place_order,
    place_orders,
    post_json,
    row,
    wait_live,
)
from tests.browser.test_push import Requests

pytestmark = pytest.mark.browser


def result_count(page) -> int:
    return int(page.locator("[data-result-count]").inner_text().replace(",", ""))


def wait_count(page, expected: int) -> None:
    page.wait_for_function(
        """(n) => parseInt(document.querySelector('[data-result-count]').textContent
                 .replace(/,/g, ''), 10) === n""",
        arg=expected,
        timeout=5000,
    )


def pending_in_db(live_server, where: str = "", *params) -> int:
    [(n,)] = live_server.query(
        "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE o.status = 'Pending' AND NOT o.cancelled" + where,
        *params,
    )
    return n


def open_view(new_context, query: str):
    page = new_context().new_page()
    page.goto("/admin/manage_orders?" + query)
    wait_live(page)
    return page


def test_a_pending_view_gains_and_loses_rows_live(new_context, live_server, artifacts):
    page = open_view(new_context, "status=Pending")
    requests = Requests(page)
    assert result_count(page) == pending_in_db(live_server)
    shop = customer(live_server, "grace")
    maria = other_admin(live_server)

    # Gains: new pending orders wait behind "N new matching orders — Show" (rows never
    # slide under the pointer), and the count is right at once.
    placed = place_orders(shop, 2)
    notice = page.locator("[data-new-orders-notice]")
    notice.locator("text=2 new matching orders").wait_for()
    wait_count(page, pending_in_db(live_server))
    page.screenshot(path=str(artifacts / "dashboard-pending-view.png"))
    page.click("[data-show-new]")
    for order in placed:
        row(page, order["id"]).wait_for()
    assert notice.is_hidden()
    assert page.url.endswith("?status=Pending")  # Show keeps the filter: no navigation

    # Loses: an order another admin ships leaves the view (with a word), one cancelled too.
    gone, cancelled = placed
    post_json(maria, f"/admin/api/order/{gone['id']}/status", {"status": "Shipped"})
    post_json(maria, f"/admin/api/order/{cancelled['id']}/cancel", {"reason": "Duplicate"})
    row(page, gone["id"]).locator("[data-row-flag]", has_text="now Shipped").wait_for()
    row(page, cancelled["id"]).locator("[data-row-flag]", has_text="cancelled").wait_for()
    assert "it leaves this view" in page.locator("[data-view-notice]").inner_text()
    wait_count(page, pending_in_db(live_server))
    page.mouse.move(0, 0)
    row(page, gone["id"]).wait_for(state="detached", timeout=8000)
    row(page, cancelled["id"]).wait_for(state="detached", timeout=8000)
    assert result_count(page) == pending_in_db(live_server)
    # An order that moves on before it is shown leaves the notice again.
    third = place_order(shop)
    notice.locator("text=1 new matching order").wait_for()
    post_json(maria, f"/admin/api/order/{third['id']}/status", {"status": "Shipped"})
    notice.wait_for(state="hidden")
    wait_count(page, pending_in_db(live_server))
    # All of it from the stream (the browser's own favicon fetch aside).
    fetched = [r for r in requests.sent if not r.startswith("GET /static/")]
    assert fetched == [], fetched


def test_a_searched_view_counts_from_the_pushed_activity(new_context, live_server):
    page = open_view(new_context, "status=Pending&q=heidi")
    count = pending_in_db(live_server, " AND u.username = ?", "heidi")
    assert result_count(page) == count
    shop = customer(live_server, "heidi")
    other = customer(live_server, "ivan")
    order = place_order(shop)
    place_order(other)  # not heidi's: the count stays
    wait_count(page, count + 1)
    page.locator("[data-new-orders-notice]", has_text="1 new matching order").wait_for()
    maria = other_admin(live_server)
    post_json(maria, f"/admin/api/order/{order['id']}/status", {"status": "Shipped"})
    wait_count(page, count)
    page.locator("[data-new-orders-notice]").wait_for(state="hidden")
    assert result_count(page) == pending_in_db(live_server, " AND u.username = ?", "heidi")


def test_a_later_page_marks_changed_rows_instead_of_reshuffling(new_context, live_server):
    shop = customer(live_server, "judy")
    # Page 2 of "Pending" has at least two rows, whatever ran before.
    place_orders(shop, max(1, 27 - pending_in_db(live_server)))
    page = open_view(new_context, "status=Pending&page=2")
    ids = [
        int(i)
        for i in page.locator("[data-orders-body] tr").evaluate_all(
            "rows => rows.map(r => r.dataset.orderId)"
        )
    ]
    assert len(ids) >= 2
    target = ids[1]
    maria = other_admin(live_server)
    post_json(maria, f"/admin/api/order/{target}/status", {"status": "Shipped"})
    flag = row(page, target).locator("[data-row-flag]")
    flag.wait_for()
    assert re.search(r"changed: Shipped", flag.inner_text())
    # No reshuffle: the same rows in the same order, the changed one still there.
    after = [
        int(i)
        for i in page.locator("[data-orders-body] tr").evaluate_all(
            "rows => rows.map(r => r.dataset.orderId)"
        )
    ]
    assert after == ids
    # A new pending order is on an earlier page: Show opens the view's first page.
    place_order(shop)
    notice = page.locator("[data-new-orders-notice]")
    notice.locator("text=1 new matching order").wait_for()
    assert notice.locator("a", has_text="Show").get_attribute("href").endswith("status=Pending")
