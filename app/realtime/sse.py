"""Server-Sent Events wire format (HTML Living Standard, "Server-sent events", §9.2).

Frames are UTF-8 ``bytes``, encoded once by the hub and written as-is to every stream; each
ends with a blank line. Field values never contain newlines: JSON
from ``json.dumps`` escapes them, so one ``data:`` line per frame is enough.
"""

import json

# A comment for proxies and clients we did not write, and an event with data, because a
# page's EventSource never sees comments and its watchdog needs to see every byte arrive
# (docs/design.md §5a; an event with empty data is not dispatched: HTML, "Server-sent
# events", dispatch the event).
HEARTBEAT = b": heartbeat\nevent: heartbeat\ndata: {}\n\n"
HEADERS = {
    # no-store, like every dynamic response (app/headers.py): a stream carries orders and
    # names that no cache may keep.
    "Cache-Control": "no-store",
    # nginx would otherwise buffer the stream and deliver it in lumps.
    "X-Accel-Buffering": "no",
}


def encode(data, event: str | None = None, id: int | str | None = None) -> bytes:
    """One SSE frame. ``data`` is JSON-encoded unless it is already a ``str``."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = []
    if event:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    lines.append(f"data: {text}")
    return ("\n".join(lines) + "\n\n").encode()


def retry(milliseconds: int) -> bytes:
    """A ``retry:`` field: the reconnection delay the browser uses next, in milliseconds."""
    return f"retry: {int(milliseconds)}\n\n".encode()


def chunk(payload: bytes) -> bytes:
    """``payload`` framed as one HTTP/1.1 chunk (RFC 9112 §7.1), for direct socket writes."""
    return b"%X\r\n%s\r\n" % (len(payload), payload)
