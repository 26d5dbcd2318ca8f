"""A worker that shuts down ends its streams over ``SSE_SHUTDOWN_SPREAD_SECONDS``, in
slices, each stream with a jittered ``retry:`` (``app/realtime/shutdown.py``), so that
thousands of clients do not reconnect to its replacement in the same instant. The order of
events is checked here, never their timing (a real HUP: ``tests/test_draining.py``)."""

import random

from app import drain
from app.realtime import close_all_streams, shutdown
from tests.helpers import logged_in_client
from tests.test_stream import ADMIN_STREAM


class Recorder:
    """Stands in for streams and for ``sleep``: the order in which they were called."""

    def __init__(self):
        self.events: list = []

    def stream(self, name):
        recorder = self

        class Sub:
            def close(self):
                recorder.events.append(("close", name))

        return Sub()

    def sleep(self, seconds):
        self.events.append(("sleep", seconds))

    def slices(self) -> list[list]:
        out: list[list] = [[]]
        for kind, value in self.events:
            if kind == "sleep":
                out.append([])
            else:
                out[-1].append(value)
        return out


def test_streams_end_in_slices_with_a_pause_between_each():
    recorder = Recorder()
    subs = [recorder.stream(n) for n in range(100)]
    slices = shutdown.end_spread(subs, 1.0, recorder.sleep)
    assert slices == 1.0 / shutdown.STEP
    parts = recorder.slices()
    assert len(parts) == slices and all(parts), "no pause without streams ending after it"
    assert sorted(n for part in parts for n in part) == list(range(100)), "each ends once"
    pauses = [value for kind, value in recorder.events if kind == "sleep"]
    assert abs(sum(pauses) - 1.0 * (slices - 1) / slices) < 1e-9  # spread over the second
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1, "even slices"


def test_fewer_streams_than_slices_end_one_at_a_time():
    recorder = Recorder()
    shutdown.end_spread([recorder.stream(n) for n in range(3)], 5.0, recorder.sleep)
    assert [len(part) for part in recorder.slices()] == [1, 1, 1]


def test_no_spread_ends_every_stream_at_once():
    recorder = Recorder()
    shutdown.end_spread([recorder.stream(n) for n in range(5)], 0, recorder.sleep)
    assert not [e for e in recorder.events if e[0] == "sleep"]
    assert len(recorder.events) == 5


def test_the_closing_retry_is_jittered_above_the_configured_one(monkeypatch):
    monkeypatch.setattr(shutdown, "random", random.Random(7))
    values = [shutdown.jittered(2000) for _ in range(200)]
    assert all(2000 <= value <= 3000 for value in values)
    assert len(set(values)) > 50, "clients ended together do not come back together"


def test_a_draining_worker_ends_its_streams_slice_by_slice(make_app, open_stream):
    """Six dashboards over six slices: at every pause, the streams of the slices before it
    have ended and the others are still open; each ends with a jittered ``retry:``."""
    from tests.factories import seed_shop

    app = make_app(SSE_SHUTDOWN_SPREAD_SECONDS=6 * shutdown.STEP)
    shop = seed_shop(app)
    admin = logged_in_client(app, shop.admin.username)
    streams = [open_stream(admin, ADMIN_STREAM) for _ in range(6)]
    hub = app.extensions["realtime"]
    subs = hub.registry.all()
    open_at_each_pause = []

    def pause(_seconds):
        open_at_each_pause.append(sum(not sub.closed for sub in subs))

    try:
        assert close_all_streams(sleep=pause) == 6
    finally:
        drain.reset()
    assert open_at_each_pause == [5, 4, 3, 2, 1], "one more stream ended at each pause"
    retry = app.config["SSE_RETRY_MS"]
    for stream in streams:
        frames = stream.read_to_end(timeout=5)
        assert retry <= int(frames[-1]["retry"]) <= retry * 1.5
