"""A TCP forwarder whose server-to-client direction is a slow link: what a client on a poor
connection (or one that reads slowly) looks like to the server. Loopback only.

The upstream socket's receive buffer is small, so the server's own send buffer fills within
a second and its write path meets a client that cannot keep up, as in production; the rate
can be raised later (``full_speed``), as a client that catches up after a slow spell."""

import contextlib
import socket
import threading
import time

RECEIVE_BUFFER = 2048  # bytes: the link's window (Linux doubles it)


class SlowLink:
    def __init__(self, target_port: int, rate: int = 2048, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.rate: int | None = rate  # bytes per second towards the client; None: no limit
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def full_speed(self) -> None:
        self.rate = None

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket()
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            self.connections += 1
            threading.Thread(
                target=self._pump, args=(client, upstream, False), daemon=True
            ).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        with contextlib.suppress(OSError):
            while True:
                rate = self.rate if slow else None
                if rate:
                    step = time.monotonic()
                    data = source.recv(max(1, rate // 10))
                    # Pacing the simulated link (a tenth of a second's worth per step).
                    time.sleep(max(0.0, 0.1 - (time.monotonic() - step)))
                else:
                    data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        # Whatever ended one side (EOF, a reset) ends the other: the client sees the server's
        # end of the connection as it happened.
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
