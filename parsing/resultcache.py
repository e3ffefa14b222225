"""The result cache: a link parsed a moment ago is answered again without asking its platform.

- Entries live in Redis under the platform and the media id (plus the part of a multi-part Bilibili video),
  for a lifetime per platform (``EASYDOWN_RESULT_CACHE_TTL``) that is shorter than the life of the media
  URLs in them, and never longer than half the time its URLs have left when they carry their own expiry
  (``expire``, ``deadline``, ``x-expires``, ``Expires``, Instagram's hexadecimal ``oe``): a cached answer
  always leaves the customer most of its URLs' life.
- A cached answer is a successful parse and costs one credit like any other; it carries ``Cached-On``, the
  HTTP date its result was made. ``"nocache": true`` fetches afresh and refreshes the entry.
- "No media" outcomes (private, deleted: ``ContentUnavailable``) are remembered ``EASYDOWN_NEGATIVE_CACHE_TTL``
  seconds (60), so a burst on a dead link does not hammer its platform; they stay free.
- Single flight: while one parse fetches a media, others for the same media wait for its entry instead of
  fetching too (a Redis lock held at most for the fetcher's own deadline).
- A block-list rule wins over the cache (it is checked first) and removes the entries it matches.
- Redis is an optimisation here, never a dependency: when it does not answer, parses fetch as if nothing
  were cached.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import redis
from django.conf import settings
from django.utils.http import http_date

from .extractors.base import ContentUnavailable, UpstreamTimeout

log = logging.getLogger(__name__)

# Query parameters that make a different media out of the same id.
_VARIANTS = {"bilibili": ("p",)}
# Media URL parameters that say when the URL stops working: unix seconds, or hexadecimal for "oe".
_EXPIRY_PARAMS = ("expire", "expires", "deadline", "x-expires")
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def entry_key(key: str) -> str:
    # Under the cache's key prefix, so that two test runs (or two deployments) on one Redis never share.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ed')}:result:{key}"


def _flight_key(key: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ed')}:flight:{key}"


@dataclass(frozen=True)
class Entry:
    made: float  # unix seconds: when the fetch that made it started
    result: dict | None  # None: the media had none to give (``reason`` says why)
    reason: str = ""

    @property
    def cached_on(self) -> str:
        return http_date(self.made)


def media_key(platform: str | None, media_id: str | None, url: str | None, *, operation: str = "parse",
              kind: str | None = None, page: int = 1) -> str | None:
    """The cache key of a recognised link, or None when it names no media (a short link before resolving) or
    its answer is not kept (a live room: whether it is live, and its stream addresses, change by the minute).
    A collection's key names its kind (a Bilibili video's parts are not the video) and the page."""
    if not platform or not media_id or settings.EASYDOWN_RESULT_CACHE_TTL.get(platform, 0) <= 0:
        return None
    if operation == "live":
        return None
    if operation == "collection":
        return f"{platform}:collection:{kind or ''}:{media_id}:{page}"
    key = f"{platform}:{media_id}"
    names = _VARIANTS.get(platform, ())
    if names and url:
        query = dict(parse_qsl(urlsplit(url).query))
        for name in names:
            if query.get(name) not in (None, "", "1"):
                key += f":{name}={query[name]}"
    return key


_clients: dict[int, redis.Redis] = {}


def _client() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    client = _clients.get(os.getpid())
    if client is None:
        client = _clients[os.getpid()] = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5,
                                                              socket_connect_timeout=0.5)
    return client


def _url_expiry(url: str) -> float | None:
    try:
        query = parse_qsl(urlsplit(url).query)
    except ValueError:
        return None
    for name, value in query:
        name = name.lower()
        try:
            if name in _EXPIRY_PARAMS:
                return float(int(value))
            if name == "oe":
                return float(int(value, 16))
        except ValueError:
            continue
    return None


def _media_urls(result: dict):
    for group in ("videos", "images", "audios"):
        for item in result.get(group) or ():
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                yield item["url"]
    if isinstance(result.get("thumbnail"), str):
        yield result["thumbnail"]


def lifetime(platform: str, result: dict, made: float) -> float:
    """Seconds a result made at ``made`` may be served from the cache."""
    seconds = float(settings.EASYDOWN_RESULT_CACHE_TTL.get(platform, 0))
    expiries = [e for url in _media_urls(result) if (e := _url_expiry(url)) is not None and e > made - 86400 * 365]
    if expiries:
        seconds = min(seconds, (min(expiries) - made) / 2)
    return seconds


def on_cache_redis() -> bool:
    """Whether entries live in the Redis of the default cache (the rate counter's), so the API may read one
    in the counter's round trip; they live in REDIS_URL, which CACHE_REDIS_URL may point away from."""
    return settings.CACHES["default"].get("LOCATION") == settings.REDIS_URL


def lookup(key: str | None) -> Entry | None:
    """The entry under ``key``, or None (none, expired, or Redis did not answer)."""
    client = _client()
    if key is None or client is None:
        return None
    try:
        raw = client.get(entry_key(key))
    except redis.RedisError:
        return None
    return entry_from(raw)


def entry_from(raw: bytes | None) -> Entry | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return Entry(made=float(data["made"]), result=data.get("result"), reason=data.get("none", ""))
    except (ValueError, KeyError, TypeError):
        return None


def _record(result: dict | None, *, platform: str, media_id: str, url: str, made: float,
            reason: str = "") -> tuple[dict, float]:
    """What to store for an outcome, and for how many seconds."""
    if result is None:
        return {"made": made, "media": media_id, "url": url, "none": reason}, settings.EASYDOWN_NEGATIVE_CACHE_TTL
    seconds = lifetime(platform, result, made) - (time.time() - made)
    return {"made": made, "media": media_id, "url": url, "result": result}, seconds


def _add(pipe, key: str, record: tuple[dict, float], release: tuple[str, str] | None) -> None:
    data, seconds = record
    if seconds >= 1:
        pipe.set(entry_key(key), json.dumps(data, ensure_ascii=False), ex=int(seconds))
    if release is not None:
        pipe.eval(_RELEASE, 1, *release)


def _put(key: str, record: tuple[dict, float], release: tuple[str, str] | None = None) -> None:
    """Store an entry (unless its lifetime is already over) and give up a flight, in one round trip."""
    client = _client()
    if client is None:
        return
    pipe = client.pipeline(transaction=False)
    _add(pipe, key, record, release)
    try:
        pipe.execute()
    except redis.RedisError:
        log.warning("could not cache the result of %s", key)


@dataclass
class Pending:
    """A fetched result still to be stored (and its flight given up), left to the caller's last round trip
    to Redis (the worker's completion notice): ``add_to`` a pipeline, or ``write`` it alone."""

    key: str
    record: tuple[dict, float]
    release: tuple[str, str] | None

    def add_to(self, pipe) -> None:
        _add(pipe, self.key, self.record, self.release)

    def write(self) -> None:
        _put(self.key, self.record, self.release)


def add_all(pending: list[Pending], pipe) -> None:
    """Add every pending store to ``pipe`` (the worker's completion round trip)."""
    for item in pending:
        item.add_to(pipe)


def store(key: str, *, platform: str, media_id: str, url: str, result: dict, made: float) -> None:
    _put(key, _record(result, platform=platform, media_id=media_id, url=url, made=made))


def store_none(key: str, *, media_id: str, url: str, reason: str, made: float) -> None:
    _put(key, _record(None, platform="", media_id=media_id, url=url, made=made, reason=reason))


def forget_matching(platform: str, matches: Callable[[str, str], bool]) -> int:
    """Delete the entries of ``platform`` whose (media id, url) ``matches``; returns how many."""
    client = _client()
    if client is None:
        return 0
    removed = 0
    try:
        for name in client.scan_iter(match=entry_key(f"{platform}:*"), count=500):
            raw = client.get(name)
            try:
                data = json.loads(raw) if raw is not None else None
            except ValueError:
                data = None
            if data is not None and matches(str(data.get("media", "")), str(data.get("url", ""))):
                removed += client.delete(name)
    except redis.RedisError:
        log.warning("could not remove cached results of %s matching a new block rule", platform)
    return removed


def fetch_shared(key: str | None, *, platform: str, media_id: str, url: str, fetch: Callable[[], dict],
                 seconds: float, fresh: bool = False, later: list[Pending] | None = None
                 ) -> tuple[dict, Entry | None]:
    """The media's result: from the cache (with the entry it came from), or fetched by this call (entry None)
    when none is cached and no other parse is fetching it. Raises what ``fetch`` raises, ContentUnavailable
    for a remembered "no media", and UpstreamTimeout when another parse's fetch outlasts ``seconds``.

    Two round trips to Redis for a parse that fetches: one that reads the entry and takes the flight
    together, one that stores the outcome and gives the flight up together. With ``later``, a fetched result
    is not stored here but appended to it as a Pending, for the caller to write with its own next round
    trip (failures are still stored at once)."""
    client = _client()
    if key is None or client is None:
        return fetch(), None
    flight = (_flight_key(key), uuid.uuid4().hex)
    end, pause = time.monotonic() + seconds, 0.02
    while True:
        pipe = client.pipeline(transaction=False)
        pipe.get(entry_key(key))
        pipe.set(flight[0], flight[1], nx=True, px=max(1000, int(seconds * 1000)))
        try:
            raw, leading = pipe.execute()
        except redis.RedisError:
            return fetch(), None  # no one to coordinate with: fetch alone
        entry = None if fresh else entry_from(raw)
        if entry is not None:
            if leading:
                _put(key, ({}, 0), release=flight)
            if entry.result is None:
                raise ContentUnavailable(reason=entry.reason or "unavailable")
            return entry.result, entry
        if leading or fresh:  # nocache fetches now, whoever else is fetching
            return _fetch_and_store(key, platform, media_id, url, fetch, flight if leading else None, later), None
        if time.monotonic() + pause >= end:
            raise UpstreamTimeout("another parse of the same media did not finish in time")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _fetch_and_store(key: str, platform: str, media_id: str, url: str, fetch: Callable[[], dict],
                     flight: tuple[str, str] | None, later: list[Pending] | None = None) -> dict:
    made = time.time()
    try:
        result = fetch()
    except ContentUnavailable as exc:
        _put(key, _record(None, platform=platform, media_id=media_id, url=url, made=made, reason=exc.reason),
             release=flight)
        raise
    except BaseException:
        if flight is not None:
            _put(key, ({}, 0), release=flight)
        raise
    pending = Pending(key, _record(result, platform=platform, media_id=media_id, url=url, made=made), flight)
    if later is None:
        pending.write()
    else:
        later.append(pending)
    return result
