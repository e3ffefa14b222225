"""Offline link recognition: which platform a link or share text names, and what it points at.

Pure standard library and no network I/O. Scans are linear in the input and capped, so hostile input
of any size costs bounded time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

from .hosts import MEDIA, SHORT, SITE, clean_host, lookup, platform_for_host
from .rules import RULES, SHORT_LINK, Match, Url, refuse
from .text import candidates, extract_url

__all__ = ["PLATFORMS", "Recognition", "extract_url", "platform_for_host", "recognize", "recognize_expanded"]

PLATFORMS: tuple[str, ...] = (
    "tiktok",
    "douyin",
    "youtube",
    "twitter",
    "instagram",
    "xiaohongshu",
    "bilibili",
    "kuaishou",
    "weibo",
)


@dataclass(frozen=True)
class Recognition:
    """What a link or share text was recognised as; `reason` is a stable snake_case code when refused."""

    input: str
    supported: bool
    platform: str | None
    kind: str | None
    id: str | None
    short: bool
    url: str | None
    reason: str | None

    def as_dict(self) -> dict[str, str | bool | None]:
        """Return the recognition as a JSON-ready dict with a fixed set of keys."""
        return {
            "input": self.input,
            "supported": self.supported,
            "platform": self.platform,
            "kind": self.kind,
            "id": self.id,
            "short": self.short,
            "url": self.url,
            "reason": self.reason,
        }


def _refused(text: str, reason: str, platform: str | None = None, url: str | None = None) -> Recognition:
    """Return an unsupported recognition."""
    return Recognition(text, False, platform, None, None, False, url, reason)


def _kept_query(query: str, keep: tuple[str, ...]) -> str:
    """Return the raw query string reduced to the parameters named in keep, their encoding untouched."""
    return "&".join(p for p in query.split("&") if p and unquote_plus(p.split("=", 1)[0]) in keep)


def _recognize_link(text: str, link: str, has_scheme: bool) -> Recognition | None:
    """Return the recognition of one link found in text, or None when it has no usable host."""
    try:
        parts = urlsplit(link if has_scheme else "https://" + link)
        host = clean_host(parts.hostname or "") if "[" not in parts.netloc else None
    except ValueError:
        return None
    if not host:
        return None
    base = f"{parts.scheme.lower() if has_scheme else 'https'}://{host}{parts.path or '/'}"
    hit = lookup(host)
    if hit is None:
        return _refused(text, "unknown_platform", url=base + (f"?{parts.query}" if parts.query else ""))
    platform, role = hit
    segs = tuple(unquote(s) for s in parts.path.split("/") if s)
    match: Match
    if not segs and role != SITE:
        match = refuse("not_a_post")
    elif role == MEDIA:
        # Douyin CDN links are accepted as they are (their signed query included); other CDNs are not posts.
        match = Match(kind="media", whole_query=True) if platform == "douyin" else refuse("media_url")
    elif role == SHORT:
        match = SHORT_LINK
    else:
        query = dict(reversed(parse_qsl(parts.query, keep_blank_values=True)))  # the first value wins
        match = RULES[platform](Url(host, segs, query))
    query_text = parts.query if match.whole_query else _kept_query(parts.query, match.keep)
    url = base + (f"?{query_text}" if query_text else "")
    if match.reason:
        return _refused(text, match.reason, platform, url)
    return Recognition(text, True, platform, match.kind, match.id, match.short, url, None)


def recognize(text: str) -> Recognition:
    """Return the first supported link in the text, else the first platform link, else the first URL."""
    first: Recognition | None = None
    first_on_platform: Recognition | None = None
    for _offset, link, has_scheme in candidates(text):
        result = _recognize_link(text, link, has_scheme)
        if result is None:
            continue
        if result.supported:
            return result
        first = first or result
        if result.platform and not first_on_platform:
            first_on_platform = result
    return first_on_platform or first or _refused(text, "no_url")


def recognize_expanded(platform: str, url: str) -> Recognition:
    """Return the recognition of the URL a short link led to; refused unless it is a post on `platform`."""
    # Encode whatever lies outside the URL alphabet, so the whole string is one link starting at 0.
    encoded = quote(url.strip(), safe="!#$%&'()*+,/:;=?@[]~")
    first = next(candidates(encoded), None)
    result = _recognize_link(url, first[1], first[2]) if first and first[0] == 0 and first[2] else None
    if result is None:
        return _refused(url, "no_url")
    if platform not in PLATFORMS or result.platform != platform:
        return replace(result, supported=False, kind=None, id=None, short=False, reason="platform_mismatch")
    if result.short:
        return replace(result, supported=False, kind=None, id=None, reason="unresolved_short_link")
    return result
