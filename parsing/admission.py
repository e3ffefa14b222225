"""Backpressure: refuse at once, with 503 and Retry-After, a parse that could not start in time.

The rule. A parse request is admitted unless the queue that serves its platform already holds more jobs
than its workers start within ``EASYDOWN_QUEUE_MAX_WAIT`` seconds (default: half the wait timeout, so a
job that starts late still has the other half for the platform). The estimate is Little's law on two
numbers every API process reads from the broker's Redis at most every ``REFRESH_SECONDS``:

- how many jobs wait in the queue (the length of Celery's list: with late acknowledgement and a prefetch
  of one per slot, a worker only takes as many messages as it has free slots, so the list is the backlog);
- how fast workers start jobs (a counter each worker increments when it claims a job, sampled over the
  last ``WINDOW_SECONDS``).

A queue holding at most ``EASYDOWN_QUEUE_GRACE`` jobs is always admitted (a burst that workers are about to
take), and so is every request while this process has not yet measured a rate (its first second): a
start-up burst is not refused on no information. Once measured, a rate of zero with jobs waiting (no worker
takes any) refuses with ``Retry-After: 5``. A refused request reserves nothing and costs nothing; its
``Retry-After`` is the estimated wait past the budget (at least 1 s, at most 30 s). If Redis cannot be read,
the request is admitted: enqueueing then decides (and answers 503 itself when the broker is down).

A queue that no live worker serves refuses at once (``Retry-After: 5``, reason ``no_worker``): every
worker process refreshes ``easydown:alive:<queue>`` every ``EASYDOWN_WORKER_HEARTBEAT`` seconds with a
time-to-live of three beats (a sorted set of the workers serving the queue), so a killed worker is noticed
within three beats, and a worker that stops says so as it stops.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

import redis
from django.conf import settings

from easydown import exceptions as api

log = logging.getLogger(__name__)
REFRESH_SECONDS = 0.25
WINDOW_SECONDS = 10.0
STARTED_KEY = "easydown:started:{queue}"
ALIVE_KEY = "easydown:alive:{queue}"


def queue_for(platform: str) -> str:
    """The Celery queue whose workers serve this platform: EASYDOWN_QUEUES routes platforms to queues (one
    place), so a slow or broken platform's backlog never holds up the others; unlisted ones use the default."""
    return settings.EASYDOWN_QUEUES.get(platform) or settings.CELERY_TASK_DEFAULT_QUEUE


_clients: dict[int, redis.Redis] = {}


def broker() -> redis.Redis:
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        client = _clients[pid] = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=0.5,
                                                      socket_connect_timeout=0.5)
    return client


FLUSH_SECONDS = 0.1
_starts: dict[str, int] = {}
_starts_lock = threading.Lock()
_flusher_pid = 0


def count_start(queue: str) -> None:
    """Called by the worker when it starts a job; best effort (a lost count only lowers the measured rate).

    Counted in the process and added to Redis every FLUSH_SECONDS by one thread (a round trip per tenth of a
    second instead of one per parse; the API reads the counter every REFRESH_SECONDS anyway)."""
    global _flusher_pid
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return
    with _starts_lock:
        _starts[queue] = _starts.get(queue, 0) + 1
        if _flusher_pid != os.getpid():  # one flusher per process (a forked child starts its own)
            _flusher_pid = os.getpid()
            threading.Thread(target=_flush_forever, name="easydown-start-counts", daemon=True).start()


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush_starts()


def flush_starts() -> None:
    """Add the starts counted since the last flush to the broker's counters (also at worker shutdown)."""
    with _starts_lock:
        counts = dict(_starts)
        _starts.clear()
    if not counts:
        return
    try:
        pipe = broker().pipeline(transaction=False)
        for queue, n in counts.items():
            pipe.incrby(STARTED_KEY.format(queue=queue), n)
        pipe.execute()
    except redis.RedisError:
        log.warning("could not count %d started jobs", sum(counts.values()), exc_info=True)


@dataclass
class Reading:
    queued: int
    rate: float | None  # jobs started per second, None until a window of samples exists
    served: bool = True  # a live worker consumes the queue


