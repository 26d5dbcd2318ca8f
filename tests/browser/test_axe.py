"""axe-core (the axe-playwright-python package, which ships axe.min.js: nothing is
fetched) finds no violation of its default rules (WCAG 2.0/2.1/2.2 A and AA and best
practices) on the dashboard, its details, cancel and bulk-cancel dialogs, the shop, a
customer's order page and /account, in the light and the dark theme."""

import pytest

from tests.browser.conftest import CUSTOMER_PASSWORD, customer_page, place_order, wait_live

pytestmark = pytest.mark.browser


def violations(page) -> list:
    """axe's violations on ``page`` now, each as (rule, [selectors of up to 5 nodes])."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"][:5]]) for v in found]


@pytest.fixture
def themed(new_context):
    """``themed(scheme, username, password)`` → a page of a logged-in context in ``scheme``,
    with motion reduced (no half-faded element is measured mid-animation)."""

    def factory(scheme, *login):
        page = new_context(*login).new_page()
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        return page

    return factory


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_dashboard_and_its_dialogs(themed, scheme):
    page = themed(scheme)
    page.set_viewport_size({"width": 1600, "height": 1200})  # chart and activity shown
    page.goto("/admin/manage_orders")
    wait_live(page)
    found = {"dashboard": violations(page)}
    rows = page.locator("[data-orders-body] tr").filter(has=page.locator('[data-action="cancel"]'))
    rows.first.locator('[data-action="details"]').click()
    page.locator("#details-dialog [data-history] li").first.wait_for()
    found["details"] = violations(page)
    page.keyboard.press("Escape")
    rows.first.locator('[data-action="cancel"]').click()
    page.locator("#cancel-dialog").wait_for()
    found["cancel"] = violations(page)
    page.keyboard.press("Escape")
    for i in range(3):
        rows.nth(i).locator("[data-select]").check()
    found["bulk bar"] = violations(page)
    page.click('[data-bulk-action="cancel"]')
    page.locator("#cancel-dialog").wait_for()
    found["bulk cancel"] = violations(page)
    assert found == {name: [] for name in found}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_shop_the_order_page_and_account(themed, new_context, scheme):
    order = place_order(customer_page(new_context, "frank"))
    page = themed(scheme, "frank", CUSTOMER_PASSWORD)
    found = {}
    for name, url in (
        ("shop", "/"),
        ("order page", f"/orders/{order['order_number']}"),
        ("account", "/account"),
    ):
        page.goto(url)
        found[name] = violations(page)
    admin = themed(scheme)
    admin.goto("/account")
    found["admin account"] = violations(admin)
    assert found == {name: [] for name in found}
