"""Direct-mode scenarios for ``Subscription``, run in a gevent-patched interpreter as in
gunicorn's gevent worker: ``python -m tests.subscription_scenarios NAME...`` prints one
JSON object, ``{name: result}``. Each scenario runs in a child forked from this process
(the imports, a CPU-second, are paid once; nothing a scenario leaves behind, a greenlet or
the streams gauge, reaches the next). tests/test_subscription.py runs them all once and
checks what each printed.

Each scenario puts a real socket pair between the "server" (the subscription in direct
mode, its greenlet in ``run_direct``) and the "client" (the other end)."""

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import gevent  # noqa: E402

from app.metrics import DIRECT_STREAMS  # noqa: E402
from app.realtime import sse  # noqa: E402
from app.realtime.subscription import Subscription  # noqa: E402

DEADLINE = 10.0  # seconds: generous bound for any wait below, never a measured figure


def start(write_timeout: float = DEADLINE, sndbuf: int | None = None):
    """``(sub, server_sock, client_sock, greenlet)`` with the subscription in direct mode."""
    server, client = socket.socketpair()
    if sndbuf is not None:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    sub = Subscription(queue_size=8, deadline=float("inf"))
    runner = gevent.spawn(sub.run_direct, server, write_timeout)
    with gevent.Timeout(DEADLINE):
        while not sub.direct:
            gevent.sleep(0)
    return sub, server, client, runner


def frame(i: int, size: int = 40) -> bytes:
    return sse.encode({"n": i, "pad": "x" * size}, id=i)


def read_chunks(client, want: int) -> bytes:
    """Read and de-chunk until ``want`` payload bytes arrived (HTTP/1.1 chunked framing)."""
    raw, payload = b"", b""
    with gevent.Timeout(DEADLINE):
        while len(payload) < want:
            raw += client.recv(1 << 20)
            while True:
                head, sep, rest = raw.partition(b"\r\n")
                if not sep:
                    break
                size = int(head, 16)
                if len(rest) < size + 2:
                    break
                payload += rest[:size]
                assert rest[size : size + 2] == b"\r\n", "broken chunk framing"
                raw = rest[size + 2 :]
    return payload


def direct_send() -> dict:
    """The hub's offer() writes the chunk itself: the client can read it before any other
    greenlet (the stream's own included) has run."""
    sub, _, client, runner = start()
    data = frame(1)
    sub.offer([data], chunk=sse.chunk(data))
    arrived = client._sock.recv(65536, socket.MSG_DONTWAIT)  # no switch since offer()
    gauge = DIRECT_STREAMS._value.get()
    sub.close()
    runner.join(DEADLINE)
    return {
        "arrived": arrived.decode(),
        "expected": sse.chunk(data).decode(),
        "gauge_while_open": gauge,
        "gauge_after": DIRECT_STREAMS._value.get(),
        "ended": runner.dead,
    }


def partial_send_keeps_order() -> dict:
    """A chunk larger than the socket takes leaves a backlog; frames offered meanwhile queue
    behind it; the client gets everything once, in order, with valid chunk framing."""
    sub, _, client, runner = start(sndbuf=4096)
    big = frame(1, size=400_000)
    sub.offer([big], chunk=sse.chunk(big))
    backlog = sub._backlog is not None
    later = [frame(i) for i in range(2, 6)]
    for item in later:
        sub.offer([item], snapshot=None, chunk=sse.chunk(item))
    queued_not_sent = sub._events is not None and len(sub._events) == len(later)
    expected = big + b"".join(later)
    received = read_chunks(client, len(expected))
    sub.close()
    runner.join(DEADLINE)
    return {
        "backlog_after_partial_send": backlog,
        "later_frames_queued": queued_not_sent,
        "in_order": received == expected,
        "received": len(received),
        "expected": len(expected),
        "back_to_direct": sub._backlog is None,
    }


