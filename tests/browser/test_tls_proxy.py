"""A login and a live dashboard over TLS and HTTP/2 through the shipped nginx configuration,
on a port other than 443: with ``Host $host`` nginx dropped the port,
Flask-WTF's strict HTTPS referrer check refused every form POST, and nobody could log in.
The certificate is made for the test by ``trustme``; Chromium is told to accept it."""

import pytest

from tests.browser.conftest import (
    ADMIN,
    CUSTOMER_PASSWORD,
    card_values,
    log_in,
    place_order,
    wait_live,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture
def proxied(live_server, nginx):
    """The browser tests' server behind nginx on TLS + HTTP/2 (nginx connects from
    loopback, which ``FORWARDED_ALLOW_IPS`` trusts by default)."""
    return nginx(live_server.port, tls=True)


def logged_in(browser, base: str, username: str, password: str):
    """A context logged in through the proxy, and a page of it on the shop."""
    context = browser.new_context(base_url=base, ignore_https_errors=True)
    context.set_default_timeout(10000)
    log_in(context, username, password)
    page = context.new_page()
    page.goto("/")
    return context, page


def test_login_and_a_live_dashboard_over_tls_and_http2(browser, proxied):
    assert proxied.port != 443 and proxied.scheme == "https"
    admin, page = logged_in(browser, proxied.base, *ADMIN)
    try:
        page.goto("/admin/manage_orders")
        wait_live(page, timeout=10000)
        protocol = page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")
        assert protocol == "h2"
        before = card_values(page)["total_orders"]

        customer, shop_page = logged_in(browser, proxied.base, "alice", CUSTOMER_PASSWORD)
        place_order(shop_page)  # a JSON POST with the CSRF header, over the same proxy
        page.wait_for_function(
            "n => parseInt(document.querySelector('[data-stat=total_orders]')"
            ".textContent.replace(/,/g, ''), 10) === n",
            arg=before + 1,
            timeout=10000,
        )
        customer.close()
    finally:
        admin.close()
