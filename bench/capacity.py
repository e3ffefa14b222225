"""How many parses one box holds in flight while they wait on a slow platform.

For each scenario (N clients, a platform that takes D seconds per parse): a fresh database with an
unthrottled, well-funded key, the slow platform (bench/slowplatform.py, its own process), then the
production scripts with their documented defaults (deploy/run-api.sh, deploy/run-worker.sh; every
platform's extractor is ``bench.slowplatform.SlowExtractor``). N closed-loop clients in one asyncio
process, each on its own keep-alive HTTP/1.1 connection, POST /api/v1/parse with a unique YouTube link;
they start spread evenly over D seconds (customers' backends are not in lockstep: 1,000 clients started
within 2 s of each other would hit the API in waves of 1,000 every D seconds), run D/2 more seconds of
warm-up and are then measured for S seconds. After the window no new
request is sent and the ones in flight are awaited. A 503 (or 429) makes its client wait Retry-After
seconds (1 when missing) before its next request.

ok/s counts successful parses (HTTP 200 with data, not the 200 + code 304 "no media" envelope) that
complete inside the window, against the ideal N/D. Latencies and status counts are given for the window
and for the whole run; the 5xx goals are judged on the whole run. RSS is the sum over each process tree,
sampled every 0.5 s; PostgreSQL connections to the bench database are sampled every second.

    .venv/bin/python bench/capacity.py [--scenario n200|n1000|n600|all] [--clients N] [--delay D] [--seconds S]
                                       [--worker-slots K] [--nofile LIMIT]

Presets: n200 (N=200, D=4), n1000 (N=1000, D=20), n600 (N=600, D=4); ``all`` (the default) runs the three
in that order, then n600 again against a worker with fewer slots (--worker-slots), where work must wait in the
queue (100 slots) and backpressure must answer the excess with 503. --clients / --delay override a single preset (with
``all``: a custom run judged by n200's goals); --seconds sets the window (default max(60, 3*D)); --nofile
sets the API's and the worker's soft open-file limit (default: inherited; 1,024 is what a systemd unit
without LimitNOFILE gets).

Needs PostgreSQL and Redis (as ``make test``); it creates and drops its own database (easydown_capacity)
and uses Redis database 12 (BENCH_CAPACITY_REDIS_URL), whose queue it empties before each scenario. Logs
of the API, the worker and the slow platform go to artifacts/bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import resource
import shlex
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PG,
    ROOT,
    cpu_by_component,
    environment,
    free_port,
    prepare,
    raise_fd_limit,
    recreate_database,
    stop,
    wait_until_up,
)
from bench.slowplatform import STATS, ask

SCENARIOS = {"n200": (200, 4.0), "n1000": (1000, 20.0), "n600": (600, 4.0)}
# Extra scenario of `all`: n600 against a worker with fewer slots than clients, so work waits in the
# queue and the backpressure rule (503 + Retry-After) has something to refuse; judged by n600's goals.
# With 100 slots the workers start 25 jobs a second, so at most 100 + 25 x 15 s (the queue budget) ≈ 475
# clients can be served within the budget: the other ~125 must get 503s. Its throughput goal is the slots'
# own capacity (0.8 x slots / D), not n200's figure.
SLOTS_SCENARIO = ("n600-slots100", "n600", 600, 4.0, 100)
DB_NAME = "easydown_capacity"
REDIS_URL = os.environ.get("BENCH_CAPACITY_REDIS_URL", "redis://127.0.0.1:6379/12")
QUEUE = "capacity"
SERVER_IDLE_CLOSE = 4  # uvicorn closes a keep-alive connection idle for 5 s (--timeout-keep-alive)
MIN_RAMP = 2.0  # the clients start spread over max(MIN_RAMP, D) seconds
CLIENT_TIMEOUT = 60.0  # per request, client side
ARTIFACTS = ROOT / "artifacts" / "bench"
# Knobs of the production scripts that must keep their documented defaults in this bench.
SCRIPT_KNOBS = ("WEB_CONCURRENCY", "WORKER_CONCURRENCY", "DB_POOL_SIZE", "HOST", "WORKER_LOG_LEVEL", "WORKER_NAME")
ID_CHARS = string.ascii_letters + string.digits + "-_"  # YouTube's 64 id characters
PAGE = os.sysconf("SC_PAGE_SIZE")
CONN_ERROR, CLIENT_TIMEOUT_LABEL = "conn_error", "client_timeout"
VERDICT = {True: "PASS", False: "MISS", None: "N/A "}


# --- load generator (its own process) ----------------------------------------------------------------


@dataclass
class LoadConfig:
    port: int
    token: str
    clients: int
    ramp: float
    warmup: float
    seconds: float


class Load:
    """N closed-loop clients; every answer is recorded as (start, end, label, retry_after_present)."""

    def __init__(self, cfg: LoadConfig) -> None:
        self.cfg = cfg
        self.prefix = "".join(random.choice(ID_CHARS) for _ in range(3))  # unique across runs
        self.counter = 0
        self.records: list[tuple[float, float, str, bool]] = []
        self.send_until = math.inf
        self.head = (
            f"POST /api/v1/parse HTTP/1.1\r\nHost: 127.0.0.1:{cfg.port}\r\n"
            f"Authorization: Bearer {cfg.token}\r\nContent-Type: application/json\r\n"
        ).encode()

    def request(self) -> bytes:
        n, digits = self.counter, []
        self.counter += 1
        for _ in range(8):
            n, r = divmod(n, 64)
            digits.append(ID_CHARS[r])
        body = b'{"url":"https://www.youtube.com/watch?v=%s%s"}' % (self.prefix.encode(),
                                                                    "".join(reversed(digits)).encode())
        return self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body

    @staticmethod
    async def response(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")  # the empty trailer section
            body = b"".join(chunks)
        else:
            body = await reader.read()
            headers[b"connection"] = b"close"
        return status, headers, body

    @staticmethod
    def label(status: int, body: bytes) -> str:
        """"200" for a parse with data; otherwise the status with the envelope's code (and reason)."""
        try:
            payload = json.loads(body)
        except ValueError:
            return str(status)
        if not isinstance(payload, dict):
            return str(status)
        if status == 200 and payload.get("code") is None and payload.get("data"):
            return "200"
        code, reason = payload.get("code"), payload.get("reason")
        return " ".join(str(part) for part in (status, code, reason) if part is not None)

    async def client(self, delay_start: float) -> None:
        await asyncio.sleep(delay_start)
        writer: asyncio.StreamWriter | None = None
        reader: asyncio.StreamReader | None = None
        try:
            while time.monotonic() < self.send_until:
                if writer is None:
                    try:
                        async with asyncio.timeout(CLIENT_TIMEOUT):
                            reader, writer = await asyncio.open_connection("127.0.0.1", self.cfg.port)
                    except (OSError, TimeoutError):
                        now = time.monotonic()
                        self.records.append((now, now, CONN_ERROR, False))
                        await asyncio.sleep(0.5)
                        continue
                request = self.request()
                start = time.monotonic()
                retry_after: bytes | None = None
                try:
                    async with asyncio.timeout(CLIENT_TIMEOUT):
                        writer.write(request)
                        status, headers, body = await self.response(reader)
                except TimeoutError:
                    label, keep = CLIENT_TIMEOUT_LABEL, False
                except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                        IndexError):
                    label, keep = CONN_ERROR, False
                else:
                    label = self.label(status, body)
                    keep = headers.get(b"connection", b"").lower() != b"close"
                    retry_after = headers.get(b"retry-after")
                end = time.monotonic()
                self.records.append((start, end, label, retry_after is not None))
                if not keep:
                    writer.close()
                    writer = reader = None
                if label.startswith(("503", "429")):
                    wait = int(retry_after) if retry_after and retry_after.isdigit() else 1
                    if wait >= SERVER_IDLE_CLOSE and writer is not None:
                        # The server closes keep-alive connections idle this long; a client that waits
                        # Retry-After comes back on a new one (as HTTP client libraries do).
                        writer.close()
                        writer = reader = None
                    await asyncio.sleep(max(0.0, min(wait, self.send_until - time.monotonic())))
        finally:
            if writer is not None:
                writer.close()

    async def run(self, conn) -> dict:
        cfg = self.cfg
        t0 = time.monotonic()
        window_start = t0 + cfg.ramp + cfg.warmup
        window_end = window_start + cfg.seconds
        tasks = [asyncio.create_task(self.client(i * cfg.ramp / cfg.clients)) for i in range(cfg.clients)]
        await asyncio.sleep(window_start - time.monotonic())
        conn.send(("window_start", None))
        await asyncio.sleep(window_end - time.monotonic())
        self.send_until = window_end
        conn.send(("window_end", None))
        done, pending = await asyncio.wait(tasks, timeout=CLIENT_TIMEOUT + 15)
        for task in pending:
            task.cancel()
        crashes = [repr(t.exception()) for t in done if not t.cancelled() and t.exception() is not None]
        return {"records": self.records, "t0": t0, "window": (window_start, window_end),
                "drain": time.monotonic() - window_end, "stuck": len(pending), "crashes": crashes[:5],
                "crashed": len(crashes)}


