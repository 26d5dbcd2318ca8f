"""Sessions the server ends, in a real browser: the open dashboard goes to the login page
(no reconnect loop) when its session ends, whether it logs out in another tab or another
browser ends it from the account page."""

import pytest

from tests.browser.conftest import ADMIN, wait_live

pytestmark = pytest.mark.browser


def streams_opened(page) -> list:
    opened = []
    page.on("request", lambda r: opened.append(r.url) if "/orders/stream" in r.url else None)
    return opened


def test_logout_in_another_tab_sends_the_dashboard_to_login(new_context, dashboard):
    context = new_context(fresh=True)
    page = dashboard(context)
    opened = streams_opened(page)
    other = context.new_page()
    other.goto("/orders")
    other.locator("form[action='/auth/logout'] button").click()
    page.wait_for_url("**/auth/login**", timeout=10000)
    assert "next=%2Fadmin%2Fmanage_orders" in page.url
    assert opened == [], "the page went to the login page instead of reconnecting"


def test_ending_other_sessions_closes_the_other_browsers_dashboard(new_context, dashboard):
    phone = dashboard(new_context(fresh=True))
    laptop = new_context(fresh=True).new_page()
    laptop.goto("/account")
    assert "This device" in laptop.inner_text(".session-list")
    laptop.locator("form[action='/account/sessions/end-others'] button").click()
    laptop.locator(".flash-success").wait_for()
    phone.wait_for_url("**/auth/login**", timeout=10000)
    laptop.goto("/admin/manage_orders")
    assert laptop.url.endswith("/admin/manage_orders"), "this browser stays signed in"
    phone.fill("input[name=username]", ADMIN[0])
    phone.fill("input[name=password]", ADMIN[1])
    with phone.expect_navigation():
        phone.click("form button[type=submit]")
    assert phone.url.endswith("/admin/manage_orders")


def test_the_account_page_names_devices_and_logs_out_one_of_them(new_context, artifacts):
    """Readable devices ("… on Linux", not a raw User-Agent) and "Log out" per session:
    the other browser is logged out at its next request, this one goes on."""
    from tests.browser.conftest import CUSTOMER_PASSWORD

    laptop = new_context("sybil", CUSTOMER_PASSWORD, fresh=True).new_page()
    laptop.goto("/account")
    others = laptop.locator("form[action='/account/sessions/end-others'] button")
    if others.is_enabled():  # sessions left by other tests
        others.click()
        laptop.locator(".flash-success").wait_for()
    phone = new_context("sybil", CUSTOMER_PASSWORD, fresh=True).new_page()
    phone.goto("/orders")
    laptop.goto("/account")
    items = laptop.locator(".session-item")
    assert items.count() == 2
    text = laptop.inner_text(".session-list")
    assert "Chrome on Linux" in text and "Mozilla/5.0" not in text
    assert laptop.locator(".session-item.is-current").inner_text().count("This device") == 1
    laptop.screenshot(path=str(artifacts / "account-sessions.png"), full_page=True)
    laptop.locator(".session-item:not(.is-current) form.session-end button").click()
    laptop.locator(".flash-success").wait_for()
    assert laptop.locator(".session-item").count() == 1
    phone.goto("/orders")
    assert "/auth/login" in phone.url
    laptop.goto("/orders")
    assert laptop.url.endswith("/orders")


def test_a_password_change_keeps_this_browsers_dashboard(new_context, dashboard):
    """The session gets a new id: the dashboard's stream (on the old id) ends and its page
    comes back through the login page, still signed in, without typing anything."""
    context = new_context(fresh=True)
    page = dashboard(context)
    account = context.new_page()
    account.goto("/account")
    account.fill("input[name=current]", ADMIN[1])
    account.fill("input[name=password]", ADMIN[1])  # the same password: a new hash
    account.fill("input[name=confirm]", ADMIN[1])
    with page.expect_navigation(url="**/admin/manage_orders", timeout=10000):
        account.locator("form[action='/account/password'] button").click()
    account.locator(".flash-success").wait_for()
    wait_live(page, timeout=10000)
