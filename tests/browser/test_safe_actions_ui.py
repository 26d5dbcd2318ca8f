"""Safe actions in Chromium: Undo of an advance and of a cancel (counts, balance
and the activity follow), confirm before Delivered, a button that keeps its label under the
pointer and a stale click answered with who changed the order and when, keyboard focus
back on the row after a move, and the shortcuts."""

import pytest

from tests.browser.conftest import (
    customer,
    customer_page,
    other_admin,
    place_order,
    post_json,
    row,
    wait_cards,
)

pytestmark = pytest.mark.browser


def order_state(live_server, order_id):
    [(status, cancelled)] = live_server.query(
        "SELECT status, cancelled FROM orders WHERE id = ?", order_id
    )
    return status, bool(cancelled)


def balance(live_server, username):
    [(credits,)] = live_server.query("SELECT credits FROM users WHERE username = ?", username)
    return credits


def test_undo_of_an_advance(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "alice"))
    page = dashboard()
    tr = row(page, order["id"])
    tr.locator('[data-action="advance"]').click()
    page.mouse.move(0, 0)
    tr.locator(".badge", has_text="Shipped").wait_for()
    undo = page.locator(f'[data-undo-for="{order["id"]}"]')
    assert f"{order['order_number']} moved to Shipped." in undo.inner_text()
    undo.locator("button", has_text="Undo").click()
    tr.locator(".badge", has_text="Pending").wait_for()
    page.locator(".toast-success", has_text="is Pending again").wait_for()
    assert order_state(live_server, order["id"]) == ("Pending", False)
    page.locator(
        "[data-activity-list]",
        has_text=f"admin undid the move of {order['order_number']} to Shipped",
    ).wait_for()
    wait_cards(page, live_server.stats())
    # The row offers the same move again.
    assert tr.locator('[data-action="advance"]').inner_text() == "Advance to Shipped"


def test_undo_of_a_cancel_charges_the_customer_again(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "bob"), quantity=2)
    before = balance(live_server, "bob")
    # The customer watches the order.
    shop = customer_page(new_context, "bob", path=f"/orders/{order['order_number']}")
    shop.wait_for_selector('[data-live-indicator][data-state="live"]')
    page = dashboard()
    tr = row(page, order["id"])
    tr.locator('[data-action="cancel"]').click()
    page.fill("#cancel-reason", "Out of stock")
    page.click("[data-cancel-submit]")
    tr.locator(".badge", has_text="Cancelled").wait_for()
    assert balance(live_server, "bob") == before + order["total_credits"]
    shop.locator("[data-cancelled-banner]", has_text="Out of stock").wait_for()
    page.locator(f'[data-undo-for="{order["id"]}"] button', has_text="Undo").click()
    tr.locator(".badge", has_text="Pending").wait_for()
    assert order_state(live_server, order["id"]) == ("Pending", False)
    assert balance(live_server, "bob") == before
    # The customer's page followed the undo: no banner, Pending again, the balance back.
    shop.locator("[data-status-text]", has_text="Current status: Pending.").wait_for()
    assert shop.locator("[data-cancelled-banner]").is_hidden()
    shop.locator("[data-balance]", has_text=f"{before} cr").wait_for()
    page.locator(
        "[data-activity-list]", has_text=f"admin undid the cancellation of {order['order_number']}"
    ).wait_for()
    wait_cards(page, live_server.stats())


def test_delivered_asks_first(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "carol"))
    maria = other_admin(live_server)
    for seen, status in (("Pending", "Shipped"), ("Shipped", "Out for Delivery")):
        result = post_json(
            maria, f"/admin/api/order/{order['id']}/status", {"status": status, "from": seen}
        )
        assert result["status"] == 200, result
    page = dashboard()
    button = row(page, order["id"]).locator('[data-action="advance"]')
    assert button.inner_text() == "Advance to Delivered"
    button.click()
    confirm = page.locator("#confirm-dialog")
    confirm.locator("text=The customer is told their order has arrived").wait_for()
    page.click("[data-confirm-no]")
    assert order_state(live_server, order["id"]) == ("Out for Delivery", False)
    button.click()
    page.click("[data-confirm-yes]")
    row(page, order["id"]).locator(".badge", has_text="Delivered").wait_for()
    assert order_state(live_server, order["id"]) == ("Delivered", False)


