"""Direct mode on a real gunicorn gevent server: the hub writes each
frame straight to the client socket, and ``orderpulse_direct_streams`` says so. If a gunicorn
or gevent change made every stream fall back to the generator, the frames would still
arrive; only this gauge tells. Over TLS (gunicorn ``--certfile``) direct mode must be off:
its raw socket is under the TLS layer, and a direct write would put cleartext into the
session, which the client's TLS layer would refuse.

The tests of the default (direct) mode share one server, which logs JSON for the access-line
test: each waits until no stream is open before it opens its own, and reads only the log
written since it started."""

import re

import pytest

from tests.helpers import wait_until
from tests.servers import Session, StreamReader, has_version

pytestmark = [pytest.mark.server, pytest.mark.services]


def gauges(session: Session) -> dict[str, float]:
    status, text = session.request("GET", "/metrics")
    assert status == 200, text[:300]
    found = re.findall(r"^orderpulse_(open|direct)_streams (\S+)$", text, re.M)
    return {name: float(value) for name, value in found}


def wait_gauges(session: Session, expected: dict) -> None:
    wait_until(
        lambda: gauges(session) == expected,
        what=lambda: f"gauges {expected}; they are {gauges(session)}",
    )


def follow_an_order(base_session: Session, streams, shop, buyer_base: str, **session_options):
    buyer = Session(buyer_base, shop.alice.username, shop.password, **session_options)
    order = buyer.place_order(shop.products[0].id)
    version = base_session.stats()["version"]
    for stream in streams:
        stream.wait_for(has_version(version), timeout=3)
        event = stream.wait_for(lambda f: f.get("event") == "order")
        assert order["order_number"] in event["data"]


@pytest.fixture(scope="module")
def direct_server(module_db, module_servers):
    """``(server, shop)``: direct mode, as by default, and JSON logs."""
    url, shop = module_db
    return module_servers(url, SSE_DIRECT_WRITE="1", LOG_FORMAT="json"), shop


@pytest.mark.parametrize("direct", ["1", "0"])
def test_the_direct_streams_gauge_counts_every_open_stream(request, direct):
    if direct == "1":
        server, shop = request.getfixturevalue("direct_server")
    else:
        url, shop = request.getfixturevalue("shared_db")
        server = request.getfixturevalue("servers")(url, SSE_DIRECT_WRITE=direct)
    admin = Session(server.base, shop.admin.username, shop.password)
    wait_gauges(admin, {"open": 0.0, "direct": 0.0})
    streams = [StreamReader(admin) for _ in range(3)]
    try:
        for stream in streams:
            stream.wait_for(lambda f: f.get("id") is not None)
        expected_direct = 3.0 if direct == "1" else 0.0
        wait_gauges(admin, {"open": 3.0, "direct": expected_direct})
        follow_an_order(admin, streams, shop, server.base)
    finally:
        for stream in streams:
            stream.close()
    wait_gauges(admin, {"open": 0.0, "direct": 0.0})


def test_over_tls_streams_take_the_generator_path_and_stay_readable(shared_db, servers, tmp_path):
    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key, ca_file = (tmp_path / name for name in ("cert.pem", "key.pem", "ca.pem"))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    url, shop = shared_db
    server = servers(url, tls=(cert, key, ca_file))
    context = server.ssl_context
    admin = Session(server.base, shop.admin.username, shop.password, ssl_context=context)
    stream = StreamReader(admin)
    try:
        stream.wait_for(lambda f: f.get("id") is not None)
        wait_gauges(admin, {"open": 1.0, "direct": 0.0})
        # Frames after the first still decrypt: nothing was written under the TLS layer.
        follow_an_order(admin, [stream], shop, server.base, ssl_context=context)
        stream.wait_for(lambda f: f.get("comment") == "heartbeat")
    finally:
        stream.close()


def test_a_handed_over_stream_logs_its_access_line_when_it_ends(direct_server):
    """The stream's connection leaves gunicorn after its first frame; its access line is
    written when the stream ends, with the request's id, its whole duration and every byte
    the hub wrote (``app/logs.py``)."""
    server, shop = direct_server
    admin = Session(server.base, shop.admin.username, shop.password)
    wait_gauges(admin, {"open": 0.0, "direct": 0.0})
    log_start = server.log_path.stat().st_size  # the lines before are other tests'
    stream = StreamReader(admin)
    try:
        stream.wait_for(lambda f: f.get("id") is not None)
        wait_gauges(admin, {"open": 1.0, "direct": 1.0})
        follow_an_order(admin, [stream], shop, server.base)
    finally:
        stream.close()
    wait_gauges(admin, {"open": 0.0, "direct": 0.0})

    def access_lines() -> list[dict]:
        return [
            r
            for r in server.log_records(log_start)
            if r.get("logger") == "orderpulse.access" and r.get("path") == "/admin/orders/stream"
        ]

    lines = wait_until(access_lines, what="the stream's access-log line")
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["status"] == 200 and line["request_id"] not in ("", "-")
    # Every frame's data, the order's written by the hub after the hand-over included.
    received = sum(len((frame.get("data") or "").encode()) for frame in stream.frames)
    assert line["bytes"] >= received, (line, received)
    assert line["duration_ms"] > 0
