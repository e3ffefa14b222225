"""The public parse endpoint: an async view, so waiting for a worker costs a socket, not a thread."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from easydown import exceptions as api

from . import notify
from .models import ParseJob
from .services import job_response_error, job_settle, parse_submit

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # a safety net under pub/sub: a lost notice costs at most this much latency


def _success(job: ParseJob, headers: dict[str, str]) -> JsonResponse:
    response = JsonResponse({"status": 200, "data": job.result, "msg": "success"},
                            json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    response["Easydown-Job"] = str(job.id)
    return response


def _open(state: str) -> bool:
    return state in (ParseJob.State.PENDING, ParseJob.State.RUNNING)


async def _job_state(job_id: uuid.UUID) -> str:
    return await ParseJob.objects.filter(pk=job_id).values_list("state", flat=True).aget()


async def wait_for_job(job_id: uuid.UUID, timeout: float) -> None:
    """Return when the job leaves pending/running or the timeout passes."""
    if not settings.REDIS_URL:  # tasks ran in-process: the job is already done
        return
    deadline = time.monotonic() + timeout
    pubsub = notify.async_client().pubsub()
    try:
        await pubsub.subscribe(notify.channel(str(job_id)))
        while _open(await _job_state(job_id)):  # checked after subscribing, so no notice is missed
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(left, POLL_SECONDS))
    finally:
        await pubsub.aclose()


@csrf_exempt
async def parse_view(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/parse {"url": "..."} → the unified result, or an error in the envelope."""
    headers: dict[str, str] = {}
    try:
        if request.method != "POST":
            raise api.MethodNotAllowed(headers={"Allow": "POST"})
        submission = await sync_to_async(parse_submit)(request=request)
        headers = submission.headers
        try:
            await wait_for_job(submission.job_id, settings.PARSE_WAIT_TIMEOUT)
        except asyncio.CancelledError:
            # The client went away: settle without a charge, then let the cancellation proceed.
            await asyncio.shield(sync_to_async(job_settle)(job_id=submission.job_id,
                                                           give_up=ParseJob.State.ABANDONED))
            raise
        job = await sync_to_async(job_settle)(job_id=submission.job_id, give_up=ParseJob.State.TIMED_OUT)
        if job.state == ParseJob.State.SUCCEEDED:
            return _success(job, headers)
        raise job_response_error(job)
    except api.ApiError as exc:
        exc.headers = {**headers, **exc.headers}
        return api.error_response(exc)
    except Exception:
        log.exception("parse request failed")
        return api.error_response(api.InternalError(headers=headers))
