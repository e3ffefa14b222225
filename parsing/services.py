"""The paid parse: submit (authenticate → limit → recognise → authorise → reserve → enqueue),
run (in the worker), settle (exactly one terminal state, one capture or one release)."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Value
from django.db.models.functions import Now
from django.http import HttpRequest
from django.utils import timezone

from accounts import keycache
from accounts.models import ApiKey
from accounts.services import api_key_authenticate_request
from billing.services import credit_adjust, credit_capture, credit_release, credit_reserve
from easydown import broker, hotsql, metrics, requestid
from easydown import exceptions as api
from easydown.ratelimits import key_usage

from . import admission, blocklist, idempotency, notify, owners, resultcache
from .deadline import Deadline
from .extractors import extractor_class, extractor_paths, get_extractor
from .extractors.base import (
    SHAPE_ERRORS,
    ContentUnavailable,
    ExtractorError,
    UnsupportedLink,
    UpstreamFailure,
    UpstreamTimeout,
)
from .models import ParseJob
from .recognition import Recognition, recognize

log = logging.getLogger(__name__)
State = ParseJob.State


@dataclass
class Submission:
    job_id: uuid.UUID
    user_id: int
    headers: dict[str, str]
    key_id: str = ""  # the API key's public id: tunnel links are issued to it
    idempotency: tuple[str, str] | None = None  # (key, fingerprint) this request claimed
    replay: idempotency.Replay | None = None  # the stored answer to give instead
    cached: ParseJob | None = None  # answered (and charged) from the result cache: nothing to wait for
    platform: str = ""
    key: ApiKey | None = None  # for the request log
    link: str = ""
    operation: str = "parse"


# --- submit (API process, one thread hop) ------------------------------------------------------------


def _read_request(request: HttpRequest, operation: str = "parse") -> tuple[str, bool, int]:
    """The ``url``, ``nocache`` and (for a collection) ``page`` fields of a JSON body; raises 415, 413 or 400
    in the envelope."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise api.UnsupportedMediaType()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise api.InvalidRequest("Invalid Content-Length") from None
    if declared > settings.MAX_BODY_BYTES:
        raise api.PayloadTooLarge()
    try:
        body = request.body
    except RequestDataTooBig:  # a chunked body with no Content-Length, over Django's own limit
        raise api.PayloadTooLarge() from None
    if len(body) > settings.MAX_BODY_BYTES:
        raise api.PayloadTooLarge()
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise api.InvalidRequest("Body is not valid JSON") from None
    except RecursionError:  # thousands of nested brackets
        raise api.InvalidRequest("Body is nested too deeply") from None
    if not isinstance(payload, dict):
        raise api.InvalidRequest("Body must be a JSON object")
    url = payload.get("url")
    if url is None:
        raise api.InvalidRequest("Field 'url' is required")
    if not isinstance(url, str):
        raise api.InvalidRequest("Field 'url' must be a string")
    url = url.strip()
    if not url:
        raise api.InvalidRequest("Field 'url' must not be empty")
    if len(url) > settings.MAX_URL_CHARS:
        raise api.InvalidRequest(f"Field 'url' must be at most {settings.MAX_URL_CHARS} characters")
    # PostgreSQL text can hold neither NUL characters nor lone surrogates (which JSON's \ud800 escapes make).
    if "\x00" in url:
        raise api.InvalidRequest("Field 'url' must not contain NUL characters")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise api.InvalidRequest("Field 'url' must be valid Unicode text") from None
    nocache = payload.get("nocache", False)
    if not isinstance(nocache, bool):
        raise api.InvalidRequest("Field 'nocache' must be true or false")
    page = 1
    if operation == "collection":
        page = payload.get("page", 1)
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= settings.MAX_COLLECTION_PAGE:
            raise api.InvalidRequest(f"Field 'page' must be an integer from 1 to {settings.MAX_COLLECTION_PAGE}")
    return url, nocache, page


