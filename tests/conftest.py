from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import redis

from tests.support.stack import Stack, start_stack

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
_STARTED = time.time()


@pytest.fixture(scope="session", autouse=True)
def _in_process_log():
    """The test process's own log lines also go to a file, so the scan below covers them too."""
    ARTIFACTS.mkdir(exist_ok=True)
    handler = logging.FileHandler(ARTIFACTS / f"test-run-{os.environ.get('EASYDOWN_TEST_RUN', 'local')}.log", mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    handler.close()


def pytest_sessionfinish(session, exitstatus):
    """No token, cookie or password in any log line a full run wrote (the stacks' and this process's):
    a finding fails the run."""
    from tests.support.logscan import logs_since, scan

    findings = scan(logs_since(ARTIFACTS, _STARTED))
    if findings:
        print("\nSecrets in the logs of this run:\n  " + "\n  ".join(findings[:50]))
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _clean_redis():
    """Rate-limit counters and test scripts never leak from one test into another (only this run's
    keys are deleted: other runs on the same machine keep theirs)."""
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url)
        run = os.environ.get("EASYDOWN_TEST_RUN", "")
        for pattern in (f"{os.environ.get('CACHE_KEY_PREFIX', 'ed')}:*", f"test:{run}:*"):
            keys = list(client.scan_iter(pattern, count=1000))
            if keys:
                client.delete(*keys)
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, and before it drops the test database: end the sessions still open on it (connections
    that threads of this process opened and never closed), which would otherwise keep the database from
    being dropped and leave it behind on the machine."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker) -> Stack:
    """uvicorn + a Celery worker process on the test database (use with transactional_db)."""
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "stack")
    yield live
    live.stop()
