"""API keys as the paid path reads them: each API process keeps the keys it authenticated in the last MAX_AGE
seconds, and asks PostgreSQL again only when a key or a user changed.

Every saved or deleted ApiKey or User, and every revocation, writes a new version token (easydown.versions)
once it commits. The paid path looks its key up first (it needs the key's id for its rate limit) and reads the
token afterwards, in the round trip it makes for that limit; so a copy is trusted (``confirm``) only when the
token read now is one this process had already seen before it read the copy from the database. Otherwise the
key is read again from the database (never from a copy another request may have kept meanwhile) and the
request goes on with what the database says. A change that bypasses the models
(a queryset ``update()``, raw SQL) writes no token: copies older than MAX_AGE seconds are read again anyway.
Only keys that passed authentication are kept; a refused token is looked up every time.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from easydown import versions
from easydown.cache import redis_client

from .models import ApiKey, User

NAME = "apikeys"
MAX_AGE = 10.0
MAX_KEYS = 10_000


class _Copy(NamedTuple):
    key: ApiKey
    vouch: bytes | None  # a token this process had seen before it read the key (None: none yet)
    read_at: float


_copies: dict[str, _Copy] = {}  # token hash → copy
_seen: bytes | None = None  # the token this process read last
_lock = threading.Lock()


def version_key() -> str:
    return versions.version_key(NAME)


def enabled() -> bool:
    """Copies need the token, which lives in Redis: without Redis every request reads its key."""
    return redis_client() is not None


def copy(token_hash: str) -> ApiKey | None:
    """The kept key with this token hash, if it was read less than MAX_AGE seconds ago."""
    kept = _copies.get(token_hash)
    if kept is None or time.monotonic() - kept.read_at >= MAX_AGE:
        return None
    return kept.key


def seen() -> bytes | None:
    """Take this before reading a key from the database; it vouches for the copy ``keep`` makes of it."""
    return _seen


def keep(key: ApiKey, vouch: bytes | None) -> None:
    with _lock:
        if len(_copies) >= MAX_KEYS:
            _copies.clear()
        _copies[key.token_hash] = _Copy(key, vouch, time.monotonic())


def drop(token_hash: str) -> None:
    """The database refused this token now: no copy of its key may answer for it any more."""
    with _lock:
        _copies.pop(token_hash, None)


def confirm(key: ApiKey, token: bytes | None) -> bool:
    """Whether ``key`` is still what the database says, ``token`` being the version read after ``key`` was
    looked up. False means: read the key again from the database (``api_key_authenticate(fresh=True)``)."""
    global _seen
    _seen = token
    if token is None:  # Redis forgot the token (or never had one): start one, trust nothing until then
        versions.new_token(NAME, only_if_missing=True)
        return False
    kept = _copies.get(key.token_hash)
    return kept is not None and kept.key is key and kept.vouch == token


def changed() -> None:
    """A key or its owner changed in this transaction: every process reads its keys again after the commit."""
    versions.changed_on_commit(NAME)


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _saved(**_: object) -> None:
    changed()
