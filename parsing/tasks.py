"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task
from celery.signals import worker_init, worker_ready, worker_shutdown
from django.conf import settings

from . import idempotency, services
from .extractors import ytdlp  # noqa: F401 - connects the yt-dlp warm-up to worker_process_init


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def parse_job(job_id: str, fresh: bool = False, owner: str = "") -> str:
    return services.job_run(job_id=job_id, fresh=fresh, owner=owner)


@shared_task(ignore_result=True)
def sweep_stale_jobs() -> int:
    """Release the holds of jobs nobody will settle: their API process died (or lost its database) while
    the client waited. The API gives up on a job PARSE_WAIT_TIMEOUT after creating it and the worker's
    deadline ends one second later, so any job still open a few seconds after that is orphaned."""
    swept = services.jobs_sweep(older_than_seconds=stale_after())
    # Jobs an API process answered 503 for and did not live to settle (its retries last RELEASE_RETRY_FOR).
    swept += services.settle_noted_jobs(older_than_seconds=settings.RELEASE_RETRY_FOR + 5)
    idempotency.purge()  # Idempotency-Keys past their 24 hours
    return swept


@shared_task(ignore_result=True)
def prune_request_log() -> int:
    """Delete request log entries older than EASYDOWN_REQUEST_LOG_DAYS (hourly)."""
    from . import requestlog

    return requestlog.prune()


def stale_after() -> float:
    """Seconds after its creation a job that is still open has been abandoned by its API."""
    return settings.PARSE_WAIT_TIMEOUT + settings.SWEEP_MARGIN


@worker_init.connect
def _check_settings(**_: object) -> None:
    """A cookies file that would fail every parse of its platform stops the worker at start, naming the file."""
    from .checks import require_valid_settings

    require_valid_settings()


@worker_ready.connect
def _start_heartbeat(sender=None, **_: object) -> None:
    """Tell the API which queues this worker serves (parsing.admission: no live worker means 503 at once)."""
    from . import admission

    queues = [q.name for q in sender.app.amqp.queues.consume_from.values()] if sender is not None else []
    _serving[:] = queues or [settings.CELERY_TASK_DEFAULT_QUEUE]
    admission.start_heartbeat(_serving, _worker_name(sender))


_serving: list[str] = []


def _worker_name(sender) -> str:
    import os
    import socket

    return f"{getattr(sender, 'hostname', None) or socket.gethostname()}:{os.getpid()}"


@worker_shutdown.connect
def _leave(sender=None, **_: object) -> None:
    """Stopping: this worker's queues stop counting on it at once (and get the starts it counted last)."""
    from . import admission

    admission.flush_starts()
    if _serving:
        try:
            admission.leave(_serving, _worker_name(sender))
        except Exception:  # noqa: BLE001 - Redis away: the word lapses in three beats anyway
            pass
