"""Which API process waits on a job, and whether that process is still alive.

Every job row names its owner: the API process that opened it and will settle it. While it serves parses,
each API process renews a lease in Redis every LEASE_BEAT seconds (expiring after LEASE_TTL). When a process
dies (SIGKILL, OOM, a lost machine) its lease lapses, and the sweeper releases the holds of its open jobs
seconds later instead of waiting for the jobs to age past the wait timeout.

A lease that is missing only counts once Redis has kept leases for longer than LEASE_TTL: a restarted (empty)
Redis, or one that does not answer, makes every owner look dead, so then the sweeper falls back to its
age rule alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time

import redis
import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)
EPOCH_KEY = "easydown:owners:epoch"
_me: tuple[int, str] | None = None
_beats: dict[int, asyncio.Task[None]] = {}


def me() -> str:
    """This process's owner name (a forked child gets its own)."""
    global _me
    if _me is None or _me[0] != os.getpid():
        _me = (os.getpid(), f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}")
    return _me[1]


def lease_key(owner: str) -> str:
    return f"easydown:owner:{owner}"


async def _beat() -> None:
    client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        while True:
            try:
                async with client.pipeline(transaction=False) as pipe:
                    pipe.set(lease_key(me()), b"1", ex=max(1, round(settings.OWNER_LEASE_TTL)))
                    pipe.set(EPOCH_KEY, str(time.time()), nx=True)
                    await pipe.execute()
            except redis.RedisError as exc:  # Redis down: the sweeper cannot read leases either
                log.debug("owner lease not renewed: %r", exc)
            await asyncio.sleep(settings.OWNER_LEASE_BEAT)
    finally:
        await client.aclose()


def keep_alive() -> None:
    """Renew this process's lease from the running event loop (started once per loop; call per request)."""
    if not settings.REDIS_URL:
        return
    loop = asyncio.get_running_loop()
    task = _beats.get(id(loop))
    if task is None or task.done():
        _beats[id(loop)] = loop.create_task(_beat())


def dead(owners: list[str]) -> list[str]:
    """The owners among these whose lease lapsed; none at all while Redis cannot vouch for its leases."""
    if not owners or not settings.REDIS_URL:
        return []
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            epoch, *alive = client.mget([EPOCH_KEY, *(lease_key(owner) for owner in owners)])
        finally:
            client.close()
    except redis.RedisError:
        return []
    if epoch is None or time.time() - float(epoch) < settings.OWNER_LEASE_TTL * 2:
        return []  # Redis has not held leases long enough for a missing one to mean anything
    return [owner for owner, lease in zip(owners, alive, strict=True) if lease is None]
