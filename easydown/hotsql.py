"""The paid path's hottest statements, run without the ORM's query compiler.

On PostgreSQL each runs as a prepared statement on the thread's (pooled) connection: parsed and planned
once per connection instead of on every request, and the values travel as parameters instead of being
quoted into the text. Elsewhere (SQLite, a laptop) it goes through Django's cursor. Errors come out as
Django's database exceptions and mark the connection as Django's own cursor would, so a broken connection
is still noticed and dropped; with DEBUG (or a test capturing queries) they are logged like the
ORM's. Measured in bench/parse_path.py.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

Params = Sequence[Any] | Mapping[str, Any]


def _portable(value: Any) -> Any:
    """A parameter as Django's own fields would store it on a backend other than PostgreSQL."""
    if isinstance(value, uuid.UUID):
        return value.hex  # UUIDField is char(32) outside PostgreSQL
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _run(sql: str, params: Params, fetch: str | None):
    # This thread's wrapper, looked up once: every attribute read through django.db.connection is a lookup in
    # asgiref's Local, and six of them cost as much as the statement's own Python (measured).
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        import psycopg

        pool = getattr(conn, "pool", None)
        # A thread that holds no connection (a worker thread between its parses) borrows one from the pool for
        # this statement alone, without making it Django's: Django's connect and close around a single
        # statement cost a third as much as the statement (measured in bench/parse_path.py).
        borrow = (conn.connection is None and pool is not None and not conn.in_atomic_block
                  and not getattr(_keeping, "on", False))
        if not borrow:
            _connect()
        lent = None
        started = time.monotonic()
        try:
            if borrow:
                lent = _borrow(pool)
            with conn.wrap_database_errors, psycopg.Cursor(lent or conn.connection) as cursor:
                cursor.execute(sql, params, prepare=not settings.PGBOUNCER)
                return _result(cursor, fetch)
        finally:
            if lent is not None:
                pool.putconn(lent)  # a connection the statement broke is discarded by the pool
            if conn.queries_logged:  # DEBUG, or a test capturing queries: counted like any other
                conn.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    if isinstance(params, Mapping):
        params = {name: _portable(value) for name, value in params.items()}
    else:
        params = [_portable(value) for value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _result(cursor, fetch)


_keeping = threading.local()


def keep_connection() -> None:
    """This thread keeps a connection of its own between statements instead of borrowing one per statement:
    the API's few ORM threads, busy all the time, whose held connections also fail at once (not after a
    wait for a new one) when the database goes away."""
    _keeping.on = True


def _connect() -> None:
    """This thread's connection. A pool that timed out while full (every connection lent to a peer that is
    using it: a burst) is waited on again, up to DB_BUSY_WAIT seconds; one that timed out because it could
    not connect (the database is away) fails at once, so the parse fails over to a 503 quickly."""
    if connection.connection is not None:
        return
    _patiently(getattr(connection, "pool", None), connection.ensure_connection)


def _borrow(pool):
    """A connection of the pool, not Django's (with _connect's patience); give it back with putconn."""
    if pool.closed:  # nothing opened it yet (Django opens it on its first connection)
        pool.open()
    lent = _patiently(pool, pool.getconn)
    if not lent.autocommit:  # Django turns it on for the connections it takes; one it gave back mid-transaction
        lent.autocommit = True
    return lent


def _patiently(pool, get):
    from django.conf import settings
    from django.db import OperationalError

    failed_before = pool.get_stats().get("connections_errors", 0) if pool is not None else 0
    give_up = time.monotonic() + settings.DB_BUSY_WAIT
    while True:
        try:
            with connection.wrap_database_errors:
                return get()
        except OperationalError:
            stats = pool.get_stats() if pool is not None else {}
            outage = (stats.get("pool_size", 0) < stats.get("pool_max", 1)
                      or stats.get("connections_errors", 0) > failed_before)  # it tried to connect, and failed
            if outage or time.monotonic() > give_up:
                raise


def _result(cursor, fetch: str | None):
    if fetch == "one":
        return cursor.fetchone()
    if fetch == "all":
        return cursor.fetchall()
    return cursor.rowcount


def one(sql: str, params: Params = ()) -> tuple | None:
    """The first row of a statement's result, or None."""
    return _run(sql, params, "one")


def rows(sql: str, params: Params = ()) -> list[tuple]:
    """Every row of a statement's result."""
    return _run(sql, params, "all")


def execute(sql: str, params: Params = ()) -> int:
    """Run a statement that returns no rows; how many rows it changed."""
    return _run(sql, params, None)