def dead_peer() -> dict:
    """The client closes: writes fail, the stream is marked dead and its greenlet ends."""
    sub, _, client, runner = start()
    client.close()
    data = frame(1)
    with gevent.Timeout(DEADLINE, False):
        while not sub.dead:
            sub.offer([data], chunk=sse.chunk(data))
            gevent.sleep(0.01)
    runner.join(DEADLINE)
    return {"dead": sub.dead, "ended": runner.dead, "gauge_after": DIRECT_STREAMS._value.get()}


def client_leaves_quietly() -> dict:
    """The client closes while nothing is being written: the socket turning readable (EOF)
    ends the stream at once, without waiting for a write to fail."""
    sub, _, client, runner = start()
    client.close()
    runner.join(DEADLINE)
    return {"dead": sub.dead, "ended": runner.dead}


def stalled_client() -> dict:
    """A client that never reads: once the backlog waits past the write timeout, dropped."""
    sub, _, _client, runner = start(write_timeout=0.3, sndbuf=4096)
    big = frame(1, size=400_000)
    sub.offer([big], chunk=sse.chunk(big))
    runner.join(DEADLINE)
    return {"dead": sub.dead, "ended": runner.dead}


def write_timeout_then_read() -> dict:
    """A client stops reading in the middle of a chunk; after the write timeout it reads
    everything there is: part of the chunk, then a reset or EOF, never the terminating
    chunk that a server's normal end of response would write."""
    sub, server, client, runner = start(write_timeout=0.3, sndbuf=4096)
    big = frame(1, size=400_000)
    sub.offer([big], chunk=sse.chunk(big))
    runner.join(DEADLINE)
    # What gunicorn does once the app's iterator ends: the terminating chunk, then close.
    with contextlib.suppress(OSError):
        server.sendall(b"0\r\n\r\n")
    server.close()
    received, reset_or_eof = b"", False
    with gevent.Timeout(DEADLINE, False):
        while True:
            try:
                data = client.recv(1 << 20)
            except ConnectionResetError:
                reset_or_eof = True
                break
            if not data:
                reset_or_eof = True
                break
            received += data
    size_line, _, body = received.partition(b"\r\n")
    return {
        "dead": sub.dead,
        "ended": runner.dead,
        "reset_or_eof": reset_or_eof,
        "terminating_chunk": received.endswith(b"0\r\n\r\n"),
        "partial_chunk": bool(size_line) and len(body) < int(size_line, 16) + 2,
        "received": len(received),
    }


def backlog_overflow() -> dict:
    """A big chunk leaves a backlog; more frames than the queue holds arrive meanwhile: the
    stream ends once the client has read what was queued before the overflow."""
    sub, _, client, runner = start(sndbuf=4096)
    big = frame(1, size=200_000)
    sub.offer([big], chunk=sse.chunk(big))
    later = [frame(i) for i in range(2, 20)]  # the queue holds 8
    for item in later:
        sub.offer([item], chunk=sse.chunk(item))
    expected = big + b"".join(later[:8])
    received = read_chunks(client, len(expected))
    runner.join(DEADLINE)
    return {
        "overflowed": sub.overflowed,
        "dead": sub.dead,
        "ended": runner.dead,
        "in_order": received == expected,
    }


def handed_over() -> tuple:
    """``(sub, server, client, ended)``: the subscription took the connection over and the
    server closed its own descriptor, as gunicorn does after the hand-over."""
    server, client = socket.socketpair()
    sub = Subscription(queue_size=8, deadline=float("inf"))
    ended: list[str] = []
    farewell = sse.chunk(sse.retry(100)) + b"0\r\n\r\n"
    assert sub.hand_over(server, lambda: farewell, lambda: ended.append("ended"))
    server.close()
    return sub, server, client, ended


