"""Finding the URL in pasted share text (app share blurbs with titles, emoji and CJK punctuation)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .hosts import clean_host, lookup

# Share texts are a few hundred characters; nothing past these limits is a link anyone meant to send.
MAX_SCAN_CHARS = 16_384
MAX_URL_CHARS = 4_096
MAX_CANDIDATES = 16

# One greedy character class finds runs of URL characters in linear time (no backtracking). Anything
# outside it (CJK text, full-width punctuation, emoji, spaces, quotes, backslashes) ends a URL.
_RUN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_HOST_PART = re.compile(r"[A-Za-z0-9.-]+")
_TRAILING = ".,;:!?'*"
_BRACKETS = {")": "(", "]": "["}


def _trim(url: str) -> str:
    """Return the URL cut to the length cap, without trailing punctuation or unbalanced closing brackets."""
    url = url[:MAX_URL_CHARS]
    excess = {close: url.count(close) - url.count(open_) for close, open_ in _BRACKETS.items()}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _BRACKETS and excess[last] > 0:
            excess[last] -= 1
        elif last not in _TRAILING:
            break
        end -= 1
    return url[:end]


def _bare(run: str) -> tuple[int, str] | None:
    """Return (offset, link) of a scheme-less link such as "v.douyin.com/abc/" in a run, or None."""
    start = next((i for i, ch in enumerate(run[:64]) if ch.isalnum()), None)
    if start is None:
        return None
    link = _trim(run[start:])
    match = _HOST_PART.match(link)
    host = clean_host(match.group()) if match else None
    rest = link[match.end() :] if match else ""
    if not host or (rest and rest[0] not in "/?#:"):
        return None
    labels = host.split(".")
    if len(labels) < 2 or len(labels[-1]) < 2 or not labels[-1].isalpha():
        return None
    # Unknown hosts count only when they clearly are links, so "a@A.Gv" or "1.2w" in a blurb do not.
    if lookup(host) or host.startswith("www.") or rest.startswith("/"):
        return start, link
    return None


def candidates(text: str) -> Iterator[tuple[int, str, bool]]:
    """Yield (offset, link as written, has scheme) for each link in the first MAX_SCAN_CHARS of text."""
    count = 0
    for run in _RUN.finditer(text, 0, min(len(text), MAX_SCAN_CHARS)):
        if count >= MAX_CANDIDATES:
            return
        scheme = _SCHEME.search(run.group())
        found = (scheme.start(), _trim(run.group()[scheme.start() :])) if scheme else _bare(run.group())
        if found:
            count += 1
            yield run.start() + found[0], found[1], scheme is not None


def extract_url(text: str) -> str | None:
    """Return the first http(s) URL in the text, else the first scheme-less link, else None."""
    found = [(not has_scheme, offset, link) for offset, link, has_scheme in candidates(text)]
    return min(found)[2] if found else None
