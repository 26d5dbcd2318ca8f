"""The test infrastructure itself: ``wait_until`` (tests/helpers.py) and the gunicorn
harness's teardown (tests/harness.py)."""

import subprocess

import psutil
import pytest

from tests.harness import kill_group
from tests.helpers import wait_until


def test_wait_until_returns_the_predicates_value():
    values = iter([0, None, [], {"found": 1}])
    assert wait_until(lambda: next(values), timeout=5, every=0) == {"found": 1}


def test_wait_until_names_what_it_awaited_and_the_last_value():
    with pytest.raises(AssertionError, match=r"waited 0\.1 s for the answer; last: \[\]"):
        wait_until(lambda: [], timeout=0.1, what="the answer", every=0.01)
    state = {"seen": 3}
    with pytest.raises(AssertionError, match="5 orders; 3 seen"):
        wait_until(
            lambda: state["seen"] == 5,
            timeout=0.1,
            what=lambda: f"5 orders; {state['seen']} seen",
            every=0.01,
        )


def test_wait_until_names_the_predicates_source_by_default():
    with pytest.raises(AssertionError, match="lambda: 1 == 2"):
        wait_until(lambda: 1 == 2, timeout=0.05, every=0.01)


def test_wait_until_lets_the_predicates_error_through_at_once():
    def broken():
        raise RuntimeError("gunicorn exited")

    with pytest.raises(RuntimeError, match="gunicorn exited"):
        wait_until(broken, timeout=60)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_kill_group_ends_a_process_and_its_children_together():
    # A parent that ignores SIGTERM, with two children: only the group's SIGKILL ends them.
    script = "trap '' TERM; sleep 60 & sleep 60 & wait"
    parent = subprocess.Popen(["sh", "-c", script], process_group=0)
    children = wait_until(
        lambda: [p.pid for p in psutil.Process(parent.pid).children()] if
        len(psutil.Process(parent.pid).children()) == 2 else None,
        what="the two children",
    )  # fmt: skip
    kill_group(parent.pid, grace=0.1)
    assert parent.wait(10) == -9
    wait_until(lambda: all(gone(pid) for pid in children), what="the children gone")
