"""The shipped nginx site's operations settings: the HTTPS redirect keeps the port, a
stream whose upstream is gone gets a 200 event stream with ``retry:`` (never a 502, which
would end an EventSource for good), and one request id joins nginx's log and the app's
answer."""

import http.client
import re
import ssl

import pytest

from tests.helpers import wait_until
from tests.servers import free_port

pytestmark = [pytest.mark.server]


def get(port: int, path: str, headers=None, context=None):
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def test_the_https_redirect_keeps_a_port_other_than_443(nginx):
    proxy = nginx(free_port(), tls=True)
    response, _ = get(proxy.redirect_port, "/orders?x=1", {"Host": "127.0.0.1"})
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{proxy.port}/orders?x=1"


@pytest.mark.parametrize("path", ["/admin/orders/stream", "/orders/ORD-20261207-00001/stream"])
def test_a_stream_without_its_upstream_gets_retry_not_502(nginx, path):
    proxy = nginx(free_port())  # nothing listens there: nginx's own 502
    response, body = get(proxy.port, path)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.getheader("Connection") == "close"
    assert body.startswith(b"retry: 2000\n")
    assert re.fullmatch(r"[0-9a-f]{32}", response.getheader("X-Request-ID"))
    other, _ = get(proxy.port, "/")
    assert other.status == 502, "pages keep nginx's error status"


@pytest.mark.services
def test_one_request_id_in_nginx_log_and_the_apps_answer(nginx, servers, shared_db):
    url, _shop = shared_db
    server = servers(url)
    proxy = nginx(server.port, tls=True)
    context = ssl.create_default_context(cafile=str(proxy.ca_file))
    response, _ = get(proxy.port, "/healthz", {"X-Request-ID": "forged"}, context)
    rid = response.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", rid), "nginx's $request_id, not the client's"
    wait_until(lambda: f"rid={rid}" in proxy.access_log.read_text(), what=f"rid={rid} logged")
