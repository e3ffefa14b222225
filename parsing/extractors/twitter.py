"""X/Twitter posts: photos, videos and GIFs from the public syndication endpoint; yt-dlp as the fallback.

Why syndication first, for videos too: one cookie-less GET returns every media item of the post in order
(photos, which yt-dlp drops, and the mp4 variants with their bitrates plus the HLS playlist), so mixed posts
keep their order and no guest token has to be activated (yt-dlp's default GraphQL path needs one, which is
rate-limited per IP and the first thing to break on datacenter addresses). yt-dlp reads the post through its
own API when syndication is blocked or unreadable, and fills in videos that syndication lists without any
playable variant. A post quoting another carries the quoted post as ``quoted_tweet`` (with its own
``mediaDetails``): those media come after the post's own, marked ``quoted``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
from django.conf import settings

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Author, Image, MediaResult, Stats, Video, count

from .base import (
    ContentUnavailable,
    Extractor,
    ExtractorError,
    UnsupportedLink,
    UpstreamFailure,
    UpstreamTimeout,
    normalises,
)
from .headers import download_headers

PLATFORM = "twitter"
SYNDICATION_URL = "https://cdn.syndication.twimg.com/tweet-result"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SIZE_IN_PATH = re.compile(r"/(\d{2,5})x(\d{2,5})/")
_PHOTO_URL = re.compile(r"^(?P<base>https://pbs\.twimg\.com/[^?#]+?)\.(?P<ext>jpe?g|png|webp)(?:[?#].*)?$")
_TWEET_ID = re.compile(r"\d{1,20}")

# Tombstone wording → our reason. Checked in order; the texts are X's user-facing notices.
_TOMBSTONE_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("age-restricted", "log in", "sign in"), "login_required"),
    (("limits who can view", "protected"), "private"),
    (("withheld",), "region_blocked"),
    (("deleted", "doesn't exist", "doesn’t exist", "does not exist", "suspended", "no longer exists"), "deleted"),
)


def js_radix_string(value: float, radix: int) -> str:
    """``Number.prototype.toString(radix)`` of a finite positive double, digit for digit as JavaScript engines
    print it (shortest fraction that still reads back as the same double)."""
    fraction, integer = math.modf(value)
    # Half the distance to the next double: once the remaining fraction is below it, more digits add nothing.
    delta = max(math.ulp(value) / 2, math.ulp(0.0))
    digits: list[int] = []
    while fraction >= delta:
        fraction *= radix
        delta *= radix
        digit = int(fraction)
        digits.append(digit)
        fraction -= digit
        if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
            # Rounding up ends the expansion; carry through trailing maximal digits, maybe into the integer.
            while digits and digits[-1] + 1 == radix:
                digits.pop()
            if digits:
                digits[-1] += 1
            else:
                integer += 1
            break
    whole = int(integer)
    head = ""
    while True:
        whole, rest = divmod(whole, radix)
        head = _DIGITS[rest] + head
        if not whole:
            break
    return head + ("." + "".join(_DIGITS[d] for d in digits) if digits else "")


def syndication_token(tweet_id: str) -> str:
    """The token the syndication endpoint expects: (id / 1e15 · π) in base 36 without zeros and the dot."""
    return js_radix_string(int(tweet_id) / 1e15 * math.pi, 36).replace("0", "").replace(".", "")


def _tombstone_reason(payload: dict[str, Any]) -> str:
    tombstone = payload.get("tombstone")
    text = ""
    if isinstance(tombstone, dict):
        inner = tombstone.get("text")
        text = str(inner.get("text", "") if isinstance(inner, dict) else inner or "")
    text = f"{text} {payload.get('reason') or ''}".lower()
    for needles, reason in _TOMBSTONE_REASONS:
        if any(needle in text for needle in needles):
            return reason
    return "unavailable"


def fetch_tweet(tweet_id: str) -> dict[str, Any]:
    """The syndication JSON of a post; raises ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
    params = {"id": tweet_id, "token": syndication_token(tweet_id), "lang": "en"}
    try:
        with http_client(PLATFORM, headers={"Accept": "application/json", "Referer": "https://platform.twitter.com/"}) \
                as client:
            response = client.get(SYNDICATION_URL, params=params)
    except httpx.TimeoutException:
        raise UpstreamTimeout() from None
    except httpx.HTTPError:
        raise UpstreamFailure("syndication request failed") from None
    if response.status_code == 404:
        raise ContentUnavailable(reason="deleted")
    if response.status_code != 200:
        raise UpstreamFailure(f"syndication answered {response.status_code}")
    try:
        payload = response.json()
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise UpstreamFailure("syndication answered something that is not JSON") from None
    if not isinstance(payload, dict):
        raise UpstreamFailure("syndication answered an unexpected shape")
    if not payload:
        raise ContentUnavailable(reason="unavailable")  # an empty object is what hidden posts answer
    if payload.get("__typename", "Tweet") != "Tweet" or "tombstone" in payload:
        raise ContentUnavailable(reason=_tombstone_reason(payload))
    if not isinstance(payload.get("id_str"), str):
        raise UpstreamFailure("syndication answered a post without an id")
    return payload


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: the JSON may say Infinity
        return None


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def photo_url(media_url: str) -> str:
    """The original-size URL of a pbs.twimg.com photo (``?format=<ext>&name=orig``)."""
    match = _PHOTO_URL.match(media_url)
    if not match:
        return media_url
    ext = "jpg" if match["ext"] == "jpeg" else match["ext"]
    return f"{match['base']}?format={ext}&name=orig"


