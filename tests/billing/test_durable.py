"""Ledger rows commit durably even on a connection whose commits do not wait for the disk (the worker's,
DB_SYNCHRONOUS_COMMIT=off): PostgreSQL counts every flush of its write-ahead log in pg_stat_wal.wal_sync, and
a commit that waits for the disk is one; an asynchronous commit leaves it to the WAL writer (a few a second)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from billing.services import credit_adjust, credit_reserve, credit_topup
from parsing.models import ParseJob
from parsing.services import job_deliver
from tests.factories import make_key, make_user

pytestmark = pytest.mark.django_db(transaction=True)
N = 60


def wal_syncs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT wal_sync FROM pg_stat_wal")
        return cursor.fetchone()[0]


@pytest.fixture
def asynchronous():
    """This test's connection commits as the worker's do."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")


def test_the_probe_sees_asynchronous_commits(asynchronous):
    """Without anything forcing them, N asynchronous commits flush the log far fewer than N times (the probe
    below can fail)."""
    user = make_user()
    before = wal_syncs()
    for _ in range(N):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE billing_creditaccount SET updated_at = now() WHERE user_id = %s", [user.pk])
    assert wal_syncs() - before < N / 2


def test_top_ups_and_adjustments_commit_durably(asynchronous):
    user = make_user()
    before = wal_syncs()
    for n in range(N // 2):
        credit_topup(user_id=user.pk, amount=1, reference=f"durable-{n}")
        credit_adjust(user_id=user.pk, amount=1, reference=f"refund:durable-{n}", note="test")
    assert wal_syncs() - before >= N


def test_a_delivered_charge_commits_durably(asynchronous):
    key, _ = make_key(credits=N)
    jobs = []
    for _ in range(N):
        job = ParseJob.objects.create(id=uuid.uuid4(), user_id=key.user_id, api_key=key, platform="youtube",
                                      input="x", url="x", state=ParseJob.State.READY, result={"ok": True})
        credit_reserve(user_id=key.user_id, reference=job.reference)
        jobs.append(job)
    before = wal_syncs()
    for job in jobs:
        assert job_deliver(job_id=job.id, user_id=key.user_id).state == ParseJob.State.SUCCEEDED
    assert wal_syncs() - before >= N
