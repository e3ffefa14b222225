"""Fixed-window rate limits on the shared cache, and their response headers.

The API's limits (per key, and failed authentications per client IP) count with one pipelined round trip
to Redis (SET NX EX, then INCR): every paid request pays for it, and django-ratelimit's counter costs three
round trips and a new client object (measured in bench/parse_path.py). The dashboard's forms keep
django-ratelimit's decorators. Fixed windows allow up to twice the limit across a window edge (the end of
one window and the start of the next); the public docs say so.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .cache import redis_client


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int
    reset: int
    limited: bool
    fetched: tuple[bytes | None, ...] = ()  # the values of the keys read in the same round trip (``also``)
    count: int = 0  # the requests counted in the window, this one included when it was counted
    counted: bool = True

    def judged_by(self, key_limit: int | None) -> Usage:
        """The same count against another key limit (when the key was read again after counting)."""
        return _judge(_key_limit(key_limit), self.count, self.reset, increment=self.counted,
                      fetched=self.fetched)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if self.limited:
            headers["Retry-After"] = str(max(1, self.reset))
        return headers


def _window_end(key: str, period: int, now: int) -> int:
    """The end of the fixed window ``now`` falls in; windows are offset per key, so keys do not all reset
    at the same second."""
    offset = zlib.crc32(key.encode()) % period
    return now - ((now - offset) % period) + period


def _count(*, group: str, key: str, period: int, increment: bool, also: tuple[str, ...] = ()
           ) -> tuple[int, int, tuple[bytes | None, ...]]:
    """(requests counted in the current window, seconds until it ends, the values of the Redis keys named in
    ``also``). One round trip to Redis; without Redis, ``also`` reads as all None."""
    now = int(time.time())
    end = _window_end(key, period, now)
    name = f"rl:{group}:{hashlib.sha256(key.encode()).hexdigest()[:32]}:{end}"
    client = redis_client()
    if client is None:  # a laptop without Redis: the local-memory cache
        cache.add(name, 0, period + 1)
        return (cache.incr(name) if increment else cache.get(name, 0)), end - now, (None,) * len(also)
    name = cache.make_key(name)
    pipe = client.pipeline(transaction=False)
    if increment:
        pipe.set(name, 0, ex=period + 1, nx=True)  # the window's counter, expiring with it
        pipe.incr(name)
    else:
        pipe.get(name)
    if also:
        pipe.mget(also)
    replies = pipe.execute()
    counted = 2 if increment else 1
    return int(replies[counted - 1] or 0), end - now, tuple(replies[counted]) if also else ()


def _usage(request: HttpRequest, *, group: str, key: str, limit: int, increment: bool,
           also: tuple[str, ...] = ()) -> Usage:
    count, left, fetched = _count(group=group, key=key, period=60, increment=increment, also=also)
    return _judge(limit, count, left, increment=increment, fetched=fetched)


def _judge(limit: int, count: int, left: int, *, increment: bool, fetched: tuple[bytes | None, ...]) -> Usage:
    # A peek (no increment) is limited once the budget is used up; a counted request once it is over.
    limited = count > limit if increment else count >= limit
    return Usage(limit=limit, remaining=max(0, limit - count), reset=left, limited=limited, fetched=fetched,
                 count=count, counted=increment)


def _from_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES
               if ipaddress.ip_network(net, strict=False).version == ip.version)


def client_ip(request: HttpRequest) -> str:
    """The client address: REMOTE_ADDR, or the proxy header named in settings when (and only when) the
    connection comes from a trusted proxy. The servers never rewrite REMOTE_ADDR from a client's headers
    (uvicorn runs with --no-proxy-headers), so a client cannot choose the address its limits count against."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.CLIENT_IP_HEADER and _from_trusted_proxy(remote):
        value = request.META.get(settings.CLIENT_IP_HEADER, "")
        if value:
            return value.split(",")[-1].strip()  # the address the (last) trusted proxy saw
    return remote


def _key_limit(limit: int | None) -> int:
    """A key's per-minute limit: its own, or the default when it has none."""
    return limit or settings.RATE_LIMIT_PER_KEY


def key_usage(request: HttpRequest, *, key_id: str, limit: int | None, also: tuple[str, ...] = ()) -> Usage:
    """Count one request against an API key's per-minute limit, reading the Redis keys named in ``also`` in the
    same round trip (the paid path's other reads: its result cache entry, the block list's version)."""
    return _usage(request, group="key", key=key_id, limit=_key_limit(limit), increment=True,
                  also=also)


def auth_failure_usage(request: HttpRequest, *, increment: bool) -> Usage:
    """Failed authentications per client IP; peek with increment=False, count with True."""
    return _usage(request, group="authfail", key=client_ip(request),
                  limit=settings.RATE_LIMIT_AUTH_FAILURES_PER_IP, increment=increment)


# --- dashboard forms (django-ratelimit decorators; rates read at request time so tests can override) ---


def ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the client IP, from the trusted header when one is configured."""
    return client_ip(request)


def login_rate(group: str, request: HttpRequest) -> str:
    return settings.RATE_LIMIT_LOGIN


def signup_rate(group: str, request: HttpRequest) -> str:
    return settings.RATE_LIMIT_SIGNUP


def password_reset_rate(group: str, request: HttpRequest) -> str:
    return settings.RATE_LIMIT_PASSWORD_RESET
