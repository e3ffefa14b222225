"""The public parse endpoint: an async view, so waiting for a worker costs a socket, not a thread."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django import db
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from easydown import exceptions as api
from easydown import hotsql, metrics
from easydown.cache import async_redis
from easydown.ratelimits import client_ip

from . import idempotency, notify, owners, requestlog, tunnel
from .extractors.base import OPERATIONS
from .models import ParseJob
from .services import UNSETTLED_KEY, Delivered, Submission, job_response_error, job_settle, jobs_abandon, parse_submit

log = logging.getLogger(__name__)


_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.API_DB_THREADS, thread_name_prefix="easydown-orm",
                                       initializer=hotsql.keep_connection)
    return _executor


def _run_with_connection(func, kwargs: dict):
    """Call ``func`` on this ORM thread; a connection that saw an error is dropped if it no longer answers,
    as Django does at the end of a request."""
    try:
        return func(**kwargs)
    finally:
        conn = db.connection
        if conn.errors_occurred:
            if conn.connection is not None and conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()


def in_thread(func):
    """Run blocking ORM work on this process's few ORM threads (API_DB_THREADS).

    Django's default gives every request a new thread, so every per-thread resource (the database
    connection, Celery's backend object) is built again for each parse. These threads are reused and
    keep them, so the API uses at most API_DB_THREADS database connections per process however many
    requests wait. (A plain executor call: asgiref's sync_to_async costs more per hop, and none of its
    context juggling is needed here.)
    """

    async def call(**kwargs):
        # The request's context (its id, for the log lines the work writes) goes along to the thread.
        return await asyncio.get_running_loop().run_in_executor(
            _threads(), contextvars.copy_context().run, functools.partial(_run_with_connection, func, kwargs))

    return call


def public_base(request: HttpRequest) -> str:
    """Where tunnel links point: EASYDOWN_PUBLIC_URL, or the scheme and host this request came to."""
    if settings.EASYDOWN_PUBLIC_URL:
        return settings.EASYDOWN_PUBLIC_URL
    try:
        return f"{request.scheme}://{request.get_host()}"
    except Exception:  # noqa: BLE001 - a Host header Django refuses: links relative to the site root
        return ""


def _success(job: ParseJob | Delivered, headers: dict[str, str], *, key_id: str = "", base_url: str = "",
             operation: str = "parse") -> JsonResponse:
    data = job.result
    if isinstance(data, dict) and operation == "parse":  # media items get tunnel links (a live stream does not)
        data = tunnel.add_tunnels(data, key_id=key_id, base_url=base_url)
    response = JsonResponse({"status": 200, "data": data, "msg": "success"}, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    response["Easydown-Job"] = str(job.id)
    if job.cached_on is not None:  # from the result cache: when that result was made
        response["Cached-On"] = http_date(job.cached_on.timestamp())
    return response


def _closed_jobs_sync(*, ids: list[str]) -> set[str]:
    open_states = (ParseJob.State.PENDING, ParseJob.State.RUNNING)
    return {str(pk) for pk in ParseJob.objects.filter(pk__in=ids).exclude(state__in=open_states)
            .values_list("pk", flat=True)}


async def closed_jobs(ids: list[str]) -> set[str]:
    """Which of these jobs left pending/running: one query on one pooled connection, for the listener's
    safety net under pub/sub."""
    return await in_thread(_closed_jobs_sync)(ids=ids)


def listener() -> notify.JobListener:
    return notify.listener(closed_jobs)


async def wait_for_job(notice: asyncio.Future[bytes | None] | None, timeout: float) -> None:
    """Return when the job leaves pending/running (its notice, or the listener's poll) or the timeout passes;
    raises a dependency failure (503) when the worker could not record the job's outcome."""
    if notice is None:  # no Redis: tasks ran in-process, the job is already done
        return
    # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation (the client leaving)
    # that arrives as the notice does, and the view would then deliver, and charge, for nobody.
    done, _ = await asyncio.wait({notice}, timeout=timeout)
    if not done:
        return
    if notice.result() == notify.UNAVAILABLE:
        raise db.OperationalError("the worker could not record the job's outcome")


class _Step:
    """One database step of a parse request on an ORM thread: when it started, and whether its request
    stopped waiting for it before it started (then it never runs)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: float | None = None
        self.dropped = False


_running: dict[int, float] = {}  # id(step) → when it started, for the steps on the ORM threads now


def _run_step(step: _Step, func, kwargs: dict):
    with step.lock:
        if step.dropped:
            return None
        step.started = time.monotonic()
    _running[id(step)] = step.started
    try:
        return _run_with_connection(func, kwargs)
    finally:
        _running.pop(id(step), None)


def _database_stuck(now: float) -> bool:
    return any(now - started > settings.DB_ANSWER_TIMEOUT for started in list(_running.values()))


async def _answer_in_time(for_job: uuid.UUID, func, /, **kwargs) -> object:
    """``func(**kwargs)`` on an ORM thread, or a dependency failure (503) when the database does not answer:
    the step itself has run DB_ANSWER_TIMEOUT, or it is still queued while another step has. Time spent
    queued behind healthy steps (a busy box) does not count. A step dropped before it started never runs; one
    that finishes after its client was answered (or left) has its job made sure to end without a charge."""
    step = _Step()
    work = asyncio.get_running_loop().run_in_executor(_threads(), contextvars.copy_context().run,
                                                      functools.partial(_run_step, step, func, kwargs))
    try:
        limit = settings.DB_ANSWER_TIMEOUT
        while True:
            started = step.started
            wait = limit if started is None else max(0.0, started + limit - time.monotonic())
            done, _ = await asyncio.wait({work}, timeout=wait)
            if done:
                return work.result()
            now = time.monotonic()
            if (now - started >= limit) if started is not None else _database_stuck(now):
                break
    except asyncio.CancelledError:  # the client left: it gets nothing, whatever the step does
        _drop(step, work, for_job)
        raise
    _drop(step, work, for_job)
    raise db.OperationalError("the database did not answer in time")


def _drop(step: _Step, work: asyncio.Future, job_id: uuid.UUID) -> None:
    with step.lock:
        step.dropped = True
        started = step.started is not None
    if started:
        work.add_done_callback(functools.partial(_finished_late, job_id))


def _finished_late(job_id: uuid.UUID, work: asyncio.Future) -> None:
    if not work.cancelled():
        work.exception()  # seen here: its client was already answered
    release_later(job_id)


def _measure(submission: Submission, outcome: str, started: float, response: HttpResponse,
             error: api.ApiError | None = None) -> None:
    """Count a parse that reached its platform's queue or the cache and how long its answer took, and log it."""
    metrics.PARSES.labels(submission.platform, outcome).inc()
    metrics.PARSE_SECONDS.labels(submission.platform).observe(time.monotonic() - started)
    _log_call(submission, response, error)


def _log_call(submission: Submission | None, response: HttpResponse, error: api.ApiError | None = None,
              request: HttpRequest | None = None) -> None:
    """Put the call in its key's owner's request log (or, with no recognisable key, count it per IP)."""
    key = submission.key if submission is not None else getattr(error, "key", None)
    if key is None:
        if isinstance(error, api.MissingToken | api.InvalidToken | api.RateLimited) and request is not None:
            requestlog.record_auth_failure(client_ip(request))
        return
    code, reason = "", ""
    if error is not None:
        code, reason = error.code, str(error.extra.get("reason", ""))
    elif submission is not None and submission.replay is not None:  # a stored 200: a result, or code 304
        try:
            body = json.loads(submission.replay.body)
        except ValueError:
            body = {}
        code, reason = body.get("code", ""), str(body.get("reason", "") or "")
    charged = response.status_code == 200 and not code and not (submission and submission.replay)
    operation = submission.operation if submission is not None else getattr(error, "operation", "parse")
    requestlog.record(key=key, endpoint=f"/api/v1/{operation}", status=response.status_code, code=code, reason=reason,
                      link=submission.link if submission else getattr(error, "link", ""),
                      platform=submission.platform if submission else getattr(error, "platform", ""),
                      credits=1 if charged else 0)


def _replayed(replay: idempotency.Replay, headers: dict[str, str]) -> HttpResponse:
    response = HttpResponse(replay.body, status=replay.status, content_type="application/json")
    for name, value in {**headers, **replay.headers, "Idempotent-Replayed": "true"}.items():
        response[name] = value
    return response


async def _keep_answer(submission: Submission, response: HttpResponse | None) -> None:
    """Store the answer for replays when the request claimed an Idempotency-Key and its job ended with 200
    (a result, or the documented code 304); otherwise (or with no answer at all) give the key back."""
    if submission.idempotency is None:
        return
    key, fingerprint = submission.idempotency
    try:
        if response is not None and response.status_code == 200:
            await in_thread(idempotency.remember)(user_id=submission.user_id, key=key, fingerprint=fingerprint,
                                                  status=200, body=response.content, headers=dict(response.items()))
        else:
            await in_thread(idempotency.forget)(user_id=submission.user_id, key=key, fingerprint=fingerprint)
    except Exception:  # noqa: BLE001 - the answer still goes out; an unkept claim lapses on its own
        log.warning("could not keep the answer for Idempotency-Key of job %s", submission.job_id, exc_info=True)


_forgetting: set[asyncio.Task[None]] = set()


def _give_key_back(submission: Submission | None) -> None:
    """The request ended without an answer to replay (an error after its claim): release its
    Idempotency-Key in the background (best effort: a claim that is never released lapses)."""
    if submission is None or submission.idempotency is None:
        return
    task = asyncio.get_running_loop().create_task(_keep_answer(submission, None))
    _forgetting.add(task)
    task.add_done_callback(_forgetting.discard)


_to_release: dict[uuid.UUID, float] = {}
_releaser: dict[int, asyncio.Task[None]] = {}


def release_later(job_id: uuid.UUID) -> None:
    """Make sure the job ends without a charge, in the background: its request failed on a dependency and
    told its client 503 (or the client left), so whatever the job's state now or later (open, or delivered
    by a settlement that committed after all), the client was not given a result. One task per process
    retries every such job once a second, all in one thread hop, while the database does not answer, for
    up to RELEASE_RETRY_FOR seconds; after that the sweeper has the open ones."""
    _to_release[job_id] = time.monotonic() + settings.RELEASE_RETRY_FOR
    loop = asyncio.get_running_loop()
    task = _releaser.get(id(loop))
    if task is None or task.done():
        _releaser[id(loop)] = loop.create_task(_release_pending())


async def _note_unsettled(job_ids: list[uuid.UUID]) -> None:
    """Also write the jobs down in Redis (services.UNSETTLED_KEY), so that if this process dies before it
    has settled them, the sweeper does it; best effort (with Redis down, this process's retries remain)."""
    client = async_redis()
    if client is None:
        return
    try:
        await client.zadd(UNSETTLED_KEY, {str(job_id): time.time() for job_id in job_ids}, nx=True)
    except Exception:  # noqa: BLE001 - best effort
        log.debug("could not note unsettled jobs in Redis", exc_info=True)


async def _clear_unsettled(job_ids: list[uuid.UUID]) -> None:
    client = async_redis()
    if client is not None:
        try:
            await client.zrem(UNSETTLED_KEY, *(str(job_id) for job_id in job_ids))
        except Exception:  # noqa: BLE001 - best effort: the sweeper settling them again changes nothing
            log.debug("could not clear unsettled jobs in Redis", exc_info=True)


async def _release_pending() -> None:
    while _to_release:
        now = time.monotonic()
        for job_id, give_up_at in list(_to_release.items()):
            if give_up_at < now:
                log.error("could not make sure job %s ends without a charge", job_id)
                del _to_release[job_id]
        batch = dict(_to_release)
        if not batch:
            return
        await _note_unsettled(list(batch))
        try:
            await in_thread(jobs_abandon)(job_ids=list(batch))
        except Exception as exc:  # noqa: BLE001 - the database is still away: try again in a second
            if not api.dependency_failure(exc):
                log.exception("could not release %d jobs", len(batch))
        else:
            await _clear_unsettled(list(batch))
            for job_id, stamp in batch.items():
                # Asked again while this ran (its late work finished since): that request is not served yet.
                if _to_release.get(job_id) == stamp:
                    del _to_release[job_id]
            continue
        await asyncio.sleep(1.0)


def _endpoint(operation: str):
    """The view of POST /api/v1/<operation>: the one metered pipeline (serve), asked for this operation."""

    @csrf_exempt
    async def view(request: HttpRequest) -> JsonResponse:
        return await serve(request, operation)

    view.__name__ = view.__qualname__ = f"{operation}_view"
    view.__doc__ = f"POST /api/v1/{operation}: the {operation} result, or an error in the envelope."
    return view


async def serve(request: HttpRequest, operation: str = "parse") -> JsonResponse:
    """POST /api/v1/<operation> {"url": "...", ...} → the operation's result, or an error in the envelope:
    authenticate, limit, recognise, authorise, block list, idempotency, reserve, enqueue, wait, settle, log."""
    headers: dict[str, str] = {}
    job_id: uuid.UUID | None = None
    submission: Submission | None = None
    started = time.monotonic()
    try:
        if request.method != "POST":
            raise api.MethodNotAllowed(headers={"Allow": "POST"})
        job_id = uuid.uuid4()
        owners.keep_alive()
        # Listen before the job exists, so its completion notice cannot be missed.
        notice = await listener().register(str(job_id)) if settings.REDIS_URL else None
        try:
            # A client that leaves while its credit is being reserved gets it back at once (_answer_in_time).
            submission = await _answer_in_time(job_id, parse_submit, request=request, job_id=job_id,
                                               owner=owners.me() if settings.REDIS_URL else "", operation=operation)
            headers = submission.headers
            if submission.replay is not None:
                response = _replayed(submission.replay, headers)
                _log_call(submission, response)
                return response
            if submission.cached is not None:  # answered, and charged, from the result cache
                response = _success(submission.cached, headers, key_id=submission.key_id,
                                    base_url=public_base(request), operation=operation)
                await _keep_answer(submission, response)
                _measure(submission, "cached", started, response)
                return response
            try:
                await wait_for_job(notice, settings.PARSE_WAIT_TIMEOUT)
            except asyncio.CancelledError:
                # The client went away: settle without a charge, then let the cancellation proceed.
                _give_key_back(submission)
                await asyncio.shield(in_thread(job_settle)(job_id=job_id, user_id=submission.user_id,
                                                               give_up=ParseJob.State.ABANDONED))
                raise
        finally:
            if notice is not None:
                listener().unregister(str(job_id))
        job = await _answer_in_time(job_id, job_settle, job_id=job_id, user_id=submission.user_id,
                                    give_up=ParseJob.State.TIMED_OUT)
        if job.state == ParseJob.State.SUCCEEDED:
            response = _success(job, headers, key_id=submission.key_id, base_url=public_base(request),
                                operation=operation)
            _measure(submission, "succeeded", started, response)
        else:
            error = job_response_error(job)
            error.headers = {**headers, **error.headers}
            response = api.error_response(error)
            _measure(submission, str(job.error_reason or job.error_code or job.state), started, response, error)
        await _keep_answer(submission, response)
        return response
    except api.ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        exc.operation = operation  # for the request log
        _give_key_back(submission)
        response = api.error_response(exc)
        _log_call(submission, response, exc, request)
        return response
    except Exception as exc:
        _give_key_back(submission)
        if api.dependency_failure(exc):
            # Redis or PostgreSQL is down or does not answer: nothing is charged. If a credit was reserved,
            # it is released as soon as the database answers again, without the sweeper.
            log.warning("parse request failed on a dependency: %r", exc)
            if job_id is not None:
                release_later(job_id)
            unavailable = api.ServiceUnavailable(headers={**headers, "Retry-After": "2"})
            unavailable.operation = operation
            response = api.error_response(unavailable)
            _log_call(submission, response, unavailable)
            return response
        log.exception("parse request failed")
        return api.error_response(api.InternalError(headers=headers))



parse_view, live_view, collection_view = (_endpoint(operation) for operation in OPERATIONS)
