"""A private Redis (never the shared one), killed and restarted under a live stack: the API answers 503
with Retry-After, never 500, charges nothing, and recovers by itself."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis

from billing.models import CreditHold
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_envelope, balance, vid
from tests.support.stack import free_port, start_stack

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary"),
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def redis_stack(django_db_setup, django_db_blocker):
    private = PrivateRedis()
    private.start()
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "redis-fault-stack", REDIS_URL=private.url, CELERY_BROKER_URL=private.url,
                           EASYDOWN_PARSE_WAIT_TIMEOUT="10")
    yield live, private
    live.stop()
    private.kill()


def parse(stack, token: str, media: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": YT.format(media)},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_redis_killed_and_restarted(redis_stack):
    stack, private = redis_stack
    key, token = make_key(credits=100)
    assert parse(stack, token, vid("r0")).status_code == 200
    private.kill()
    statuses = []
    for n in range(5):
        down = parse(stack, token, vid(f"rd{n}"))
        statuses.append(down.status_code)
        assert_envelope(down, 503, "service_unavailable")
        assert int(down.headers["Retry-After"]) >= 1
    assert balance(key.user) == (99, 0)  # nothing charged, nothing left reserved
    private.start()
    # Recovers by itself: the API's and the worker's clients reconnect.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = parse(stack, token, vid("rwait"))
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            break
        time.sleep(0.5)
    after = [parse(stack, token, vid(f"ra{n}")).status_code for n in range(20)]
    assert after == [200] * 20
    assert 500 not in statuses
    assert not CreditHold.objects.filter(state="held").exists()
