"""The app behind PgBouncer in transaction mode (DB_PGBOUNCER=1): the whole stack's transactions (reserve,
claim, record, deliver, release, the result cache's one-statement charge) go through a real PgBouncer, under
concurrency, and the money stays right."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from parsing.models import ParseJob
from tests.conftest import ARTIFACTS
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_ledger_balanced, balance, captures, vid
from tests.support import extractors as scripted
from tests.support.stack import free_port, start_stack

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)


def _psql(port: int, sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At", "pgbouncer", "-c", sql],
                          capture_output=True, text=True, check=True, timeout=10).stdout


@pytest.fixture
def bouncer():
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (deploy/ensure-pgbouncer.sh installs Debian's)")
    port = free_port()
    # A folder the postgres user can read (pytest's own tmp folders are private to root).
    folder = Path(tempfile.mkdtemp(prefix="easydown-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "pgbouncer.ini").write_text(f"""
[databases]
* = host=127.0.0.1 port=5432 user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
admin_users = postgres
pool_mode = transaction
max_client_conn = 400
default_pool_size = 8
""")
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]  # it refuses to run as root
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            _psql(port, "SHOW VERSION")
            break
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("pgbouncer did not start: " + proc.stderr.read().decode()[-2000:])
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
def test_the_stack_behind_pgbouncer_in_transaction_mode(django_db_blocker, bouncer):
    db = settings.DATABASES["default"]
    with django_db_blocker.unblock():
        stack = start_stack(ARTIFACTS / "pgbouncer-stack", DB_PGBOUNCER="1",
                            DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer}/{db['NAME']}")
    try:
        key, token = make_key(credits=40)
        scripted.script(vid("pgb-dead"), "private")
        links = [YT.format(vid(f"pgb{i}")) for i in range(24)] + [YT.format(vid("pgb-dead"))] * 2
        links += [YT.format(vid("pgb0"))] * 4  # answered from the result cache (or sharing pgb0's fetch)

        def parse(link: str) -> httpx.Response:
            return httpx.post(f"{stack.base_url}/api/v1/parse", headers={"Authorization": f"Bearer {token}"},
                              json={"url": link}, timeout=30)

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(parse, links))
        codes = [a.json().get("code", a.status_code) for a in answers]
        assert codes.count(200) == 28 and codes.count(304) == 2, codes
        # 28 successes charged, the dead link free, nothing left held, the ledger adding up.
        assert balance(key.user) == (12, 0) and captures(key.user) == 28
        assert_ledger_balanced(key.user)
        assert ParseJob.objects.filter(state=ParseJob.State.SUCCEEDED).count() == 28
        # It really went through PgBouncer: its transaction count for the test database grew.
        stats = [line.split("|") for line in _psql(bouncer, "SHOW STATS").splitlines()]
        assert any(row[0] == db["NAME"] and int(row[1]) >= 50 for row in stats), stats
    finally:
        stack.stop()
