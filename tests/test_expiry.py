"""Housekeeping's walk (``app/realtime/expiry.py``): a pass looks at one slice of the open
streams, a round of passes at all of them."""

from types import SimpleNamespace

from app.realtime import expiry


def stream(deadline: float, dead: bool = False):
    sub = SimpleNamespace(deadline=deadline, dead=dead, closed=False, dropped=False)
    sub.close = lambda: setattr(sub, "closed", True)
    sub.stalled = lambda now, timeout: False
    return sub


def test_a_round_of_passes_ends_every_stream_due_and_no_other(monkeypatch):
    monkeypatch.setattr(expiry, "SLICE", 3)
    due = [stream(5.0) for _ in range(4)] + [stream(99.0, dead=True)]
    live = [stream(99.0) for _ in range(3)]
    walk = expiry.ExpiryWalk(lambda: due + live, write_timeout=30)
    walk.step(now=10.0)
    assert sum(s.closed for s in due) == 3, "one pass looks at one slice"
    walk.step(now=10.0)
    walk.step(now=10.0)
    assert all(s.closed for s in due) and not any(s.closed for s in live)


def test_a_stalled_stream_is_reset():
    stalled = stream(99.0)
    stalled.stalled = lambda now, timeout: now > timeout
    stalled.drop = lambda: setattr(stalled, "dropped", True)
    walk = expiry.ExpiryWalk(lambda: [stalled], write_timeout=30)
    walk.step(now=31.0)
    assert stalled.dropped and not stalled.closed


def test_streams_opened_during_a_round_are_walked_in_the_next(monkeypatch):
    monkeypatch.setattr(expiry, "SLICE", 2)
    first = [stream(99.0) for _ in range(4)]
    late = stream(5.0)
    streams = list(first)
    walk = expiry.ExpiryWalk(lambda: list(streams), write_timeout=30)
    walk.step(now=10.0)
    streams.append(late)
    walk.step(now=10.0)
    assert not late.closed, "the round it missed is over"
    for _ in range(3):  # the next round: 5 streams, 2 a pass
        walk.step(now=10.0)
    assert late.closed
