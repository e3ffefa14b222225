"""Instagram posts, carousels and Reels: photos from the public embed page, videos through yt-dlp.

The embed page ``/p/<code>/embed/captioned/`` is served without login and carries the post as GraphQL
``shortcode_media`` inside a JSON-encoded ``"contextJSON"`` string: ``display_url`` and ``dimensions`` per
item, carousel items under ``edge_sidecar_to_children.edges[].node`` in post order, ``is_video`` and, for some
videos, ``video_url``. yt-dlp returns photos only as thumbnails, so photos come from here; videos whose
``video_url`` the embed leaves out (the usual case for Reels) come from yt-dlp. A post whose embed carries no
media at all (gated, rate-limited or a changed page), or media we cannot read, goes to yt-dlp whole. A video
post whose video neither source resolves answers no_media: its cover is not what was asked for.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Author, Image, MediaResult, Stats, Video, count, iso_from_timestamp

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
from .pagedata import as_dict, as_list, dig, text

PLATFORM = "instagram"
EMBED_URL = "https://www.instagram.com/p/{code}/embed/captioned/"
_CODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
# A JSON string literal after the key; the page may hold several (telemetry ones too), the media is in one.
_CONTEXT_JSON = re.compile(r'"contextJSON"\s*:\s*("(?:[^"\\]|\\.)*")', re.S)
# Private posts have a long shortcode (the public code plus 28 characters); their embed never has media.
_PRIVATE_CODE_LENGTH = 28


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except (ValueError, OverflowError):  # OverflowError: Infinity
        return None
    return number if number > 0 else None


def _seconds(value: Any) -> float:
    """A duration in seconds from a number; 0 when absent or not a finite positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return float(value) if math.isfinite(value) and value > 0 else 0


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_login_redirect(response: httpx.Response) -> bool:
    path = response.url.path
    return path.startswith(("/accounts/login", "/challenge")) or path == "/"


