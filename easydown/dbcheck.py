"""The pool's check of a connection it hands out, without a round trip when nothing is wrong.

psycopg_pool's own check sends an empty query every time a connection leaves the pool: on the paid path
that is four extra round trips per parse (two in the API, two in the worker), each costing both ends CPU.
A PostgreSQL that restarted, or a backend that was terminated, tells its clients so before it closes their
sockets (an error message, then end of file), so an idle connection with anything to read is suspect and
gets the full check; a quiet socket is handed out as it is. A connection that the network lost silently
would hang the full check as long as its first statement, so checking it would not help either.
"""

from __future__ import annotations

import select

from psycopg import OperationalError
from psycopg_pool import ConnectionPool


def _has_news(fileno: int) -> bool:
    # poll, not select: an API process holds thousands of sockets, and select() stops at descriptor 1024.
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def check_connection(conn) -> None:
    """Raise when ``conn`` is not fit to hand out (the pool then discards it and tries another)."""
    if conn.closed or conn.broken:
        raise OperationalError("connection is closed")
    try:
        suspect = _has_news(conn.fileno())
    except (OSError, ValueError):
        suspect = True
    if suspect:
        ConnectionPool.check_connection(conn)
