"""Policed networking for the warm YoutubeDL: every connection yt-dlp opens goes to a checked public address.

The warm instance's request director holds only these two handlers:

- urllib, whose direct connections go through ``checked_connection``: resolve, check every address with
  ``parsing.http.is_public_address``, connect to one of the checked addresses (so DNS cannot change in
  between; TLS still uses the hostname). Every redirect hop opens its own connection, so every hop is
  checked. FTP (ftplib connects on its own) and file URLs are not served, not even as redirect targets.
- curl_cffi (browser impersonation, which TikTok and Instagram need): curl resolves names itself and
  libcurl's socket callbacks are not reachable through curl_cffi, so redirects are followed by us, one hop
  at a time, each hop's host resolved and checked by us and pinned with CURLOPT_RESOLVE, so curl never
  resolves (or connects to) anything we did not check.

Through a configured proxy the proxy connects (and, for HTTP proxies, resolves the name again): the
target host of every hop is resolved and checked before the request, as ``parsing.http`` does.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from parsing import deadline
from parsing import http as policy

if TYPE_CHECKING:
    from yt_dlp import YoutubeDL


class RefusedAddress(OSError):
    """The destination resolves to an address we never connect to."""


def public_addrinfo(host: str, port: int) -> list[tuple]:
    """getaddrinfo for ``host``; raises RefusedAddress unless every address is public."""
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    if not infos or not all(policy.is_allowed_address(str(info[4][0])) for info in infos):
        raise RefusedAddress(f"refusing to connect to {host}: not a public address")
    return infos


def checked_connection(address: tuple[str, int], timeout: object = socket._GLOBAL_DEFAULT_TIMEOUT,
                       source_address: tuple[str, int] | None = None) -> socket.socket:
    """socket.create_connection that connects only to checked addresses (the very ones it checked), within
    the parse's deadline."""
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in public_addrinfo(*address):
        sock = socket.socket(family, kind, proto)
        try:
            limit = None if timeout is socket._GLOBAL_DEFAULT_TIMEOUT else timeout
            if (limit := deadline.clip(limit)) is not None:  # type: ignore[arg-type]
                sock.settimeout(limit)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            deadline.track(sock)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"cannot connect to {address[0]}")


def tracked_connection(address: tuple[str, int], timeout: object = socket._GLOBAL_DEFAULT_TIMEOUT,
                       source_address: tuple[str, int] | None = None) -> socket.socket:
    """socket.create_connection within the parse's deadline (to the operator's proxy: not checked)."""
    limit = None if timeout is socket._GLOBAL_DEFAULT_TIMEOUT else timeout
    limit = deadline.clip(limit)  # type: ignore[arg-type]
    sock = socket.create_connection(address, socket._GLOBAL_DEFAULT_TIMEOUT if limit is None else limit,
                                    source_address)
    deadline.track(sock)
    return sock


def _check_target(url: str) -> list[tuple]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress(f"refusing {parts.scheme or 'a scheme-less'} URL: not a public address")
    return public_addrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


