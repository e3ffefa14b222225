"""The media tunnel: what a download through it costs against the same download straight from the CDN.

The production API script (deploy/run-api.sh) and worker, a CDN stand-in on loopback (tests/support/origin.py,
which insists on the platform's Referer and User-Agent and serves byte ranges), and curl as the client.
In one run:

(a) a SIZE MB file downloaded straight from the origin (with the headers it wants) and through the tunnel,
    ROUNDS times each, taking turns: the throughput ratio tunnel / direct (goal >= 0.8), and the peak RSS
    of the API processes during the tunnel downloads against their RSS at rest (goal: under 50 MB more).
    Twice: with the origin as fast as loopback goes (gigabytes a second: a relay on the same two cores then
    does twice the copying of a direct download, so this measures the tunnel's ceiling), and paced at
    CDN_RATE MB/s per connection, as a real CDN serves one download (default 100);
(b) parse p50 (an instant extractor, 4 clients) at rest, and while DOWNLOADS slow downloads (64 KiB every
    0.2 s each) stream through the tunnel: the ratio (goal <= 2).

Needs PostgreSQL and Redis (as ``make test``); it creates and drops its own database.

    .venv/bin/python bench/tunnel.py [--size 500] [--rounds 3] [--downloads 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, environment, free_port, prepare, raise_fd_limit, recreate_database, stop, wait_until_up
from tests.support.origin import REFERER, Origin

DB_NAME = "easydown_tunnel_bench"
UA = "Mozilla/5.0 (X11; Linux x86_64) bench"


def rss_mb(root: int) -> float:
    """Resident memory of ``root`` and its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def curl_seconds(url: str, headers: dict[str, str]) -> float:
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{time_total} %{size_download} %{http_code}"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout.split()
    if out[2] != "200":
        raise SystemExit(f"download answered {out[2]}")
    return float(out[0])


def mint(env: dict[str, str], urls: list[str]) -> list[str]:
    """Tunnel tokens for ``urls`` (signed with the bench's secret key, as the API would)."""
    script = ("import json, sys, time; from parsing import tunnel; "
              f"print(json.dumps([tunnel.sign({{'u': u, 'p': 'youtube', 'h': {{'Referer': {REFERER!r}, "
              f"'User-Agent': {UA!r}}}, 'k': 'bench', 'x': time.time() + 3600, 'n': 'bench.mp4'}}) "
              f"for u in {urls!r}]))")
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def parse_p50(base: str, token: str, count: int = 200, clients: int = 4) -> float:
    """p50 of ``count`` parses of new links by ``clients`` clients on keep-alive connections (a client built
    per request would time mostly its own TLS setup: about 30 ms of loading certificates)."""
    headers = {"Authorization": f"Bearer {token}"}
    stamp = f"{time.time_ns() % 10**6:06d}"
    http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients))

    def one(i: int) -> float:
        started = time.perf_counter()
        answer = http.post(f"{base}/api/v1/parse", headers=headers, json={"url": f"https://youtu.be/t{stamp}{i:04d}"})
        if answer.status_code != 200:
            raise SystemExit(f"parse answered {answer.status_code}: {answer.text[:200]}")
        return (time.perf_counter() - started) * 1000

    with http, ThreadPoolExecutor(clients) as pool:
        return statistics.median(pool.map(one, range(count)))