def parse_submit(*, request: HttpRequest, job_id: uuid.UUID, owner: str = "", operation: str = "parse"
                 ) -> Submission:
    """Everything before the worker, for any operation (parse, live, collection): returns the job to wait for,
    or raises an ApiError."""
    copies = keycache.enabled()
    key = api_key_authenticate_request(request, copies=copies)
    # The body is read and the link recognised (no I/O) before counting the request, so that the counter's
    # round trip to Redis also reads the link's result cache entry and the versions of API keys and the block
    # list; a bad body still answers after the rate limit, as documented.
    bad: api.ApiError | None = None
    text, nocache, page, target = "", False, 1, None
    try:
        text, nocache, page = _read_request(request, operation)
        target = recognize(text, operation)
    except api.ApiError as exc:
        bad = exc
    cache_key = (resultcache.media_key(target.platform, target.id, target.url, operation=operation,
                                       kind=target.kind, page=page)
                 if target is not None and target.supported and not nocache else None)
    prefetch = cache_key is not None and resultcache.on_cache_redis()
    also = ((keycache.version_key(), blocklist.version_key())
            + ((resultcache.entry_key(cache_key),) if prefetch else ()))
    usage = key_usage(request, key_id=key.public_id.hex, limit=key.rate_limit_per_minute, also=also)
    key_version, block_version, *entry_read = usage.fetched or (None, None)
    if copies and not keycache.confirm(key, key_version):  # a key or user changed since the copy was read
        # From the database, never from a copy: another request may have kept a stale one meanwhile.
        key = api_key_authenticate_request(request, copies=True, fresh=True)
        usage = usage.judged_by(key.rate_limit_per_minute)  # its limit may have changed too
    headers = usage.headers()
    try:
        if usage.limited:
            raise api.RateLimited()
        if bad is not None:
            raise bad
        claimed = None
        if (value := request.META.get(idempotency.HEADER)) is not None:
            body = request.body if operation == "parse" else operation.encode() + b"\n" + request.body
            claimed = (idempotency.check_key(value), idempotency.fingerprint(body))
            replay = idempotency.claim(user_id=key.user_id, key=claimed[0], fingerprint=claimed[1])
            if replay is not None:
                return Submission(job_id=job_id, user_id=key.user_id, headers=headers, replay=replay, key=key,
                                  link=text, operation=operation)
        entry = None
        if prefetch:
            entry = resultcache.entry_from(entry_read[0])
        elif cache_key is not None:  # the entries live in another Redis than the counter's
            entry = resultcache.lookup(cache_key)
        read = Prefetched(block_version=block_version, entry=entry)
        try:
            platform, cached = _open_and_enqueue(key, text, job_id, owner, target, read, nocache=nocache,
                                                 operation=operation, page=page)
        except BaseException:
            if claimed is not None:
                with contextlib.suppress(Exception):  # the database may be what failed: the claim then lapses
                    idempotency.forget(user_id=key.user_id, key=claimed[0], fingerprint=claimed[1])
            raise
    except api.ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        exc.key, exc.link = key, text  # for the request log
        raise
    return Submission(job_id=job_id, user_id=key.user_id, headers=headers, key_id=key.public_id.hex,
                      idempotency=claimed, cached=cached, platform=platform, key=key, link=text, operation=operation)


@dataclass(frozen=True)
class Prefetched:
    """What the rate counter's round trip read for the link: the block list's version and its cache entry."""

    block_version: bytes | None = None
    entry: resultcache.Entry | None = None


def _open_and_enqueue(key: ApiKey, text: str, job_id: uuid.UUID, owner: str, target: Recognition,
                      read: Prefetched, *, nocache: bool = False, operation: str = "parse", page: int = 1
                      ) -> tuple[str, ParseJob | None]:
    """Authorise, check the block list, then answer from the result cache (the platform and the job, charged)
    or check admission, reserve and enqueue (the platform and None); or raise an ApiError."""
    if not target.supported or not target.platform:
        raise api.UnsupportedUrl(extra={"reason": target.reason or "unsupported"})
    try:
        return _open_recognised(key, text, job_id, owner, target, read, nocache=nocache, operation=operation,
                                page=page)
    except api.ApiError as exc:
        exc.platform = target.platform  # for the request log
        raise


