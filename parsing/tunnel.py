"""The media tunnel: ``GET /api/v1/media/<token>`` streams a parse result's media from the platform's CDN
with the headers the CDN wants, so a result can go straight into an ``<a href>`` or a video player.

- **Tokens.** Each media item of a successful answer gets ``tunnel``: an absolute URL whose token is signed
  by the server (Django's signing, HMAC-SHA256 with the secret key) and carries the upstream URL, the
  platform, the request headers it needs, the API key it was issued to and an expiry (``EASYDOWN_TUNNEL_TTL``,
  one hour). No bearer token is needed; a changed token is 403 ``invalid_signature``, an expired one 410
  ``media_expired``. Downloads cost nothing.
- **Streaming.** Runs in the async API process: a download costs a socket and a buffer, never a thread.
  ``GET`` and ``HEAD``; a single ``bytes=`` ``Range`` (and ``If-Range``) is forwarded; 200, 206 and 416
  pass through with an allow-list of headers (never ``Set-Cookie``) and ``X-Content-Type-Options:
  nosniff``; ``?download=1`` adds ``Content-Disposition: attachment``. The body is relayed chunk by chunk
  (the client's pace holds the upstream read); a client that leaves closes the upstream connection.
- **Upstream outcomes.** 403, 404 and 410 (an expired CDN URL) become 410 ``media_expired``; no answer in
  time, 504 ``upstream_timeout``; anything else, 502 ``upstream_error``.
- **Safe by construction.** Only hosts on the platform's CDN allow-list (built in, plus
  ``EASYDOWN_MEDIA_HOSTS``); every resolved address passes the outbound policy of parsing.http and the
  connection goes to the checked address; every redirect hop is checked again, at most five; at most
  ``EASYDOWN_TUNNEL_STREAMS_PER_KEY`` concurrent streams per API key (429 past it).
- **Merged DASH** (``mergedTunnel``, parsing.remux): a video without sound and the result's best audio,
  remuxed while streaming into one fragmented MP4.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import mimetypes
import os
import re
import socket
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import httpx
from django.conf import settings
from django.core import signing

from easydown import exceptions as api
from easydown import metrics

from .extractors.headers import download_headers
from .http import BROWSER_UA, _ssl_context, is_allowed_address, proxy_for

log = logging.getLogger(__name__)

PATH_PREFIX = "/api/v1/media/"
SALT = "easydown.tunnel"
MAX_REDIRECTS = 5
CHUNK = 1024 * 1024
PASSED_HEADERS = ("content-type", "content-length", "content-range", "accept-ranges", "last-modified", "etag")
_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

# The CDN hosts each platform serves media from (a host matches a suffix exactly or as a subdomain).
MEDIA_HOSTS: dict[str, tuple[str, ...]] = {
    "youtube": ("googlevideo.com", "ytimg.com", "ggpht.com", "googleusercontent.com", "youtube.com"),
    "bilibili": ("bilivideo.com", "bilivideo.cn", "hdslb.com", "akamaized.net", "bilibili.com", "biliimg.com"),
    "tiktok": ("tiktokcdn.com", "tiktokcdn-us.com", "tiktokcdn-eu.com", "tiktokv.com", "tiktok.com",
               "ibyteimg.com", "byteoversea.com", "muscdn.com"),
    "douyin": ("douyinvod.com", "douyinpic.com", "douyincdn.com", "douyinstatic.com", "douyin.com", "amemv.com",
               "snssdk.com", "bytecdn.cn", "byteimg.com", "zjcdn.com", "bytedance.com", "ixigua.com"),
    "twitter": ("twimg.com",),
    "instagram": ("cdninstagram.com", "fbcdn.net", "instagram.com"),
    "xiaohongshu": ("xhscdn.com", "xhscdn.net", "xiaohongshu.com"),
    "kuaishou": ("kwimgs.com", "kwaicdn.com", "yximgs.com", "kuaishou.com", "kuaishouzt.com", "gifshow.com",
                 "ksapisrv.com"),
    "weibo": ("sinaimg.cn", "weibocdn.com", "weibo.com", "weibo.cn", "sina.com.cn"),
    "acfun": ("acfun.cn", "aixifan.com"),
    "netease": ("music.126.net", "music.163.com"),
    "kugou": ("kugou.com", "kgimg.com"),
    "migu": ("migu.cn",),
}


class InvalidSignature(api.ApiError):
    status, code, msg = 403, "invalid_signature", "This media link is not valid"


class MediaExpired(api.ApiError):
    status, code, msg = 410, "media_expired", "This media link has expired: parse the post again"


class UpstreamError(api.ApiError):
    status, code, msg = 502, "upstream_error", "The platform did not deliver the media"


# --- tokens ------------------------------------------------------------------------------------------


def sign(claims: dict[str, Any]) -> str:
    return signing.dumps(claims, salt=SALT, compress=True)


def read_token(token: str) -> dict[str, Any]:
    """The token's claims; raises 403 for a token we did not sign unchanged, 410 past its expiry."""
    try:
        claims = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise InvalidSignature() from None
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), str):
        raise InvalidSignature()
    if float(claims.get("x", 0)) < time.time():
        raise MediaExpired()
    return claims