def hand_over_sends_then_ends_with_the_last_chunk() -> dict:
    """After the hand-over the hub's offer() writes on the stream's own descriptor; close()
    writes the ``retry:`` and the terminating chunk, then closes the connection."""
    sub, _, client, ended = handed_over()
    gauge = DIRECT_STREAMS._value.get()
    data = frame(1)
    sub.offer([data], chunk=sse.chunk(data))
    sub.close()
    received = b""
    with gevent.Timeout(DEADLINE):
        while chunk := client.recv(65536):
            received += chunk
    return {
        "received": received.decode(),
        "expected": (sse.chunk(data) + sse.chunk(sse.retry(100)) + b"0\r\n\r\n").decode(),
        "ended": ended,
        "gauge_while_open": gauge,
        "gauge_after": DIRECT_STREAMS._value.get(),
    }


def hand_over_client_leaves() -> dict:
    """The client closes: the read watcher notices in the event loop, no write needed."""
    sub, _, client, ended = handed_over()
    client.close()
    with gevent.Timeout(DEADLINE, False):
        while not ended:
            gevent.sleep(0.01)
    return {"dead": sub.dead, "ended": ended}


def hand_over_backlog_in_order() -> dict:
    """A chunk the socket cannot take at once goes out from the event loop's write watcher,
    frames offered meanwhile after it; everything arrives once, in order."""
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub = Subscription(queue_size=8, deadline=float("inf"))
    assert sub.hand_over(server, lambda: b"", lambda: None)
    server.close()
    big = frame(1, size=300_000)
    sub.offer([big], chunk=sse.chunk(big))
    backlog = sub._backlog is not None
    later = [frame(i) for i in range(2, 6)]
    for item in later:
        sub.offer([item], chunk=sse.chunk(item))
    expected = big + b"".join(later)
    received = read_chunks(client, len(expected))
    return {"backlog": backlog, "in_order": received == expected}


def hand_over_stalled_is_dropped_with_a_reset() -> dict:
    """A client that stops reading mid-chunk: past the write timeout the hub's housekeeping
    drops the stream (``stalled``, ``drop``); the client then finds a reset or EOF after
    part of the chunk, never a terminating chunk."""
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub = Subscription(queue_size=8, deadline=float("inf"))
    ended: list[str] = []
    farewell = sse.chunk(sse.retry(100)) + b"0\r\n\r\n"
    assert sub.hand_over(server, lambda: farewell, lambda: ended.append("ended"))
    server.close()
    big = frame(1, size=300_000)
    sub.offer([big], chunk=sse.chunk(big))
    sub.close()  # its farewell waits behind the backlog
    stalled_now = sub.stalled(time.monotonic(), 30.0)
    stalled_later = sub.stalled(time.monotonic() + 31.0, 30.0)
    sub.drop()
    received, reset_or_eof = b"", False
    with gevent.Timeout(DEADLINE, False):
        while True:
            try:
                data = client.recv(1 << 20)
            except ConnectionResetError:
                reset_or_eof = True
                break
            if not data:
                reset_or_eof = True
                break
            received += data
    return {
        "stalled_now": stalled_now,
        "stalled_later": stalled_later,
        "dead": sub.dead,
        "ended": ended,
        "reset_or_eof": reset_or_eof,
        "terminating_chunk": received.endswith(b"0\r\n\r\n"),
    }


def in_child(name: str) -> dict:
    """Run scenario ``name`` in a forked child: its result, or ``{"error": traceback}``.
    The child writes its JSON to a file, read once it has exited (no pipe to drain)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        pid = os.fork()
        if pid == 0:  # the child: one scenario, its JSON in the file, then exit
            try:
                out, status = json.dumps(globals()[name]()), 0
            except BaseException:
                out, status = json.dumps({"error": traceback.format_exc()}), 1
            with open(path, "w") as file:
                file.write(out)
            os._exit(status)
        os.waitpid(pid, 0)
        if not os.path.exists(path):
            return {"error": f"{name} ended without a result"}
        with open(path) as file:
            return json.load(file)


if __name__ == "__main__":
    print(json.dumps({name: in_child(name) for name in sys.argv[1:]}))
