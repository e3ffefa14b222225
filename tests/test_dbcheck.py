"""The pool's connection check (easydown.dbcheck): no round trip for a quiet connection, the full check for
one whose server said goodbye, and the pool Django builds actually uses it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from easydown import dbcheck
from easydown.postgres.base import DatabaseWrapper
from tests.support.stack import test_database_url as database_url


def _connect() -> psycopg.Connection:
    return psycopg.connect(database_url(), autocommit=True)


@pytest.fixture
def full_checks(monkeypatch):
    calls: list[object] = []
    original = ConnectionPool.check_connection

    def spy(conn):
        calls.append(conn)
        return original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(spy))
    return calls


@pytest.mark.django_db
def test_a_quiet_connection_is_handed_out_without_a_round_trip(full_checks):
    with _connect() as conn:
        conn.execute("SELECT 1").fetchone()
        dbcheck.check_connection(conn)
        assert full_checks == []


@pytest.mark.django_db
def test_a_terminated_backend_fails_the_check(full_checks):
    with _connect() as conn, _connect() as killer:
        pid = conn.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError):
            for _ in range(50):  # the goodbye reaches the socket a moment after the call returns
                dbcheck.check_connection(conn)
                killer.execute("SELECT pg_sleep(0.01)")
        assert full_checks  # the socket had news: the full check ran and found the connection gone


@pytest.mark.django_db
def test_a_closed_connection_fails_without_touching_the_socket():
    conn = _connect()
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        dbcheck.check_connection(conn)


def test_the_pool_django_builds_uses_the_cheap_check():
    settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": 0,
                     "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 0, "max_size": 1}}}
    wrapper = DatabaseWrapper(settings_dict, alias="dbcheck-test")
    try:
        assert wrapper.pool._check is dbcheck.check_connection
    finally:
        wrapper.close_pool()
