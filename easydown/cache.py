"""Django's Redis cache with one connection pool per process.

Django keeps a cache object per request context, and its Redis client keeps the pools on that object,
so under ASGI every request built a new pool and opened a new Redis connection (TCP connect, HELLO,
CLIENT SETINFO) just to count its rate limit. Sharing the pools per process removes that (measured in
bench/parse_path.py).
"""

from __future__ import annotations

import asyncio
import os
import threading

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple[int, str], object] = {}
_lock = threading.Lock()


class SharedPoolClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (os.getpid(), server)  # a forked child must not reuse its parent's sockets
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(server, **self._pool_options)
        return pool


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolClient


_clients: dict[int, redis.Redis] = {}


def redis_client() -> redis.Redis | None:
    """A long-lived client on the default cache's shared pool (for a pipeline of several commands in one
    round trip, which the cache API cannot do); None when the cache is not Redis."""
    client = _clients.get(os.getpid())
    if client is None:
        cache = caches["default"]  # (a lookup in asgiref's Local: done once per process, not per call)
        if not isinstance(cache, SharedPoolRedisCache):
            return None
        client = _clients[os.getpid()] = cache._cache.get_client(write=True)
    return client


_async_clients: dict[int, aioredis.Redis] = {}


def async_redis() -> aioredis.Redis | None:
    """This event loop's Redis client with short timeouts (None without Redis), for the async API's
    best-effort bookkeeping (unsettled jobs, tunnel stream slots)."""
    if not settings.REDIS_URL:
        return None
    loop = id(asyncio.get_running_loop())
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=1,
                                                                socket_connect_timeout=1)
    return client
