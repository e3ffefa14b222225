"""Job-completion notices over Redis pub/sub, so a waiting API request costs a socket, not a thread.

The worker publishes on ``easydown:job:<id>``. Each API process keeps ONE pattern subscription and
hands notices to the requests waiting on those jobs, so a waiting request costs a future, not a Redis
connection. Requests also poll the job row once a second, so a lost notice (Redis restart) only adds
latency, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)
PATTERN = "easydown:job:*"
_sync_client: redis.Redis | None = None


def channel(job_id: str) -> str:
    return f"easydown:job:{job_id}"


def publish_done(job_id: str) -> None:
    """Tell any waiting API process that the job changed state; best effort (waiters also poll)."""
    global _sync_client
    if not settings.REDIS_URL:
        return
    try:
        if _sync_client is None:
            _sync_client = redis.Redis.from_url(settings.REDIS_URL)
        _sync_client.publish(channel(job_id), b"1")
    except redis.RedisError:
        log.warning("could not publish completion of job %s", job_id, exc_info=True)


class JobListener:
    """One pattern subscription per event loop, dispatching notices to registered futures."""

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def register(self, job_id: str) -> asyncio.Future[None]:
        """A future that completes when the job's notice arrives; register before enqueueing."""
        if self._task is None or self._task.done():
            self._subscribed.clear()
            self._task = asyncio.create_task(self._listen())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[job_id] = future
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=2)
        except TimeoutError:
            log.warning("job listener not subscribed yet; falling back to polling")
        return future

    def unregister(self, job_id: str) -> None:
        self._waiters.pop(job_id, None)

    async def _listen(self) -> None:
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            try:
                pubsub = client.pubsub()
                await pubsub.psubscribe(PATTERN)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    future = self._waiters.get(message["channel"].decode().rsplit(":", 1)[-1])
                    if future is not None and not future.done():
                        future.set_result(None)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect; waiters poll in the meantime
                log.warning("job listener lost its Redis subscription; reconnecting", exc_info=True)
                self._subscribed.clear()
                await asyncio.sleep(0.5)
            finally:
                await client.aclose()


_listeners: dict[int, JobListener] = {}


def listener() -> JobListener:
    """The listener of the running event loop (a Redis client must not cross loops)."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(id(loop))
    if found is None:
        found = _listeners[id(loop)] = JobListener()
    return found
