"""Connection truth in Chromium (docs/design.md §5a: the client trusts bytes, not the
socket): a link that stays open but passes nothing (a frozen proxy) takes the pill off
Live and the page catches up once the link is back; the browser's ``offline`` event shows
"Offline" at once, and an action that fails offline says so and keeps what was typed."""

import contextlib
import socket
import threading

import pytest

from tests.browser.conftest import customer, place_order, row, wait_live

pytestmark = pytest.mark.browser
NOT_LIVE = '[data-live-indicator]:not([data-state="live"])'


class FrozenProxy:
    """A TCP forwarder from a local port to the server. ``freeze()`` stops forwarding in
    both directions without closing anything (connections, new ones included, stay open
    and silent, as behind a stuck proxy or a dead Wi-Fi link); ``thaw()`` forwards again,
    what waited included."""

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            self.flowing.wait()  # frozen: hold the bytes, close nothing
            try:
                target.sendall(data)
            except OSError:
                break
        for sock in (source, target):
            with contextlib.suppress(OSError):  # the other pump closed it first
                sock.shutdown(socket.SHUT_RDWR)

    def freeze(self):
        self.flowing.clear()

    def thaw(self):
        self.flowing.set()

    def close(self):
        self.closed = True
        self.flowing.set()
        self.listener.close()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def proxy(live_server):
    found = FrozenProxy(live_server.port)
    yield found
    found.close()


def test_a_frozen_link_leaves_live_and_the_page_catches_up_when_it_returns(
    new_context, live_server, proxy
):
    page = new_context().new_page()
    page.goto(f"http://127.0.0.1:{proxy.port}/admin/manage_orders")
    wait_live(page)
    proxy.freeze()
    # Nothing errors on a silent socket: only the watchdog (two heartbeat intervals of
    # silence) can take the pill off Live. Without it the page would say Live for ever.
    page.wait_for_selector(NOT_LIVE, timeout=15000)
    order = place_order(customer(live_server, "frank"))  # straight to the server
    proxy.thaw()
    row(page, order["id"]).wait_for(timeout=15000)
    wait_live(page, timeout=15000)


def test_offline_shows_at_once_and_a_failed_cancel_keeps_its_reason(
    dashboard, new_context, live_server
):
    order = place_order(customer(live_server, "grace"))
    context = new_context()
    page = dashboard(context)
    tr = row(page, order["id"])
    tr.wait_for()
    tr.locator('[data-action="cancel"]').click()
    page.fill("#cancel-reason", "Damaged in the warehouse")
    context.set_offline(True)
    pill = page.locator("[data-live-indicator]")
    page.wait_for_selector('[data-live-indicator][data-state="no-network"]')
    assert pill.inner_text() == "Offline"
    page.click("[data-cancel-submit]")
    page.locator("[data-cancel-error]", has_text="You are offline: nothing was sent").wait_for()
    assert page.input_value("#cancel-reason") == "Damaged in the warehouse"
    [(cancelled,)] = live_server.query("SELECT cancelled FROM orders WHERE id = ?", order["id"])
    assert not cancelled

    context.set_offline(False)
    wait_live(page, timeout=15000)
    page.click("[data-cancel-submit]")
    tr.locator(".badge", has_text="Cancelled").wait_for()