def _open_recognised(key: ApiKey, text: str, job_id: uuid.UUID, owner: str, target: Recognition,
                     read: Prefetched, *, nocache: bool, operation: str = "parse", page: int = 1
                     ) -> tuple[str, ParseJob | None]:
    if not key.allows(target.platform):
        raise api.PlatformNotAllowed()
    if target.platform not in extractor_paths():
        raise api.ServiceUnavailable(f"Parsing {target.platform} links is not available right now",
                                     headers={"Retry-After": "60"}, extra={"reason": "platform_unavailable"})
    if not _serves(extractor_class(target.platform), operation):  # an operation its extractor lacks
        raise api.UnsupportedUrl(extra={"reason": "operation_not_supported"})
    # Before the cache: a rule wins over a cached result.
    if (reason := blocklist.blocked(blocklist.rules(target.platform, read.block_version), media_id=target.id,
                                    url=target.url)) is not None:
        raise api.ContentRestricted(extra={"reason": reason})
    job = ParseJob(id=job_id, user_id=key.user_id, api_key=key, platform=target.platform, kind=target.kind or "",
                   media_id=(target.id or "")[:200], input=text, url=target.url or text, owner=owner,
                   request_id=requestid.current()[:128], operation=operation, page=page)
    if not nocache and (entry := read.entry) is not None:
        if entry.result is None:  # a "no media" outcome seen moments ago: the same answer, free
            raise api.NoMedia(extra={"reason": entry.reason or "unavailable"})
        return target.platform, job_from_cache(job, entry)
    if settings.REDIS_URL:
        admission.admit(target.platform)  # 503 at once, before anything is reserved, when overloaded
    job_open(job)
    _enqueue(job, fresh=nocache)
    return target.platform, None


def _serves(cls: type, operation: str) -> bool:
    """Whether an extractor class serves the operation; a plugged-in class that does not subclass
    extractors.base.Extractor serves what it has a method for (extract: parse)."""
    supports = getattr(cls, "supports", None)
    if supports is not None:
        return supports(operation)
    return callable(getattr(cls, {"parse": "extract"}.get(operation, operation), None))


def _enqueue(job: ParseJob, *, fresh: bool = False) -> None:
    """Send the job to the worker after its row and hold are committed."""
    from .tasks import parse_job

    try:
        kwargs = {"owner": job.owner, **({"fresh": True} if fresh else {})}  # owner: whom to tell when it is done
        broker.send(parse_job, [str(job.id)], kwargs, admission.queue_for(job.platform))
    except Exception:
        log.exception("could not enqueue job %s", job.id)
        job_fail(job_id=job.id, user_id=job.user_id, code="service_unavailable", reason="queue_unavailable")
        # Every 503 says when to come back (the broker did not take the job: nothing is reserved any more).
        raise api.ServiceUnavailable(headers={"Retry-After": "2"}, extra={"reason": "queue_unavailable"}) from None


# --- the paid path's two money statements -----------------------------------------------------------
#
# On PostgreSQL, opening a job and delivering it are each ONE statement (data-modifying CTEs): the very
# conditional updates of billing.services (reserve: available >= 1; capture: the hold is still held), the
# job row and the append-only ledger row, applied together or not at all, in one round trip instead of a
# transaction of four or five. Elsewhere (SQLite, a laptop) the same steps run through the ORM.

_OPEN_SQL = """
WITH moved AS (
    UPDATE {account} SET available = available - 1, reserved = reserved + 1, updated_at = %(now)s
    WHERE user_id = %(user)s AND available >= 1
    RETURNING user_id
), hold AS (
    INSERT INTO {hold} (account_id, reference, state, created_at)
    SELECT user_id, %(reference)s, 'held', %(now)s FROM moved
    RETURNING account_id
)
INSERT INTO {job} (id, user_id, api_key_id, platform, kind, media_id, input, url, state, attempts,
                   error_code, error_reason, owner, request_id, operation, page, created_at)
SELECT %(id)s, account_id, %(key)s, %(platform)s, %(kind)s, %(media)s, %(input)s, %(url)s, 'pending', 0,
       '', '', %(owner)s, %(request)s, %(operation)s, %(page)s, now() FROM hold
RETURNING id
"""

# Both statements that write a charge's ledger row also make their own commit wait for the disk
# (set_config(…, true) holds for the statement's transaction), whatever the connection's synchronous_commit:
# see billing.services.durable.
_DELIVER_SQL = """
WITH durable AS (
    SELECT set_config('synchronous_commit', 'on', true) AS on_disk
), job AS (
    UPDATE {job} SET state = 'succeeded', finished_at = %(now)s
    WHERE id = %(id)s AND state = 'ready'
    RETURNING user_id, result, cached_on, operation
), hold AS (
    UPDATE {hold} SET state = 'captured', settled_at = %(now)s
    WHERE reference = %(reference)s AND state = 'held' AND account_id IN (SELECT user_id FROM job)
    RETURNING account_id
), account AS (
    UPDATE {account} SET reserved = reserved - 1, updated_at = %(now)s
    WHERE user_id IN (SELECT account_id FROM hold) AND reserved >= 1
    RETURNING user_id
), ledger AS (
    INSERT INTO {ledger} (account_id, kind, amount, reference, note, created_at)
    SELECT account_id, 'capture', -1, %(reference)s, (SELECT operation FROM job), %(now)s FROM hold
    RETURNING id
)
SELECT (SELECT count(*) FROM job), (SELECT count(*) FROM ledger), (SELECT result FROM job),
       (SELECT cached_on FROM job), (SELECT on_disk FROM durable)  -- read, so that the durable CTE runs
"""