def fetch_embed(code: str) -> str:
    """The embed page's HTML; raises ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
    try:
        with http_client(PLATFORM, headers={"Accept": "text/html,application/xhtml+xml"}) as client:
            response = client.get(EMBED_URL.format(code=code))
    except httpx.TimeoutException:
        raise UpstreamTimeout() from None
    except httpx.HTTPError:
        raise UpstreamFailure("instagram could not be reached") from None
    if _is_login_redirect(response):
        raise ContentUnavailable(reason="login_required")
    if response.status_code in (404, 410):
        raise ContentUnavailable(reason="deleted")
    if response.status_code != 200:
        raise UpstreamFailure(f"instagram answered {response.status_code}")
    return response.text


def embedded_media(html: str) -> dict[str, Any] | None:
    """The ``shortcode_media`` object the embed page carries, or None when it carries none."""
    for match in _CONTEXT_JSON.finditer(html):
        try:
            context = json.loads(json.loads(match.group(1)))  # a JSON document inside a JSON string
        except (ValueError, TypeError, RecursionError):
            continue
        media = dig(context, "gql_data", "shortcode_media") or dig(context, "context", "media")
        if isinstance(media, dict):
            return media
    return None


def _nodes(media: dict[str, Any]) -> list[dict[str, Any]]:
    """The post's items in order: the carousel's children, or the post itself. A carousel whose item list
    cannot be read is an UpstreamFailure: answering its cover as a one-photo post would drop the rest."""
    children = media.get("edge_sidecar_to_children")
    edges = dig(children, "edges")
    if isinstance(edges, list) and edges:
        return [edge["node"] for edge in edges if isinstance(dig(edge, "node"), dict)]
    if media.get("__typename") == "GraphSidecar" or (children is not None and not isinstance(edges, list)):
        raise UpstreamFailure("the carousel's item list has an unexpected shape")
    return [media]


def _largest_resource(node: dict[str, Any]) -> tuple[str, int | None, int | None] | None:
    """The biggest rendition of a photo: ``display_url`` at ``dimensions``, or a bigger ``display_resources``."""
    url = _str(node.get("display_url"))
    best = (url, _int(dig(node, "dimensions", "width")), _int(dig(node, "dimensions", "height"))) if url else None
    for resource in as_list(node.get("display_resources")):
        src, width, height = _str(dig(resource, "src")), _int(dig(resource, "config_width")), \
            _int(dig(resource, "config_height"))
        if src and (best is None or (width or 0) > (best[1] or 0)):
            best = (src, width, height)
    return best


def _edge_count(media: dict[str, Any], *edges: str) -> int | None:
    """The ``count`` of the first of these edges that gives one."""
    return next((n for n in (count(dig(media, edge, "count")) for edge in edges) if n is not None), None)


def _stats(media: dict[str, Any]) -> Stats | None:
    """The post's counts: likes and comments from their edges, views from a video post's own
    ``video_view_count`` (a carousel item's count is that item's, not the post's). Counts the owner hid
    (``like_and_view_counts_disabled``) are left unknown."""
    hidden = media.get("like_and_view_counts_disabled") is True
    stats = Stats(
        views=None if hidden else count(media.get("video_view_count")),
        likes=None if hidden else _edge_count(media, "edge_media_preview_like", "edge_liked_by"),
        comments=_edge_count(media, "edge_media_to_comment", "edge_media_to_parent_comment",
                             "edge_media_preview_comment"),
    )
    return stats if stats.known else None


def _merged(own: Stats | None, other: Stats | None) -> Stats | None:
    """Each count from ``own`` where it gives one, else from ``other``."""
    if own is None or other is None:
        return own or other
    fields = ("views", "likes", "comments", "shares")
    return Stats(**{f: getattr(own, f) if getattr(own, f) is not None else getattr(other, f) for f in fields})


@normalises
def media_to_result(media: dict[str, Any], *, code: str, kind: str | None) -> tuple[MediaResult, int]:
    """Map ``shortcode_media`` to a MediaResult; also returns how many videos came without a ``video_url``.
    A photo missing from a carousel leaves the others; a shape error is an UpstreamFailure."""
    headers = download_headers(PLATFORM)
    owner = as_dict(media.get("owner"))
    username = _str(owner.get("username"))
    shortcode = _str(media.get("shortcode")) or code
    section = "reel" if kind == "reel" or media.get("product_type") == "clips" else "p"
    result = MediaResult(
        platform=PLATFORM, id=shortcode,
        title=(_str(dig(media, "edge_media_to_caption", "edges", 0, "node", "text")) or "").strip(),
        thumbnail=_str(media.get("display_url")),
        url=f"https://www.instagram.com/{section}/{shortcode}/",
        author=Author(name=_str(owner.get("full_name")) or username, id=text(owner.get("id")),
                      url=f"https://www.instagram.com/{username}/" if username else None),
    )
    result.uploaded_at = iso_from_timestamp(media.get("taken_at_timestamp"))
    result.stats = _stats(media)
    missing = 0
    for node in _nodes(media):
        if node.get("is_video") or node.get("__typename") == "GraphVideo":
            url = _str(node.get("video_url"))
            if not url:
                missing += 1
                continue
            width, height = _int(dig(node, "dimensions", "width")), _int(dig(node, "dimensions", "height"))
            result.videos.append(Video(
                url=url, quality=f"{min(width, height)}p" if width and height else None, mime_type="video/mp4",
                width=width, height=height, has_audio=node.get("has_audio") is not False, source="direct",
                headers=dict(headers)))
            if not result.duration:
                result.duration = _seconds(node.get("video_duration"))
            continue
        photo = _largest_resource(node)
        if photo:
            result.images.append(Image(url=photo[0], width=photo[1], height=photo[2], headers=dict(headers)))
    return result, missing


def _ytdlp_result(code: str) -> MediaResult:
    """The post as yt-dlp reads it; raises yt-dlp's mapped typed errors."""
    from .ytdlp import info_to_result, ytdlp_info  # imported lazily: yt-dlp is heavy

    info = ytdlp_info(f"https://www.instagram.com/p/{code}/", platform=PLATFORM)
    return info_to_result(info, platform=PLATFORM)


def _with_media(result: MediaResult) -> MediaResult:
    """The result, unless it holds nothing to download: a video post whose video could not be resolved is not
    answered with its cover."""
    if not result.has_media:
        raise ContentUnavailable("the post has no media we can serve", reason="no_media")
    return result


class InstagramExtractor(Extractor):
    """Instagram posts, carousels (every item, in order), Reels and IGTV videos."""

    platform = PLATFORM

    def extract(self, target: Recognition) -> MediaResult:
        """Raises UnsupportedLink, ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
        code = target.id or ""
        if not _CODE.fullmatch(code):
            raise UnsupportedLink(reason="invalid_id")
        try:
            media = embedded_media(fetch_embed(code))
        except UpstreamFailure:
            media = None  # the embed is blocked: yt-dlp has its own way in
        if media is None:
            if len(code) > _PRIVATE_CODE_LENGTH:
                raise ContentUnavailable(reason="private")
            return _with_media(_ytdlp_result(code))
        try:
            result, missing = media_to_result(media, code=code, kind=target.kind)
        except UpstreamFailure:
            return _with_media(_ytdlp_result(code))  # media we could not read: yt-dlp reads the post its own way
        if missing:
            result = self._fill_videos(result, code)
        return _with_media(result)

    def _fill_videos(self, result: MediaResult, code: str) -> MediaResult:
        """Videos from yt-dlp for items the embed left without a URL; photos are kept from the embed."""
        try:
            fallback = _ytdlp_result(code)
        except ExtractorError:
            if result.has_media:
                return result  # a carousel's photos are still worth answering with
            raise
        result.videos = fallback.videos or result.videos
        result.audios = fallback.audios or result.audios
        result.duration = result.duration or fallback.duration
        result.thumbnail = result.thumbnail or fallback.thumbnail
        result.uploaded_at = result.uploaded_at or fallback.uploaded_at
        result.stats = _merged(result.stats, fallback.stats)
        return result
