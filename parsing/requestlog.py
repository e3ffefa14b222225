"""The customers' request log: every call to the API with a recognisable key, refused or not, with its
time, key, endpoint, link, status, code, reason, credits charged and request id. Calls with no or an
unknown token belong to no customer: they are counted per client IP and day for admins (AuthFailure).

Entries are written in batches: a request only appends to this process's buffer, and a background thread
writes whatever is there once a second in one INSERT, so the log costs the paid path no database round trip
of its own. (What a process that dies takes with it is at most its last second of log, never money: the
ledger and the jobs are written by the requests themselves.) Beat deletes entries older than
EASYDOWN_REQUEST_LOG_DAYS.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from easydown import requestid

log = logging.getLogger(__name__)
FLUSH_EVERY = 1.0
_pending: collections.deque[dict[str, Any]] = collections.deque(maxlen=200_000)
_failures: collections.Counter[tuple[str, dt.date]] = collections.Counter()
_lock = threading.Lock()
_flushers: dict[int, threading.Thread] = {}


def record(*, key: Any, endpoint: str, status: int, code: object = "", reason: str = "", link: str = "",
           platform: str = "", credits: int = 0) -> None:
    """Note one call made with ``key`` (an ApiKey, possibly revoked or expired)."""
    if key is None or not getattr(key, "user_id", None):
        return
    _pending.append({"user_id": key.user_id, "api_key_id": key.pk, "key_name": (key.name or "")[:100],
                     "endpoint": endpoint[:40], "link": (link or "")[:2000], "platform": (platform or "")[:20],
                     "status": int(status), "code": str(code if code is not None else "")[:40],
                     "reason": (reason or "")[:60], "credits": credits, "request_id": requestid.current()[:128],
                     "created_at": timezone.now()})
    _ensure_flusher()


def record_auth_failure(ip: str) -> None:
    """Count a call with no or an unknown token against its client IP (admins only)."""
    if not ip:
        return
    with _lock:
        _failures[(ip, timezone.now().date())] += 1
    _ensure_flusher()


def _ensure_flusher() -> None:
    pid = os.getpid()
    if pid in _flushers:
        return
    with _lock:
        if pid not in _flushers:
            thread = threading.Thread(target=_run, name="easydown-requestlog", daemon=True)
            _flushers[pid] = thread
            thread.start()


def _run() -> None:
    while True:
        time.sleep(FLUSH_EVERY)
        try:
            flush()
        except Exception:  # noqa: BLE001 - the log is best effort; the next second tries again
            log.warning("could not write the request log", exc_info=True)
        finally:
            connection.close()  # back to the pool until the next second


def flush() -> int:
    """Write what is buffered; returns how many entries were written."""
    from .models import ApiRequest, AuthFailure

    entries = []
    while _pending and len(entries) < 5000:
        entries.append(_pending.popleft())
    with _lock:
        failures = dict(_failures)
        _failures.clear()
    if entries:
        try:
            _insert(ApiRequest, entries)
        except Exception:
            _pending.extendleft(reversed(entries))  # the database is away: keep them for the next try
            with _lock:
                _failures.update(failures)
            raise
    now = timezone.now()
    for (ip, day), count in failures.items():
        if AuthFailure.objects.filter(ip=ip, day=day).update(count=F("count") + count, last_at=now):
            continue
        try:
            with transaction.atomic():
                AuthFailure.objects.create(ip=ip, day=day, count=count, last_at=now)
        except IntegrityError:  # another process created the day's row meanwhile
            AuthFailure.objects.filter(ip=ip, day=day).update(count=F("count") + count, last_at=now)
    return len(entries)


def _insert(model, entries: list[dict[str, Any]]) -> None:
    """All the entries in one transaction: COPY on PostgreSQL (a tenth of bulk_create's CPU per row, measured:
    every paid request writes one), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            model.objects.bulk_create([model(**entry) for entry in entries])
        return
    columns = list(entries[0])
    connection.ensure_connection()
    with connection.wrap_database_errors, transaction.atomic():
        with connection.connection.cursor() as cursor, cursor.copy(
                f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for entry in entries:
                copy.write_row([entry[c] for c in columns])


def prune(*, days: int | None = None) -> int:
    """Delete log entries (and per-IP counts) older than ``days`` (EASYDOWN_REQUEST_LOG_DAYS)."""
    from .models import ApiRequest, AuthFailure

    days = settings.EASYDOWN_REQUEST_LOG_DAYS if days is None else days
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted = ApiRequest.objects.filter(created_at__lt=cutoff).delete()[0]
    AuthFailure.objects.filter(day__lt=cutoff.date()).delete()
    return deleted
