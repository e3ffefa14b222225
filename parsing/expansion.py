"""Short-link expansion in the worker: follow a share link's redirects to the post it names.

Redirects are followed one hop at a time through the platform's HTTP policy client (public addresses
only, on every hop), and only while every hop stays on the link's own platform (``platform_for_host``;
``t.cn`` and ``t.co`` are Weibo's and X's): a hop anywhere else is refused, never fetched. The first hop
that is a post on the platform ends the walk without fetching it. A short link that answers 200 may
name its post in the page (``og:url``, ``rel=canonical`` or a meta refresh).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import httpx

from .extractors.base import UnsupportedLink, UpstreamFailure, UpstreamTimeout
from .http import http_client
from .recognition import Recognition, platform_for_host, recognize_expanded

MAX_HOPS = 10
_MAX_PAGE_BYTES = 512 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_CANONICAL = (
    re.compile(r"""<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)""", re.I),
    re.compile(r"""<meta[^>]+content=["']([^"']+)["'][^>]*property=["']og:url["']""", re.I),
    re.compile(r"""<link[^>]+rel=["']canonical["'][^>]*href=["']([^"']+)""", re.I),
    re.compile(r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]*content=["'][^"']*?url=([^"'>\s]+)""", re.I),
)


def _on_platform(url: str, platform: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and platform_for_host(parts.hostname or "") == platform


def _post(url: str, platform: str, operation: str = "parse") -> Recognition | None:
    """The recognised post (room, collection) at ``url``; raises UnsupportedLink when the URL leaves the platform."""
    if not _on_platform(url, platform):
        raise UnsupportedLink(f"short link led to {urlsplit(url).hostname}", reason="redirect_off_platform")
    found = recognize_expanded(platform, url, operation)
    return found if found.supported else None


def _join(base: str, link: str) -> str | None:
    """``link`` made absolute against ``base``; None when it is not a URL at all (``http://[oops``)."""
    try:
        url = urljoin(base, link)
        parts = urlsplit(url)
        parts.hostname, parts.port  # noqa: B018 - parses the authority: a malformed host or port raises here
    except ValueError:
        return None
    return url


def _page_links(page: str, base: str) -> list[str]:
    links = (_join(base, html.unescape(m.group(1)).strip()) for pattern in _CANONICAL for m in pattern.finditer(page))
    return [link for link in links if link]


def _read(response: httpx.Response) -> str:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= _MAX_PAGE_BYTES:
            break
    return body.decode(response.encoding or "utf-8", errors="replace")


def resolve(target: Recognition, operation: str = "parse") -> Recognition:
    """Follow a short link to the post it names (for /live, the room; for /collection, the collection).

    Returns the post's Recognition. Raises UnsupportedLink (redirect_off_platform,
    unresolved_short_link), UpstreamTimeout, or UpstreamFailure when the platform fails.
    """
    platform, url = target.platform, target.url
    if not platform or not url:
        raise UnsupportedLink("nothing to expand", reason="unresolved_short_link")
    try:
        with http_client(platform, follow_redirects=False) as client:
            for _ in range(MAX_HOPS + 1):
                with client.stream("GET", url) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        joined = _join(str(response.url), location.strip())
                        if joined is None:
                            raise UpstreamFailure("short link redirected to a malformed Location")
                        url = joined
                        found = _post(url, platform, operation)
                        if found:
                            return found
                        continue
                    if response.status_code >= 500:
                        raise UpstreamFailure(f"short link answered {response.status_code}")
                    if response.status_code != 200:
                        break
                    for link in _page_links(_read(response), str(response.url)):
                        found = _post(link, platform, operation) if _on_platform(link, platform) else None
                        if found:
                            return found
                    break
    except httpx.TimeoutException:
        raise UpstreamTimeout("short link timed out") from None
    except httpx.HTTPError as exc:
        raise UpstreamFailure(f"short link fetch failed: {type(exc).__name__}") from None
    raise UnsupportedLink("short link names no post", reason="unresolved_short_link")
