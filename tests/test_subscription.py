"""``Subscription``, one stream's mailbox (direct mode had no direct
tests, so a gunicorn or gevent change could silently send every stream down the slow path).

Queue rules run in-process; direct mode runs in a gevent-patched interpreter over real
socket pairs (tests/subscription_scenarios.py), as in gunicorn's gevent worker. That direct
mode is what a real gunicorn server uses is checked in tests/test_direct_streams.py."""

import json
import subprocess
import sys

import pytest

from app.realtime.subscription import Subscription
from tests.servers import ROOT


def scenario(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.subscription_scenarios", name],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_direct_mode_sends_from_the_hub_without_a_switch():
    result = scenario("direct_send")
    assert result["arrived"] == result["expected"]  # one HTTP/1.1 chunk, as framed
    assert result["gauge_while_open"] == 1 and result["gauge_after"] == 0
    assert result["ended"]


def test_a_partial_send_becomes_a_backlog_and_order_is_kept():
    result = scenario("partial_send_keeps_order")
    assert result["backlog_after_partial_send"] and result["later_frames_queued"]
    assert result["in_order"], result
    assert result["back_to_direct"]


@pytest.mark.parametrize("name", ["dead_peer", "client_leaves_quietly", "stalled_client"])
def test_a_client_that_is_gone_or_stalled_ends_the_stream(name):
    result = scenario(name)
    assert result["dead"] and result["ended"]


# -- the queue (any server) ------------------------------------------------------------------


def sub(size: int = 3) -> Subscription:
    return Subscription(queue_size=size, deadline=float("inf"))


def test_events_beyond_the_queue_drop_the_oldest_first():
    mailbox = sub(3)
    mailbox.offer([b"e1", b"e2"])
    mailbox.offer([b"e3", b"e4", b"e5"])
    assert mailbox.take(0) == b"e3e4e5"


def test_the_newest_snapshot_replaces_an_unsent_one_and_follows_the_events():
    mailbox = sub()
    mailbox.offer([b"e1"], snapshot=b"s1")
    mailbox.offer([b"e2"], snapshot=b"s2")
    assert mailbox.take(0) == b"e1e2s2"
    assert mailbox.take(0) == b""  # nothing left, not closed


def test_the_first_frame_goes_ahead_of_what_queued_meanwhile():
    mailbox = sub()
    mailbox.offer([b"e1"], snapshot=b"s1")
    mailbox.offer_first(b"initial")
    assert mailbox.take(0) == b"initiale1s1"


def test_close_ends_after_what_is_queued():
    mailbox = sub()
    mailbox.offer([b"e1"])
    mailbox.close()
    assert mailbox.take(0) == b"e1"
    assert mailbox.take(0) is None