class QueueGauge:
    """The backlog and start rate of one queue, as this process last read them."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self._samples: deque[tuple[float, int]] = deque()
        self._reading: Reading | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def read(self) -> Reading:
        now = time.monotonic()
        with self._lock:
            if self._reading is not None and now - self._read_at < REFRESH_SECONDS:
                return self._reading
            self._read_at = now  # one reader refreshes; the others use the last reading meanwhile
            if self._reading is None:
                self._reading = Reading(0, None)
        pipe = broker().pipeline(transaction=False)
        pipe.llen(self.queue)
        pipe.get(STARTED_KEY.format(queue=self.queue))
        pipe.zcount(ALIVE_KEY.format(queue=self.queue), time.time(), "+inf")
        queued, started, alive = pipe.execute()
        with self._lock:
            # Only samples inside the window: after a quiet spell the rate is unknown (admit), not the
            # average over the whole gap.
            while self._samples and now - self._samples[0][0] > WINDOW_SECONDS:
                self._samples.popleft()
            self._samples.append((now, int(started or 0)))
            first_at, first = self._samples[0]
            span = now - first_at
            rate = (int(started or 0) - first) / span if span >= 1.0 else None
            self._reading = Reading(int(queued), rate, bool(alive))
            return self._reading


_gauges: dict[str, QueueGauge] = {}


def gauge(queue: str) -> QueueGauge:
    found = _gauges.get(queue)
    if found is None:
        found = _gauges.setdefault(queue, QueueGauge(queue))
    return found


def estimated_wait(reading: Reading) -> float:
    """Seconds until a job queued now would start (infinite when nothing is draining the queue)."""
    if reading.queued <= 0:
        return 0.0
    if not reading.rate or reading.rate <= 0:
        return math.inf
    return reading.queued / reading.rate


def admit(platform: str) -> None:
    """Raise 503 service_unavailable with Retry-After when the platform's queue cannot start a job in time."""
    queue = queue_for(platform)
    try:
        reading = gauge(queue).read()
    except redis.RedisError:
        log.warning("could not read the length of queue %s; admitting", queue, exc_info=True)
        return
    if not reading.served:
        raise api.ServiceUnavailable(f"No worker is serving {platform} parses right now; retry later",
                                     headers={"Retry-After": "5"}, extra={"reason": "no_worker"})
    if reading.queued <= settings.QUEUE_GRACE or reading.rate is None:
        return
    wait = estimated_wait(reading)
    budget = settings.QUEUE_MAX_WAIT
    if wait <= budget:
        return
    retry = 5 if math.isinf(wait) else min(30, max(1, math.ceil(wait - budget)))
    raise api.ServiceUnavailable(
        f"Too many {platform} parses are waiting; retry in {retry} s",
        headers={"Retry-After": str(retry)},
        extra={"reason": "overloaded"},
    )


# --- the workers' side ------------------------------------------------------------------------------


def beat(queues: list[str], worker: str) -> None:
    """Say that ``worker`` serves these queues, for three beats: each queue's live workers are a sorted set
    (member: the worker, score: when its word lapses), so one worker leaving says nothing about the others."""
    ttl = max(1.0, 3 * settings.WORKER_HEARTBEAT)
    now = time.time()
    pipe = broker().pipeline(transaction=False)
    for queue in queues:
        key = ALIVE_KEY.format(queue=queue)
        pipe.zadd(key, {worker: now + ttl})
        pipe.zremrangebyscore(key, "-inf", now - ttl)  # words of workers that died long ago
        pipe.expire(key, int(ttl) * 2 + 1)
    pipe.execute()


def leave(queues: list[str], worker: str) -> None:
    """A worker stopping says so at once, so its queues answer 503 no_worker now rather than in three beats
    (when it was the last one serving them)."""
    pipe = broker().pipeline(transaction=False)
    for queue in queues:
        pipe.zrem(ALIVE_KEY.format(queue=queue), worker)
    pipe.execute()


def start_heartbeat(queues: list[str], worker: str = "") -> threading.Thread:
    """Beat now (before the worker says it is ready), then every EASYDOWN_WORKER_HEARTBEAT seconds."""

    worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    def safe_beat() -> None:
        try:
            beat(queues, worker)
        except Exception:  # noqa: BLE001 - a missed beat must never stop the next ones
            log.warning("worker heartbeat failed", exc_info=True)

    def loop() -> None:
        while True:
            time.sleep(settings.WORKER_HEARTBEAT)
            safe_beat()

    safe_beat()

    thread = threading.Thread(target=loop, name="easydown-heartbeat", daemon=True)
    thread.start()
    return thread


def live_queues(queues: list[str]) -> dict[str, bool]:
    """Which of these queues a live worker serves (for /readyz)."""
    pipe = broker().pipeline(transaction=False)
    now = time.time()
    for queue in queues:
        pipe.zcount(ALIVE_KEY.format(queue=queue), now, "+inf")
    return {queue: bool(alive) for queue, alive in zip(queues, pipe.execute(), strict=True)}
