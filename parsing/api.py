"""The public parse endpoint: an async view, so waiting for a worker costs a socket, not a thread."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

from django import db
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from easydown import exceptions as api

from . import notify
from .models import ParseJob
from .services import Submission, job_response_error, job_settle, parse_submit

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


async def wait_for_job(notice: asyncio.Future[None] | None, timeout: float) -> None:
    """Return when the job leaves pending/running (its notice, or the listener's poll) or the timeout passes."""
    if notice is None:  # no Redis: tasks ran in-process, the job is already done
        return
    try:
        await asyncio.wait_for(asyncio.shield(notice), timeout=timeout)
    except TimeoutError:
        pass


@csrf_exempt
async def parse_view(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/parse {"url": "..."} → the unified result, or an error in the envelope."""
    headers: dict[str, str] = {}
    try:
        if request.method != "POST":
            raise api.MethodNotAllowed(headers={"Allow": "POST"})
        job_id = uuid.uuid4()
        # Listen before the job exists, so its completion notice cannot be missed.
        notice = await listener().register(str(job_id)) if settings.REDIS_URL else None
        try:
            submitting = asyncio.ensure_future(in_thread(parse_submit)(request=request, job_id=job_id))
            try:
                submission = await asyncio.shield(submitting)
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
        job = await in_thread(job_settle)(job_id=job_id, user_id=submission.user_id,
                                              give_up=ParseJob.State.TIMED_OUT)
        if job.state == ParseJob.State.SUCCEEDED:
            return _success(job, headers)
        raise job_response_error(job)
    except api.ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        return api.error_response(exc)
    except Exception as exc:
        if api.dependency_failure(exc):
            # Redis or PostgreSQL is down or does not answer: nothing was charged (a reserved credit is
            # released by its job's settlement or, if the database is what failed, by the sweeper).
            log.warning("parse request failed on a dependency: %r", exc)
            return api.error_response(api.ServiceUnavailable(headers={**headers, "Retry-After": "2"}))
        log.exception("parse request failed")
        return api.error_response(api.InternalError(headers=headers))

