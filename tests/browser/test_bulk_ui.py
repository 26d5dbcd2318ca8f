"""Bulk selection on the dashboard, in Chromium: tick rows, advance them in one
request and see each order's result; select all N matching a view and cancel them with one
reason; and the customer's header balance following an admin's refund live."""

import re

import pytest

from tests.browser.conftest import (
    customer,
    customer_page,
    other_admin,
    place_orders,
    post_json,
    row,
    wait_cards,
    wait_live,
)

pytestmark = pytest.mark.browser


def test_selecting_rows_and_advancing_them(dashboard, new_context, live_server, artifacts):
    shop = customer(live_server, "peggy")
    placed = place_orders(shop, 4)
    page = dashboard()
    for order in placed:
        row(page, order["id"]).wait_for()
    # One of them is cancelled meanwhile by another admin: it cannot move.
    stuck = placed[0]
    maria = other_admin(live_server)
    post_json(maria, f"/admin/api/order/{stuck['id']}/cancel", {"reason": "Duplicate"})
    row(page, stuck["id"]).locator(".badge", has_text="Cancelled").wait_for()

    bar = page.locator("[data-bulk-bar]")
    assert bar.is_hidden()
    for order in placed:
        row(page, order["id"]).locator("[data-select]").check()
    bar.locator("[data-bulk-count]", has_text="4 selected").wait_for()
    page.click('[data-bulk-action="advance"]')
    page.locator("#confirm-dialog", has_text="Advance 4 orders one step?").wait_for()
    page.click("[data-confirm-yes]")
    summary = bar.locator("[data-bulk-results-summary]")
    summary.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-bulk-results-summary]').textContent.length > 0"
    )
    assert summary.inner_text() == "Advanced 3 of 4; 1 could not be:"
    failures = bar.locator("[data-bulk-failures] li")
    assert failures.count() == 1
    assert stuck["order_number"] in failures.first.inner_text()
    assert "cancelled" in failures.first.inner_text()
    for order in placed[1:]:
        row(page, order["id"]).locator(".badge", has_text="Shipped").wait_for()
    # The one that failed stays selected; the others are done.
    assert bar.locator("[data-bulk-count]").inner_text() == "1 selected"
    assert row(page, stuck["id"]).locator("[data-select]").is_checked()
    wait_cards(page, live_server.stats())
    page.screenshot(path=str(artifacts / "dashboard-bulk.png"))
    page.click("[data-bulk-clear]")
    assert bar.is_hidden()


def test_select_all_matching_and_cancel_with_one_reason(new_context, live_server):
    shop = customer(live_server, "walter")
    place_orders(shop, 3)
    [(matching,)] = live_server.query(
        "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE u.username = 'walter' AND o.status = 'Pending' AND NOT o.cancelled"
    )
    page = new_context().new_page()
    page.goto("/admin/manage_orders?status=Pending&q=walter")
    wait_live(page)
    page.locator("[data-orders-body] [data-select]").first.check()
    all_button = page.locator("[data-bulk-all]")
    assert all_button.inner_text() == f"Select all {matching} matching"
    all_button.click()
    page.locator("[data-bulk-count]", has_text=f"{matching} selected").wait_for()
    page.click('[data-bulk-action="cancel"]')
    dialog = page.locator("#cancel-dialog")
    dialog.locator(f"text=Cancel {matching} orders").first.wait_for()
    assert f"{matching} orders" in dialog.locator("[data-cancel-number]").inner_text()
    page.fill("#cancel-reason", "Shop closed for the holidays")
    page.click("[data-cancel-submit]")
    page.locator(
        "[data-bulk-results-summary]", has_text=f"Cancelled {matching} of {matching}."
    ).wait_for()
    [(left,)] = live_server.query(
        "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE u.username = 'walter' AND o.status = 'Pending' AND NOT o.cancelled"
    )
    assert left == 0
    reasons = live_server.query(
        "SELECT DISTINCT cancellation_reason FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE u.username = 'walter' AND o.cancelled"
    )
    assert ("Shop closed for the holidays",) in reasons
    page.locator("[data-result-count]", has_text=re.compile(r"^0$")).wait_for()


def test_the_customers_header_balance_follows_a_refund(dashboard, new_context, live_server):
    [order] = place_orders(customer(live_server, "victor"), 1)
    shop = customer_page(new_context, "victor", path=f"/orders/{order['order_number']}")
    shop.wait_for_selector('[data-live-indicator][data-state="live"]')
    [(credits,)] = live_server.query("SELECT credits FROM users WHERE username = 'victor'")
    balance = shop.locator("[data-balance]")
    assert balance.inner_text() == f"{credits} cr"
    page = dashboard()
    row(page, order["id"]).locator('[data-action="cancel"]').click()
    page.fill("#cancel-reason", "Damaged in the warehouse")
    page.click("[data-cancel-submit]")
    # The refund reaches the customer's header with no reload.
    balance.filter(has_text=f"{credits + order['total_credits']} cr").wait_for(timeout=5000)
    shop.locator("[data-cancelled-banner]", has_text="Damaged in the warehouse").wait_for()
