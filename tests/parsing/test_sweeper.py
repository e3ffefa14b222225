import datetime as dt
import time
import uuid

import pytest
import redis
from django.utils import timezone

from billing.models import CreditAccount, CreditHold, LedgerEntry
from billing.services import credit_reserve
from parsing import owners
from parsing.models import ParseJob
from parsing.services import job_fail, job_settle, jobs_abandon, jobs_sweep
from parsing.tasks import sweep_stale_jobs
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def open_job(key, *, state="running", age_seconds=0, owner="") -> ParseJob:
    job = ParseJob.objects.create(id=uuid.uuid4(), user=key.user, api_key=key, platform="youtube",
                                  input="https://youtu.be/abcdefghijk", url="https://youtu.be/abcdefghijk",
                                  state=state, owner=owner)
    credit_reserve(user_id=key.user_id, reference=job.reference)
    ParseJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(seconds=age_seconds))
    return job


def test_sweeper_releases_only_stale_holds():
    key, _ = make_key(credits=3)
    stale_running = open_job(key, age_seconds=600)
    stale_ready = open_job(key, state="ready", age_seconds=600)
    fresh = open_job(key, age_seconds=1)
    assert sweep_stale_jobs() == 2
    assert {j.pk: j.state for j in ParseJob.objects.all()} == {
        stale_running.pk: "expired", stale_ready.pk: "expired", fresh.pk: "running"}
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (2, 1)
    assert jobs_sweep(older_than_seconds=90) == 0  # settled once


def test_a_job_is_orphaned_seconds_after_its_client_stopped_waiting(settings):
    """The API gives up at PARSE_WAIT_TIMEOUT; a job still open SWEEP_MARGIN later lost its API."""
    key, _ = make_key(credits=2)
    limit = settings.PARSE_WAIT_TIMEOUT + settings.SWEEP_MARGIN
    orphan = open_job(key, age_seconds=limit + 1)
    waiting = open_job(key, state="pending", age_seconds=settings.PARSE_WAIT_TIMEOUT - 1)
    assert limit < settings.PARSE_HARD_TIME_LIMIT + 30  # sooner than the old hard-limit rule
    assert sweep_stale_jobs() == 1
    assert ParseJob.objects.get(pk=orphan.pk).state == "expired"
    assert ParseJob.objects.get(pk=waiting.pk).state == "pending"
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (1, 1)


def test_an_expired_ready_job_is_not_delivered_later():
    key, _ = make_key(credits=1)
    job = open_job(key, state="ready", age_seconds=600)
    sweep_stale_jobs()
    assert job_settle(job_id=job.pk, user_id=key.user_id, give_up="timed_out").state == "expired"
    assert CreditHold.objects.get().state == "released"


def test_a_job_redelivered_past_the_attempt_limit_fails_without_extracting(settings):
    from parsing.services import job_run

    settings.EASYDOWN_EXTRACTORS = {"youtube": "tests.parsing.test_sweeper.ExplodingExtractor"}
    key, _ = make_key(credits=1)
    job = open_job(key)
    ParseJob.objects.filter(pk=job.pk).update(attempts=settings.PARSE_MAX_ATTEMPTS)
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.state, job.error_reason, job.attempts) == ("failed", "worker_lost", settings.PARSE_MAX_ATTEMPTS + 1)
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (1, 0)


class ExplodingExtractor:
    def extract(self, target):
        raise AssertionError("must not be called")


def test_a_job_that_waited_in_the_queue_past_its_clients_wait_is_not_extracted(settings):
    """Its client has stopped waiting: the worker gives its credit back without calling the platform."""
    from parsing.services import job_run

    settings.EASYDOWN_EXTRACTORS = {"youtube": "tests.parsing.test_sweeper.ExplodingExtractor"}
    key, _ = make_key(credits=1)
    job = open_job(key, state="pending", age_seconds=settings.PARSE_WAIT_TIMEOUT + 5)
    job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "upstream_timeout")
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (1, 0)


