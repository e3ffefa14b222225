"""``Idempotency-Key`` on POST /api/v1/parse, with Stripe's semantics.

A key is scoped to the API key's owner (the account) and kept IDEMPOTENCY_TTL (24 h). The first request
with a key claims it; if it starts work (a job) and that ends with 200 or the documented 304, its answer
(status, body, and the headers that describe the result) is stored, and a repeat with the same key and the
same body gets that answer again with ``Idempotent-Replayed: true``: nothing runs, nothing is charged. Any
other ending (401, 403, 429, 503, 504, a 400…) forgets the key, so a retry runs again. The same key with a
different body is 422 ``idempotency_key_reused``; while the first request still runs, 409
``idempotency_key_in_use``. A claim whose request never finished (its API process died) stops counting as
in use once that request could no longer be waiting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from easydown import exceptions as api

from .models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEPT_HEADERS = ("Easydown-Job", "Cached-On")


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    headers: dict[str, str]


def check_key(value: str) -> str:
    """The header's value, or 400 when it is not 1–255 printable ASCII characters."""
    if not 1 <= len(value) <= 255 or not all(" " <= ch <= "~" for ch in value):
        raise api.InvalidRequest("Idempotency-Key must be 1 to 255 printable ASCII characters")
    return value


def fingerprint(body: bytes) -> str:
    """The request as compared between repeats: its JSON with keys sorted (so whitespace and key order do
    not matter), or the raw bytes."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _lapsed(record: IdempotencyRecord, now: dt.datetime) -> bool:
    age = now - record.created_at
    if record.status is None:  # still claimed: by a request that can no longer be running?
        return age > dt.timedelta(seconds=settings.PARSE_WAIT_TIMEOUT + settings.SWEEP_MARGIN)
    return age > dt.timedelta(seconds=settings.IDEMPOTENCY_TTL)


def claim(*, user_id: int, key: str, fingerprint: str) -> Replay | None:
    """Claim ``key`` for a new request (None: go ahead), or the stored answer to replay; raises 422 for a
    different body and 409 while the first request runs."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now)
            return None
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if record is None:
            continue  # forgotten meanwhile: claim again
        if _lapsed(record, now):
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.fingerprint != fingerprint:
            raise api.IdempotencyKeyReused()
        if record.status is None:
            raise api.IdempotencyKeyInUse()
        return Replay(status=record.status, body=bytes(record.body), headers=dict(record.headers))
    raise api.IdempotencyKeyInUse()


def remember(*, user_id: int, key: str, fingerprint: str, status: int, body: bytes, headers: dict[str, str]) -> None:
    """Store the claimed request's final answer for replays."""
    IdempotencyRecord.objects.filter(user_id=user_id, key=key, fingerprint=fingerprint, status__isnull=True).update(
        status=status, body=body, headers={name: value for name, value in headers.items() if name in KEPT_HEADERS})


def forget(*, user_id: int, key: str, fingerprint: str) -> None:
    """Give the key back: the request ended without an answer worth replaying."""
    IdempotencyRecord.objects.filter(user_id=user_id, key=key, fingerprint=fingerprint, status__isnull=True).delete()


def purge() -> int:
    """Delete records past their lifetime (the sweeper calls this); returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_TTL)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