# A result cache hit: the parse succeeds at once, so the credit is taken in the same statement that records
# the job (available − 1, a hold created captured, one ledger row), or nothing is written.
_CACHED_SQL = """
WITH durable AS (
    SELECT set_config('synchronous_commit', 'on', true) AS on_disk
), moved AS (
    UPDATE {account} SET available = available - 1, updated_at = %(now)s
    WHERE user_id = %(user)s AND available >= 1
    RETURNING user_id
), hold AS (
    INSERT INTO {hold} (account_id, reference, state, created_at, settled_at)
    SELECT user_id, %(reference)s, 'captured', %(now)s, %(now)s FROM moved
    RETURNING account_id
), job AS (
    INSERT INTO {job} (id, user_id, api_key_id, platform, kind, media_id, input, url, state, attempts,
                       error_code, error_reason, owner, request_id, operation, page, result, cached_on,
                       created_at, ready_at, finished_at)
    SELECT %(id)s, account_id, %(key)s, %(platform)s, %(kind)s, %(media)s, %(input)s, %(url)s, 'succeeded', 0,
           '', '', %(owner)s, %(request)s, %(operation)s, %(page)s, %(result)s, %(cached_on)s, now(), %(now)s,
           %(now)s FROM hold
    RETURNING user_id
)
INSERT INTO {ledger} (account_id, kind, amount, reference, note, created_at)
SELECT user_id, 'capture', -1, %(reference)s, %(operation)s || ' (cached)', %(now)s FROM job
WHERE (SELECT on_disk FROM durable) IS NOT NULL
RETURNING id
"""


@functools.cache
def _tables(sql: str) -> str:
    from billing.models import CreditAccount, CreditHold, LedgerEntry

    return sql.format(job=ParseJob._meta.db_table, account=CreditAccount._meta.db_table,
                      hold=CreditHold._meta.db_table, ledger=LedgerEntry._meta.db_table)