def _filename(title: str, kind: str, url: str, mime: str | None) -> str:
    base = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", " ", title or "").strip()[:80] or kind
    extension = os.path.splitext(urlsplit(url).path)[1].lower()
    if not re.fullmatch(r"\.[a-z0-9]{2,5}", extension or ""):
        extension = mimetypes.guess_extension(mime or "") or {"video": ".mp4", "audio": ".m4a"}.get(kind, ".jpg")
    return base + extension


def add_tunnels(result: dict[str, Any], *, key_id: str, base_url: str) -> dict[str, Any]:
    """A copy of ``result`` whose media items carry ``tunnel`` (and, for a silent DASH video beside an audio
    track, ``mergedTunnel``); the thumbnail's is ``thumbnailTunnel``."""
    platform = result.get("platform") or ""
    expires = int(time.time() + settings.EASYDOWN_TUNNEL_TTL)
    title = str(result.get("title") or "")
    base = base_url.rstrip("/") + PATH_PREFIX

    def link(url: str, kind: str, headers: dict | None, mime: str | None, **extra: Any) -> str:
        claims = {"u": url, "p": platform, "h": headers or download_headers(platform), "k": key_id, "x": expires,
                  "n": _filename(title, kind, url, mime), **extra}
        return base + sign(claims)

    out = dict(result)
    audios = [dict(a, tunnel=link(a["url"], "audio", a.get("headers"), a.get("mimeType")))
              for a in result.get("audios") or () if isinstance(a, dict) and a.get("url")]
    best_audio = max(audios, key=lambda a: a.get("bitrate") or 0, default=None)
    videos = []
    for video in result.get("videos") or ():
        if not isinstance(video, dict) or not video.get("url"):
            continue
        item = dict(video, tunnel=link(video["url"], "video", video.get("headers"), video.get("mimeType")))
        if video.get("hasAudio") is False and best_audio is not None:
            item["mergedTunnel"] = link(video["url"], "video", video.get("headers"), "video/mp4",
                                        a=best_audio["url"], ah=best_audio.get("headers") or download_headers(platform))
        videos.append(item)
    out["videos"], out["audios"] = videos, audios
    out["images"] = [dict(i, tunnel=link(i["url"], "image", i.get("headers"), None))
                     for i in result.get("images") or () if isinstance(i, dict) and i.get("url")]
    if isinstance(result.get("thumbnail"), str) and result["thumbnail"]:
        out["thumbnailTunnel"] = link(result["thumbnail"], "thumbnail", None, None)
    return out


# --- the upstream connection ---------------------------------------------------------------------


def media_host_allowed(platform: str, host: str) -> bool:
    host = (host or "").lower().rstrip(".")
    suffixes = (*MEDIA_HOSTS.get(platform, ()), *settings.EASYDOWN_MEDIA_HOSTS.get(platform, ()))
    return any(host == s.lower() or host.endswith("." + s.lower()) for s in suffixes)


class Refused(Exception):
    """The upstream URL is not one the tunnel may fetch (host off the allow-list, private address…)."""


_clients: dict[tuple[int, str | None], httpx.AsyncClient] = {}


def _client(platform: str) -> httpx.AsyncClient:
    """One client per process and proxy, for platforms whose downloads go through a proxy."""
    proxy = proxy_for(platform)
    key = (os.getpid(), proxy)
    client = _clients.get(key)
    if client is None:
        transport = httpx.AsyncHTTPTransport(verify=_ssl_context(), proxy=proxy, trust_env=False, retries=0)
        client = _clients[key] = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(settings.EASYDOWN_READ_TIMEOUT, connect=settings.EASYDOWN_CONNECT_TIMEOUT))
    return client


