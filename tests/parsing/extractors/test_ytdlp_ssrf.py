"""yt-dlp's connections obey the outbound policy: real sockets on loopback, no internet.

Both request handlers the warm instance has are covered: urllib (plain requests) and curl_cffi
(impersonated requests, as TikTok and Instagram make them).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from yt_dlp.networking.common import Request
from yt_dlp.networking.exceptions import RequestError
from yt_dlp.networking.impersonate import ImpersonateTarget

from parsing import http as policy
from parsing.extractors import ytdlp
from parsing.extractors.base import UpstreamFailure

PLAIN = {}
IMPERSONATED = {"impersonate": ImpersonateTarget("chrome")}
HANDLERS = pytest.mark.parametrize("extensions", [PLAIN, IMPERSONATED], ids=["urllib", "curl_cffi"])


class Server:
    """An HTTP server on a loopback address that records what reaches it."""

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        self.hits: list[str] = []
        hits, target = self.hits, redirect_to

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                if target and self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "15")
                self.end_headers()
                self.wfile.write(b"internal secret")

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def internal():
    server = Server("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def pretend_public(monkeypatch):
    """Treat 127.0.0.2 as a public address, so a loopback server can play a platform's first hop."""
    real = policy.is_public_address
    monkeypatch.setattr(policy, "is_public_address", lambda address: address == "127.0.0.2" or real(address))


def fetch(url: str, extensions: dict) -> bytes:
    return ytdlp.warm_ydl("tiktok").urlopen(Request(url, extensions=dict(extensions))).read()


def test_the_warm_instance_has_only_the_policed_handlers():
    handlers = ytdlp.warm_ydl("tiktok")._request_director.handlers
    assert sorted(handlers) == ["PolicedCurlCFFI", "PolicedUrllib"]


@HANDLERS
def test_a_loopback_server_is_never_contacted(internal, extensions):
    for url in (f"{internal.url}/", internal.url.replace("127.0.0.1", "localhost") + "/"):
        with pytest.raises(RequestError, match="not a public address"):
            fetch(url, extensions)
    assert internal.hits == []


@HANDLERS
def test_a_redirect_to_an_internal_address_is_refused(internal, pretend_public, extensions):
    first_hop = Server("127.0.0.2", redirect_to=f"{internal.url}/secret")
    try:
        assert fetch(f"{first_hop.url}/ok", extensions) == b"internal secret"  # public hops are served
        with pytest.raises(RequestError, match="not a public address"):
            fetch(f"{first_hop.url}/redirect", extensions)
    finally:
        first_hop.close()
    assert first_hop.hits == ["/ok", "/redirect"]
    assert internal.hits == []


@HANDLERS
def test_the_connection_goes_to_the_checked_address_itself(pretend_public, monkeypatch, extensions):
    """A name only our resolver knows: the request succeeds only if the handler connects to what we resolved
    and checked (curl would otherwise resolve the name itself)."""
    server = Server("127.0.0.2")
    port = int(server.url.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "pinned.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        assert fetch(f"http://pinned.example:{port}/pinned", extensions) == b"internal secret"
    finally:
        server.close()
    assert server.hits == ["/pinned"]


def test_a_redirect_to_ftp_or_file_is_not_followed(pretend_public):
    first_hop = Server("127.0.0.2", redirect_to="ftp://127.0.0.1/etc/passwd")
    try:
        with pytest.raises(RequestError):
            fetch(f"{first_hop.url}/redirect", PLAIN)
        with pytest.raises(RequestError):
            fetch("file:///etc/passwd", PLAIN)
    finally:
        first_hop.close()


@HANDLERS
def test_through_a_proxy_the_target_is_checked_before_the_proxy_is_asked(internal, settings, extensions):
    proxy = Server("127.0.0.1")  # the operator's proxy may be anywhere, even on loopback
    settings.EASYDOWN_PROXIES = {"instagram": proxy.url}
    try:
        ydl = ytdlp.warm_ydl("instagram")
        assert ydl is not ytdlp.warm_ydl("tiktok")  # one warm instance per proxy configuration
        with pytest.raises(RequestError, match="not a public address"):
            ydl.urlopen(Request(f"{internal.url}/", extensions=dict(extensions))).read()
    finally:
        proxy.close()
    assert proxy.hits == [] and internal.hits == []


def test_a_refused_connection_during_an_extraction_is_an_upstream_error(internal, monkeypatch):
    ydl = ytdlp.warm_ydl("tiktok")
    monkeypatch.setattr(ydl, "extract_info", lambda url, download, **_: ydl.urlopen(Request(url)).read())
    with pytest.raises(UpstreamFailure) as caught:
        ytdlp.ytdlp_info(f"{internal.url}/", platform="tiktok")
    assert caught.value.reason == "upstream_error" and "not a public address" in str(caught.value)
    assert internal.hits == []