def loadgen_main(cfg: LoadConfig, conn) -> None:
    raise_fd_limit()
    try:
        import uvloop  # optional: cheaper event loop when installed
    except ImportError:
        uvloop = None
    load = Load(cfg)
    if uvloop is not None:
        result = uvloop.run(load.run(conn))
    else:
        result = asyncio.run(load.run(conn))
    conn.send(("done", result))
    conn.close()


# --- sampling ----------------------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int, int]]:
    """pid → (ppid, RSS bytes, threads) for every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[21]) * PAGE, int(fields[17]))
    return table


def tree_usage(root: int, table: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """(RSS bytes, processes, threads) summed over ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    rss = procs = threads = 0
    todo = [root] if root in table else []
    while todo:
        pid = todo.pop()
        rss, procs, threads = rss + table[pid][1], procs + 1, threads + table[pid][2]
        todo.extend(children.get(pid, []))
    return rss, procs, threads


@dataclass
class TreePeak:
    idle_rss: int = 0
    rss: int = 0
    procs_at_peak: int = 0
    max_procs: int = 0
    max_threads: int = 0

    def sample(self, usage: tuple[int, int, int]) -> None:
        rss, procs, threads = usage
        if rss > self.rss:
            self.rss, self.procs_at_peak = rss, procs
        self.max_procs = max(self.max_procs, procs)
        self.max_threads = max(self.max_threads, threads)


