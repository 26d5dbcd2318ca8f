"""Server-Sent Events frames as a client we did not write reads them.

The tests check the app's streams with httpx-sse (``requirements-dev.txt``), never with the
app's own code: a parser from the family that writes the stream would share its mistakes.
``FrameDecoder`` is fed the stream's bytes as they arrive, in any cut (mid-line, mid-frame,
several frames at once), and returns the frames each piece completes as dicts:

    {"event": str, "data": str | None, "id": str, "retry": str, "comment": str}

``event`` ("message" by default) and ``data`` (``None`` when the frame has none) always;
``id`` (the last event ID so far, as ``EventSource.lastEventId`` has it: a frame without
``id:`` carries the previous one), ``retry`` (milliseconds, as text) and ``comment`` only
when present. Everything but ``comment`` is what httpx-sse decoded. A client never sees
comment lines (HTML, "Server-sent events": a line starting with a colon is ignored), yet
proxies do and some tests wait for ``: heartbeat``; so comments are read off the raw lines
(the last one of a frame), and a frame of comments alone, which the library does not
dispatch, is still returned.
"""

import queue
import threading

import httpx
from httpx_sse import EventSource

# A piece is decoded in well under a millisecond; this bounds a decoder that went wrong.
STUCK_AFTER = 30.0
_DONE = object()  # the decoder's answer: all it was fed so far is decoded


class FrameDecoder:
    """Decodes one event stream: ``feed(chunk)`` for each piece of the body, ``end()`` at
    its end (or when the reader gives up on it: that ends the decoder's thread).

    httpx-sse pulls the body from an iterator until the body ends, so it runs in a thread
    of its own that waits for the pieces; each ``feed`` waits until that piece is decoded,
    so the caller keeps its own reading loop and deadlines, and gets every frame the piece
    completes. Any thread may feed or end it (a reader thread, a test closing the stream).
    """

    def __init__(self):
        self._pieces: queue.SimpleQueue = queue.SimpleQueue()
        self._decoded: queue.SimpleQueue = queue.SimpleQueue()
        self._comment: str | None = None
        self._dispatched = False
        self._ended = False
        self._turn = threading.Lock()  # one piece at a time, the end after it
        threading.Thread(target=self._decode, name="sse-decoder", daemon=True).start()

    def feed(self, chunk: bytes | str) -> list[dict]:
        """The frames that ``chunk`` completes, in the order they came."""
        with self._turn:
            if self._ended:
                raise ValueError("the stream has ended")
            self._pieces.put(chunk.encode() if isinstance(chunk, str) else chunk)
            return self._collect()

    def end(self) -> list[dict]:
        """The body ended: frames completed at the end (an unfinished frame is dropped, as
        a client drops it). Later calls return nothing."""
        with self._turn:
            if self._ended:
                return []
            self._ended = True
            self._pieces.put(None)
            return self._collect()

    def _collect(self) -> list[dict]:
        frames = []
        while True:
            try:
                item = self._decoded.get(timeout=STUCK_AFTER)
            except queue.Empty:
                stuck = f"the SSE decoder answered nothing in {STUCK_AFTER:g} s"
                raise AssertionError(stuck) from None
            if item is _DONE:
                return frames
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            frames.append(item)

    def _decode(self) -> None:
        try:
            body = httpx.Response(
                200, headers={"Content-Type": "text/event-stream"}, content=self._lines()
            )
            for event in EventSource(body).iter_sse():
                self._dispatched = True
                frame = {"event": event.event, "data": event.data or None}
                if event.id:
                    frame["id"] = event.id
                if event.retry is not None:
                    frame["retry"] = str(event.retry)
                if self._comment is not None:
                    frame["comment"] = self._comment
                self._decoded.put(frame)
        except BaseException as exc:  # handed to the reader, whose feed raises it
            self._decoded.put(exc)
        finally:
            self._decoded.put(_DONE)

    def _lines(self):
        """The body for httpx, one line at a time: when the library asks for the line after
        a blank one, it has dispatched that frame's event if there was one."""
        partial = b""
        while (chunk := self._pieces.get()) is not None:
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                if line.startswith(b":"):
                    self._comment = line[1:].removeprefix(b" ").rstrip(b"\r").decode()
                yield line + b"\n"
                if not line.rstrip(b"\r"):
                    if self._comment is not None and not self._dispatched:
                        comment = {"event": "message", "data": None, "comment": self._comment}
                        self._decoded.put(comment)
                    self._comment, self._dispatched = None, False
            self._decoded.put(_DONE)
        if partial:
            yield partial