def test_a_stale_click_names_who_changed_the_order(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "dave"))
    page = dashboard()
    maria = other_admin(live_server)
    tr = row(page, order["id"])
    button = tr.locator('[data-action="advance"]')
    button.hover()  # the admin is about to click "Advance to Shipped"
    result = post_json(
        maria, f"/admin/api/order/{order['id']}/status", {"status": "Shipped", "from": "Pending"}
    )
    assert result["status"] == 200
    tr.locator(".badge", has_text="Shipped").wait_for()
    # Under the pointer the button keeps its label (it does not become "Advance to Out
    # for Delivery"), and the click says who moved the order, and when.
    assert button.inner_text() == "Advance to Shipped"
    button.click()
    error = page.locator(".toast-error", has_text="changed meanwhile")
    error.wait_for()
    text = error.inner_text()
    assert f"{order['order_number']} changed meanwhile: maria moved it to Shipped" in text
    assert " s ago" in text
    assert order_state(live_server, order["id"]) == ("Shipped", False)
    page.mouse.move(0, 0)  # off the row: its buttons catch up
    tr.locator('[data-action="advance"]', has_text="Advance to Out for Delivery").wait_for()


def test_focus_returns_to_the_row_after_a_move(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "erin"))
    page = dashboard()
    tr = row(page, order["id"])
    tr.locator('[data-action="advance"]').focus()
    page.keyboard.press("Enter")
    tr.locator(".badge", has_text="Shipped").wait_for()
    page.wait_for_function(
        """(id) => {
            const a = document.activeElement;
            return a && a.closest('tr') && a.closest('tr').dataset.orderId === String(id)
                && a.dataset.nextStatus === 'Out for Delivery';
        }""",
        arg=order["id"],
    )
    # In the dialog too: Enter on its Advance, focus on its next Advance.
    page.keyboard.press("Shift+Tab")  # Details, in the same row
    page.keyboard.press("Enter")
    dialog = page.locator("#details-dialog")
    dialog.locator("[data-history] li", has_text="moved it from Pending to Shipped").wait_for()
    dialog.locator('[data-action="advance"]').focus()
    page.keyboard.press("Enter")
    dialog.locator(".badge", has_text="Out for Delivery").wait_for()
    page.wait_for_function(
        """() => {
            const a = document.activeElement;
            return a.closest('#details-dialog') && a.dataset.nextStatus === 'Delivered';
        }"""
    )
    # The history lists each change, with who and when.
    dialog.locator("[data-history] li", has_text="admin moved it from Shipped to").wait_for()
    assert "placed it" in dialog.locator("[data-history] li").first.inner_text()


def test_keyboard_shortcuts(dashboard, new_context, live_server):
    order = place_order(customer(live_server, "frank"))
    page = dashboard()
    row(page, order["id"]).wait_for()
    page.keyboard.press("j")
    first = page.evaluate("document.activeElement.dataset.orderId")
    assert first == page.locator("[data-orders-body] tr").first.get_attribute("data-order-id")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.dataset.orderId") == first
    page.keyboard.press("Enter")
    page.locator("#details-dialog[open]").wait_for()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.getElementById('details-dialog').open")
    # a: advance the focused row (the newest order, ours).
    row(page, order["id"]).focus()
    page.keyboard.press("a")
    row(page, order["id"]).locator(".badge", has_text="Shipped").wait_for()
    page.locator(f'[data-undo-for="{order["id"]}"]').wait_for()
    page.keyboard.press("u")  # undo it, while its Undo shows
    row(page, order["id"]).locator(".badge", has_text="Pending").wait_for()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "orders-q"
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("?")
    page.locator("#shortcuts-dialog[open]", has_text="Next / previous order").wait_for()
