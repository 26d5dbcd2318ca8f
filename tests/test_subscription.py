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

SCENARIOS = [
    "direct_send",
    "partial_send_keeps_order",
    "dead_peer",
    "client_leaves_quietly",
    "stalled_client",
    "write_timeout_then_read",
    "backlog_overflow",
    "hand_over_sends_then_ends_with_the_last_chunk",
    "hand_over_client_leaves",
    "hand_over_backlog_in_order",
    "hand_over_stalled_is_dropped_with_a_reset",
]


@pytest.fixture(scope="module")
def results() -> dict:
    """``{scenario name: what it printed}``: one gevent-patched interpreter for them all,
    each scenario in a child of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.subscription_scenarios", *SCENARIOS],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


@pytest.fixture
def scenario(results):
    """``scenario(name)`` → that scenario's result (a failure inside it fails the test)."""

    def result_of(name: str) -> dict:
        result = results[name]
        assert "error" not in result, result["error"]
        return result

    return result_of


def test_direct_mode_sends_from_the_hub_without_a_switch(scenario):
    result = scenario("direct_send")
    assert result["arrived"] == result["expected"]  # one HTTP/1.1 chunk, as framed
    assert result["gauge_while_open"] == 1 and result["gauge_after"] == 0
    assert result["ended"]


def test_a_partial_send_becomes_a_backlog_and_order_is_kept(scenario):
    result = scenario("partial_send_keeps_order")
    assert result["backlog_after_partial_send"] and result["later_frames_queued"]
    assert result["in_order"], result
    assert result["back_to_direct"]


@pytest.mark.parametrize("name", ["dead_peer", "client_leaves_quietly", "stalled_client"])
def test_a_client_that_is_gone_or_stalled_ends_the_stream(scenario, name):
    result = scenario(name)
    assert result["dead"] and result["ended"]


def test_a_write_timeout_resets_the_connection_and_never_completes_a_half_chunk(scenario):
    """A client that stops reading mid-chunk and later reads again finds the chunk cut off
    and the connection reset: no terminating chunk after it, nothing more on it."""
    result = scenario("write_timeout_then_read")
    assert result["dead"] and result["ended"]
    assert result["reset_or_eof"], result
    assert not result["terminating_chunk"], result
    assert result["partial_chunk"], result  # the cut was mid-chunk: what the test is about


def test_a_backlogged_direct_stream_that_overflows_ends_after_what_it_queued(scenario):
    """Direct mode: frames queue behind an unsent backlog; past the queue the stream ends,
    and the client still reads every frame it had, whole and in order."""
    result = scenario("backlog_overflow")
    assert result["overflowed"] and result["ended"] and not result["dead"]
    assert result["in_order"], result


def test_a_handed_over_stream_writes_on_its_own_descriptor_and_ends_with_the_last_chunk(scenario):
    result = scenario("hand_over_sends_then_ends_with_the_last_chunk")
    assert result["received"] == result["expected"]
    assert result["ended"] == ["ended"]  # the hub forgets it once, after the close
    assert result["gauge_while_open"] == 1 and result["gauge_after"] == 0


def test_a_handed_over_stream_notices_its_client_leaving(scenario):
    result = scenario("hand_over_client_leaves")
    assert result["dead"] and result["ended"] == ["ended"]


def test_a_handed_over_backlog_goes_out_in_order_from_the_event_loop(scenario):
    result = scenario("hand_over_backlog_in_order")
    assert result["backlog"] and result["in_order"]


def test_a_stalled_handed_over_stream_is_dropped_with_a_reset(scenario):
    result = scenario("hand_over_stalled_is_dropped_with_a_reset")
    assert not result["stalled_now"] and result["stalled_later"]
    assert result["dead"] and result["ended"] == ["ended"]
    assert result["reset_or_eof"] and not result["terminating_chunk"]


# -- the queue (any server) ------------------------------------------------------------------


def sub(size: int = 3) -> Subscription:
    return Subscription(queue_size=size, deadline=float("inf"))


def test_a_stream_that_falls_behind_its_queue_ends_with_everything_it_had():
    """Nothing is dropped to make room (docs/design.md §5b): the stream keeps what it
    queued, takes nothing more (this tick's snapshot neither: its ``id:`` would pass the
    events left out), and ends, so its client resumes from the last version it got whole."""
    mailbox = sub(3)
    mailbox.offer([b"e1", b"e2"], snapshot=b"s1")
    mailbox.offer([b"e3", b"e4"], snapshot=b"s2")
    assert mailbox.overflowed and mailbox.closed
    mailbox.offer([b"e5"], snapshot=b"s3")  # later ticks: nothing either
    assert mailbox.take(0) == b"e1e2s1"
    assert mailbox.take(0) is None  # ended: the stream writes retry: and closes


def test_a_queue_exactly_full_still_takes_snapshots_and_presence():
    mailbox = sub(3)
    mailbox.offer([b"e1", b"e2"])
    mailbox.offer([b"e3"], snapshot=b"s1", presence=b"p1")
    mailbox.offer((), snapshot=b"s2")
    assert not mailbox.overflowed
    assert mailbox.take(0) == b"e1e2e3p1s2"


def test_an_empty_queue_takes_a_whole_tick_however_large():
    """A bulk action's tick may carry more events than the queue holds: a stream that is
    keeping up gets them all, not an overflow."""
    mailbox = sub(3)
    events = [b"e%d" % i for i in range(10)]
    mailbox.offer(events, snapshot=b"s1")
    assert not mailbox.overflowed
    assert mailbox.take(0) == b"".join(events) + b"s1"
    mailbox.offer([b"e10"])
    assert mailbox.take(0) == b"e10"


def test_after_an_overflow_the_stream_counts_it_and_takes_no_first_frame_either():
    from app.metrics import STREAM_OVERFLOWS

    before = STREAM_OVERFLOWS._value.get()
    mailbox = sub(1)
    mailbox.offer([b"e1"])
    mailbox.offer([b"e2"])
    assert STREAM_OVERFLOWS._value.get() == before + 1
    mailbox.offer([b"e3"])  # already ended: not counted twice
    assert STREAM_OVERFLOWS._value.get() == before + 1


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