def pg_connections(conn) -> int:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DB_NAME]).fetchone()[0]


def slow_stats(port: int) -> dict | None:
    try:
        return json.loads(ask("127.0.0.1", port, STATS, 2))
    except (OSError, ValueError):
        return None


# --- one scenario ------------------------------------------------------------------------------------


def purge_queue() -> None:
    """Tasks left over from an earlier scenario (the stack stops with a backlog) must not run in this one."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = [*client.scan_iter(match=f"{QUEUE}*"), b"unacked", b"unacked_index", b"unacked_mutex"]
    client.delete(*keys)
    client.close()


def wait_worker_ready(log: Path, worker: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited during start-up; see {log}")
        if "ready" in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def run_scenario(name: str, clients: int, delay: float, seconds: float, stamp: str, nofile: int | None,
                 worker_slots: int | None = None) -> dict:
    port, slow_port = free_port(), free_port()
    env = environment(port, db_name=DB_NAME, redis_url=REDIS_URL, queue=QUEUE,
                      extractor="bench.slowplatform.SlowExtractor")
    for knob in SCRIPT_KNOBS:
        env.pop(knob, None)
    if worker_slots:
        env["WORKER_CONCURRENCY"] = str(worker_slots)
    env["BENCH_SLOW_ADDR"] = f"127.0.0.1:{slow_port}"
    env["VENV"] = str(Path(sys.executable).parent.parent)
    recreate_database(DB_NAME)
    token = prepare(env)
    purge_queue()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logs = {part: ARTIFACTS / f"capacity-{stamp}-{name}-{part}.log" for part in ("api", "worker", "slowplatform")}
    files = {part: path.open("w") for part, path in logs.items()}
    started: list[tuple[subprocess.Popen, float]] = []

    def start(part: str, command: list[str], stop_timeout: float) -> subprocess.Popen:
        if nofile and part != "slowplatform":
            command = ["bash", "-c", f"ulimit -Sn {nofile} && exec {shlex.join(command)}"]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=files[part], stderr=subprocess.STDOUT)
        started.append((proc, stop_timeout))
        return proc

    result: dict = {"name": name, "clients": clients, "delay": delay, "seconds": seconds, "logs": logs,
                    "worker_slots": worker_slots}
    try:
        slow = start("slowplatform", [sys.executable, "-m", "bench.slowplatform", "--port", str(slow_port),
                                      "--delay", str(delay)], 5)
        for _ in range(100):
            if slow_stats(slow_port) is not None:
                break
            if slow.poll() is not None:
                raise SystemExit(f"the slow platform exited; see {logs['slowplatform']}")
            time.sleep(0.1)
        # Stopped in reverse order: the API (it finishes its in-flight parses, which need the worker),
        # then the worker (a warm shutdown waits up to D for its running parses), then the platform.
        worker = start("worker", ["bash", "deploy/run-worker.sh"], max(40.0, delay + 30))
        api = start("api", ["bash", "deploy/run-api.sh"], 40)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, [api, worker])
        result["worker_ready"] = wait_worker_ready(logs["worker"], worker)
        time.sleep(1)
        result.update(measure(api, worker, slow, slow_port, LoadConfig(
            port=port, token=token, clients=clients, ramp=max(MIN_RAMP, delay), warmup=delay / 2, seconds=seconds)))
        result["exited"] = {part: proc.returncode for part, proc in (("api", api), ("worker", worker))
                            if proc.poll() is not None}
    finally:
        for proc, timeout in reversed(started):
            stop(proc, timeout)
        for f in files.values():
            f.close()
    return result


def measure(api: subprocess.Popen, worker: subprocess.Popen, slow: subprocess.Popen, slow_port: int,
            cfg: LoadConfig) -> dict:
    trees = {"api": TreePeak(), "worker": TreePeak()}
    roots = {"api": api.pid, "worker": worker.pid}
    table = proc_table()
    for part, peak in trees.items():
        peak.idle_rss = tree_usage(roots[part], table)[0]
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    loadgen = ctx.Process(target=loadgen_main, args=(cfg, sender), daemon=True, name="capacity-loadgen")
    loadgen.start()
    sender.close()
    cpu_roots = {**roots, "loadgen": loadgen.pid, "slowplatform": slow.pid}
    cpu_start = cpu_end = None
    outcome = None
    pg_peak = 0
    next_rss = next_pg = 0.0
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as pg:
        while outcome is None:
            if receiver.poll(0.1):
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    break
                if kind == "window_start":
                    cpu_start = cpu_by_component(cpu_roots)
                elif kind == "window_end":
                    cpu_end = cpu_by_component(cpu_roots)
                elif kind == "done":
                    outcome = payload
            now = time.monotonic()
            if now >= next_rss:
                next_rss = now + 0.5
                table = proc_table()
                for part, peak in trees.items():
                    peak.sample(tree_usage(roots[part], table))
            if now >= next_pg:
                next_pg = now + 1.0
                pg_peak = max(pg_peak, pg_connections(pg))
    loadgen.join(10)
    if outcome is None or cpu_start is None or cpu_end is None:
        raise SystemExit("the load generator died (its traceback is above)")
    cpu = {part: cpu_end[part] - cpu_start[part] for part in cpu_start}
    return {"load": outcome, "trees": trees, "pg_peak": pg_peak, "cpu": cpu, "platform": slow_stats(slow_port)}


# --- report ------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def latency_line(records: list[tuple[float, float, str, bool]]) -> str:
    parts = []
    for status in ("200", "503"):
        lat = [end - start for start, end, label, _ in records if label.split(" ", 1)[0] == status]
        parts.append(f"{status}: p50 {fmt_ms(percentile(lat, 50))} p99 {fmt_ms(percentile(lat, 99))} (n={len(lat)})")
    return "   ".join(parts)


def counts(records: list[tuple[float, float, str, bool]]) -> str:
    tally: dict[str, int] = {}
    for _, _, label, _ in records:
        tally[label] = tally.get(label, 0) + 1
    return ", ".join(f"{label}={n}" for label, n in sorted(tally.items())) or "none"


def status_of(label: str) -> int | None:
    head = label.split(" ", 1)[0]
    return int(head) if head.isdigit() else None


def report(result: dict, goals: str, baseline: float | None) -> tuple[float, list[tuple[bool | None, str]]]:
    """Print the scenario's block; returns its ok/s and the goal verdicts (None: cannot be judged)."""
    load, n, d = result["load"], result["clients"], result["delay"]
    w0, w1 = load["window"]
    window = w1 - w0
    everything = load["records"]
    inside = [r for r in everything if w0 <= r[1] < w1]
    ok = sum(1 for r in inside if r[2] == "200")
    ok_per_s, ideal = ok / window, n / d
    ratio = ok_per_s / ideal
    print(f"\n=== {result['name']}: N={n} D={d:g}s window={window:.0f}s "
          f"(after a {max(MIN_RAMP, d):g}s ramp and {d / 2:g}s warm-up; "
          f"then {load['drain']:.1f}s draining in-flight requests)")
    goal_text = {
        "n200": "goal: ratio >= 0.8 and no 5xx",
        "n1000": "goal (stretch): ratio >= 0.8",
        "n600": "goal: no 500/504; 503s carry Retry-After, 503 p99 <= 1 s; ok/s >= n200's",
    }[goals]
    print(f"ok/s {ok_per_s:.2f} vs ideal N/D {ideal:.2f}: ratio {ratio:.3f}   [{goal_text}]")
    platform = result.get("platform") or {}
    print(f"parses waiting on the platform at once: peak {platform.get('peak', '?')} of {n} clients "
          f"(platform answered {platform.get('served', '?')} in the whole run)")
    print(f"latency in window   {latency_line(inside)}")
    print(f"latency, whole run  {latency_line(everything)}")
    print(f"statuses in window: {counts(inside)}")
    print(f"statuses, whole run: {counts(everything)}")
    all_503 = [r for r in everything if status_of(r[2]) == 503]
    with_retry = sum(1 for r in all_503 if r[3])
    if all_503:
        print(f"503 answers with Retry-After: {with_retry} of {len(all_503)}")
    mib = 1024 * 1024
    for part, peak in result["trees"].items():
        print(f"{part:6s} RSS peak {peak.rss / mib:7.1f} MiB over {peak.procs_at_peak} processes "
              f"(idle {peak.idle_rss / mib:.1f} MiB; at most {peak.max_procs} processes, {peak.max_threads} threads)")
    print(f"PostgreSQL connections to {DB_NAME}: peak {result['pg_peak']}")
    cpu = result["cpu"]
    print("CPU seconds in window: " + "  ".join(f"{part} {cpu[part]:.1f}"
                                                for part in ("api", "worker", "postgres", "redis"))
          + f"   (bench itself: loadgen {cpu['loadgen']:.1f}, slow platform {cpu['slowplatform']:.1f}; "
          f"{os.cpu_count()} cores x {window:.0f}s = {os.cpu_count() * window:.0f})")
    if load["stuck"] or load["crashed"]:
        print(f"load generator: {load['stuck']} clients still waiting after the drain, "
              f"{load['crashed']} crashed {load['crashes']}")
    if not result.get("worker_ready"):
        print("note: the worker log never said 'ready' within 60 s; measured anyway")
    for part, code in result.get("exited", {}).items():
        print(f"note: the {part} exited during the run with code {code}")
    print("logs: " + "  ".join(str(path.relative_to(ROOT)) for path in result["logs"].values()))

    statuses = [status_of(r[2]) for r in everything]
    broken = sum(1 for r in everything if r[2] in (CONN_ERROR, CLIENT_TIMEOUT_LABEL))
    fivexx = sum(1 for s in statuses if s is not None and s >= 500)
    verdicts: list[tuple[bool | None, str]] = []
    if goals in ("n200", "n1000"):
        verdicts.append((ratio >= 0.8, f"ok/s ratio >= 0.8{' (stretch)' if goals == 'n1000' else ''}: {ratio:.3f}"))
    if goals == "n200":
        verdicts.append((fivexx == 0 and broken == 0,
                         f"no 5xx (nor broken connections / client timeouts): {fivexx} 5xx, {broken} broken"))
    if goals == "n600":
        bad = sum(1 for s in statuses if s in (500, 504))
        verdicts.append((bad == 0 and broken == 0,
                         f"no 500 and no 504 (nor broken connections / client timeouts): {bad} 500/504, {broken} "
                         "broken"))
        none = " (no 503 answers)" if not all_503 else ""
        verdicts.append((with_retry == len(all_503),
                         f"every 503 carries Retry-After: {with_retry} of {len(all_503)}{none}"))
        p99 = percentile([r[1] - r[0] for r in all_503], 99)
        verdicts.append((p99 is None or p99 <= 1.0, f"p99 of the 503 answers <= 1 s: {fmt_ms(p99)}{none}"))
        if result.get("worker_slots"):
            capacity = result["worker_slots"] / d
            verdicts.append((ok_per_s >= 0.8 * capacity,
                             f"ok/s at least 0.8 x the slots' capacity (slots/D = {capacity:.1f}): {ok_per_s:.2f}"))
            verdicts.append((len(all_503) > 0, f"the excess is refused with 503: {len(all_503)} answers"))
        elif baseline is None:
            verdicts.append((None, f"ok/s not below n200's: {ok_per_s:.2f} (no n200 figure in this run)"))
        else:
            verdicts.append((ok_per_s >= baseline, f"ok/s not below n200's: {ok_per_s:.2f} vs {baseline:.2f}"))
    for verdict, text in verdicts:
        print(f"{VERDICT[verdict]}  {result['name']}: {text}")
    return ok_per_s, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--clients", type=int, help="N: concurrent clients (overrides the preset)")
    parser.add_argument("--delay", type=float, help="D: seconds the platform takes per parse (overrides the preset)")
    parser.add_argument("--seconds", type=float, help="the measured window (default max(60, 3*D))")
    parser.add_argument("--worker-slots", type=int, help="WORKER_CONCURRENCY for the worker (default: the script's)")
    parser.add_argument("--nofile", type=int, help="soft open-file limit for the API and the worker (default: "
                        "inherited from this shell; a systemd service without LimitNOFILE gets 1024)")
    args = parser.parse_args()
    if args.clients is not None or args.delay is not None:
        base = "n200" if args.scenario == "all" else args.scenario
        n, d = SCENARIOS[base]
        name = "custom" if args.scenario == "all" else args.scenario
        plan = [(name, base, args.clients or n, args.delay or d, args.worker_slots)]
    else:
        names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
        plan = [(name, name, *SCENARIOS[name], args.worker_slots) for name in names]
        if args.scenario == "all" and not args.worker_slots:
            plan.append(SLOTS_SCENARIO)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    nofile = args.nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    print(f"capacity bench: cores={os.cpu_count()} scenarios={', '.join(p[0] for p in plan)} "
          f"open-file limit of the API and worker={nofile} logs in "
          f"{ARTIFACTS.relative_to(ROOT)}/capacity-{stamp}-*", flush=True)
    baseline: float | None = None
    summary: list[tuple[bool | None, str]] = []
    for name, goals, clients, delay, slots in plan:
        seconds = args.seconds or max(60.0, 3 * delay)
        print(f"\nrunning {name}: N={clients} D={delay:g}s window={seconds:g}s"
              f"{f' worker slots={slots}' if slots else ''} ...", flush=True)
        result = run_scenario(name, clients, delay, seconds, stamp, args.nofile, slots)
        ok_per_s, verdicts = report(result, goals, baseline)
        if goals == "n200" and name == "n200":
            baseline = ok_per_s
        summary += [(v, f"{name}: {text}") for v, text in verdicts]
        sys.stdout.flush()
    if len(plan) > 1:
        print("\n=== summary")
        for verdict, text in summary:
            print(f"{VERDICT[verdict]}  {text}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
