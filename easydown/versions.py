"""Version tokens: a random value in Redis that changes whenever a kind of data changes in PostgreSQL.

Processes that keep a copy of such data (the block list, API keys) read the token in a Redis round trip the
paid path already makes, and use their copy only while the token is the one it was read under. A change
writes a new token after its transaction commits: written before, a request could read the old data and keep
it under the new token.
"""

from __future__ import annotations

import logging
import uuid

import redis
from django.conf import settings
from django.db import transaction

from easydown.cache import redis_client

log = logging.getLogger(__name__)


def version_key(name: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ed')}:{name}:version"


def new_token(name: str, *, only_if_missing: bool = False) -> bytes | None:
    """Write a new token for ``name`` (with ``only_if_missing``, only where there is none); returns the token
    now in force that this call wrote, or None (none written, or no Redis)."""
    client = redis_client()
    if client is None:
        return None
    token = uuid.uuid4().hex.encode()
    try:
        if client.set(version_key(name), token, nx=only_if_missing):
            return token
        return None if only_if_missing else token
    except redis.RedisError:
        log.warning("could not record a change of %s", name)
        return None


def changed_on_commit(name: str) -> None:
    """A new token for ``name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: new_token(name))
