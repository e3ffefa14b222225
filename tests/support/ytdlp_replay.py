"""Offline replay of recorded platform responses through yt-dlp's own request-handler interface.

A ``ReplayRH`` (a ``yt_dlp.networking`` impersonation-capable request handler, so TikTok's and
Instagram's impersonated requests are accepted too) is put first on every warm ``YoutubeDL`` of
``parsing.extractors.ytdlp`` for the duration of a ``with replay(...)`` block. It answers from fixtures;
an unmatched request fails the test (``ReplayMiss``): nothing reaches the network.

    from tests.support.ytdlp_replay import replay

    with replay({
        # "[METHOD ]<fnmatch glob on the full URL>": fixture path under tests/fixtures (status 200)
        "https://www.tiktok.com/@_/video/7300000000000000001*": "tiktok/video_page.html",
        # or (body, status, headers); body: a fixture path, bytes, a dict/list (sent as JSON) or None
        "POST https://www.youtube.com/youtubei/v1/player*": ("youtube/player.json", 200, {}),
        "https://vm.tiktok.com/ZMabc/": (None, 301, {"Location": "https://www.tiktok.com/@u/video/1"}),
        # or an exception to raise (a yt_dlp.networking.exceptions.RequestError), e.g. a timeout
        "https://www.bilibili.com/video/BV1*": TransportError("timed out", cause=TimeoutError()),
        # or a function of the recorded Call returning any of the above (one URL, answers by request body)
        "POST https://www.youtube.com/youtubei/v1/browse*": lambda call: "youtube/a.json" if call.data else None,
    }) as calls:
        result = TikTokExtractor().extract(target)
    assert [c.url for c in calls] == [...]

First matching pattern wins (insertion order). Redirects (3xx with Location) are followed inside the
replay, as yt-dlp's real handlers do; ``Set-Cookie`` headers land in the instance's cookie jar and the
``Cookie`` a request would carry is recorded. Content-Type defaults from the fixture's extension.
Each recorded ``Call`` has method, url, headers (with Cookie), data and impersonate.
"""

from __future__ import annotations

import email.message
import fnmatch
import io
import json
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from yt_dlp.networking.common import Request, Response
from yt_dlp.networking.exceptions import HTTPError, RequestError
from yt_dlp.networking.impersonate import ImpersonateRequestHandler, ImpersonateTarget

from parsing.extractors import ytdlp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_TYPES = {".json": "application/json; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".xml": "application/xml", ".mpd": "application/dash+xml", ".m3u8": "application/vnd.apple.mpegurl",
          ".txt": "text/plain; charset=utf-8", ".js": "application/javascript"}

Route = str | bytes | dict | list | None | tuple | BaseException | Callable[["Call"], Any]


class ReplayMiss(RequestError):
    """A request no route matches (the test forgot a fixture, or the code fetched something unexpected)."""


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str]
    data: bytes | None = None
    impersonate: str | None = None


@dataclass
class Routes:
    table: list[tuple[str | None, str, Route]]
    calls: list[Call] = field(default_factory=list)

    @classmethod
    def parse(cls, routes: Mapping[str, Route]) -> Routes:
        table = []
        for key, value in routes.items():
            method, _, pattern = key.partition(" ") if " " in key else ("", "", key)
            table.append((method.upper() or None, pattern, value))
        return cls(table)

    def find(self, method: str, url: str) -> Route:
        for want, pattern, value in self.table:
            if (want is None or want == method) and fnmatch.fnmatchcase(url, pattern):
                return value
        raise ReplayMiss(f"no replay route for {method} {url}")


def _body(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, dict | list):
        return json.dumps(body).encode(), _TYPES[".json"]
    path = FIXTURES / body
    return path.read_bytes(), _TYPES.get(path.suffix)


class _CookieResponse:
    """Just enough of a urllib response for CookieJar.extract_cookies."""

    def __init__(self, cookies: list[str]) -> None:
        self._message = email.message.Message()
        for value in cookies:
            self._message["Set-Cookie"] = value

    def info(self) -> email.message.Message:
        return self._message


class ReplayRH(ImpersonateRequestHandler):
    """Serves every request from the routes; accepts any impersonation target a real browser would have."""

    RH_NAME = "replay"
    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = None
    _SUPPORTED_FEATURES = None
    _SUPPORTED_IMPERSONATE_TARGET_MAP = {
        ImpersonateTarget("chrome", "131", "macos", "14"): "chrome",
        ImpersonateTarget("safari", "18.0", "macos", "15"): "safari",
        ImpersonateTarget("firefox", "135", "macos", "14"): "firefox",
        ImpersonateTarget("edge", "101", "windows", "10"): "edge",
    }

    def __init__(self, *, routes: Routes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.routes = routes

    def _check_extensions(self, extensions: dict) -> None:
        super()._check_extensions(extensions)
        for name in ("impersonate", "cookiejar", "timeout", "legacy_ssl", "keep_header_casing"):
            extensions.pop(name, None)

    def _send(self, request: Request) -> Response:
        method = request.method or ("POST" if request.data else "GET")
        url = request.url
        jar = self._get_cookiejar(request)
        target = self._get_request_target(request)
        data = request.data if isinstance(request.data, bytes | None) else b"".join(request.data)  # type: ignore
        for _ in range(11):
            probe = urllib.request.Request(url)
            jar.add_cookie_header(probe)
            headers = {**self._get_headers(request), **dict(probe.unredirected_hdrs)}
            call = Call(method, url, headers, data, str(target) if target else None)
            self.routes.calls.append(call)
            value = self.routes.find(method, url)
            if callable(value) and not isinstance(value, BaseException):
                value = value(call)
            if isinstance(value, BaseException):
                raise value
            body, status, extra = value if isinstance(value, tuple) else (value, 200, {})
            payload, content_type = _body(body)
            response_headers = {"Content-Type": content_type or "application/octet-stream", **extra}
            cookies = [v for k, v in response_headers.items() if k.lower() == "set-cookie"]
            jar.extract_cookies(_CookieResponse(cookies), urllib.request.Request(url))  # type: ignore[arg-type]
            location = next((v for k, v in response_headers.items() if k.lower() == "location"), None)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                continue
            response = Response(io.BytesIO(payload), url=url, headers=response_headers, status=status)
            if not 200 <= status < 300:
                raise HTTPError(response)
            return response
        raise HTTPError(Response(io.BytesIO(b""), url=url, headers={}, status=310), redirect_loop=True)


_active: list[Routes] = []


@contextmanager
def replay(routes: Mapping[str, Route]) -> Iterator[list[Call]]:
    """Serve yt-dlp's requests from ``routes`` while the block runs; yields the list of recorded calls.
    Not nestable (one table answers everything): merge the routes instead."""
    if _active:
        raise RuntimeError("a replay is already active: merge the routes into one replay()")
    table = Routes.parse(routes)
    _active.append(table)

    def factory(ydl: Any) -> ReplayRH:
        return ReplayRH(routes=table, logger=None, cookiejar=ydl.cookiejar, headers=ydl.params["http_headers"])

    uninstall = ytdlp.install_request_handler(factory)
    try:
        yield table.calls
    finally:
        uninstall()
        _active.remove(table)
