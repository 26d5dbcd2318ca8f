"""The admin tools in a real browser: exporting the dashboard's current view as CSV (a download),
and the checkout that a short balance disables."""

import csv

import pytest

from tests.browser.conftest import CUSTOMER_PASSWORD

pytestmark = pytest.mark.browser


def test_export_downloads_the_current_view(dashboard, live_server, artifacts):
    page = dashboard()
    # Pending orders, largest total first, chosen through the page's own controls.
    page.click('nav[aria-label="Filter by status"] >> text=Pending')
    page.wait_for_url("**status=Pending**")
    page.click("th >> text=Total")
    page.wait_for_url("**sort=total**")
    page.screenshot(path=str(artifacts / "dashboard-tools.png"))
    with page.expect_download() as info:
        page.click("[data-export-link]")
    download = info.value
    assert download.suggested_filename.startswith("orders-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header[:3] == ["order_number", "ordered_at", "customer"]
    expected = live_server.query(
        "SELECT order_number FROM orders WHERE status = 'Pending' AND NOT cancelled"
        " ORDER BY total_credits DESC, id DESC"
    )
    assert [r[0] for r in rows] == [n for (n,) in expected]
    status, cancelled = header.index("status"), header.index("cancelled")
    assert rows and all(r[status] == "Pending" and r[cancelled] == "false" for r in rows)
    # The table shows the same first orders as the file.
    first = page.locator("[data-orders-body] tr .order-number").first.inner_text()
    assert first == rows[0][0]


def test_checkout_is_disabled_when_the_balance_is_short(new_context, live_server, artifacts):
    page = new_context("heidi", CUSTOMER_PASSWORD).new_page()
    page.goto("/")
    [(product_id, price)] = live_server.query(
        "SELECT id, credit_value FROM products ORDER BY credit_value DESC, id LIMIT 1"
    )
    [(balance,)] = live_server.query("SELECT credits FROM users WHERE username = 'heidi'")
    quantity = balance // price + 1  # just over the balance
    assert quantity <= 99
    page.evaluate(
        """async ([id, qty]) => {
            const body = new URLSearchParams({product_id: id, quantity: qty,
                csrf_token: document.querySelector('meta[name=csrf-token]').content});
            await fetch('/cart/add', {method: 'POST', body});
        }""",
        [str(product_id), str(quantity)],
    )
    page.goto("/checkout")
    missing = quantity * price - balance
    button = page.locator("[data-submit]")
    assert button.is_disabled()
    assert f"{missing} credit" in button.inner_text()
    assert f"You are {missing} credit" in page.locator("[data-credits-missing-text]").inner_text()
    page.screenshot(path=str(artifacts / "checkout-short.png"))
    # Even a script's submit is stopped by checkout.js (its listener runs before this one).
    prevented = page.evaluate(
        """() => {
            const form = document.getElementById('checkout-form');
            let prevented = null;
            form.addEventListener('submit', (ev) => { prevented = ev.defaultPrevented; });
            form.requestSubmit();
            return prevented;
        }"""
    )
    assert prevented is True
