"""Job-completion notices over Redis pub/sub, so a waiting API request costs a socket, not a thread.

The worker publishes on the channel of the API process that waits for the job, ``easydown:done:<owner>``
(parsing.owners; the task message carries it), a notice of the job's id and outcome. Each API process keeps
ONE subscription to its own channel (not a pattern: a process never reads another's notices) and hands
notices to the requests waiting on those jobs, so a waiting request costs a future, not a Redis
connection, a thread or a database connection. A lost notice (Redis restart) only adds latency: once a
second the listener asks the database, in ONE query on one pooled connection for all of the process's
waiters, which of their jobs are no longer open, and wakes those.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import redis
import redis.asyncio as aioredis
from django.conf import settings

from . import owners

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
_sync_client: redis.Redis | None = None


def channel(owner: str) -> str:
    return f"easydown:done:{owner}"


DONE = b"1"
UNAVAILABLE = b"503"  # the worker could not record the job's outcome: a dependency (the database) failed


def publish_done(job_id: str, outcome: bytes = DONE, *, owner: str = "",
                 first: Callable[[redis.client.Pipeline], None] | None = None) -> None:
    """Tell the API process ``owner`` that the job changed state (or, with UNAVAILABLE, that the worker could
    not record it); best effort (waiters also poll). ``first`` adds the caller's own commands to the same
    round trip, ahead of the notice (the worker's result cache entry). Without an owner (a task sent before
    owners were named) only ``first`` runs: its waiter finds the job by polling."""
    global _sync_client
    if not settings.REDIS_URL or not (owner or first):
        return
    try:
        if _sync_client is None:
            _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        notice = job_id.encode() + b" " + outcome
        if first is None:
            _sync_client.publish(channel(owner), notice)
            return
        pipe = _sync_client.pipeline(transaction=False)
        first(pipe)
        if owner:
            pipe.publish(channel(owner), notice)
        pipe.execute()
    except redis.RedisError:
        log.warning("could not publish completion of job %s", job_id, exc_info=True)


ClosedJobs = Callable[[list[str]], Awaitable[set[str]]]


class JobListener:
    """One pattern subscription per event loop, dispatching notices to registered futures, and one poller
    that wakes the waiters whose jobs closed without a notice."""

    def __init__(self, closed_jobs: ClosedJobs | None = None) -> None:
        self._waiters: dict[str, asyncio.Future[bytes | None]] = {}
        self._since: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closed_jobs = closed_jobs
        self._subscribed = asyncio.Event()

    async def register(self, job_id: str) -> asyncio.Future[bytes | None]:
        """A future that completes with the job's notice (DONE or UNAVAILABLE; None from the poll) when it
        arrives; register before enqueueing."""
        if self._task is None or self._task.done():
            self._subscribed.clear()
            self._task = asyncio.create_task(self._listen())
        if self._closed_jobs is not None and (self._poller is None or self._poller.done()):
            self._poller = asyncio.create_task(self._poll())
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._waiters[job_id] = future
        self._since[job_id] = time.monotonic()
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=2)
        except TimeoutError:
            log.warning("job listener not subscribed yet; falling back to polling")
        return future

    def unregister(self, job_id: str) -> None:
        self._waiters.pop(job_id, None)
        self._since.pop(job_id, None)

    async def _poll(self) -> None:
        """Once a second: one query for every waiter registered over a second ago."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            cutoff = time.monotonic() - POLL_SECONDS
            ids = [job_id for job_id, since in list(self._since.items()) if since <= cutoff]
            if not ids:
                continue
            try:
                closed = await self._closed_jobs(ids)  # type: ignore[misc]
            except Exception:  # noqa: BLE001 - the database may be down; waiters still time out
                log.warning("could not poll %d waiting jobs", len(ids), exc_info=True)
                continue
            for job_id in closed:
                future = self._waiters.get(job_id)
                if future is not None and not future.done():
                    future.set_result(None)

    async def _listen(self) -> None:
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(channel(owners.me()))
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    job_id, _, outcome = message["data"].partition(b" ")
                    future = self._waiters.get(job_id.decode())
                    if future is not None and not future.done():
                        future.set_result(outcome)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect; waiters poll in the meantime
                log.warning("job listener lost its Redis subscription; reconnecting", exc_info=True)
                self._subscribed.clear()
                await asyncio.sleep(0.5)
            finally:
                await client.aclose()


_listeners: dict[int, JobListener] = {}


def listener(closed_jobs: ClosedJobs | None = None) -> JobListener:
    """The listener of the running event loop (a Redis client must not cross loops); ``closed_jobs`` (given
    by the first caller) says which of a list of job ids are no longer open."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(id(loop))
    if found is None:
        found = _listeners[id(loop)] = JobListener(closed_jobs)
    return found
