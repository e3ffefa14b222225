"""Helpers shared by the benches that start the production stack (bench/parse_path.py, bench/capacity.py):
a fresh database with an unthrottled, well-funded key, the server environment, start-up and shutdown of
the production scripts, and CPU accounting per component from /proc."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "easydown_bench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PLATFORMS = ["tiktok", "douyin", "youtube", "twitter", "instagram", "xiaohongshu", "bilibili", "kuaishou", "weibo",
             "acfun", "netease", "kugou", "migu"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(port: int, *, db_name: str = DB_NAME, redis_url: str = REDIS, queue: str = "bench",
                extractor: str = "bench.instant.InstantExtractor") -> dict[str, str]:
    """The API's and the worker's environment: production settings, the bench database and queue, and
    ``extractor`` for every platform."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-secret",
        "EASYDOWN_API_KEY_PEPPER": "bench-pepper",
        "DATABASE_URL": f"{PG}/{db_name}",
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "EASYDOWN_EXTRACTORS": json.dumps({p: extractor for p in PLATFORMS}),
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }


def recreate_database(db_name: str = DB_NAME) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db_name}")


def prepare(env: dict[str, str]) -> str:
    """Migrate and create a user with plenty of credits and an unthrottled key; returns the token."""
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    script = (
        "from accounts.models import User; from accounts.services import api_key_create; "
        "from billing.services import credit_topup; "
        "u = User.objects.create_user('bench@example.com', 'x'); "
        "credit_topup(user_id=u.pk, amount=10**9, reference='bench'); "
        "print(api_key_create(user=u, name='bench', rate_limit_per_minute=10**9)[1])"
    )
    out = subprocess.run([py, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_component(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each root's process tree, plus PostgreSQL and Redis."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            parent[int(entry.name)], cpu[int(entry.name)] = stat
            try:
                names[int(entry.name)] = (entry / "comm").read_text().strip()
            except OSError:
                names[int(entry.name)] = ""
    totals = {name: 0.0 for name in [*roots, "postgres", "redis"]}
    for pid, used in cpu.items():
        ancestor, hops = pid, 0
        while ancestor and hops < 50:
            for name, root in roots.items():
                if ancestor == root:
                    totals[name] += used
                    break
            else:
                ancestor, hops = parent.get(ancestor, 0), hops + 1
                continue
            break
        else:
            if names[pid].startswith("postgres"):
                totals["postgres"] += used
            elif names[pid].startswith("redis"):
                totals["redis"] += used
    return totals


def wait_until_up(base: str, procs: list[subprocess.Popen]) -> None:
    for _ in range(300):
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a server process exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to the process group started with ``start_new_session``, SIGKILL after ``timeout``."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def raise_fd_limit() -> None:
    """Thousands of sockets need more than the usual soft limit of 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