async def _allowed_addresses(host: str, port: int) -> list[str]:
    """Every address of ``host``, resolved without blocking the event loop; Refused unless the outbound policy
    allows all of them (parsing.http.resolve_public is the same rule for the worker's blocking clients)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(is_allowed_address(a) for a in addresses):
        raise Refused(f"{host} is not a public address")
    return addresses


async def _check_proxied(platform: str, url: httpx.URL) -> None:
    """Through a proxy the proxy connects: check the target's addresses before the request leaves."""
    if proxy_for(platform) is not None:
        await _allowed_addresses(url.host, url.port or (443 if url.scheme == "https" else 80))


class Upstream:
    """An upstream answer being read: ``status_code``, ``headers`` (lower-case names) and the body.

    Direct connections speak HTTP/1.1 over asyncio streams themselves: relaying a body through httpx's
    connection layer tops out at about a third of what the event loop moves on its own (bench/tunnel.py),
    and a download needs no pooling, no decoding and no redirects handled inside the client. A platform with
    a proxy goes through httpx (``_Proxied``)."""

    status_code: int
    headers: dict[str, str]

    async def aiter_raw(self, size: int):  # pragma: no cover - interface
        yield b""

    async def aclose(self) -> None:  # pragma: no cover - interface
        return None


class _Relay(asyncio.Protocol):
    """The upstream connection's bytes as the event loop delivers them: kept as they arrive (no buffer that
    is copied into and out of, as asyncio's StreamReader does) and handed on whole; reading pauses while
    more than HIGH_WATER bytes wait, so a slow client holds the upstream back."""

    HIGH_WATER = 2 * 1024 * 1024

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.waiting = 0
        self.ended = False
        self.error: Exception | None = None
        self._wakeup: asyncio.Future | None = None
        self._paused = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.waiting += len(data)
        if self.waiting > self.HIGH_WATER and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended, self.error = True, exc
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def next_chunk(self) -> bytes:
        """The next bytes received (b"" at the end), waiting at most the read timeout for them."""
        while not self.chunks:
            if self.ended:
                if self.error is not None:
                    raise httpx.ReadError(f"the upstream connection failed: {self.error}")
                return b""
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(settings.EASYDOWN_READ_TIMEOUT):
                    await self._wakeup
            except TimeoutError as exc:
                raise httpx.ReadTimeout("the upstream stopped sending") from exc
        chunk = self.chunks.popleft()
        self.waiting -= len(chunk)
        if self._paused and self.waiting <= self.HIGH_WATER // 2:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    def push_back(self, data: bytes) -> None:
        if data:
            self.chunks.appendleft(data)
            self.waiting += len(data)


class _Direct(Upstream):
    def __init__(self, relay: _Relay, status: int, headers: dict[str, str], has_body: bool) -> None:
        self._relay = relay
        self.status_code, self.headers, self._has_body = status, headers, has_body

    async def aiter_raw(self, size: int):
        if not self._has_body:
            return
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            async for data in self._dechunk():
                yield data
            return
        length = self.headers.get("content-length")
        left = int(length) if length and length.isdigit() else None
        while left is None or left > 0:
            data = await self._relay.next_chunk()
            if not data:
                if left:
                    raise httpx.ReadError("the upstream closed the connection early")
                return
            if left is not None:
                if len(data) > left:
                    data = data[:left]
                left -= len(data)
            yield data

    async def _dechunk(self):
        """Transfer-Encoding: chunked, decoded (rare from CDNs; a small buffer is fine here)."""
        buffer = bytearray()

        async def fill(need: int) -> None:
            while len(buffer) < need:
                data = await self._relay.next_chunk()
                if not data:
                    raise httpx.ReadError("the upstream closed the connection mid-chunk")
                buffer.extend(data)

        while True:
            while b"\r\n" not in buffer:
                await fill(len(buffer) + 1)
            line, _, rest = bytes(buffer).partition(b"\r\n")
            buffer[:] = rest
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise httpx.RemoteProtocolError("a malformed chunk size") from None
            if size == 0:
                return
            await fill(size + 2)
            yield bytes(buffer[:size])
            del buffer[:size + 2]

    async def aclose(self) -> None:
        if self._relay.transport is not None:
            self._relay.transport.close()


class _Proxied(Upstream):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = {name.lower(): value for name, value in response.headers.items()}

    async def aiter_raw(self, size: int):
        async for chunk in self._response.aiter_raw(size):
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


