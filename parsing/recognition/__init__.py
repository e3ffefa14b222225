"""Offline link recognition: which platform a link or share text names, and what it points at.

Pure standard library and no network I/O. Scans are linear in the input and capped, so hostile input
of any size costs bounded time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

from .hosts import MEDIA, SHORT, SITE, clean_host, lookup, platform_for_host
from .music import FRAGMENT_ROUTED, MUSIC_RULES, fragment_route
from .operations import OPERATION_RULES
from .rules import RULES, SHORT_LINK, Match, Url, refuse
from .text import candidates, extract_url

__all__ = [
    "ENDPOINTS", "PLATFORMS", "Recognition", "extract_url", "platform_for_host", "recognize", "recognize_expanded",
]

# The endpoints a link can be served by, the primary one first: a link two of them serve (a multi-part
# Bilibili video: /parse takes the part it names, /collection lists its parts) has the first as `endpoint`.
ENDPOINTS: tuple[str, ...] = ("parse", "live", "collection")

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
    "acfun",
    "netease",
    "kugou",
    "migu",
)
# Every platform's /parse rules (music.py holds the music platforms' and AcFun's, built on rules.py's helpers).
_PARSE_RULES = {**RULES, **MUSIC_RULES}


@dataclass(frozen=True)
class Recognition:
    """What a link or share text was recognised as for one operation; `reason` is a stable snake_case code
    when refused. `endpoint` says which endpoint serves the link whatever the operation asked ("parse",
    "live", "collection"; None when none does); a short link counts as /parse's until it is expanded."""

    input: str
    supported: bool
    platform: str | None
    kind: str | None
    id: str | None
    short: bool
    url: str | None
    reason: str | None
    endpoint: str | None = None

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
            "endpoint": self.endpoint,
        }


def _refused(text: str, reason: str, platform: str | None = None, url: str | None = None,
             endpoint: str | None = None) -> Recognition:
    """Return an unsupported recognition."""
    return Recognition(text, False, platform, None, None, False, url, reason, endpoint)


def _check_operation(operation: str) -> None:
    if operation not in ENDPOINTS:
        raise ValueError(f"unknown operation {operation!r}; expected one of {ENDPOINTS}")


def _kept_query(query: str, keep: tuple[str, ...]) -> str:
    """Return the raw query string reduced to the parameters named in keep, their encoding untouched."""
    return "&".join(p for p in query.split("&") if p and unquote_plus(p.split("=", 1)[0]) in keep)


def _recognize_link(text: str, link: str, has_scheme: bool, operation: str = "parse") -> Recognition | None:
    """Return the recognition of one link found in text for an operation, or None when it has no usable host."""
    try:
        parts = urlsplit(link if has_scheme else "https://" + link)
        host = clean_host(parts.hostname or "") if "[" not in parts.netloc else None
    except ValueError:
        return None
    if not host:
        return None
    if parts.fragment and (lookup(host) or ("", ""))[0] in FRAGMENT_ROUTED:
        parts = fragment_route(parts)  # music.163.com/#/song?id=1 is music.163.com/song?id=1
    base = f"{parts.scheme.lower() if has_scheme else 'https'}://{host}{parts.path or '/'}"
    hit = lookup(host)
    if hit is None:
        return _refused(text, "unknown_platform", url=base + (f"?{parts.query}" if parts.query else ""))
    platform, role = hit
    segs = tuple(unquote(s) for s in parts.path.split("/") if s)
    match: Match
    site: Url | None = None
    if not segs and role != SITE:
        match = refuse("not_a_post")
    elif role == MEDIA:
        # Douyin CDN links are accepted as they are (their signed query included); other CDNs are not posts.
        match = Match(kind="media", whole_query=True) if platform == "douyin" else refuse("media_url")
    elif role == SHORT:
        match = SHORT_LINK
    else:
        query = dict(reversed(parse_qsl(parts.query, keep_blank_values=True)))  # the first value wins
        site = Url(host, segs, query)
        match = _PARSE_RULES[platform](site)
    matches = {"parse": match, **{op: _operation_match(op, platform, match, site) for op in OPERATION_RULES}}
    endpoint = next((op for op in ENDPOINTS if op in matches and not matches[op].reason), None)
    match = matches[operation]
    query_text = parts.query if match.whole_query else _kept_query(parts.query, match.keep)
    url = base + (f"?{query_text}" if query_text else "")
    if match.reason:
        return _refused(text, match.reason, platform, url, endpoint)
    return Recognition(text, True, platform, match.kind, match.id, match.short, url, None, endpoint)


def _operation_match(operation: str, platform: str, parsed: Match, site: Url | None) -> Match:
    """The match of a link for an operation beside /parse, given what /parse's rules made of it."""
    rule = OPERATION_RULES[operation].get(platform)
    if rule is None:
        return refuse("operation_not_supported")
    if parsed.short:  # a share link may lead anywhere on the platform: the worker expands it first
        return parsed
    if site is None:  # a CDN link or a bare share-link host
        return refuse("not_live" if operation == "live" else "not_a_collection")
    return rule(site)


def recognize(text: str, operation: str = "parse") -> Recognition:
    """Return the first link in the text the operation's endpoint serves, else the first platform link, else
    the first URL. Raises ValueError for an operation not in ENDPOINTS."""
    _check_operation(operation)
    first: Recognition | None = None
    first_on_platform: Recognition | None = None
    for _offset, link, has_scheme in candidates(text):
        result = _recognize_link(text, link, has_scheme, operation)
        if result is None:
            continue
        if result.supported:
            return result
        first = first or result
        if result.platform and not first_on_platform:
            first_on_platform = result
    return first_on_platform or first or _refused(text, "no_url")


def recognize_expanded(platform: str, url: str, operation: str = "parse") -> Recognition:
    """Return the recognition of the URL a short link led to; refused unless the operation's endpoint serves
    it on `platform`. Raises ValueError for an operation not in ENDPOINTS."""
    _check_operation(operation)
    # Encode whatever lies outside the URL alphabet, so the whole string is one link starting at 0.
    encoded = quote(url.strip(), safe="!#$%&'()*+,/:;=?@[]~")
    first = next(candidates(encoded), None)
    result = _recognize_link(url, first[1], first[2], operation) if first and first[0] == 0 and first[2] else None
    if result is None:
        return _refused(url, "no_url")
    if platform not in PLATFORMS or result.platform != platform:
        return replace(result, supported=False, kind=None, id=None, short=False, reason="platform_mismatch",
                       endpoint=None)
    if result.short:
        return replace(result, supported=False, kind=None, id=None, reason="unresolved_short_link")
    return result
