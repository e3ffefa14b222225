"""The block list as the paid path reads it: each API process keeps the active rules of a platform and asks
PostgreSQL again only when the list changed.

Every saved or deleted BlockRule writes a new random token under ``version_key()`` in Redis; the paid path
reads that token in the round trip it already makes for its rate limit (easydown.ratelimits.key_usage), so a
new rule holds from the next request on, in every process, without a query per request. Without a token
(no Redis, or Redis restarted and forgot it) the rules are read from the database every time, and a new
token is written so that later requests may use their copy again. A change that bypasses the model (a
queryset ``update()`` or raw SQL) writes no token: copies are also re-read when older than MAX_AGE seconds.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid

import redis
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from easydown import hotsql
from easydown.cache import redis_client

from .models import BlockRule

log = logging.getLogger(__name__)
MAX_AGE = 10.0

_copies: dict[str, tuple[bytes, float, list[tuple[str, str]]]] = {}  # platform → (token, read at, rules)
_lock = threading.Lock()


def version_key() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ed')}:blocklist:version"


@functools.cache
def _sql() -> str:
    return f"SELECT pattern, reason FROM {BlockRule._meta.db_table} WHERE platform = %s AND is_active"


def rules(platform: str, token: bytes | None) -> list[tuple[str, str]]:
    """The active rules (pattern, reason) of ``platform``, as of the block list version ``token`` (read from
    Redis by the caller, None when it had none)."""
    now = time.monotonic()
    copy = _copies.get(platform)
    if token is not None and copy is not None and copy[0] == token and now - copy[1] < MAX_AGE:
        return copy[2]
    found = [(pattern, reason) for pattern, reason in hotsql.rows(_sql(), [platform])]
    if token is None:
        token = _new_token(only_if_missing=True)
    if token is not None:
        with _lock:
            _copies[platform] = (token, now, found)
    return found


def _new_token(*, only_if_missing: bool = False) -> bytes | None:
    client = redis_client()
    if client is None:
        return None
    token = uuid.uuid4().hex.encode()
    try:
        if client.set(version_key(), token, nx=only_if_missing):
            return token
        return None if only_if_missing else token
    except redis.RedisError:
        log.warning("could not record a change of the block list")
        return None


def blocked(rows: list[tuple[str, str]], *, media_id: str | None, url: str | None) -> str | None:
    """The reason of the first rule that matches the link, or None."""
    for pattern, reason in rows:
        if BlockRule(pattern=pattern).matches(media_id=media_id, url=url):
            return reason
    return None


@receiver(post_save, sender=BlockRule)
@receiver(post_delete, sender=BlockRule)
def _changed(**_: object) -> None:
    # After the commit (at once outside a transaction): a token written before it (the admin saves inside
    # one) would let a request read the old rules and keep them under the new token.
    transaction.on_commit(_new_token)
