"""Local origins on loopback that behave like a platform that hangs: one that never answers and one that
trickles its answer a byte at a time. Each records when its client went away."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Origin:
    """A listening socket on 127.0.0.1 served by a thread; ``url`` to reach it."""

    mode: str  # "silent": accepts and never answers; "drip": sends a header, then one byte a second
    sent: int = 0  # body bytes sent before the client went away (drip)
    closed: threading.Event = field(default_factory=threading.Event)  # the client closed or broke the connection
    _sock: socket.socket | None = None

    def start(self) -> Origin:
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._sock is not None
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/media"

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(120)
            try:
                conn.recv(65536)  # the request
                if self.mode == "drip":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 120\r\n\r\n")
                    for _ in range(120):
                        conn.sendall(b"x")
                        self.sent += 1
                        time.sleep(1)
                else:
                    while conn.recv(1):  # until the client closes (b"") or breaks the connection
                        pass
            except OSError:
                pass
            self.closed.set()
