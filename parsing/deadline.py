"""A deadline for one parse, enforced on every connection the parse opens.

The worker runs many parses as threads of one process (see ``deploy/run-worker.sh``), and Celery's time
limits do not apply to its threads pool. So a parse carries its own deadline:

- every outbound request clips its connect and read timeouts (and curl's total timeout) to what is left;
- every socket a parse opens is registered here, and one watchdog thread per process shuts the sockets
  of an overdue parse down, so a platform that trickles a byte every few seconds (which no per-read
  timeout catches) cannot hold a slot past the deadline: the blocked read returns at once;
- a parse whose deadline passed is a timeout, whatever its extractor made of the broken connection.

Usage, in the thread that runs the parse::

    with Deadline(seconds) as deadline:
        ...
    if deadline.expired: ...

Code that opens connections calls ``clip(timeout)`` and ``track(sock)``; both do nothing outside a
deadline (the API process, tests of single extractors).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from contextvars import ContextVar

from .extractors.base import UpstreamTimeout


class DeadlineExceeded(UpstreamTimeout, TimeoutError):
    """The parse ran out of time. Also a TimeoutError, so library code that handles socket timeouts
    (yt-dlp's networking) treats it as one."""

    def __init__(self, message: str = "the parse ran out of time") -> None:
        super().__init__(message)


_current: ContextVar[Deadline | None] = ContextVar("easydown_deadline", default=None)


class Deadline:
    """The moment one parse must be over by (``time.monotonic()`` seconds) and the sockets it holds."""

    def __init__(self, seconds: float) -> None:
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._token = None

    def __enter__(self) -> Deadline:
        self._token = _current.set(self)
        _watchdog().watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, set()
            if time.monotonic() >= self.expires_at:
                self.expired = True
        for sock in sockets:
            sock.close()

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def track(self, sock: socket.socket) -> None:
        """Keep a duplicate of the socket's descriptor: TLS wrapping detaches the original object, but a
        shutdown through any descriptor of a connection ends the connection itself."""
        with self._lock:
            if not self.expired and not self._closed:
                self._sockets.add(sock.dup())
                return
        _shut(sock)
        raise DeadlineExceeded()

    def expire(self) -> None:
        """Called by the watchdog: mark the parse overdue and break every connection it holds."""
        with self._lock:
            if self._closed:  # the parse ended in time; its outcome stands
                return
            self.expired = True
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _shut(sock)
            sock.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv/send on it; close stays its owner's
    except OSError:
        pass


def current() -> Deadline | None:
    return _current.get()


def clip(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the current parse; raises UpstreamTimeout when nothing is."""
    deadline = _current.get()
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0 or deadline.expired:
        raise DeadlineExceeded()
    return left if timeout is None else min(timeout, left)


def track(sock: socket.socket) -> None:
    """Register a socket the current parse opened (no-op outside a parse)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.track(sock)


class _Watchdog:
    """One thread per process that expires deadlines in order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="easydown-deadline-watchdog", daemon=True)
        self._thread.start()

    def watch(self, deadline: Deadline) -> None:
        with self._wake:
            heapq.heappush(self._heap, (deadline.expires_at, next(self._counter), deadline))
            if self._heap[0][2] is deadline:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, deadline = heapq.heappop(self._heap)
            deadline.expire()


_dog: _Watchdog | None = None
_dog_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    global _dog
    if _dog is None or not _dog._thread.is_alive():  # a forked child has the object but not the thread
        with _dog_lock:
            if _dog is None or not _dog._thread.is_alive():
                _dog = _Watchdog()
    return _dog
