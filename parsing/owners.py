"""Which API process waits on a job, and whether that process is still alive.

Every job row names its owner: the API process that opened it and will settle it. While it serves parses,
each API process renews a lease in Redis every LEASE_BEAT seconds (expiring after LEASE_TTL). When a process
dies (SIGKILL, OOM, a lost machine) its lease lapses, and the sweeper releases the holds of its open jobs
seconds later instead of waiting for the jobs to age past the wait timeout.

A missing lease counts only when it is still missing at a second look OWNER_DEAD_AFTER seconds later: a
restarted (empty) or thawed Redis makes every owner look dead until the live processes renew their
leases, which they do every OWNER_LEASE_BEAT. While Redis does not answer, the sweeper has its age rule
alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

import redis
import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)
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


def suspect_key(owner: str) -> str:
    return f"easydown:owner-missing:{owner}"


def dead(owners: list[str]) -> list[str]:
    """The owners among these that are gone: their lease was missing at two looks at least
    OWNER_DEAD_AFTER seconds apart (by Redis's clock). One missing lease proves nothing: Redis may just have
    restarted, or thawed after a freeze, and the live processes' next renewal (every OWNER_LEASE_BEAT) is
    on its way. None while Redis does not answer."""
    if not owners or not settings.REDIS_URL:
        return []
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            pipe = client.pipeline(transaction=False)
            pipe.time()
            pipe.mget([lease_key(owner) for owner in owners])
            pipe.mget([suspect_key(owner) for owner in owners])
            (seconds, micros), leases, suspected = pipe.execute()
            now = seconds + micros / 1e6
            pipe = client.pipeline(transaction=False)
            gone = []
            for owner, lease, since in zip(owners, leases, suspected, strict=True):
                if lease is not None:
                    if since is not None:
                        pipe.delete(suspect_key(owner))  # it was only late
                elif since is None:
                    pipe.set(suspect_key(owner), str(now), ex=3600, nx=True)
                elif now - float(since) >= settings.OWNER_DEAD_AFTER:
                    gone.append(owner)
            pipe.execute()
        finally:
            client.close()
    except redis.RedisError:
        return []
    return gone
