"""Sessions the server ends, in a real browser: the open dashboard goes to the login page
(no reconnect loop) when its session ends, whether it logs out in another tab or another
browser ends it from the account page."""

import pytest

from tests.browser.conftest import ADMIN

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
    assert "this session" in laptop.inner_text(".session-list")
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
