"""The paid path's lean pieces: prepared statements, the one-round-trip rate counter, the broker channel's
shared client. Each keeps the behaviour of what it replaced."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections
from hypothesis import given
from hypothesis import strategies as st
from kombu import Connection
from psycopg.types.json import Jsonb

from easydown import exceptions, hotsql
from easydown.broker import Channel
from easydown.cache import redis_client
from easydown.ratelimits import _count, _window_end


@pytest.mark.django_db
def test_hot_statements_are_prepared_once_per_connection():
    sql = "SELECT %s::int + 41, %s::jsonb"
    assert hotsql.one(sql, [1, Jsonb({"a": [1]})]) == (42, '{"a": [1]}')  # Django loads jsonb as text
    assert hotsql.one(sql, [2, Jsonb(None)])[0] == 43
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%::int + 41%"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_raises_djangos_error_and_marks_the_connection():
    """What the API's threads rely on: the error is a dependency failure (503), and the connection is
    flagged so it is checked and dropped instead of being reused broken."""
    seen: dict[str, object] = {}

    def in_own_thread() -> None:
        try:
            seen["pid"] = hotsql.one("SELECT pg_backend_pid()")[0]
            ready.set()
            killed.wait(10)
            try:
                hotsql.one("SELECT 1")
            except Exception as exc:  # noqa: BLE001 - inspected below
                seen["error"] = exc
            seen["flagged"] = connection.errors_occurred
        finally:
            connections.close_all()

    ready, killed = threading.Event(), threading.Event()
    worker = threading.Thread(target=in_own_thread)
    worker.start()
    assert ready.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [seen["pid"]])
    killed.set()
    worker.join(10)
    assert isinstance(seen["error"], OperationalError)
    assert exceptions.dependency_failure(seen["error"])
    assert seen["flagged"] is True


@given(key=st.text(max_size=20), now=st.integers(min_value=0, max_value=2**40), period=st.sampled_from([1, 60, 3600]))
def test_a_window_ends_within_one_period_and_is_shared_by_its_seconds(key, now, period):
    end = _window_end(key, period, now)
    assert now < end <= now + period
    # Every second of the same window agrees on its end; the next window ends one period later.
    assert _window_end(key, period, end - 1) == end
    assert _window_end(key, period, end) == end + period


def test_the_rate_counter_counts_in_one_key_that_expires_with_its_window():
    assert redis_client() is not None, "tests run against Redis"
    first, left, _ = _count(group="t", key="k1", period=60, increment=True)
    second, _, _ = _count(group="t", key="k1", period=60, increment=True)
    peek, _, _ = _count(group="t", key="k1", period=60, increment=False)
    other, _, _ = _count(group="t", key="k2", period=60, increment=True)
    assert (first, second, peek, other) == (1, 2, 2, 1)
    assert 1 <= left <= 60
    keys = [k for k in redis_client().scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:*rl:t:*")]
    assert len(keys) == 2
    assert all(0 < redis_client().ttl(k) <= 61 for k in keys)


def test_the_rate_counter_reads_other_keys_in_the_same_round_trip():
    """The paid path's other reads (its cache entry, the block list's version) ride on the counter's trip."""
    name = f"{settings.CACHES['default']['KEY_PREFIX']}:test-also"
    redis_client().set(name, b"v1", ex=60)
    count, _, fetched = _count(group="t", key="k3", period=60, increment=True, also=(name, name + ":missing"))
    assert count == 1 and fetched == (b"v1", None)
    peek, _, fetched = _count(group="t", key="k3", period=60, increment=False, also=(name,))
    assert peek == 1 and fetched == (b"v1",)


def test_the_broker_channel_keeps_one_client_until_its_pool_is_replaced():
    with Connection(settings.CELERY_BROKER_URL, transport="easydown.broker:Transport") as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        first = channel._create_client()
        assert channel._create_client() is first
        channel._pool = None  # what kombu does after a connection error
        replaced = channel._create_client()
        assert replaced is not first and replaced.connection_pool is channel.pool
        # And it still carries messages.
        queue = conn.SimpleQueue(f"test-broker-{threading.get_ident()}")
        try:
            queue.put({"n": 1})
            message = queue.get(timeout=2)
            assert message.payload == {"n": 1}
            message.ack()
        finally:
            queue.queue.delete()
            queue.close()
