"""A media CDN stand-in on loopback for the tunnel's tests and bench: it insists on the Referer and
User-Agent a platform's CDN wants, serves files with byte ranges, and records what it saw.

Paths: ``/file/<size>`` (deterministic bytes, ranges; ``?rate=<MB/s>`` paces it as a CDN would),
``/slow/<size>`` (the same, 64 KiB every 0.2 s), ``/hang`` (accepts, never answers), ``/expired`` (403),
``/redirect/<n>?to=<url>`` (n hops, then ``to``), ``/media/<name>`` (a file from ``media_dir``). Every
answer sets a cookie, which must never reach a client.
"""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REFERER = "https://www.youtube.com/"


_PATTERN = bytes(range(251)) * (4 * 1024 * 1024 // 251 + 2)


def content(start: int, end: int) -> bytes:
    """Bytes ``start``..``end`` (inclusive) of every /file: byte i is i mod 251."""
    out = bytearray()
    position = start
    while position <= end:
        size = min(end - position + 1, len(_PATTERN) - 251)
        offset = position % 251
        out += _PATTERN[offset:offset + size]
        position += size
    return bytes(out)


class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", media_dir: Path | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.media_dir = media_dir
        self.requests: list[dict] = []
        self.open_streams = 0
        self.closed_early = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Origin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Origin

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"", head: bool = False) -> None:
        self.send_response(status)
        for name, value in {"Set-Cookie": "session=secret", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        url = urlsplit(self.path)
        self.server.requests.append({"path": url.path, "headers": dict(self.headers), "method": self.command})
        if self.headers.get("Referer") != REFERER or "Mozilla/5.0" not in self.headers.get("User-Agent", ""):
            self._reply(403, {}, b"hotlinking is not allowed", head)
            return
        parts = url.path.strip("/").split("/")
        if parts[0] == "expired":
            self._reply(403, {}, b"expired", head)
        elif parts[0] == "hang":
            time.sleep(30)
        elif parts[0] == "redirect":
            hops = int(parts[1])
            target = parse_qs(url.query)["to"][0]
            location = f"/redirect/{hops - 1}?{url.query}" if hops > 1 else target
            self._reply(302, {"Location": location}, b"", head)
        elif parts[0] == "media" and self.server.media_dir is not None:
            data = (self.server.media_dir / parts[1]).read_bytes()
            kind = "video/mp4" if parts[1].endswith(".mp4") else "audio/mp4"
            self._ranged(data_size=len(data), read=lambda s, e: data[s:e + 1], mime=kind, head=head)
        elif parts[0] in ("file", "slow"):
            rate = float(parse_qs(url.query).get("rate", ["0"])[0]) * 1024 * 1024  # MB/s, 0: as fast as it goes
            self._ranged(data_size=int(parts[1]), read=content, mime="video/mp4", head=head, slow=parts[0] == "slow",
                         rate=rate)
        else:
            self._reply(404, {}, b"not found", head)

    def _ranged(self, *, data_size: int, read, mime: str, head: bool, slow: bool = False, rate: float = 0) -> None:
        start, end, status = 0, data_size - 1, 200
        headers = {"Content-Type": mime, "Accept-Ranges": "bytes", "ETag": '"v1"'}
        wanted = self.headers.get("Range")
        if wanted:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
            if not match:
                self._reply(416, {"Content-Range": f"bytes */{data_size}"}, b"", head)
                return
            first, last = match.groups()
            if first == "":
                start = max(0, data_size - int(last))
            else:
                start = int(first)
                end = min(end, int(last)) if last else end
            if start >= data_size or start > end:
                self._reply(416, {"Content-Range": f"bytes */{data_size}"}, b"", head)
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{data_size}"
        self.send_response(status)
        for name, value in {"Set-Cookie": "session=secret", "Content-Length": str(end - start + 1), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        self.server.open_streams += 1
        try:
            position, step, began = start, 64 * 1024, time.monotonic()
            while position <= end:
                chunk_end = min(end, position + (step if slow else 1024 * 1024 if rate else 4 * 1024 * 1024) - 1)
                self.wfile.write(read(position, chunk_end))
                position = chunk_end + 1
                if slow:
                    time.sleep(0.2)
                elif rate:  # a CDN's pace: no faster than ``rate`` bytes a second on this connection
                    time.sleep(max(0.0, began + (position - start) / rate - time.monotonic()))
        except (BrokenPipeError, ConnectionResetError):
            self.server.closed_early.set()
        finally:
            self.server.open_streams -= 1