def job_open(job: ParseJob) -> None:
    """Reserve one credit and create the job with its hold; raises InsufficientCredits (nothing written)."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            job.save(force_insert=True)
            credit_reserve(user_id=job.user_id, reference=job.reference)
        metrics.CREDITS.labels("reserved").inc()
        return
    params = {"now": timezone.now(), "user": job.user_id, "reference": job.reference, "id": job.id,
              "key": job.api_key_id, "platform": job.platform, "kind": job.kind, "media": job.media_id,
              "input": job.input, "url": job.url, "owner": job.owner, "request": job.request_id,
              "operation": job.operation, "page": job.page}
    if hotsql.one(_tables(_OPEN_SQL), params) is None:
        raise api.InsufficientCredits()
    metrics.CREDITS.labels("reserved").inc()


def job_from_cache(job: ParseJob, entry: resultcache.Entry) -> ParseJob:
    """Record ``job`` as succeeded with the cached result and charge its one credit, in one transaction;
    raises InsufficientCredits (nothing written). Returns the job as delivered."""
    job.state, job.result = State.SUCCEEDED, entry.result
    job.cached_on = dt.datetime.fromtimestamp(entry.made, dt.UTC)
    job.ready_at = job.finished_at = timezone.now()
    if connection.vendor != "postgresql":
        with transaction.atomic():
            credit_reserve(user_id=job.user_id, reference=job.reference)
            job.save(force_insert=True)
            credit_capture(user_id=job.user_id, reference=job.reference, note=f"{job.operation} (cached)")
        metrics.CREDITS.labels("captured").inc()
        return job
    from psycopg.types.json import Jsonb

    params = {"now": job.finished_at, "user": job.user_id, "reference": job.reference, "id": job.id,
              "key": job.api_key_id, "platform": job.platform, "kind": job.kind, "media": job.media_id,
              "input": job.input, "url": job.url, "owner": job.owner, "result": Jsonb(job.result),
              "cached_on": job.cached_on, "request": job.request_id, "operation": job.operation, "page": job.page}
    if hotsql.one(_tables(_CACHED_SQL), params) is None:
        raise api.InsufficientCredits()
    metrics.CREDITS.labels("captured").inc()
    return job


# --- settle (compare-and-set on the job row; capture or release in the same transaction) -------------


def _transition(job_id: uuid.UUID, from_states: Iterable[str], **changes: object) -> bool:
    return bool(ParseJob.objects.filter(pk=job_id, state__in=list(from_states)).update(**changes))


def job_fail(*, job_id: uuid.UUID, user_id: int, code: str, reason: str, state: str = State.FAILED,
             from_states: Iterable[str] = (State.PENDING, State.RUNNING)) -> bool:
    """Close an open job and release its credit, in one transaction; False when already settled."""
    with transaction.atomic():
        if not _transition(job_id, from_states, state=state, error_code=code, error_reason=reason,
                           finished_at=timezone.now()):
            return False
        released = credit_release(user_id=user_id, reference=f"job:{job_id}")
    if released:
        metrics.CREDITS.labels("released").inc()
    return True


@dataclass(slots=True)
class Delivered:
    """A job just delivered, as its waiting client needs it (a plain object: cheaper than a model instance)."""

    id: uuid.UUID
    user_id: int
    result: dict | list | None
    cached_on: dt.datetime | None
    state: str = State.SUCCEEDED


def job_deliver(*, job_id: uuid.UUID, user_id: int) -> ParseJob | Delivered | None:
    """ready → succeeded and capture the credit, in one transaction; the delivered job (with its result),
    or None if it was not ready."""
    if connection.vendor == "postgresql":
        delivered, charged, result, cached_on, _ = hotsql.one(
            _tables(_DELIVER_SQL), {"now": timezone.now(), "id": job_id, "reference": f"job:{job_id}"})
        if not delivered:
            return None
        if not charged:
            log.error("job %s delivered without a held credit to capture", job_id)
        else:
            metrics.CREDITS.labels("captured").inc()
        if isinstance(result, str):
            result = json.loads(result)
        return Delivered(id=job_id, user_id=user_id, result=result, cached_on=cached_on)
    with transaction.atomic():
        if not _transition(job_id, [State.READY], state=State.SUCCEEDED, finished_at=timezone.now()):
            return False
        job = ParseJob.objects.get(pk=job_id)  # the delivered job, whose operation names the charge
        credit_capture(user_id=user_id, reference=f"job:{job_id}", note=job.operation)
    metrics.CREDITS.labels("captured").inc()
    return job


def job_settle(*, job_id: uuid.UUID, user_id: int, give_up: str | None = None) -> ParseJob | Delivered:
    """Decide what the waiting client gets; returns the job as settled (or still open).

    A ready job is delivered (and charged). With ``give_up`` (timed_out when the wait ran out,
    abandoned when the client left) an open job is closed without a charge; an abandoned client is
    never charged, even for a ready result.
    """
    if give_up != State.ABANDONED and (delivered := job_deliver(job_id=job_id, user_id=user_id)):
        return delivered
    if give_up is not None:
        code = "upstream_timeout" if give_up == State.TIMED_OUT else "client_gone"
        open_states = ParseJob.OPEN_STATES if give_up == State.ABANDONED else (State.PENDING, State.RUNNING)
        # Out of time before any worker took it: the platform was never asked, so that is our 503, not a 504.
        closed = give_up == State.TIMED_OUT and job_fail(
            job_id=job_id, user_id=user_id, code="service_unavailable", reason="not_started", state=give_up,
            from_states=[State.PENDING])
        closed = closed or job_fail(job_id=job_id, user_id=user_id, code=code, reason=code, state=give_up,
                                    from_states=open_states)
        if not closed and give_up == State.TIMED_OUT:
            # A worker became ready between the wait and the timeout: deliver that instead.
            if delivered := job_deliver(job_id=job_id, user_id=user_id):
                return delivered
    return ParseJob.objects.get(pk=job_id)


def job_response_error(job: ParseJob) -> api.ApiError:
    """The ApiError a failed job answers with."""
    if job.error_code == "302":
        return api.UnsupportedUrl(extra={"reason": job.error_reason or "unsupported"})
    if job.error_code == "304":
        return api.NoMedia(extra={"reason": job.error_reason or "unavailable"})
    if job.error_code == "service_unavailable":  # before the timeout: a job no worker started times out too
        return api.ServiceUnavailable(headers={"Retry-After": "2"}, extra={"reason": job.error_reason or "unavailable"})
    if job.error_code == "upstream_timeout" or job.state == State.TIMED_OUT:
        return api.UpstreamTimeout()
    return api.NoMedia(extra={"reason": job.error_reason or "upstream_error"})


# --- run (worker) ------------------------------------------------------------------------------------


def _error_code(exc: ExtractorError) -> tuple[str, str]:
    if isinstance(exc, UnsupportedLink):
        return "302", exc.reason
    if isinstance(exc, UpstreamTimeout):
        return "upstream_timeout", "upstream_timeout"
    if isinstance(exc, ContentUnavailable | UpstreamFailure):
        return "304", exc.reason
    return "304", "upstream_error"


@dataclass(slots=True)
class Claimed:
    """What the worker reads of the job it claimed (a plain object: a model instance costs more to make)."""

    id: uuid.UUID
    user_id: int
    platform: str
    input: str
    attempts: int
    age_seconds: float
    operation: str
    page: int
    kind: str
    media_id: str
    url: str


def _claim(job_id: uuid.UUID) -> Claimed | None:
    """pending/running → running with one more attempt, returning the row's fields in the same
    statement (the worker's hottest query); None when the job is not open."""
    table = ParseJob._meta.db_table
    # On PostgreSQL the job's age is measured by the database's clock, which also stamped its creation:
    # the API's, the worker's and beat's hosts may disagree by seconds. (SQLite: the row's creation time.)
    age = ("EXTRACT(EPOCH FROM clock_timestamp() - created_at)" if connection.vendor == "postgresql"
           else "created_at")
    row = hotsql.one(f"UPDATE {table} SET state = %s, attempts = attempts + 1, started_at = %s "
                     f"WHERE id = %s AND state IN (%s, %s) RETURNING user_id, platform, input, attempts, {age}, "
                     "operation, page, kind, media_id, url",
                     [State.RUNNING, timezone.now(), job_id, State.PENDING, State.RUNNING])
    if row is None:
        return None
    user_id, platform, text, attempts, age, operation, page, kind, media_id, url = row
    if not isinstance(age, int | float | decimal.Decimal):  # SQLite: the creation time, as text
        created_at = dt.datetime.fromisoformat(str(age))
        if timezone.is_naive(created_at):
            created_at = timezone.make_aware(created_at, dt.UTC)
        age = (timezone.now() - created_at).total_seconds()
    return Claimed(id=job_id, user_id=user_id, platform=platform, input=text, attempts=attempts,
                   age_seconds=float(age), operation=operation, page=page, kind=kind, media_id=media_id, url=url)


def parse_budget(age_seconds: float) -> float:
    """Seconds a parse claimed now may take: no longer than the client waits for it (counted from the job's
    creation, so time spent in the queue counts) and never past the soft time limit."""
    return min(float(settings.PARSE_SOFT_TIME_LIMIT), settings.PARSE_WAIT_TIMEOUT + 1.0 - age_seconds)


def release_connection() -> None:
    """Give this thread's database connection back (to the pool, when there is one): a parse waiting on a
    platform holds none. Inside a caller's transaction (a test's) there is nothing to give back."""
    if not connection.in_atomic_block:
        connection.close()


def job_run(*, job_id: str, fresh: bool = False, owner: str = "") -> str:
    """Claim the job, extract, record the outcome (ready or failed); returns a word for the task log.

    When the database fails under it, the waiting client is told at once (a 503 and, by its API, the credit
    released once the database answers) instead of waiting out its timeout."""
    try:
        return _job_run(job_id, fresh, owner)
    except Exception as exc:
        if not api.dependency_failure(exc):
            raise
        log.warning("job %s could not be recorded: %r", job_id, exc)
        try:
            release_connection()  # a broken connection is dropped, not pooled
        except Exception:  # noqa: BLE001, S110 - it is broken already
            pass
        notify.publish_done(job_id, notify.UNAVAILABLE, owner=owner)
        return "unavailable"


def _job_run(job_id: str, fresh: bool = False, owner: str = "") -> str:
    job_uuid = uuid.UUID(job_id)
    job = _claim(job_uuid)
    if job is None:
        return "not_claimed"  # missing, or already settled (for example timed out): nothing to do
    if job.attempts > settings.PARSE_MAX_ATTEMPTS:
        # The worker died on every earlier attempt (reject_on_worker_lost requeued it): give up.
        job_fail(job_id=job_uuid, user_id=job.user_id, code="304", reason="worker_lost")
        notify.publish_done(job_id, owner=owner)
        return State.FAILED
    budget = parse_budget(job.age_seconds)
    release_connection()
    later: list[resultcache.Pending] = []  # the fetched result, cached with the completion notice
    admission.count_start(admission.queue_for(job.platform))
    started = time.monotonic()
    deadline = Deadline(budget)
    try:
        if budget <= 0:  # it waited in the queue until its client stopped waiting
            raise UpstreamTimeout("no time left")
        with deadline:
            result, entry = _extract(job, fresh=fresh, seconds=budget, later=later)
    except ExtractorError as exc:
        # Out of time, whatever the extractor made of its broken connection: a timeout.
        code, reason = ("upstream_timeout", "upstream_timeout") if deadline.expired else _error_code(exc)
        log.info("job %s failed: %s %s", job_id, code, reason)
        job_fail(job_id=job_uuid, user_id=job.user_id, code=code, reason=reason)
    except SoftTimeLimitExceeded:
        job_fail(job_id=job_uuid, user_id=job.user_id, code="upstream_timeout", reason="upstream_timeout")
    except Exception:  # noqa: BLE001 - any crash is a failed parse, never a charge or a traceback
        if deadline.expired:
            log.info("job %s ran out of time", job_id)
            job_fail(job_id=job_uuid, user_id=job.user_id, code="upstream_timeout", reason="upstream_timeout")
        else:
            log.exception("extractor crashed on job %s", job_id)
            job_fail(job_id=job_uuid, user_id=job.user_id, code="304", reason="upstream_error")
    else:
        try:
            _mark_ready(job_uuid, result, cached_on=dt.datetime.fromtimestamp(entry.made, dt.UTC) if entry else None)
        except BaseException:
            for pending in later:  # the result is still good for the next parse of the media
                pending.write()
            raise
        log.info("job %s ready in %.0f ms%s", job_id, (time.monotonic() - started) * 1000,
                 " (from the result cache)" if entry else "")
    release_connection()
    notify.publish_done(job_id, owner=owner, first=functools.partial(resultcache.add_all, later) if later else None)
    return "done"


def _mark_ready(job_id: uuid.UUID, result: dict, *, cached_on: dt.datetime | None = None) -> None:
    """running → ready with the result (a prepared statement on PostgreSQL: once per parse)."""
    if connection.vendor != "postgresql":
        _transition(job_id, [State.RUNNING], state=State.READY, result=result, ready_at=timezone.now(),
                    cached_on=cached_on)
        return
    from psycopg.types.json import Jsonb

    hotsql.execute(f"UPDATE {ParseJob._meta.db_table} SET state = %s, result = %s, ready_at = %s, cached_on = %s "
                   "WHERE id = %s AND state = %s",
                   [State.READY, Jsonb(result), timezone.now(), cached_on, job_id, State.RUNNING])


def _extract(job: Claimed, *, fresh: bool = False, seconds: float = 0.0,
             later: list[resultcache.Pending] | None = None) -> tuple[dict, resultcache.Entry | None]:
    """The job's result, and the cache entry it came from (None when this parse fetched it; then, with
    ``later``, what to store is appended to it for the caller to write)."""
    from .expansion import resolve

    # What the API recognised, as its job row keeps it (a short link, or an id too long for the row: again).
    if job.kind and job.kind != "short" and job.media_id and len(job.media_id) < 200 and job.url:
        target = Recognition(job.input, True, job.platform, job.kind, job.media_id, False, job.url, None)
    else:
        target = recognize(job.input, job.operation)
    if target.short:
        target = resolve(target, operation=job.operation)
    extractor = get_extractor(job.platform)
    if extractor is None:
        raise UnsupportedLink(reason="platform_unavailable")
    run = {"parse": extractor.extract, "live": extractor.live,
           "collection": lambda target: extractor.collection(target, job.page)}[job.operation]

    def fetch() -> dict:
        # The last net under every extractor's own (extractors.base.normalises): a payload of a shape nobody
        # expected is the platform's answer we could not read, a 304 upstream_error like any other.
        try:
            result = run(target)
        except SHAPE_ERRORS as exc:
            log.warning("job %s: %s could not read the platform's answer", job.id, job.platform, exc_info=True)
            raise UpstreamFailure(f"unexpected payload shape: {exc!r}"[:300]) from exc
        if not result.has_media:
            raise ContentUnavailable(reason="no_media")
        return result.to_dict()

    key = resultcache.media_key(job.platform, target.id, target.url, operation=job.operation, kind=target.kind,
                                page=job.page)
    return resultcache.fetch_shared(key, platform=job.platform, media_id=target.id or "", url=target.url or "",
                                    fetch=fetch, seconds=seconds, fresh=fresh, later=later)


def jobs_sweep(*, older_than_seconds: float) -> int:
    """Close the open jobs nobody will settle; returns how many. Two rules: a job older than
    ``older_than_seconds`` (its client stopped waiting long ago), and, seconds after the fact, a job whose
    API process died (parsing.owners: its lease lapsed). On PostgreSQL ages are measured by the database's
    clock, the one that stamped the jobs' creation."""
    swept = 0
    stale = ParseJob.objects.filter(state__in=ParseJob.OPEN_STATES, created_at__lt=_db_ago(older_than_seconds))
    for job_id, user_id in stale.values_list("pk", "user_id")[:1000]:
        swept += job_fail(job_id=job_id, user_id=user_id, code="304", reason="expired", state=State.EXPIRED,
                          from_states=ParseJob.OPEN_STATES)
    # Only jobs older than a lease: a process that just started may not have written its first one yet.
    owned = (ParseJob.objects.filter(state__in=ParseJob.OPEN_STATES, created_at__lt=_db_ago(settings.OWNER_LEASE_TTL))
             .exclude(owner=""))
    lost = owners.dead(list(owned.order_by().values_list("owner", flat=True).distinct()[:200]))
    for job_id, user_id in owned.filter(owner__in=lost).values_list("pk", "user_id")[:1000]:
        swept += job_fail(job_id=job_id, user_id=user_id, code="client_gone", reason="api_lost",
                          state=State.EXPIRED, from_states=ParseJob.OPEN_STATES)
    return swept


def _db_ago(seconds: float):
    """The moment ``seconds`` ago, by the database's clock on PostgreSQL."""
    age = dt.timedelta(seconds=seconds)
    if connection.vendor == "postgresql":
        return ExpressionWrapper(Now() - Value(age), output_field=DateTimeField())
    return timezone.now() - age


# Jobs an API process answered 503 for (or whose client left) and has yet to settle, scored by when: if it
# dies first, the sweeper settles them (jobs_abandon is idempotent, so both may).
UNSETTLED_KEY = "easydown:unsettled"


def settle_noted_jobs(*, older_than_seconds: float) -> int:
    """Settle the jobs API processes noted as unsettled and did not clear within ``older_than_seconds``."""
    import redis

    if not settings.REDIS_URL:
        return 0
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        noted = client.zrangebyscore(UNSETTLED_KEY, "-inf", time.time() - older_than_seconds, start=0, num=500)
    except redis.RedisError:
        return 0
    if not noted:
        return 0
    changed = jobs_abandon(job_ids=[uuid.UUID(raw.decode()) for raw in noted])
    with contextlib.suppress(redis.RedisError):
        client.zrem(UNSETTLED_KEY, *noted)
    return changed


def jobs_abandon(*, job_ids: list[uuid.UUID]) -> int:
    """Make sure these jobs end without a charge: their requests failed on a dependency and told their
    clients 503, or their clients left. An open job is closed and its credit released; a delivered one (a
    settlement that committed although its answer never reached the client) is refunded, once. Returns how
    many changed; ids never opened are skipped."""
    changed = 0
    for job_id, user_id, state in ParseJob.objects.filter(pk__in=job_ids).values_list("pk", "user_id", "state"):
        if state in ParseJob.OPEN_STATES:
            changed += job_fail(job_id=job_id, user_id=user_id, code="client_gone", reason="dependency_failure",
                                state=State.ABANDONED, from_states=ParseJob.OPEN_STATES)
        elif state == State.SUCCEEDED:
            with transaction.atomic():
                if _transition(job_id, [State.SUCCEEDED], state=State.ABANDONED, error_code="client_gone",
                               error_reason="answer_lost"):
                    credit_adjust(user_id=user_id, amount=1, reference=f"refund:job:{job_id}",
                                  note="delivered, but its request answered 503")
                    metrics.CREDITS.labels("refunded").inc()
                    changed += 1
    return changed
