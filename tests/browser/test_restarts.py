"""Chromium's own EventSource (not our page's retry logic) stays open across a worker
restart (HUP) and a server restart (SIGTERM + start), on the server directly and through
the shipped nginx: every answer it meets is 200 text/event-stream or a network error,
never a status that closes it for good (docs/design.md §5b, HTML spec "Server-sent
events")."""

import pytest

from tests.browser.conftest import ADMIN, TIMEOUT_MS, log_in

pytestmark = pytest.mark.browser

WATCH = """() => {
  const w = (window.watch = { opens: 0, messages: 0, closed: false, frames: [] });
  const es = new EventSource("/admin/orders/stream");
  es.onopen = () => { w.opens += 1; w.frames.push("open"); };
  es.onmessage = () => { w.messages += 1; w.frames.push("message"); };
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) w.closed = true; };
}"""
# A message after more opens than ``opens``: reconnected and receiving.
REOPENED = """(opens) => {
  let seen = 0;
  for (const f of window.watch.frames) {
    if (f === "open") seen += 1;
    else if (seen > opens) return true;
  }
  return false;
}"""


def test_a_plain_eventsource_survives_hup_and_term_direct_and_through_nginx(
    browser, live_server, new_context, nginx
):
    proxy = nginx(live_server.port)
    direct = new_context().new_page()
    via_context = browser.new_context(base_url=proxy.base)
    via_context.set_default_timeout(TIMEOUT_MS)
    log_in(via_context, *ADMIN)
    via = via_context.new_page()
    pages = [direct, via]
    try:
        for page in pages:
            page.goto("/healthz")  # the origin: cookies go with the stream
            page.evaluate(WATCH)
            page.wait_for_function(REOPENED, arg=0, timeout=15000)
        for restart in (live_server.recycle_workers, lambda: live_server.restart_with(lambda: 0)):
            before = [page.evaluate("window.watch.opens") for page in pages]
            restart()
            for page, opens in zip(pages, before, strict=True):
                page.wait_for_function(REOPENED, arg=opens, timeout=30000)
        for page in pages:
            assert page.evaluate("window.watch.closed") is False
    finally:
        via_context.close()
