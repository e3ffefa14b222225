"""The public parse endpoint: an async view, so waiting for a worker costs a socket, not a thread."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django import db
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from easydown import exceptions as api

from . import notify, owners
from .models import ParseJob
from .services import Submission, job_response_error, job_settle, jobs_abandon, parse_submit

log = logging.getLogger(__name__)


_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.API_DB_THREADS, thread_name_prefix="easydown-orm")
    return _executor


def in_thread(func):
    """Run blocking ORM work on this process's few ORM threads (API_DB_THREADS).

    Django's default gives every request a new thread, so every per-thread resource (the database
    connection, Celery's backend object) is built again for each parse. These threads are reused and
    keep them, so the API uses at most API_DB_THREADS database connections per process however many
    requests wait; a connection that saw an error is dropped if it no longer answers, as Django does at
    the end of a request. (A plain executor call: asgiref's sync_to_async costs more per hop, and none
    of its context juggling is needed here.)
    """

    def run(**kwargs):
        try:
            return func(**kwargs)
        finally:
            conn = db.connection
            if conn.errors_occurred:
                if conn.connection is not None and conn.is_usable():
                    conn.errors_occurred = False
                else:
                    conn.close()

    async def call(**kwargs):
        return await asyncio.get_running_loop().run_in_executor(_threads(), functools.partial(run, **kwargs))

    return call


def _success(job: ParseJob, headers: dict[str, str]) -> JsonResponse:
    response = JsonResponse({"status": 200, "data": job.result, "msg": "success"},
                            json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    response["Easydown-Job"] = str(job.id)
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
    try:
        outcome = await asyncio.wait_for(asyncio.shield(notice), timeout=timeout)
    except TimeoutError:
        return
    if outcome == notify.UNAVAILABLE:
        raise db.OperationalError("the worker could not record the job's outcome")


async def _answer_in_time(work: asyncio.Future, job_id: uuid.UUID) -> object:
    """The result of the job's database work, or a dependency failure (503) once it has taken
    DB_ANSWER_TIMEOUT: a frozen database must not hold the client. The work cannot be stopped (its statement
    may already be on the server), so when it finishes after its client was answered (or left), the job is
    made sure to end without a charge."""
    try:
        return await asyncio.wait_for(asyncio.shield(work), timeout=settings.DB_ANSWER_TIMEOUT)
    except TimeoutError:
        work.add_done_callback(functools.partial(_finished_late, job_id))
        raise db.OperationalError("the database did not answer in time") from None
    except asyncio.CancelledError:  # the client left: it gets nothing, whatever the work does
        work.add_done_callback(functools.partial(_finished_late, job_id))
        raise


def _finished_late(job_id: uuid.UUID, work: asyncio.Future) -> None:
    if not work.cancelled():
        work.exception()  # seen here: its client was already answered
    release_later(job_id)


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
        try:
            await in_thread(jobs_abandon)(job_ids=list(batch))
        except Exception as exc:  # noqa: BLE001 - the database is still away: try again in a second
            if not api.dependency_failure(exc):
                log.exception("could not release %d jobs", len(batch))
        else:
            for job_id, stamp in batch.items():
                # Asked again while this ran (its late work finished since): that request is not served yet.
                if _to_release.get(job_id) == stamp:
                    del _to_release[job_id]
            continue
        await asyncio.sleep(1.0)


@csrf_exempt
async def parse_view(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/parse {"url": "..."} → the unified result, or an error in the envelope."""
    headers: dict[str, str] = {}
    job_id: uuid.UUID | None = None
    try:
        if request.method != "POST":
            raise api.MethodNotAllowed(headers={"Allow": "POST"})
        job_id = uuid.uuid4()
        owners.keep_alive()
        # Listen before the job exists, so its completion notice cannot be missed.
        notice = await listener().register(str(job_id)) if settings.REDIS_URL else None
        try:
            submitting = asyncio.ensure_future(in_thread(parse_submit)(
                request=request, job_id=job_id, owner=owners.me() if settings.REDIS_URL else ""))
            try:
                submission = await _answer_in_time(submitting, job_id)
            except asyncio.CancelledError:
                # The client left while its credit was being reserved: let the reservation finish,
                # then give the credit back at once (not a minute later through the sweeper).
                done = await asyncio.gather(submitting, return_exceptions=True)
                if isinstance(done[0], Submission):
                    await in_thread(job_settle)(job_id=job_id, user_id=done[0].user_id,
                                                give_up=ParseJob.State.ABANDONED)
                raise
            headers = submission.headers
            try:
                await wait_for_job(notice, settings.PARSE_WAIT_TIMEOUT)
            except asyncio.CancelledError:
                # The client went away: settle without a charge, then let the cancellation proceed.
                await asyncio.shield(in_thread(job_settle)(job_id=job_id, user_id=submission.user_id,
                                                               give_up=ParseJob.State.ABANDONED))
                raise
        finally:
            if notice is not None:
                listener().unregister(str(job_id))
        settling = asyncio.ensure_future(in_thread(job_settle)(job_id=job_id, user_id=submission.user_id,
                                                               give_up=ParseJob.State.TIMED_OUT))
        job = await _answer_in_time(settling, job_id)
        if job.state == ParseJob.State.SUCCEEDED:
            return _success(job, headers)
        raise job_response_error(job)
    except api.ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        return api.error_response(exc)
    except Exception as exc:
        if api.dependency_failure(exc):
            # Redis or PostgreSQL is down or does not answer: nothing is charged. If a credit was reserved,
            # it is released as soon as the database answers again, without the sweeper.
            log.warning("parse request failed on a dependency: %r", exc)
            if job_id is not None:
                release_later(job_id)
            return api.error_response(api.ServiceUnavailable(headers={**headers, "Retry-After": "2"}))
        log.exception("parse request failed")
        return api.error_response(api.InternalError(headers=headers))

