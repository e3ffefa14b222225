"""A PostgreSQL cluster of the test's own (never the shared one), to kill, stop, freeze and restart.

Built with the machine's PostgreSQL binaries in a temporary directory; as root, the server runs as the
``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.support.stack import ROOT, free_port


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.bin = binaries()
        self.port = free_port()
        self.root = root
        self.data = root / "data"
        self.proc: subprocess.Popen | None = None
        self.as_user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/easydown"

    def init(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        if self.as_user:
            self.root.parent.chmod(0o755)  # a private temporary directory: the server's user must get in
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                        "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=self.root, **self.as_user)
        self.start()
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE easydown")

    def start(self) -> None:
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - kept open for the server's lifetime
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.data),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"],
            stdout=log, stderr=log, cwd=self.root, start_new_session=True, **self.as_user)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("private PostgreSQL did not start: " + (self.root / "server.log").read_text()[-2000:])

    def _pids(self) -> list[int]:
        """The postmaster and its children."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [self.proc.pid, *(int(p) for p in out.stdout.split())]

    def kill(self) -> None:
        """SIGKILL the whole cluster (a crash: the next start runs recovery)."""
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, the server exits cleanly."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)

    def freeze(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.thaw()
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def prepare(self, env: dict[str, str]) -> str:
        """Migrate and create a user with credits and a key; returns the key's token."""
        env = {**env, "DATABASE_URL": self.url}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        script = ("from accounts.models import User; from accounts.services import api_key_create; "
                  "from billing.services import credit_topup; "
                  "u = User.objects.create_user('faults@example.com', 'x'); "
                  "credit_topup(user_id=u.pk, amount=100000, reference='faults'); "
                  "print(api_key_create(user=u, name='faults', rate_limit_per_minute=100000)[1])")
        out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.url, connect_timeout=3) as conn:
            return conn.execute(sql).fetchall()
