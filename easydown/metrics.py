"""Prometheus metrics, served at ``GET /metrics`` with ``Authorization: Bearer <EASYDOWN_METRICS_TOKEN>``
(no token set: the endpoint does not exist).

With ``PROMETHEUS_MULTIPROC_DIR`` set (the production scripts set it), every process on the box (each
uvicorn worker, each Celery worker) writes its counters there and ``/metrics`` adds them up, so credits
released by a worker and requests served by either API process are all counted. Queue depths are read from
the broker when scraped.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter("easydown_requests_total", "HTTP requests answered, by endpoint and status",
                   ["endpoint", "status"])
PARSES = Counter("easydown_parses_total", "Parse requests that reached a platform's queue or cache, by outcome",
                 ["platform", "outcome"])
PARSE_SECONDS = Histogram("easydown_parse_seconds", "Time to answer a parse request (successful and not)",
                          ["platform"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60))
CREDITS = Counter("easydown_credits_total", "Credits moved: reserved, captured, released, refunded",
                  ["movement"])
TUNNEL_BYTES = Counter("easydown_tunnel_bytes_total", "Bytes streamed to clients through the media tunnel",
                       ["platform"])

_ENDPOINTS = ("/api/v1/parse", "/api/v1/account", "/api/v1/media/", "/healthz", "/readyz", "/metrics", "/admin/")


def endpoint_of(path: str) -> str:
    """A bounded label for a request path (the media tunnel's tokens and the site's pages are grouped)."""
    for prefix in _ENDPOINTS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return prefix.rstrip("/") if prefix == "/api/v1/media/" else prefix
    return "site"


class QueueDepth:
    """Collector: how many jobs wait in each queue (read from the broker at scrape time)."""

    def collect(self):
        from parsing.admission import broker

        family = GaugeMetricFamily("easydown_queue_depth", "Jobs waiting in each Celery queue", labels=["queue"])
        queues = sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *settings.EASYDOWN_QUEUES.values()})
        try:
            pipe = broker().pipeline(transaction=False)
            for queue in queues:
                pipe.llen(queue)
            for queue, depth in zip(queues, pipe.execute(), strict=True):
                family.add_metric([queue], int(depth))
        except Exception:  # noqa: BLE001 - a scrape without queue depths is better than none
            return
        yield family


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's counters (or this process's), and the queue depths."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(scrape)
    else:
        from prometheus_client import REGISTRY

        scrape.register(REGISTRY)  # a registry is a collector too
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        scrape.register(QueueDepth())
    return scrape


def authorized(header: str | None) -> bool:
    token = settings.EASYDOWN_METRICS_TOKEN
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].strip().encode(), token.encode())


async def serve(scope, receive, send) -> None:
    """GET /metrics (ASGI)."""
    from .exceptions import ApiError, InvalidToken, MethodNotAllowed, NotFound

    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
    error: ApiError | None = None
    if not settings.EASYDOWN_METRICS_TOKEN:
        error = NotFound()
    elif scope["method"] != "GET":
        error = MethodNotAllowed(headers={"Allow": "GET"})
    elif not authorized(headers.get("authorization")):
        error = InvalidToken()
    if error is not None:
        import json

        body = json.dumps(error.body()).encode()
        await send({"type": "http.response.start", "status": error.status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *[(n.lower().encode(), str(v).encode()) for n, v in error.headers.items()]]})
        await send({"type": "http.response.body", "body": body})
        return
    payload = generate_latest(registry())
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
        (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
