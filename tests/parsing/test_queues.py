"""One Celery queue per platform group (EASYDOWN_QUEUES): two worker processes serving different queues;
stopping one makes only its platforms answer 503 at once while the others keep answering 200."""

from __future__ import annotations

import json
import signal
import time

import httpx
import pytest

from parsing.models import ParseJob
from tests.conftest import ARTIFACTS
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, vid
from tests.support.stack import _spawn, start_stack

TIKTOK = "https://www.tiktok.com/@someone/video/{}"


@pytest.fixture
def two_queues(django_db_setup, django_db_blocker):
    short = f"short-{time.time_ns() % 10**9}"
    with django_db_blocker.unblock():
        stack = start_stack(ARTIFACTS / "queues-stack", EASYDOWN_QUEUES=json.dumps({"tiktok": short, "douyin": short}))
    args, env, log_dir = stack.worker_command
    args = [a if not a.startswith("test-") or "@" in a else short for a in args]  # -Q <short>
    args = [f"{short}@%h" if a.endswith("@%h") else a for a in args]
    stack.processes["short"], stack.logs["short"] = _spawn("short-worker", args, env, log_dir)
    deadline = time.monotonic() + 60
    while "ready" not in stack.logs["short"].read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    yield stack
    stack.stop()


def post(stack, token: str, url: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/api/v1/parse", headers={"Authorization": f"Bearer {token}"},
                      json={"url": url}, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_stopping_one_queues_workers_stops_only_its_platforms(two_queues):
    key, token = make_key(credits=10)
    assert post(two_queues, token, YT.format(vid("q1"))).status_code == 200
    assert post(two_queues, token, TIKTOK.format("7234567890123456701")).status_code == 200
    served = {job.platform: job for job in ParseJob.objects.all()}
    assert set(served) == {"youtube", "tiktok"}
    # The short-video worker stops (as systemd stops a unit): it leaves its queue at once.
    worker = two_queues.processes["short"]
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    stopped_at = time.monotonic()
    refused = post(two_queues, token, TIKTOK.format("7234567890123456702"))
    body = refused.json()
    assert refused.status_code == 503 and body["reason"] == "no_worker" and refused.headers["Retry-After"]
    assert time.monotonic() - stopped_at < 5  # at once: not three heartbeats later
    assert post(two_queues, token, YT.format(vid("q2"))).status_code == 200
    assert key.user.credit_account.__class__.objects.get(pk=key.user.pk).available == 7  # the 503 cost nothing
