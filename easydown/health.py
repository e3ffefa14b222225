"""GET /healthz: the database answers an indexed query (for load balancers; also the bench baseline)."""

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        User.objects.filter(pk=1).exists()  # one primary-key lookup: proves the database answers
        return Response({"status": 200, "data": {"ok": True}, "msg": "success"})


class ReadyApi(APIView):
    """GET /readyz: ready to take parses: the database, Redis and a live worker for every queue answer.
    503 (with what failed) otherwise, so a load balancer stops sending traffic to a box that would fail."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        checks: dict[str, object] = {"database": _check(_database), "redis": _check(_redis)}
        workers = _check(_workers)
        checks["workers"] = workers
        ready = checks["database"] is True and checks["redis"] is True and isinstance(workers, dict) and all(
            workers.values())
        if ready:
            return Response({"status": 200, "data": checks, "msg": "ready"})
        return Response({"status": 503, "data": None, "msg": "Not ready", "code": "service_unavailable",
                         "checks": checks}, status=503, headers={"Retry-After": "5"})


def _check(probe):
    try:
        return probe()
    except Exception:  # noqa: BLE001 - any failure of a dependency means "not ready", never a 500
        return False


def _database() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _redis() -> bool:
    from django.conf import settings

    if not settings.REDIS_URL:
        return True  # no Redis configured: tasks run in-process
    from parsing.admission import broker

    return bool(broker().ping())


def _workers() -> dict[str, bool]:
    from django.conf import settings

    from parsing.admission import live_queues, queue_for
    from parsing.extractors import extractor_paths

    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return {"in-process": True}
    return live_queues(sorted({queue_for(platform) for platform in extractor_paths()}))
