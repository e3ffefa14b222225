"""A private Redis (never the shared one), killed and restarted under a live stack: the API answers 503
with Retry-After, never 500, charges nothing, and recovers by itself."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis
from django.db.models import Sum

from billing.models import CreditHold, LedgerEntry
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
            self.proc.send_signal(signal.SIGCONT)  # a frozen one too
            self.proc.kill()
            self.proc.wait()

    def freeze(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)


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


def test_redis_frozen_under_load(redis_stack):
    """SIGSTOP: Redis accepts connections and answers nothing. Requests still get an answer within about
    two seconds (503), parses in flight finish through the database poll, and all is well after SIGCONT."""
    from tests.parsing.test_database_faults import Load

    stack, private = redis_stack
    key, token = make_key(credits=100_000, rate_limit_per_minute=1_000_000)
    assert parse(stack, token, vid("f0")).status_code == 200
    probes = []
    with Load(stack, token, "rf") as load:
        time.sleep(1.5)
        private.freeze()
        frozen_at = time.monotonic()
        # The load's clients may all be waiting on parses sent just before the freeze (those finish after it):
        # these requests are sure to arrive while Redis is frozen.
        for n in range(3):
            time.sleep(0.2)
            sent = time.monotonic()
            answer = parse(stack, token, vid(f"rfp{n}"))
            probes.append((answer, time.monotonic() - sent))
        time.sleep(max(0.0, 6 - (time.monotonic() - frozen_at)))
        private.thaw()
        time.sleep(3)
    for answer, took in probes:
        assert_envelope(answer, 503, "service_unavailable")
        assert int(answer.headers["Retry-After"]) >= 1 and took < 2.5, (took, answer.headers)
    assert load.broken == [] and load.statuses[500] == 0, (load.statuses, load.broken)
    assert load.no_retry_after == 0, load.statuses
    assert load.slowest_503 < 2.5, (load.slowest_503, load.slowest_503_body)
    after = [parse(stack, token, vid(f"rfa{n}")).status_code for n in range(40)]
    assert after == [200] * 40
    deadline = time.monotonic() + 10
    while CreditHold.objects.filter(state="held").exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not CreditHold.objects.filter(state="held").exists()
    charged = LedgerEntry.objects.filter(account_id=key.user_id).exclude(kind="topup").aggregate(n=Sum("amount"))["n"]
    assert -charged == load.statuses[200] + 1 + 40
