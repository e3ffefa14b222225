"""A live stack for end-to-end tests: the ASGI app under uvicorn and a real Celery worker, both
pointed at the pytest-django test database and the test Redis."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings

from parsing.recognition import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


METRICS_TOKEN = "test-metrics-token"


def stack_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "EASYDOWN_EXTRACTORS": json.dumps({p: "tests.support.extractors.ScriptedExtractor" for p in PLATFORMS}),
        "EASYDOWN_PARSE_WAIT_TIMEOUT": "6",
        "EASYDOWN_BODY_TIMEOUT": "2",
        "PYTHONPATH": str(ROOT),
    }
    env.update(overrides)
    return env


@dataclass
class Stack:
    base_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    worker_command: tuple[list[str], dict[str, str], Path] | None = None

    def restart_worker(self) -> None:
        """Start the worker again (after a test killed it) and wait until it is ready."""
        args, env, log_dir = self.worker_command  # type: ignore[misc]
        old = self.processes["worker"]
        if old.poll() is None:
            old.kill()
            old.wait()
        offset = self.logs["worker"].stat().st_size
        self.processes["worker"], self.logs["worker"] = _spawn("worker", args, env, log_dir, append=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(self.logs["worker"], "rb") as log:
                log.seek(offset)
                if b"ready" in log.read():
                    return
            time.sleep(0.2)
        raise RuntimeError("worker did not restart")

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def worker_children(self) -> list[int]:
        """Pids of the Celery pool processes (children of the worker's main process)."""
        main = self.processes["worker"].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(main)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path,
           append: bool = False) -> tuple[subprocess.Popen, Path]:
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "ab" if append else "wb")  # noqa: SIM115 - kept open for the child's lifetime
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, log_path


def start_stack(log_dir: Path, *, web_workers: int = 1, worker_concurrency: int = 20, beat: bool = False,
                **env_overrides: str) -> Stack:
    """With ``beat``, also Celery beat (deploy/run-beat.sh's command), so the sweeper runs on its schedule."""
    env = stack_env(**env_overrides)
    port = free_port()
    stack = Stack(base_url=f"http://127.0.0.1:{port}")
    log_dir.mkdir(parents=True, exist_ok=True)
    # As the production scripts do: every process of the stack writes its metrics where /metrics adds them up.
    metrics_dir = log_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    env.setdefault("EASYDOWN_METRICS_TOKEN", METRICS_TOKEN)
    queue = f"test-{port}"
    env["CELERY_QUEUE"] = queue
    # The production worker's model (deploy/run-worker.sh): one process, parses as threads, a small pool.
    worker_args = [
        str(BIN / "celery"), "-A", "easydown", "worker", "--loglevel=INFO", "-Q", queue, "--pool=threads",
        f"--concurrency={worker_concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"test-{port}@%h",
    ]
    worker_env = {"DB_POOL_SIZE": "4", "DB_POOL_TIMEOUT": "1", "DB_SYNCHRONOUS_COMMIT": "off", **env}  # run-worker.sh
    stack.worker_command = (worker_args, worker_env, log_dir)
    worker, stack.logs["worker"] = _spawn("worker", worker_args, worker_env, log_dir)
    stack.processes["worker"] = worker
    web_env = {**env, "DB_POOL_SIZE": "10"}
    web, stack.logs["web"] = _spawn("web", [
        str(BIN / "uvicorn"), "easydown.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(web_workers), "--lifespan", "off", "--no-access-log", "--no-proxy-headers",
    ], web_env, log_dir)
    stack.processes["web"] = web
    if beat:
        stack.processes["beat"], stack.logs["beat"] = _spawn("beat", [
            str(BIN / "celery"), "-A", "easydown", "beat", "--loglevel=INFO",
            f"--schedule={log_dir / 'beat-schedule'}"], env, log_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, proc in stack.processes.items():
            if proc.poll() is not None:
                stack.stop()
                raise RuntimeError(f"{name} exited: {stack.logs[name].read_text()[-3000:]}")
        try:
            ready = httpx.get(f"{stack.base_url}/api/v1/parse", timeout=1).status_code == 405
        except httpx.HTTPError:
            ready = False
        if ready and "ready" in stack.logs["worker"].read_text():
            return stack
        time.sleep(0.2)
    stack.stop()
    raise RuntimeError("stack did not start: " + stack.logs["worker"].read_text()[-3000:])
