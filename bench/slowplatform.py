"""A platform that takes D seconds to answer, and the extractor that calls it.

The server (asyncio, one process) reads one line per connection (a media id), sleeps D seconds and
answers one line, then closes; thousands of connections can wait at once. A connection whose line is
``?stats`` gets ``{"inflight": …, "peak": …, "served": …}`` at once instead, so the bench can read how
many parses were really waiting on the platform at the same time.

    .venv/bin/python -m bench.slowplatform --port 9100 --delay 4

``SlowExtractor`` is what a worker runs: a plain blocking TCP round trip to ``BENCH_SLOW_ADDR``
(``host:port``) with the timeout ``BENCH_SLOW_TIMEOUT`` (seconds, default 60), as a real extractor
blocks on its platform.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket

from parsing import deadline
from parsing.extractors.base import Extractor, UpstreamFailure, UpstreamTimeout
from parsing.recognition import Recognition
from parsing.schema import MediaResult, Video

STATS = b"?stats"
log = logging.getLogger(__name__)


def ask(host: str, port: int, line: bytes, timeout: float | None) -> bytes:
    """Send one line, read the one-line answer (shorter if the server closes first). Inside a parse the
    connection is the parse's, under its deadline, as a real extractor's connections are."""
    with socket.create_connection((host, port), timeout=deadline.clip(timeout)) as sock:
        deadline.track(sock)
        sock.sendall(line + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            reply += chunk
    return reply


class SlowExtractor(Extractor):
    def extract(self, target: Recognition) -> MediaResult:
        host, port = os.environ["BENCH_SLOW_ADDR"].rsplit(":", 1)
        timeout = float(os.environ.get("BENCH_SLOW_TIMEOUT", "60"))
        try:
            reply = ask(host, int(port), (target.id or "").encode(), timeout)
        except TimeoutError as exc:
            log.warning("slow platform: no answer for %s within %ss", target.id, timeout)
            raise UpstreamTimeout("slow platform did not answer in time") from exc
        except OSError as exc:
            # Logged, so the bench's worker log says why a parse failed (the job only records the reason).
            log.warning("slow platform: %s for %s", exc, target.id)
            raise UpstreamFailure(f"slow platform: {exc}") from exc
        if not reply.endswith(b"\n"):
            log.warning("slow platform: connection closed without an answer for %s", target.id)
            raise UpstreamFailure("slow platform closed the connection without an answer")
        return MediaResult(platform=target.platform or "", title="slow", duration=1, id=target.id,
                           videos=[Video(url=f"https://cdn.example/{target.id}.mp4", quality="HD")])


class SlowPlatform:
    """Connection handler plus the counters ``?stats`` reports."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inflight = 0
        self.peak = 0
        self.served = 0

    def stats(self) -> dict[str, int]:
        return {"inflight": self.inflight, "peak": self.peak, "served": self.served}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if line.rstrip() == STATS:
                writer.write(json.dumps(self.stats()).encode() + b"\n")
            elif line:
                self.inflight += 1
                self.peak = max(self.peak, self.inflight)
                try:
                    await asyncio.sleep(self.delay)
                finally:
                    self.inflight -= 1
                writer.write(b"ok " + line.strip()[:64] + b"\n")
                self.served += 1
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # the caller gave up (its timeout); nothing to answer
        except asyncio.CancelledError:
            pass  # the server is stopping with this caller still waiting
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def serve(host: str, port: int, delay: float) -> None:
    platform = SlowPlatform(delay)
    server = await asyncio.start_server(platform.handle, host, port, backlog=4096)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    print(f"slow platform listening on {host}:{port}, delay {delay}s", flush=True)
    async with server:
        await stopping.wait()
    print(f"slow platform stopped: {json.dumps(platform.stats())}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, required=True, help="seconds before each answer")
    args = parser.parse_args()
    from bench.common import raise_fd_limit

    raise_fd_limit()
    asyncio.run(serve(args.host, args.port, args.delay))


if __name__ == "__main__":
    main()