def relay_ceiling(origin: Origin, size: int, rounds: int) -> list[float]:
    """Seconds per download of the same file through socat, a relay written in C with 1 MiB buffers that does
    the same two copies as the tunnel and nothing else (no HTTP, no Python): what any relay can reach on this
    machine. Empty when socat is not installed."""
    if not shutil.which("socat"):
        return []
    port = free_port()
    upstream = origin.base.rsplit(":", 1)[1]
    relay = subprocess.Popen(["socat", "-b", str(1024 * 1024), f"TCP-LISTEN:{port},fork,reuseaddr,bind=127.0.0.1",
                              f"TCP:127.0.0.1:{upstream}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/file/{size}"
        return [curl_seconds(url, {"Referer": REFERER, "User-Agent": UA}) for _ in range(rounds)]
    finally:
        relay.terminate()
        relay.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=500, help="MB per download")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--downloads", type=int, default=200, help="slow downloads during the parse test")
    parser.add_argument("--cdn-rate", type=float, default=100, help="MB/s per connection of the paced origin")
    args = parser.parse_args()
    raise_fd_limit()
    port = free_port()
    env = {**environment(port, db_name=DB_NAME, queue="tunnelbench"),
           "EASYDOWN_OUTBOUND_ALLOW_NETWORKS": "127.0.0.1/32",
           "EASYDOWN_MEDIA_HOSTS": json.dumps({"youtube": ["127.0.0.1"]}),
           "EASYDOWN_TUNNEL_STREAMS_PER_KEY": str(args.downloads + 10),
           "VENV": str(Path(sys.executable).parent.parent)}
    recreate_database(DB_NAME)
    token = prepare(env)
    size = args.size * 1024 * 1024
    with Origin() as origin:
        big, slow = f"{origin.base}/file/{size}", f"{origin.base}/slow/{1024 * 1024 * 1024}"
        paced = f"{origin.base}/file/{size}?rate={args.cdn_rate:g}"
        big_token, slow_token, paced_token = mint(env, [big, slow, paced])
        api = subprocess.Popen(["bash", "deploy/run-api.sh"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        worker = subprocess.Popen(["bash", "deploy/run-worker.sh"], cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base, [api, worker])
            time.sleep(1)
            tunnel_url = f"{base}/api/v1/media/{big_token}"
            curl_seconds(tunnel_url, {})  # warm
            idle_rss = rss_mb(api.pid)
            peak = [idle_rss]
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.is_set():
                    peak[0] = max(peak[0], rss_mb(api.pid))
                    time.sleep(0.1)

            direct_s, tunnel_s = [], []
            for _ in range(args.rounds):
                direct_s.append(curl_seconds(big, {"Referer": REFERER, "User-Agent": UA}))
                sampler = threading.Thread(target=sample)
                sampling.clear()
                sampler.start()
                tunnel_s.append(curl_seconds(tunnel_url, {}))
                sampling.set()
                sampler.join()
            relayed_s = relay_ceiling(origin, size, args.rounds)
            paced_direct, paced_tunnel = [], []
            for _ in range(args.rounds):
                paced_direct.append(curl_seconds(paced, {"Referer": REFERER, "User-Agent": UA}))
                paced_tunnel.append(curl_seconds(f"{base}/api/v1/media/{paced_token}", {}))
            idle_p50 = parse_p50(base, token)
            streams = []
            stop_streams = threading.Event()

            def slow_download() -> None:
                with httpx.stream("GET", f"{base}/api/v1/media/{slow_token}", timeout=60) as response:
                    for _ in response.iter_raw(64 * 1024):
                        if stop_streams.is_set():
                            return

            for _ in range(args.downloads):
                thread = threading.Thread(target=slow_download, daemon=True)
                thread.start()
                streams.append(thread)
            time.sleep(3)
            in_flight = origin.open_streams
            busy_p50 = parse_p50(base, token)
            stop_streams.set()
        finally:
            for proc in (api, worker):
                stop(proc, timeout=40)
    mb = size / 1024 / 1024
    direct_rate = [mb / s for s in direct_s]
    tunnel_rate = [mb / s for s in tunnel_s]
    print(f"size={args.size} MB rounds={args.rounds} cores={os.cpu_count()}")
    print("direct MB/s per round: " + ", ".join(f"{r:.0f}" for r in direct_rate))
    print("tunnel MB/s per round: " + ", ".join(f"{r:.0f}" for r in tunnel_rate))
    ratio = sum(direct_s) / sum(tunnel_s)
    print(f"throughput ratio tunnel/direct, origin as fast as loopback goes: {ratio:.2f} (goal >= 0.8)")
    if relayed_s:
        print(f"ceiling of any relay on this box: socat (C, 1 MiB buffers) relaying the same download: ratio "
              f"{sum(direct_s) / sum(relayed_s):.2f} (MB/s per round: " + ", ".join(f"{mb / s:.0f}" for s in relayed_s)
              + ")")
    print(f"paced origin ({args.cdn_rate:g} MB/s per connection): direct MB/s "
          + ", ".join(f"{mb / s:.0f}" for s in paced_direct) + "; tunnel MB/s "
          + ", ".join(f"{mb / s:.0f}" for s in paced_tunnel)
          + f"; ratio {sum(paced_direct) / sum(paced_tunnel):.2f} (goal >= 0.8)")
    print(f"API RSS at rest {idle_rss:.0f} MB, peak during tunnel downloads {peak[0]:.0f} MB: "
          f"+{peak[0] - idle_rss:.0f} MB (goal < 50)")
    print(f"parse p50 at rest {idle_p50:.1f} ms, with {in_flight} slow downloads streaming {busy_p50:.1f} ms: "
          f"ratio {busy_p50 / idle_p50:.2f} (goal <= 2)")


if __name__ == "__main__":
    main()
