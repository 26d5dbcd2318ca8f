"""axe-core (the axe-playwright-python package, which ships axe.min.js: nothing is
fetched) finds no violation of its default rules (WCAG 2.0/2.1/2.2 A and AA and best
practices) on the dashboard, its details, cancel and bulk-cancel dialogs, the shop, a
customer's order page and /account, in the light and the dark theme."""

import pytest

from tests.browser.conftest import (
    CUSTOMER_PASSWORD,
    customer,
    place_order,
    use_scheme,
    wait_live,
)

pytestmark = pytest.mark.browser


def violations(page) -> list:
    """axe's violations on ``page`` now, each as (rule, [selectors of up to 5 nodes]).

    The package's script goes into a page once per document: its ``Axe.run`` injects all
    570 kB again on every call, which Chromium compiles anew each time (a fifth of these
    tests' Chromium CPU: they audit each page in two themes and several states). The run
    itself is what ``Axe.run`` calls, with its default options."""
    from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS, Axe

    if not page.evaluate("() => typeof window.axe?.run === 'function'"):
        page.evaluate(Axe().axe_script)
    found = page.evaluate("(options) => axe.run(document, options)", DEFAULT_OPTIONS)
    return [(v["id"], [n["target"] for n in v["nodes"][:5]]) for v in found["violations"]]


SCHEMES = ("light", "dark")


def in_both_themes(page, found: dict, name: str) -> None:
    """axe's violations on ``page`` as it is now, in the light theme and in the dark one
    (``use_scheme``), into ``found`` as ``"name (scheme)"``."""
    for scheme in SCHEMES:
        use_scheme(page, scheme)
        found[f"{name} ({scheme})"] = violations(page)


def themed_page(new_context, *login):
    """A page of a logged-in context, with motion reduced (no half-faded element is
    measured mid-animation)."""
    page = new_context(*login).new_page()
    page.emulate_media(reduced_motion="reduce")
    return page


def test_the_dashboard_and_its_dialogs(new_context):
    page = themed_page(new_context)
    page.set_viewport_size({"width": 1600, "height": 1200})  # chart and activity shown
    page.goto("/admin/manage_orders")
    wait_live(page)
    found = {}
    in_both_themes(page, found, "dashboard")
    rows = page.locator("[data-orders-body] tr").filter(has=page.locator('[data-action="cancel"]'))
    rows.first.locator('[data-action="details"]').click()
    page.locator("#details-dialog [data-history] li").first.wait_for()
    in_both_themes(page, found, "details")
    page.keyboard.press("Escape")
    rows.first.locator('[data-action="cancel"]').click()
    page.locator("#cancel-dialog").wait_for()
    in_both_themes(page, found, "cancel")
    page.keyboard.press("Escape")
    for i in range(3):
        rows.nth(i).locator("[data-select]").check()
    in_both_themes(page, found, "bulk bar")
    page.click('[data-bulk-action="cancel"]')
    page.locator("#cancel-dialog").wait_for()
    in_both_themes(page, found, "bulk cancel")
    assert found == {name: [] for name in found}


def test_the_shop_the_order_page_and_account(new_context, live_server):
    order = place_order(customer(live_server, "frank"))
    page = themed_page(new_context, "frank", CUSTOMER_PASSWORD)
    found = {}
    for name, url in (
        ("shop", "/"),
        ("order page", f"/orders/{order['order_number']}"),
        ("account", "/account"),
    ):
        page.goto(url)
        in_both_themes(page, found, name)
    admin = themed_page(new_context)
    admin.goto("/account")
    in_both_themes(admin, found, "admin account")
    assert found == {name: [] for name in found}
