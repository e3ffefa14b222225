"""yt-dlp failures → our typed errors, read from the exception types, their causes and their messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ..base import ContentUnavailable, ExtractorError, UnsupportedLink, UpstreamFailure, UpstreamTimeout

_TIMEOUT = re.compile(r"timed? ?out|timeout", re.I)
# Warnings yt-dlp adds to every empty result, or about its own set-up: never the reason a post is empty.
_NOISE = re.compile(r"no video formats found|requested format is not available|failed to obtain|generic title"
                    r"|po token|challenge solving|signature solving|javascript runtime|ffmpeg", re.I)
_RULES: tuple[tuple[re.Pattern[str], Callable[[], ExtractorError]], ...] = tuple(
    (re.compile(pattern, re.I), factory) for pattern, factory in (
        (r"unsupported url|no suitable extractor|not a valid url", lambda: UnsupportedLink(reason="unsupported")),
        (r"not a public address", lambda: UpstreamFailure(reason="upstream_error")),
        (r"confirm you.?re not a bot|ip address is blocked|rate.?limit|too many requests|captcha"
         r"|http error (?:403|412|429|5\d\d)", lambda: UpstreamFailure(reason="upstream_error")),
        (r"\bdrm\b", lambda: ContentUnavailable(reason="drm")),
        # Bilibili's -404 page ("the video is gone"); yt-dlp hedges with "or geo-restricted".
        (r"may be deleted or geo", lambda: ContentUnavailable(reason="deleted")),
        (r"not available (?:in|from) your (?:country|location|region)|geo.?(?:restrict|block)"
         r"|(?:country|region)\b.{0,40}\b(?:blocked|restricted|not available)|in your country",
         lambda: ContentUnavailable(reason="region_blocked")),
        (r"not currently live|streamer is not live|livestream has ended|user is not live|room is offline",
         lambda: ContentUnavailable(reason="offline")),
        (r"live event will begin|premieres? in|is (?:currently )?live\b|livestream|live stream|is upcoming",
         lambda: ContentUnavailable(reason="live")),
        (r"\bprivate\b|do not have permission to view", lambda: ContentUnavailable(reason="private")),
        (r"\bage\b|inappropriate for some users|comfortable for some audiences|sensitive",
         lambda: ContentUnavailable(reason="login_required")),
        (r"log ?in|sign ?in|\bcookies\b|authenticat|members?.only|subscri(?:ber|ption)|empty media response",
         lambda: ContentUnavailable(reason="login_required")),
        (r"removed|deleted|does ?n[o']t exist|no longer (?:available|exists)|not found|terminated"
         r"|http error 4(?:04|10)|status code \d+", lambda: ContentUnavailable(reason="deleted")),
        (r"unavailable|not available", lambda: ContentUnavailable(reason="unavailable")),
    )
)


def noise(message: str) -> bool:
    """Whether a warning is one yt-dlp adds to every empty result or about its own set-up."""
    return bool(_NOISE.search(message))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (yt-dlp keeps causes in exc_info and .cause as well)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen or not isinstance(item, BaseException):
            continue
        seen.add(id(item))
        yield item
        exc_info = getattr(item, "exc_info", None)
        todo += [getattr(item, "cause", None), item.__cause__, item.__context__,
                 exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None]


def map_error(exc: BaseException) -> ExtractorError:
    """The typed error for a yt-dlp failure, read from its type, its causes and its message."""
    from yt_dlp.utils import GeoRestrictedError, UnsupportedError, UserNotLive

    causes = list(_causes(exc))
    if any(isinstance(c, UnsupportedError) for c in causes):
        return UnsupportedLink(str(exc)[:500], reason="unsupported")
    if any(isinstance(c, UserNotLive) for c in causes):
        return ContentUnavailable(str(exc)[:500], reason="offline")
    if any(isinstance(c, TimeoutError) or getattr(c, "code", None) == 28 for c in causes):  # 28: curl timeout
        return UpstreamTimeout(str(exc)[:500])
    if any(isinstance(c, GeoRestrictedError) for c in causes):
        return ContentUnavailable(str(exc)[:500], reason="region_blocked")
    message = " ".join(dict.fromkeys(str(c) for c in causes))
    if _TIMEOUT.search(message) and "not available" not in message.lower():
        return UpstreamTimeout(str(exc)[:500])
    error = map_message(message) or UpstreamFailure(reason="upstream_error")
    error.args = (str(exc)[:500],)
    return error


def map_message(message: str) -> ExtractorError | None:
    """The typed error a yt-dlp message names (carrying that message), or None when it names none."""
    for pattern, factory in _RULES:
        if pattern.search(message):
            error = factory()
            error.args = (message[:500],)
            return error
    return None