@cache
def policed_ydl_class() -> type[YoutubeDL]:
    """The warm instance's YoutubeDL: its request director holds only the policed urllib and curl_cffi handlers."""
    import functools
    import http.client
    import urllib.request

    from yt_dlp import YoutubeDL
    from yt_dlp.networking import _urllib
    from yt_dlp.networking.common import _RH_PREFERENCES
    from yt_dlp.networking.exceptions import TransportError

    class PolicedHTTPHandler(_urllib.HTTPHandler):
        """yt-dlp's urllib HTTP handler whose direct connections go through ``checked_connection``."""

        def _factory(self, base: type[http.client.HTTPConnection], req: urllib.request.Request) -> Callable:
            proxied = "Ytdl-socks-proxy" in req.headers or req.has_proxy() or bool(getattr(req, "_tunnel_host", None))
            if proxied:  # the operator's proxy connects (and resolves): check the target ourselves
                _check_target(req.full_url)
            conn_class = self._make_conn_class(base, req)

            def connect(*args: object, **kwargs: object) -> http.client.HTTPConnection:
                conn = conn_class(*args, **kwargs)
                conn._create_connection = (  # type: ignore[attr-defined]
                    tracked_connection if proxied else checked_connection)
                if self._source_address is not None:
                    conn.source_address = (self._source_address, 0)
                return conn

            return connect

        def http_open(self, req: urllib.request.Request) -> object:
            return self.do_open(self._factory(http.client.HTTPConnection, req), req)

        def https_open(self, req: urllib.request.Request) -> object:
            return self.do_open(self._factory(http.client.HTTPSConnection, req), req, context=self._context)

    class PolicedUrllibRH(_urllib.UrllibRH):
        """urllib without FTP or file URLs (ftplib would connect unchecked) and with the checked connections."""

        _SUPPORTED_URL_SCHEMES = ("http", "https", "data")
        RH_NAME = "urllib"

        def _create_instance(self, proxies: dict, cookiejar: object, legacy_ssl_support: bool | None = None) -> object:
            opener = urllib.request.OpenerDirector()
            for handler in (
                _urllib.ProxyHandler(proxies),
                PolicedHTTPHandler(debuglevel=int(bool(self.verbose)), source_address=self.source_address,
                                   context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support)),
                urllib.request.HTTPCookieProcessor(cookiejar), urllib.request.DataHandler(),
                urllib.request.UnknownHandler(), urllib.request.HTTPDefaultErrorHandler(),
                urllib.request.HTTPErrorProcessor(), _urllib.RedirectHandler(),
            ):
                opener.add_handler(handler)
            opener.addheaders = []
            return opener

    handlers: list[type] = [PolicedUrllibRH]
    try:
        import curl_cffi.requests
        from curl_cffi.const import CurlOpt
        from yt_dlp.networking._curlcffi import CurlCFFIRH
    except ImportError:  # no impersonation then: yt-dlp falls back to urllib with a warning
        CurlCFFIRH = None  # noqa: N806

    if CurlCFFIRH is not None:
        class PinnedSession(curl_cffi.requests.Session):
            """A curl_cffi session that follows redirects itself: every hop's host is resolved and checked
            by us and pinned with CURLOPT_RESOLVE, so curl never resolves (or connects to) anything else."""

            def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
                hops = kwargs.pop("max_redirects", None) or policy.MAX_REDIRECTS
                kwargs["allow_redirects"] = False
                budget = kwargs.get("timeout")
                headers = dict(kwargs.pop("headers", None) or {})
                while True:
                    self._pin(url)
                    if deadline.current() is not None:
                        # within a parse: this hop's timeouts cut to what is left of the deadline (and a
                        # total time for curl, which a streamed response otherwise lacks: see _pin)
                        kwargs["timeout"] = (tuple(deadline.clip(t) for t in budget) if isinstance(budget, tuple)
                                             else deadline.clip(budget))
                    response = super().request(method, url, headers=headers, **kwargs)
                    location = response.headers.get("location")
                    if response.status_code not in (301, 302, 303, 307, 308) or not location or hops <= 0:
                        return response
                    response.close()
                    hops -= 1
                    new_url = urljoin(url, location)
                    if urlsplit(new_url).netloc != urlsplit(url).netloc:
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("cookie", "authorization")}
                    if (response.status_code == 303 and method != "HEAD") or (
                            response.status_code in (301, 302) and method == "POST"):
                        method, kwargs["data"] = "GET", None
                        headers = {k: v for k, v in headers.items()
                                   if k.lower() not in ("content-type", "content-length")}
                    url = new_url

            def _pin(self, url: str) -> None:
                # Pinned even through a proxy: an HTTP proxy still gets the hostname (and resolves it), a
                # SOCKS5 proxy without remote DNS or a no_proxy bypass then uses the address we checked.
                try:
                    infos = _check_target(url)
                except OSError as exc:
                    raise TransportError(str(exc), cause=exc) from exc
                parts = urlsplit(url)
                port = parts.port or (443 if parts.scheme == "https" else 80)
                addresses = ",".join(dict.fromkeys(
                    f"[{i[4][0]}]" if i[0] == socket.AF_INET6 else str(i[4][0]) for i in infos))
                self.curl_options = {CurlOpt.RESOLVE: [f"{parts.hostname}:{port}:{addresses}"]}
                if (left := deadline.clip(None)) is not None:
                    self.curl_options[CurlOpt.TIMEOUT_MS] = max(1, int(left * 1000))

        class PolicedCurlCFFIRH(CurlCFFIRH):  # type: ignore[misc, valid-type]
            RH_NAME = "curl_cffi"

            def _create_instance(self, cookiejar: object = None) -> PinnedSession:
                return PinnedSession(cookies=cookiejar)

        handlers.append(PolicedCurlCFFIRH)

    class PolicedYoutubeDL(YoutubeDL):
        @functools.cached_property
        def _request_director(self) -> Any:
            return self.build_request_director(handlers, _RH_PREFERENCES)

        def _forceprint(self, key: str, info_dict: Any) -> Any:
            # yt-dlp renders its format, thumbnail and subtitle tables on every call, even with nothing to
            # print: about a third of a warm parse. "video" callers use the result, so they keep it.
            if key != "video" and not self.params["forceprint"].get(key) and not self.params["print_to_file"].get(key):
                return None
            return super()._forceprint(key, info_dict)

    return PolicedYoutubeDL

