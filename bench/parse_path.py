"""Bare DRF endpoint vs the full paid parse path, served with the production server configuration.

(a) GET /healthz: a DRF view doing one indexed query.
(b) POST /api/v1/parse: authenticate, rate-limit, recognise, reserve, enqueue, a real Celery worker
    with an extractor that answers instantly, wait over pub/sub, capture.
Both are measured in this run with the same load generator (wrk: C connections, D seconds each),
and the ratios b/a are printed. Needs PostgreSQL and Redis (same defaults as `make test`); it creates
and drops its own database.

    .venv/bin/python bench/parse_path.py [--clients 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "easydown_bench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(port: int) -> dict[str, str]:
    platforms = ["tiktok", "douyin", "youtube", "twitter", "instagram", "xiaohongshu", "bilibili", "kuaishou", "weibo"]
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-secret",
        "EASYDOWN_API_KEY_PEPPER": "bench-pepper",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS,
        "CELERY_QUEUE": "bench",
        "EASYDOWN_EXTRACTORS": json.dumps({p: "bench.instant.InstantExtractor" for p in platforms}),
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }


def recreate_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


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


WRK_SCRIPT = """
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
local n = 0
request = function()
  n = n + 1
  if wrk.method == "GET" then return wrk.format(nil, nil, nil, nil) end
  return wrk.format(nil, nil, nil, string.format('{"url":"https://www.youtube.com/watch?v=b%%010d"}', n))
end
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load(url: str, *, clients: int, seconds: float, method: str, token: str | None = None) -> dict:
    """Drive ``url`` with wrk (C, two threads, ``clients`` connections) and read its summary."""
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"method": method, "auth": auth})
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", script.name,
                          url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {
        "requests": requests,
        "errors": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "throughput": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("the bench drives load with wrk: apt-get install wrk")
    port = free_port()
    env = environment(port)
    recreate_database()
    token = prepare(env)
    venv = {"VENV": str(Path(sys.executable).parent.parent)}
    api = subprocess.Popen(["bash", "deploy/run-api.sh"], cwd=ROOT, env={**env, **venv}, start_new_session=True)
    worker = subprocess.Popen(["bash", "deploy/run-worker.sh"], cwd=ROOT, env={**env, **venv,
                              "WORKER_CONCURRENCY": os.environ.get("WORKER_CONCURRENCY", "2")},
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, [api, worker])
        # Warm both paths (worker processes, connection pools) before measuring.
        load(f"{base}/healthz", clients=args.clients, seconds=2, method="GET")
        load(f"{base}/api/v1/parse", clients=args.clients, seconds=3, method="POST", token=token)
        roots = {"api": api.pid, "worker": worker.pid}
        before = cpu_by_component(roots)
        bare = load(f"{base}/healthz", clients=args.clients, seconds=args.seconds, method="GET")
        middle = cpu_by_component(roots)
        paid = load(f"{base}/api/v1/parse", clients=args.clients, seconds=args.seconds, method="POST",
                    token=token)
        after = cpu_by_component(roots)
    finally:
        # The API first (it finishes its in-flight parses, which need the worker), then the worker.
        for proc in (api, worker):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    print(f"clients={args.clients} seconds={args.seconds} cores={os.cpu_count()}")
    for name, r in (("(a) bare DRF + 1 query", bare), ("(b) full paid parse", paid)):
        print(f"{name:24s} {r['throughput']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
              f"requests {r['requests']}  non-2xx {r['errors']}  timeouts {r['timeouts']}")
    print("CPU ms per request by component:")
    for name in before:
        a_ms = (middle[name] - before[name]) * 1000 / bare["requests"]
        b_ms = (after[name] - middle[name]) * 1000 / paid["requests"]
        print(f"  {name:16s} (a) {a_ms:6.2f}   (b) {b_ms:6.2f}")
    print(f"throughput ratio b/a: {paid['throughput'] / bare['throughput']:.3f} (goal >= 0.25)")
    print(f"p50 latency ratio b/a: {paid['p50_ms'] / bare['p50_ms']:.2f} (goal <= 4)")
    print(f"p99 latency ratio b/a: {paid['p99_ms'] / bare['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
