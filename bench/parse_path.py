"""Bare DRF endpoint vs the full paid parse path, served with the production server configuration.

(a) GET /healthz: a DRF view doing one indexed query.
(b) POST /api/v1/parse: authenticate, rate-limit, recognise, reserve, enqueue, a real Celery worker
    with an extractor that answers instantly, wait over pub/sub, capture.
Both are measured in this run with the same load generator (wrk: C connections), taking turns in R rounds
(a shared machine's slow spells then fall on both), and the ratios b/a are printed. Needs PostgreSQL and
Redis (same defaults as `make test`); it creates and drops its own database.

    .venv/bin/python bench/parse_path.py [--clients 16] [--seconds 15] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    cpu_by_component,
    environment,
    free_port,
    prepare,
    recreate_database,
    stop,
    wait_until_up,
)

ARTIFACTS = ROOT / "artifacts" / "bench"

# Every parse is of a link never parsed before (a result cache miss, the paid path's full cost): the ids are
# this load's own prefix, the wrk thread's number and a counter.
WRK_SCRIPT = """
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  if wrk.method == "GET" then return wrk.format(nil, nil, nil, nil) end
  local link = string.format('https://www.youtube.com/watch?v=%(prefix)s%%d%%07d', tid, n)
  return wrk.format(nil, nil, nil, '{"url":"' .. link .. '"}')
end
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load(url: str, *, clients: int, seconds: float, method: str, token: str | None = None) -> dict:
    """Drive ``url`` with wrk (C, two threads, ``clients`` connections) and read its summary."""
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        # Three characters unique to this load (with the thread digit and 7 counter digits: 11), random so
        # that no other run's cached results are hit either.
        prefix = "".join(secrets.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(3))
        script.write(WRK_SCRIPT % {"method": method, "auth": auth, "prefix": prefix})
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


def _combine(rounds: list[dict]) -> dict:
    """Several wrk rounds as one: throughput over all of them, the median round's p50 and p99."""
    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    requests = sum(r["requests"] for r in rounds)
    return {
        "requests": requests,
        "errors": sum(r["errors"] for r in rounds),
        "timeouts": sum(r["timeouts"] for r in rounds),
        "throughput": requests / sum(r["requests"] / r["throughput"] for r in rounds),
        "p50_ms": median([r["p50_ms"] for r in rounds]),
        "p99_ms": median([r["p99_ms"] for r in rounds]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15, help="per path, split over the rounds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("the bench drives load with wrk: apt-get install wrk")
    port = free_port()
    env = environment(port)
    recreate_database()
    token = prepare(env)
    venv = {"VENV": str(Path(sys.executable).parent.parent)}
    api = subprocess.Popen(["bash", "deploy/run-api.sh"], cwd=ROOT, env={**env, **venv}, start_new_session=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker_log = (ARTIFACTS / "parse_path-worker.log").open("w")
    worker = subprocess.Popen(["bash", "deploy/run-worker.sh"], cwd=ROOT, env={**env, **venv},
                              start_new_session=True, stdout=worker_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    per_round = max(1, round(args.seconds / args.rounds))
    rounds: dict[str, list[dict]] = {"bare": [], "paid": []}
    cpu = {"bare": {}, "paid": {}}
    try:
        wait_until_up(base, [api, worker])
        # Warm both paths (worker processes, connection pools) before measuring.
        load(f"{base}/healthz", clients=args.clients, seconds=2, method="GET")
        load(f"{base}/api/v1/parse", clients=args.clients, seconds=3, method="POST", token=token)
        roots = {"api": api.pid, "worker": worker.pid}
        # The two paths take turns, so a slow spell of a shared machine falls on both.
        for _ in range(args.rounds):
            for path, url, method in (("bare", f"{base}/healthz", "GET"), ("paid", f"{base}/api/v1/parse", "POST")):
                before = cpu_by_component(roots)
                rounds[path].append(load(url, clients=args.clients, seconds=per_round, method=method,
                                         token=token if method == "POST" else None))
                after = cpu_by_component(roots)
                for name in after:
                    cpu[path][name] = cpu[path].get(name, 0.0) + after[name] - before[name]
    finally:
        # The API first (it finishes its in-flight parses, which need the worker), then the worker.
        for proc in (api, worker):
            stop(proc, timeout=40)
    bare, paid = _combine(rounds["bare"]), _combine(rounds["paid"])
    print(f"clients={args.clients} rounds={args.rounds} x {per_round}s per path cores={os.cpu_count()}")
    for name, r in (("(a) bare DRF + 1 query", bare), ("(b) full paid parse", paid)):
        print(f"{name:24s} {r['throughput']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
              f"requests {r['requests']}  non-2xx {r['errors']}  timeouts {r['timeouts']}")
    print("  per round (a/b req/s): " + ", ".join(f"{a['throughput']:.0f}/{b['throughput']:.0f}"
                                                 for a, b in zip(rounds["bare"], rounds["paid"], strict=True)))
    print("CPU ms per request by component:")
    for name in cpu["bare"]:
        a_ms = cpu["bare"][name] * 1000 / bare["requests"]
        b_ms = cpu["paid"][name] * 1000 / paid["requests"]
        print(f"  {name:16s} (a) {a_ms:6.2f}   (b) {b_ms:6.2f}")
    print(f"throughput ratio b/a: {paid['throughput'] / bare['throughput']:.3f} (goal >= 0.35)")
    print(f"p50 latency ratio b/a: {paid['p50_ms'] / bare['p50_ms']:.2f} (goal <= 3)")
    print(f"p99 latency ratio b/a: {paid['p99_ms'] / bare['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
