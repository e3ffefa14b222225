"""Django's PostgreSQL backend; only the pool's connection check differs (easydown.dbcheck says why).

Django builds the pool itself and passes psycopg_pool's own check when CONN_HEALTH_CHECKS is on; this backend
swaps in ours once the pool exists. psycopg-pool is pinned, and tests/test_dbcheck.py fails if the pool stops
using the check this sets.
"""

from __future__ import annotations

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from easydown.dbcheck import check_connection


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None and getattr(pool, "_check", None) is ConnectionPool.check_connection:
            pool._check = check_connection
        return pool
