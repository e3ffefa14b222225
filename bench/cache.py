"""What the result cache saves: platform fetches and waiting time for links seen before.

The production scripts (deploy/run-api.sh, deploy/run-worker.sh) on a fresh database, every platform's
extractor a real TCP round trip to the slow platform (bench/slowplatform.py) that answers after D seconds,
which counts what it serves. In one run, with C concurrent clients on keep-alive connections:

(a) fresh: N parses of links never seen before (each a platform fetch): the baseline p50;
(b) repeat: one link parsed once, then N requests for it: platform fetches per 1,000 and p50 (cache hits);
(c) burst: N requests for a link nobody parsed yet, all C clients at once: platform fetches per 1,000
    (single flight: concurrent requests share one fetch).

It prints fetches per 1,000 requests and the p50 ratio hit / fresh. Needs PostgreSQL and Redis (as ``make
test``); it creates and drops its own database and empties Redis database 11 (BENCH_CACHE_REDIS_URL).

    .venv/bin/python bench/cache.py [--requests 1000] [--clients 20] [--delay 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, environment, free_port, prepare, recreate_database, stop, wait_until_up
from bench.slowplatform import STATS, ask

REDIS_URL = os.environ.get("BENCH_CACHE_REDIS_URL", "redis://127.0.0.1:6379/11")
DB_NAME = "easydown_cache_bench"


def served(port: int) -> int:
    return json.loads(ask("127.0.0.1", port, STATS, 5))["served"]


async def drive(base: str, token: str, links: list[str], clients: int) -> tuple[list[float], dict[int, int]]:
    """Send one request per link over ``clients`` concurrent connections; latencies (ms) and statuses."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for link in links:
        queue.put_nowait(link)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            link = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(f"{base}/api/v1/parse", headers=headers, content=json.dumps({"url": link}))
            latencies.append((time.perf_counter() - started) * 1000)
            code = response.status_code if response.status_code != 200 else response.json().get("code", 200)
            statuses[code] = statuses.get(code, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, statuses


def p50(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.5, help="seconds the platform takes per fetch")
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL).flushdb()
    port, slow_port = free_port(), free_port()
    env = {**environment(port, db_name=DB_NAME, redis_url=REDIS_URL, queue="cachebench",
                         extractor="bench.slowplatform.SlowExtractor"),
           "BENCH_SLOW_ADDR": f"127.0.0.1:{slow_port}", "VENV": str(Path(sys.executable).parent.parent)}
    recreate_database(DB_NAME)
    token = prepare(env)
    slow = subprocess.Popen([sys.executable, "-m", "bench.slowplatform", "--port", str(slow_port),
                             "--delay", str(args.delay)], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    api = subprocess.Popen(["bash", "deploy/run-api.sh"], cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen(["bash", "deploy/run-worker.sh"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    n, c = args.requests, args.clients
    try:
        wait_until_up(base, [api, worker])
        time.sleep(1)  # the worker's first heartbeat
        asyncio.run(drive(base, token, [f"https://youtu.be/warm{i:07d}" for i in range(c)], c))  # warm pools
        rows = []
        for name, links in (
            ("(a) fresh", [f"https://youtu.be/fres{i:07d}" for i in range(n)]),
            ("(b) repeat", ["https://youtu.be/popular0001"]),  # parsed once, then n times below
            ("(c) burst", [f"https://youtu.be/burst{0:06d}"] * n),
        ):
            if name == "(b) repeat":
                asyncio.run(drive(base, token, links, 1))
                links = links * n
            before = served(slow_port)
            started = time.perf_counter()
            latencies, statuses = asyncio.run(drive(base, token, links, c))
            elapsed = time.perf_counter() - started
            fetches = served(slow_port) - before
            rows.append((name, latencies, statuses, fetches, elapsed))
    finally:
        for proc in (api, worker, slow):
            stop(proc, timeout=40)
    print(f"requests={n} clients={c} platform delay={args.delay}s cores={os.cpu_count()}")
    for name, latencies, statuses, fetches, elapsed in rows:
        p99 = sorted(latencies)[int(len(latencies) * 0.99)]
        per_1000 = fetches * 1000 / len(latencies)
        print(f"{name:11s} p50 {p50(latencies):8.1f} ms  p99 {p99:8.1f} ms  {len(latencies) / elapsed:7.1f} req/s  "
              f"platform fetches per 1,000: {per_1000:6.1f}  statuses {dict(sorted(statuses.items(), key=str))}")
    fresh, repeat = rows[0][1], rows[1][1]
    print(f"p50 ratio hit/fresh: {p50(repeat) / p50(fresh):.3f}")


if __name__ == "__main__":
    main()
