"""Job-completion notices over Redis pub/sub, so a waiting API request costs a socket, not a thread."""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)
_sync_client: redis.Redis | None = None
_async_clients: dict[int, aioredis.Redis] = {}


def channel(job_id: str) -> str:
    return f"easydown:job:{job_id}"


def publish_done(job_id: str) -> None:
    """Tell any waiting API process that the job changed state; best effort (it also polls)."""
    global _sync_client
    if not settings.REDIS_URL:
        return
    try:
        if _sync_client is None:
            _sync_client = redis.Redis.from_url(settings.REDIS_URL)
        _sync_client.publish(channel(job_id), b"1")
    except redis.RedisError:
        log.warning("could not publish completion of job %s", job_id, exc_info=True)


def async_client() -> aioredis.Redis:
    """One async Redis client per event loop (a client must not cross loops)."""
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        client = _async_clients[loop_id] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client