async def _connect(host: str, port: int, tls: bool) -> _Relay:
    """A connection to a checked address of ``host`` (TLS against the host name)."""
    loop = asyncio.get_running_loop()
    error: Exception | None = None
    for address in await _allowed_addresses(host, port):
        try:
            async with asyncio.timeout(settings.EASYDOWN_CONNECT_TIMEOUT):
                _, relay = await loop.create_connection(_Relay, address, port, ssl=_ssl_context() if tls else None,
                                                        server_hostname=host if tls else None)
                return relay
        except TimeoutError as exc:
            error = httpx.ConnectTimeout(f"connecting to {host} timed out")
            error.__cause__ = exc
        except OSError as exc:
            error = httpx.ConnectError(f"cannot connect to {host}: {exc}")
    raise error  # type: ignore[misc]


MAX_HEAD = 64 * 1024


async def _request_direct(method: str, url: httpx.URL, headers: dict[str, str]) -> Upstream:
    port = url.port or (443 if url.scheme == "https" else 80)
    relay = await _connect(url.host, port, url.scheme == "https")
    try:
        host = url.host if url.port is None else f"{url.host}:{url.port}"
        lines = [f"{method} {url.raw_path.decode('ascii')} HTTP/1.1", f"Host: {host}", "Connection: close"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise Refused("a header with a line break")
            lines.append(f"{name}: {value}")
        relay.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
        head = b""
        while b"\r\n\r\n" not in head:
            data = await relay.next_chunk()
            if not data:
                raise httpx.RemoteProtocolError("the upstream closed the connection before answering")
            head += data
            if len(head) > MAX_HEAD and b"\r\n\r\n" not in head:
                raise httpx.RemoteProtocolError("the upstream's headers are too long")
        head, _, body_start = head.partition(b"\r\n\r\n")
        relay.push_back(body_start)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise httpx.RemoteProtocolError(f"not an HTTP/1 answer: {status_line[:80]!r}")
        status = int(parts[1])
        found: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                found[name.strip().lower()] = value.strip()
        has_body = method != "HEAD" and status not in (204, 304) and status >= 200
        return _Direct(relay, status, found, has_body)
    except BaseException:
        relay.transport.close()
        raise


async def open_upstream(platform: str, url: str, headers: dict[str, str], *, method: str = "GET",
                        extra: dict[str, str] | None = None) -> Upstream:
    """The upstream response (body not read yet; the caller closes it), following at most five redirects,
    each hop checked against the allow-list and the outbound policy. Raises Refused, httpx errors."""
    sent = {"User-Agent": BROWSER_UA, **headers, **(extra or {}), "Accept-Encoding": "identity"}
    proxied = proxy_for(platform) is not None
    for _ in range(MAX_REDIRECTS + 1):
        target = httpx.URL(url)
        if target.scheme not in ("http", "https") or not media_host_allowed(platform, target.host):
            raise Refused(f"{target.host} is not a media host of {platform}")
        if proxied:
            await _check_proxied(platform, target)
            client = _client(platform)
            response: Upstream = _Proxied(await client.send(client.build_request(method, target, headers=sent),
                                                            stream=True))
        else:
            response = await _request_direct(method, target, sent)
        location = response.headers.get("location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            await response.aclose()
            url = urljoin(str(target), location)
            continue
        return response
    raise Refused("too many redirects")


# --- per-key stream slots --------------------------------------------------------------------------

STREAM_STALE = 90.0  # a slot not refreshed for this long belonged to a process that died


def _streams_key(key_id: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ed')}:streams:{key_id}"


class StreamSlot:
    """One of the key's concurrent downloads, in a Redis sorted set (member: the stream, score: when last
    seen); the process refreshes its slots while they stream, so a crash frees them within STREAM_STALE."""

    def __init__(self, key_id: str) -> None:
        self.key, self.member, self.seen = _streams_key(key_id), uuid.uuid4().hex, 0.0

    async def acquire(self) -> bool:
        from easydown.cache import async_redis

        client = async_redis()
        if client is None:
            return True
        now = time.time()
        try:
            async with client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self.key, "-inf", now - STREAM_STALE)
                pipe.zadd(self.key, {self.member: now})
                pipe.zcard(self.key)
                pipe.expire(self.key, int(STREAM_STALE) * 2)
                _, _, count, _ = await pipe.execute()
        except Exception:  # noqa: BLE001 - Redis away: do not refuse downloads over a counter
            return True
        self.seen = now
        if count > settings.EASYDOWN_TUNNEL_STREAMS_PER_KEY:
            await self.release()
            return False
        return True

    async def refresh(self) -> None:
        from easydown.cache import async_redis

        now = time.time()
        if now - self.seen < STREAM_STALE / 3 or (client := async_redis()) is None:
            return
        self.seen = now
        with contextlib.suppress(Exception):
            await client.zadd(self.key, {self.member: now}, xx=True)

    async def release(self) -> None:
        from easydown.cache import async_redis

        if (client := async_redis()) is not None:
            with contextlib.suppress(Exception):
                await client.zrem(self.key, self.member)


# --- the ASGI endpoint ------------------------------------------------------------------------------


async def _send_error(send, error: api.ApiError, head: bool = False) -> None:
    import json

    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-content-type-options", b"nosniff")]
    headers += [(name.lower().encode(), str(value).encode()) for name, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _request_headers(scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _forwarded_range(request: dict[str, str]) -> dict[str, str]:
    """A single ``bytes=`` range (and its If-Range) is passed on; several ranges, or another unit, are not
    (the whole file is then answered, as HTTP allows)."""
    value = request.get("range", "").strip()
    match = _SINGLE_RANGE.fullmatch(value)
    if not match or match.groups() == ("", ""):
        return {}
    forwarded = {"Range": value}
    if request.get("if-range"):
        forwarded["If-Range"] = request["if-range"]
    return forwarded


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "").strip() or "media"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


async def serve(scope, receive, send) -> None:
    """GET / HEAD /api/v1/media/<token>."""
    head = scope["method"] == "HEAD"
    if scope["method"] not in ("GET", "HEAD"):
        await _send_error(send, api.MethodNotAllowed(headers={"Allow": "GET, HEAD"}))
        return
    try:
        claims = read_token(scope["path"][len(PATH_PREFIX):])
    except api.ApiError as error:
        await _send_error(send, error, head)
        return
    slot = StreamSlot(str(claims.get("k", "")))
    if not await slot.acquire():
        await _send_error(send, api.RateLimited("Too many downloads at once for this API key",
                                                headers={"Retry-After": "5"}), head)
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    download = query.get("download", [""])[0] in ("1", "true")
    work = asyncio.ensure_future(_stream(scope, send, claims, head=head, download=download, slot=slot))
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait([work, gone], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work, gone):
            task.cancel()
        await asyncio.gather(work, gone, return_exceptions=True)
        await slot.release()
    if work.done() and not work.cancelled() and work.exception() is not None:
        log.warning("tunnel stream failed: %r", work.exception())


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _stream(scope, send, claims: dict[str, Any], *, head: bool, download: bool, slot: StreamSlot) -> None:
    if claims.get("a"):
        from .remux import stream_merged

        await stream_merged(send, claims, head=head, download=download, slot=slot)
        return
    platform = str(claims.get("p", ""))
    request = _request_headers(scope)
    try:
        upstream = await open_upstream(platform, claims["u"], claims.get("h") or {}, method="HEAD" if head else "GET",
                                       extra=_forwarded_range(request))
    except Refused as exc:
        log.warning("tunnel refused %s: %s", platform, exc)
        await _send_error(send, UpstreamError("The media address is not allowed"), head)
        return
    except httpx.TimeoutException:
        await _send_error(send, api.UpstreamTimeout(), head)
        return
    except (httpx.HTTPError, OSError) as exc:
        log.info("tunnel could not reach %s: %r", platform, exc)
        await _send_error(send, UpstreamError(), head)
        return
    try:
        status = upstream.status_code
        if status in (403, 404, 410):
            await _send_error(send, MediaExpired(), head)
            return
        if status not in (200, 206, 416):
            await _send_error(send, UpstreamError(f"The platform answered {status}"), head)
            return
        headers = [(name.encode(), value.encode("latin-1", "replace")) for name, value in upstream.headers.items()
                   if name in PASSED_HEADERS]
        headers.append((b"x-content-type-options", b"nosniff"))
        if download and status != 416:
            headers.append((b"content-disposition", content_disposition(str(claims.get("n") or "media")).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        sent = metrics.TUNNEL_BYTES.labels(platform)
        async for chunk in upstream.aiter_raw(CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent.inc(len(chunk))
            await slot.refresh()
        await send({"type": "http.response.body", "body": b""})
    finally:
        await upstream.aclose()

