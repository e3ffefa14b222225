from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from tests.support.stack import Stack, start_stack

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


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
def stack(django_db_setup, django_db_blocker) -> Stack:
    """uvicorn + a Celery worker process on the test database (use with transactional_db)."""
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "stack")
    yield live
    live.stop()
