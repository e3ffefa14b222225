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
import threading
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from easydown import hotsql, versions

from .models import BlockRule

MAX_AGE = 10.0

_copies: dict[str, tuple[bytes, float, list[tuple[str, str]]]] = {}  # platform → (token, read at, rules)
_lock = threading.Lock()


def version_key() -> str:
    return versions.version_key("blocklist")


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
        token = versions.new_token("blocklist", only_if_missing=True)
    if token is not None:
        with _lock:
            _copies[platform] = (token, now, found)
    return found


def blocked(rows: list[tuple[str, str]], *, media_id: str | None, url: str | None) -> str | None:
    """The reason of the first rule that matches the link, or None."""
    for pattern, reason in rows:
        if BlockRule(pattern=pattern).matches(media_id=media_id, url=url):
            return reason
    return None


@receiver(post_save, sender=BlockRule)
@receiver(post_delete, sender=BlockRule)
def _changed(**_: object) -> None:
    versions.changed_on_commit("blocklist")  # after the commit: the admin saves inside a transaction