def _video_items(media: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """One media item's playable variants: mp4 by bitrate, best first, then the HLS playlist."""
    info = media.get("video_info") if isinstance(media.get("video_info"), dict) else {}
    has_audio = media.get("type") != "animated_gif"  # GIFs are silent mp4 loops
    original = media.get("original_info") if isinstance(media.get("original_info"), dict) else {}
    mp4s: list[Video] = []
    hls: list[Video] = []
    variants = info.get("variants")
    for variant in variants if isinstance(variants, list) else []:  # unreadable: no variant (yt-dlp fills it)
        if not isinstance(variant, dict) or not _is_url(variant.get("url")):
            continue
        url, content_type = variant["url"], str(variant.get("content_type") or "")
        if content_type == "application/x-mpegURL" or ".m3u8" in url:
            hls.append(Video(url=url, quality="HLS", mime_type="application/x-mpegURL", has_audio=has_audio,
                             source="hls", headers=dict(headers)))
            continue
        if content_type and content_type != "video/mp4":
            continue
        size = _SIZE_IN_PATH.search(url)
        width, height = (int(size[1]), int(size[2])) if size else (None, None)
        mp4s.append(Video(url=url, mime_type="video/mp4", width=width, height=height, has_audio=has_audio,
                          source="direct", bitrate=_int(variant.get("bitrate")) or None, headers=dict(headers)))
    mp4s.sort(key=lambda v: (v.bitrate or 0, (v.width or 0) * (v.height or 0)), reverse=True)
    if mp4s and mp4s[0].width is None:
        # GIFs and some single-variant videos have no size in their path: the original is that size.
        mp4s[0].width, mp4s[0].height = _int(original.get("width")), _int(original.get("height"))
    for video in mp4s:
        if video.width and video.height:
            video.quality = f"{min(video.width, video.height)}p"
        elif media.get("type") == "animated_gif":
            video.quality = "GIF"
    return mp4s + hls


def _title(tweet: dict[str, Any]) -> str:
    text = tweet.get("text") if isinstance(tweet.get("text"), str) else ""
    span = tweet.get("display_text_range")
    if isinstance(span, list) and len(span) == 2 and all(isinstance(i, int) for i in span):
        text = text[span[0]:span[1]]  # drops the trailing t.co link that stands for the media
    return text.strip()


def _add_media(result: MediaResult, details: list[Any], headers: dict[str, str], *, quoted: bool) -> int:
    """Append one post's photos and videos (marked ``quoted`` for the quoted post's); returns how many of its
    videos listed no playable variant."""
    missing = 0
    for media in details:
        if not isinstance(media, dict):
            continue
        kind, media_url = media.get("type"), media.get("media_url_https")
        if not _is_url(media_url):
            media_url = None
        if media_url and not result.thumbnail:
            result.thumbnail = media_url
        if kind == "photo" and media_url:
            original = media.get("original_info") if isinstance(media.get("original_info"), dict) else {}
            result.images.append(Image(url=photo_url(media_url), width=_int(original.get("width")),
                                       height=_int(original.get("height")), headers=dict(headers), quoted=quoted))
        elif kind in ("video", "animated_gif"):
            videos = _video_items(media, headers)
            if not videos:
                missing += 1
                continue
            if not result.duration:
                millis = _int(media["video_info"].get("duration_millis"))
                result.duration = round(millis / 1000, 3) if millis and millis > 0 else 0
            for video in videos:
                video.quoted = quoted
            result.videos.extend(videos)
    return missing


def _quoted_media(tweet: dict[str, Any]) -> list[Any]:
    """The media list of the post this one quotes; nothing for a quoted tombstone or an unreadable shape."""
    quoted = tweet.get("quoted_tweet")
    if not isinstance(quoted, dict) or "tombstone" in quoted or quoted.get("__typename", "Tweet") != "Tweet":
        return []
    details = quoted.get("mediaDetails")
    return details if isinstance(details, list) else []


@normalises
def tweet_to_result(tweet: dict[str, Any]) -> tuple[MediaResult, int]:
    """Map a syndication post to a MediaResult: its own media, then the quoted post's (marked ``quoted``).
    Also returns how many of its own videos listed no playable variant."""
    headers = download_headers(PLATFORM)
    user = tweet.get("user") if isinstance(tweet.get("user"), dict) else {}
    screen_name = user.get("screen_name") if isinstance(user.get("screen_name"), str) else None
    tweet_id = tweet.get("id_str")
    if not isinstance(tweet_id, str) or not _TWEET_ID.fullmatch(tweet_id):
        raise UpstreamFailure("syndication answered a post without a readable id")
    result = MediaResult(
        platform=PLATFORM, title=_title(tweet), id=tweet_id,
        url=f"https://x.com/{screen_name or 'i'}/status/{tweet_id}",
        author=Author(name=user.get("name") if isinstance(user.get("name"), str) else None,
                      id=user.get("id_str") if isinstance(user.get("id_str"), str) else screen_name,
                      url=f"https://x.com/{screen_name}" if screen_name else None),
    )
    details = tweet.get("mediaDetails")
    if details is not None and not isinstance(details, list):
        raise UpstreamFailure("syndication media list has an unexpected shape")
    missing = _add_media(result, details or [], headers, quoted=False)
    _add_media(result, _quoted_media(tweet), headers, quoted=True)
    stats = Stats(likes=count(tweet.get("favorite_count")), comments=count(tweet.get("conversation_count")),
                  shares=count(tweet.get("retweet_count")))
    result.stats = stats if stats.known else None
    result.uploaded_at = _posted_at(tweet.get("created_at"))
    return result, missing


def _posted_at(value: Any) -> str | None:
    """The syndication's ``2026-03-12T14:02:40.000Z`` as ``2026-03-12T14:02:40Z``; None for anything else."""
    import datetime as dt

    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _own_media(result: MediaResult) -> bool:
    """Whether the result holds media of the post itself (not only of the post it quotes)."""
    return any(not item.quoted for item in (*result.images, *result.videos))


def _ytdlp_result(tweet_id: str) -> MediaResult:
    """The post as yt-dlp reads it (its own API); raises yt-dlp's mapped typed errors."""
    from .ytdlp import info_to_result, ytdlp_info  # imported lazily: yt-dlp is heavy and only the fallback needs it

    info = ytdlp_info(f"https://x.com/i/status/{tweet_id}", platform=PLATFORM)
    return info_to_result(info, platform=PLATFORM)


def _with_media(result: MediaResult) -> MediaResult:
    """The result, unless it holds nothing to download (a text post, a video without any playable variant)."""
    if not result.has_media:
        raise ContentUnavailable("the post has no media we can serve", reason="no_media")
    return result


class TwitterExtractor(Extractor):
    """X/Twitter posts; every item of a mixed post (photos and videos) comes back, in post order per list."""

    platform = PLATFORM

    def extract(self, target: Recognition) -> MediaResult:
        """Raises UnsupportedLink, ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
        tweet_id = target.id or ""
        if not _TWEET_ID.fullmatch(tweet_id):
            raise UnsupportedLink(reason="invalid_id")
        try:
            result, missing = tweet_to_result(fetch_tweet(tweet_id))
        except UpstreamFailure:
            # Syndication blocked (429/403/5xx) or changed shape: yt-dlp has its own way in (videos only).
            return _with_media(_ytdlp_result(tweet_id))
        except ContentUnavailable as exc:
            # Sensitive and protected posts need a session: with the operator's cookies yt-dlp can read them.
            if exc.reason in ("login_required", "private") and settings.EASYDOWN_COOKIES.get(PLATFORM):
                return _with_media(_ytdlp_result(tweet_id))
            raise
        if missing:
            result = self._fill_videos(result, tweet_id)
        return _with_media(result)

    def _fill_videos(self, result: MediaResult, tweet_id: str) -> MediaResult:
        """Take the videos from yt-dlp when syndication listed some of the post's own without variants; keep its
        photos (and the quoted post's media, after them) either way. The quoted post's media alone are not an
        answer for a post whose own video is missing: the customer asked for that video."""
        try:
            fallback = _ytdlp_result(tweet_id)
        except ExtractorError:
            if _own_media(result):
                return result
            raise
        quoted = [video for video in result.videos if video.quoted]
        own = [video for video in result.videos if not video.quoted]
        result.videos = (fallback.videos or own) + quoted
        result.audios = fallback.audios or result.audios
        if fallback.videos and not own:
            result.duration = fallback.duration  # the post's own video's, not the quoted one's
        else:
            result.duration = result.duration or fallback.duration
        if not _own_media(result):
            raise ContentUnavailable("the post's video could not be resolved", reason="no_media")
        return result
