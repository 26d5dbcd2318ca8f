"""The hub's adaptive coalescing (``app.realtime.hub.coalescing_gap``): a change that finds
the loop idle goes out at once; under a steady stream of changes the loop waits as long as
its last tick took (so it ticks at most half its time), never longer than
``HUB_COALESCE_SECONDS``."""

import pytest

from app.realtime.hub import BUSY_SHARE, coalescing_gap


def test_a_cheap_tick_leaves_next_to_no_gap():
    assert coalescing_gap(0.002, 0.25) == pytest.approx(0.002 * (1 / BUSY_SHARE - 1))


def test_a_costly_tick_makes_the_next_one_wait_as_long_as_it_took():
    assert BUSY_SHARE == 0.5
    assert coalescing_gap(0.12, 0.25) == pytest.approx(0.12)


def test_the_gap_never_exceeds_the_configured_window():
    assert coalescing_gap(3.0, 0.25) == 0.25
    assert coalescing_gap(3.0, 0.0) == 0.0  # HUB_COALESCE_SECONDS=0: every change at once


def test_a_clock_step_backwards_is_no_negative_gap():
    assert coalescing_gap(-1.0, 0.25) == 0.0
