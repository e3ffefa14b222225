"""The worker's concurrency model under faults, end to end: a real worker process (threads pool, as
deploy/run-worker.sh runs it), uvicorn, PostgreSQL and Redis. Platforms are local origins on loopback that
hang (tests/support/origins.py), reached through the real outbound policy."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from billing.models import CreditHold
from billing.services import credit_reserve
from parsing.models import ParseJob
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_envelope, balance, captures, post, vid
from tests.support import extractors as scripted
from tests.support.origins import Origin
from tests.support.stack import start_stack

pytestmark = pytest.mark.django_db(transaction=True)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module")
def fault_stack(django_db_setup, django_db_blocker):
    """Its own stack: these tests kill its worker. Loopback origins are allowed (tests only)."""
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "fault-stack", EASYDOWN_OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",
                           EASYDOWN_READ_TIMEOUT="120", EASYDOWN_WORKER_HEARTBEAT="1")
    yield live
    live.stop()


@pytest.fixture
def origin(request):
    found = Origin(mode=getattr(request, "param", "silent")).start()
    yield found
    found.stop()


def wait_for(predicate, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("origin", ["drip"], indirect=True)
def test_the_deadline_stops_a_hung_parse_and_releases_its_credit(fault_stack, origin):
    """A job whose API went away (enqueued, then nobody waits): only the worker's own deadline can end it.
    The platform trickles a byte a second, which no read timeout catches (and the read timeout is 120 s)."""
    from django.conf import settings

    from parsing.tasks import parse_job

    key, _ = make_key(credits=2)
    media = vid("drip")
    scripted.script(media, "fetch", url=origin.url)
    job = ParseJob.objects.create(id=uuid.uuid4(), user=key.user, api_key=key, platform="youtube",
                                  input=YT.format(media), url=YT.format(media))
    credit_reserve(user_id=key.user_id, reference=job.reference)
    parse_job.apply_async(args=[str(job.pk)], queue=fault_stack_queue(fault_stack))
    budget = float(os.environ.get("EASYDOWN_PARSE_WAIT_TIMEOUT", "6")) + 1  # the stack's wait timeout + 1
    assert budget < settings.PARSE_HARD_TIME_LIMIT
    assert origin.closed.wait(60), "the hung parse was never cut off"
    assert origin.sent < 30  # of 120 bytes: cut at the deadline, not at the end of the body
    assert wait_for(lambda: ParseJob.objects.get(pk=job.pk).state == "failed")
    job.refresh_from_db()
    assert (job.error_code, job.error_reason) == ("upstream_timeout", "upstream_timeout")
    assert balance(key.user) == (2, 0) and CreditHold.objects.get().state == "released"


def test_a_killed_worker_process_loses_nothing(fault_stack, origin):
    key, token = make_key(credits=2)
    media = vid("kill")
    scripted.script(media, "fetch", url=origin.url)  # the platform never answers
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, fault_stack, token, {"url": YT.format(media)}, timeout=60)
        assert wait_for(lambda: scripted.worker_pid(media) is not None, 20)
        assert scripted.worker_pid(media) == fault_stack.processes["worker"].pid
        os.kill(fault_stack.processes["worker"].pid, signal.SIGKILL)  # every parse of the process dies
        response = pending.result()
    assert_envelope(response, 504, "upstream_timeout")
    job = ParseJob.objects.get()
    assert job.state == "timed_out"
    assert balance(key.user) == (2, 0) and captures(key.user) == 0
    assert not CreditHold.objects.filter(state="held").exists()
    # With no live worker left, the box says it is not ready, and a new parse is refused at once.
    assert wait_for(lambda: httpx.get(f"{fault_stack.base_url}/readyz").status_code == 503, 15)
    not_ready = httpx.get(f"{fault_stack.base_url}/readyz").json()
    assert not_ready["code"] == "service_unavailable" and not_ready["checks"]["database"] is True
    refused = post(fault_stack, token, {"url": YT.format(vid("nowork"))})
    assert assert_envelope(refused, 503, "service_unavailable")["reason"] == "no_worker"
    assert refused.headers["Retry-After"] == "5"
    assert ParseJob.objects.count() == 1 and balance(key.user) == (2, 0)  # nothing reserved for it
    fault_stack.restart_worker()
    assert wait_for(lambda: httpx.get(f"{fault_stack.base_url}/readyz").status_code == 200, 15)
    time.sleep(0.3)  # the API's reading of the queue is at most a quarter of a second old
    ok = post(fault_stack, token, {"url": YT.format(vid("after"))})
    assert ok.status_code == 200 and balance(key.user) == (1, 0)


def test_parses_wait_on_platforms_concurrently_in_one_process(fault_stack):
    """Twenty parses that each wait two seconds on the platform finish together, in one worker process."""
    key, token = make_key(credits=20)
    media = [vid(f"c{n}") for n in range(20)]
    for m in media:
        scripted.script(m, "sleep", seconds=2)
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda m: post(fault_stack, token, {"url": YT.format(m)}), media))
    assert [r.status_code for r in responses] == [200] * 20
    assert {scripted.worker_pid(m) for m in media} == {fault_stack.processes["worker"].pid}
    assert scripted.most_in_flight() == 20  # all twenty waited on the platform at the same moment
    assert balance(key.user) == (0, 0) and captures(key.user) == 20


def fault_stack_queue(stack) -> str:
    return f"test-{stack.base_url.rsplit(':', 1)[1]}"


# --- backpressure ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_stack(django_db_setup, django_db_blocker):
    """Two worker slots and a one-second queue budget, so a handful of slow parses overload it."""
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "small-stack", worker_concurrency=2, EASYDOWN_QUEUE_MAX_WAIT="1",
                           EASYDOWN_QUEUE_GRACE="0", EASYDOWN_PARSE_WAIT_TIMEOUT="15")
    yield live
    live.stop()


def test_backpressure_answers_503_at_once_and_charges_nothing(small_stack):
    key, token = make_key(credits=10)
    slow = [vid(f"s{n}") for n in range(6)]
    for m in slow:
        scripted.script(m, "sleep", seconds=3)
    results: list[httpx.Response] = []

    def call(m: str) -> None:
        results.append(post(small_stack, token, {"url": YT.format(m)}))

    threads = [threading.Thread(target=call, args=(m,)) for m in slow]
    for t in threads:
        t.start()
    # Two run, four wait in the queue: far more than two slots start within one second.
    assert wait_for(lambda: ParseJob.objects.count() == 6, 10)
    time.sleep(1.3)  # the API has measured how fast jobs start (a second of samples) and reads the queue again
    before = balance(key.user)
    refused = post(small_stack, token, {"url": YT.format(vid("extra"))})
    assert results == []  # answered at once: before even the first admitted parse finished
    body = assert_envelope(refused, 503, "service_unavailable")
    assert body["reason"] == "overloaded" and int(refused.headers["Retry-After"]) >= 1
    assert ParseJob.objects.count() == 6 and balance(key.user) == before  # nothing reserved for it
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 6  # the admitted ones all finish
    assert balance(key.user) == (4, 0) and captures(key.user) == 6


@pytest.fixture(scope="module")
def beat_stack(django_db_setup, django_db_blocker):
    """Its own stack with beat sweeping every second: this test kills its API."""
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "beat-stack", beat=True, EASYDOWN_SWEEP_EVERY="1",
                           EASYDOWN_PARSE_WAIT_TIMEOUT="30")
    yield live
    live.stop()


def test_a_killed_api_process_leaves_no_hold_for_long(beat_stack, settings):
    """Nobody is left to settle the job of an API that died; its lease lapses, and the sweeper releases the
    hold seconds later, long before the job's age (the wait timeout) would."""
    key, token = make_key(credits=2)
    media = vid("apikill")
    scripted.script(media, "sleep", seconds=25)  # a slow platform: the parse is in flight
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, beat_stack, token, {"url": YT.format(media)}, timeout=60)
        assert wait_for(lambda: scripted.worker_pid(media) is not None, 20)
        os.kill(beat_stack.processes["web"].pid, signal.SIGKILL)
        killed = time.monotonic()
        with pytest.raises(httpx.HTTPError):
            pending.result()
    job = ParseJob.objects.get()
    assert job.owner, "the job names the API process waiting on it"
    assert wait_for(lambda: not CreditHold.objects.filter(state="held").exists(), 20)
    released_in = time.monotonic() - killed
    # The lease lapses, two looks of the sweeper (every second here) find it missing: seconds, not the wait.
    assert released_in < settings.OWNER_LEASE_TTL + settings.OWNER_DEAD_AFTER + 5 < 30
    job.refresh_from_db()
    assert (job.state, job.error_reason) == ("expired", "api_lost")
    assert balance(key.user) == (2, 0) and captures(key.user) == 0