@pytest.fixture
def leases(settings):
    """The owners' leases in the test Redis."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.delete(*client.keys("easydown:owner*:test-*") or ["none"])


def missing_since(client, owner: str, seconds_ago: float) -> None:
    """As if the sweeper had first found the owner's lease missing ``seconds_ago`` (by Redis's clock)."""
    now, micros = client.time()
    client.set(owners.suspect_key(owner), str(now + micros / 1e6 - seconds_ago))


def test_the_jobs_of_a_dead_api_process_are_released_seconds_after_its_lease_lapsed(settings, leases):
    key, _ = make_key(credits=4)
    leases.set(owners.lease_key("test-alive"), b"1", ex=30)
    lease = settings.OWNER_LEASE_TTL
    orphan = open_job(key, state="pending", age_seconds=lease + 1, owner="test-dead")
    orphan_ready = open_job(key, state="ready", age_seconds=lease + 1, owner="test-dead")
    young = open_job(key, age_seconds=0, owner="test-dead")  # its process may not have written a lease yet
    waited_on = open_job(key, age_seconds=lease + 1, owner="test-alive")
    assert lease + 1 < settings.PARSE_WAIT_TIMEOUT  # the age rule alone would not touch any of them yet
    assert sweep_stale_jobs() == 0  # first look: missing, which proves nothing yet
    missing_since(leases, "test-dead", settings.OWNER_DEAD_AFTER)
    assert sweep_stale_jobs() == 2  # second look, long enough after: gone
    states = dict(ParseJob.objects.values_list("pk", "state"))
    assert (states[orphan.pk], states[orphan_ready.pk]) == ("expired", "expired")
    assert (states[young.pk], states[waited_on.pk]) == ("running", "running")
    assert ParseJob.objects.get(pk=orphan.pk).error_reason == "api_lost"
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (2, 2)


def test_a_lease_missing_once_or_briefly_means_nothing(settings, leases):
    """A restarted or thawed Redis has lost every lease until the live processes renew theirs."""
    key, _ = make_key(credits=1)
    job = open_job(key, age_seconds=settings.OWNER_LEASE_TTL + 1, owner="test-late")
    assert sweep_stale_jobs() == 0
    missing_since(leases, "test-late", settings.OWNER_DEAD_AFTER / 2)
    assert sweep_stale_jobs() == 0  # not long enough apart
    leases.set(owners.lease_key("test-late"), b"1", ex=30)  # renewed: it was only late
    assert sweep_stale_jobs() == 0
    assert not leases.exists(owners.suspect_key("test-late"))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # Redis does not answer
    leases.delete(owners.lease_key("test-late"))
    missing_since(leases, "test-late", 60)
    assert sweep_stale_jobs() == 0
    assert ParseJob.objects.get(pk=job.pk).state == "running"


def test_abandoning_releases_open_jobs_and_refunds_delivered_ones_once():
    key, _ = make_key(credits=3)
    pending = open_job(key, state="pending")
    delivered = open_job(key, state="ready")
    assert job_settle(job_id=delivered.pk, user_id=key.user_id).state == "succeeded"
    failed = open_job(key, state="pending")
    job_fail(job_id=failed.pk, user_id=key.user_id, code="304", reason="gone")
    assert jobs_abandon(job_ids=[pending.pk, delivered.pk, failed.pk, uuid.uuid4()]) == 2
    assert jobs_abandon(job_ids=[pending.pk, delivered.pk]) == 0  # once
    states = dict(ParseJob.objects.values_list("pk", "state"))
    assert (states[pending.pk], states[delivered.pk], states[failed.pk]) == ("abandoned", "abandoned", "failed")
    account = CreditAccount.objects.get(pk=key.user_id)
    assert (account.available, account.reserved) == (3, 0)
    kinds = list(LedgerEntry.objects.filter(account_id=key.user_id).values_list("kind", "amount"))
    assert sorted(kinds) == sorted([("topup", 3), ("capture", -1), ("adjustment", 1)])


def test_jobs_a_dead_api_noted_as_unsettled_are_settled_by_the_sweeper(settings, leases):
    """An API process answered 503 (or its client left) and died before settling: the note it left in Redis
    lets the sweeper end the jobs uncharged, refunding a delivery that committed after the 503."""
    from parsing.services import UNSETTLED_KEY

    key, _ = make_key(credits=3)
    delivered = open_job(key, state="ready")
    assert job_settle(job_id=delivered.pk, user_id=key.user_id).state == "succeeded"
    still_open = open_job(key, state="running")
    recent = open_job(key, state="running")
    old = time.time() - settings.RELEASE_RETRY_FOR - 10
    leases.zadd(UNSETTLED_KEY, {str(delivered.pk): old, str(still_open.pk): old, str(recent.pk): time.time()})
    try:
        sweep_stale_jobs()
        states = dict(ParseJob.objects.values_list("pk", "state"))
        assert (states[delivered.pk], states[still_open.pk], states[recent.pk]) == ("abandoned", "abandoned",
                                                                                     "running")
        account = CreditAccount.objects.get(pk=key.user_id)
        assert (account.available, account.reserved) == (2, 1)  # the refund and the release; recent still held
        assert [m.decode() for m in leases.zrange(UNSETTLED_KEY, 0, -1)] == [str(recent.pk)]
    finally:
        leases.delete(UNSETTLED_KEY)
