"""Douyin videos and image notes from the public mobile share page, without cookies.

``www.iesdouyin.com/share/{video|note}/<id>/`` fetched with a phone User-Agent embeds ``window._ROUTER_DATA``;
its ``loaderData`` holds one page entry (``video_(id)/page`` or ``note_(id)/page``) whose
``videoInfoRes.item_list[0]`` is the post, or whose ``filter_list`` says why there is none. Links to Douyin's
media CDNs are answered as they are, without any request.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Audio, Author, Image, MediaResult, Video

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure
from .headers import download_headers
from .pagedata import (
    SHAPE_ERRORS,
    PageDataMalformed,
    PageDataMissing,
    as_dict,
    as_int,
    as_list,
    check_status,
    dig,
    embedded_json,
    fetch,
    first_str,
    reason_from_text,
    short_side_quality,
    split_url,
    text,
)

SHARE_PAGE = "https://www.iesdouyin.com/share/{kind}/{id}/"
IMAGE_POST_TYPES = frozenset({2, 68, 150})
_VIDEO_EXTS = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".m3u8": "application/x-mpegURL"}
_AUDIO_EXTS = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac"}
_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".avif", ".image", ".awebp"}
_CAPTCHA = re.compile(r"验证码|captcha|verify_?center", re.I)


class DouyinExtractor(Extractor):
    """Douyin posts through the cookie-less share page; CDN links returned as they are."""

    platform = "douyin"

    def extract(self, target: Recognition) -> MediaResult:
        """The post's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if target.kind == "media" and target.url:
            return _media_link(target.url)
        if not target.id or target.kind not in ("video", "note"):
            raise UnsupportedLink(reason="unsupported")
        item = self._item(target.id, target.kind)
        try:
            return _result(item, target.id)
        except SHAPE_ERRORS as exc:
            raise UpstreamFailure("the share page's post has an unexpected shape") from exc

    def _item(self, aweme_id: str, kind: str) -> dict[str, Any]:
        """The post object from the share page; raises the typed error the page explains."""
        url = SHARE_PAGE.format(kind="note" if kind == "note" else "video", id=aweme_id)
        with http_client(self.platform, mobile=True, headers={"Referer": "https://www.douyin.com/"}) as client:
            response = fetch(client, url)
            check_status(response)
            html = response.text
        try:
            router = embedded_json(html, "window._ROUTER_DATA")
        except PageDataMissing:
            if _CAPTCHA.search(html[:20000]):
                raise UpstreamFailure("Douyin answered a verification page") from None
            raise UpstreamFailure("the share page has no router data") from None
        except PageDataMalformed as exc:
            raise UpstreamFailure("the share page's router data is not readable") from exc
        info = next((page["videoInfoRes"] for page in as_dict(dig(router, "loaderData")).values()
                     if isinstance(page, dict) and isinstance(page.get("videoInfoRes"), dict)), None)
        if info is None:
            raise UpstreamFailure("the share page carries no post information")
        items = [i for i in as_list(info.get("item_list")) if isinstance(i, dict)]
        if items:
            return items[0]
        raise ContentUnavailable("Douyin lists no post for this id", reason=_filter_reason(info))


def _filter_reason(info: dict[str, Any]) -> str:
    """Why the share page lists no post, from its filter_list (deleted when it does not say)."""
    words = " ".join(
        str(entry.get(key) or "")
        for entry in as_list(info.get("filter_list")) if isinstance(entry, dict)
        for key in ("filter_reason", "detail_msg", "notice")
    )
    return reason_from_text(words, "deleted")


def _play_url(url: str) -> str:
    """The unwatermarked address: Douyin's player endpoint without the ``wm`` suffix."""
    return url.replace("/playwm/", "/play/")


def _videos(item: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """Every distinct playable rendition of a video post, best first."""
    video = as_dict(item.get("video"))
    width, height = as_int(video.get("width")), as_int(video.get("height"))
    found: list[Video] = []
    for rate in as_list(video.get("bit_rate")):
        addr = as_dict(dig(rate, "play_addr"))
        url = first_str(addr.get("url_list"))
        if url:
            w, h = as_int(addr.get("width")) or width, as_int(addr.get("height")) or height
            found.append(Video(url=_play_url(url), quality=short_side_quality(w, h), width=w, height=h,
                               bitrate=as_int(rate.get("bit_rate")), headers=dict(headers)))
    addr = as_dict(video.get("play_addr"))
    url = first_str(dig(addr, "url_list"))
    if url:
        # The player endpoint serves the rendition its ``ratio`` asks for ("720p"); say so when it does.
        ratio = parse_qs(split_url(url).query).get("ratio", [video.get("ratio")])[0]
        w, h = as_int(dig(addr, "width")) or width, as_int(dig(addr, "height")) or height
        quality = ratio if isinstance(ratio, str) and re.fullmatch(r"\d{3,4}p", ratio) else short_side_quality(w, h)
        found.append(Video(url=_play_url(url), quality=quality, width=w, height=h, headers=dict(headers)))
    unique: dict[str, Video] = {}
    for video_item in found:  # the first rendition of a URL wins
        unique.setdefault(video_item.url, video_item)
    # Largest frame first, then the higher bitrate; the sort is stable, so page order breaks ties.
    return sorted(unique.values(), key=lambda v: (-(v.width or 0) * (v.height or 0), -(v.bitrate or 0)))


def _image_url(urls: list[Any]) -> str | None:
    """The first non-webp address of an image (wider client support), else the first one."""
    candidates = [u for u in urls if isinstance(u, str) and u]
    return next((u for u in candidates if ".webp" not in split_url(u).path.lower()), None) or (
        candidates[0] if candidates else None)


def _note(item: dict[str, Any], result: MediaResult, headers: dict[str, str]) -> None:
    """Fill an image note's pictures, its live-photo clips and its background music."""
    for picture in as_list(item.get("images")):
        if not isinstance(picture, dict):
            continue
        url = _image_url(as_list(picture.get("url_list")))
        width, height = as_int(picture.get("width")), as_int(picture.get("height"))
        if url:
            result.images.append(Image(url=url, width=width, height=height, headers=dict(headers)))
        clip = first_str(dig(picture, "video", "play_addr", "url_list"))
        if clip:  # a live photo: a short clip shown in place of the still
            result.videos.append(Video(url=_play_url(clip), quality=short_side_quality(width, height), width=width,
                                       height=height, headers=dict(headers)))
    # An image note's video address is its background music, not a video.
    music = first_str(dig(item, "video", "play_addr", "url_list")) or first_str(
        dig(item, "music", "play_url", "url_list"))
    if music:
        mime = _AUDIO_EXTS.get(posixpath.splitext(split_url(music).path)[1].lower(), "audio/mpeg")
        result.audios.append(Audio(url=_play_url(music), mime_type=mime, headers=dict(headers)))
    result.thumbnail = result.images[0].url if result.images else result.thumbnail
    result.duration = 0


def _result(item: dict[str, Any], aweme_id: str) -> MediaResult:
    """The normalised result of a share-page post."""
    headers = download_headers("douyin")
    post_id = text(item.get("aweme_id")) or aweme_id
    is_note = as_int(item.get("aweme_type")) in IMAGE_POST_TYPES or bool(as_list(item.get("images")))
    author = as_dict(item.get("author"))
    sec_uid = text(author.get("sec_uid"))
    result = MediaResult(
        platform="douyin",
        title=text(item.get("desc")) or "",
        thumbnail=first_str(dig(item, "video", "cover", "url_list"))
        or first_str(dig(item, "video", "origin_cover", "url_list")),
        id=post_id,
        url=f"https://www.douyin.com/{'note' if is_note else 'video'}/{post_id}",
        author=Author(name=text(author.get("nickname")), id=text(author.get("uid")) or sec_uid,
                      url=f"https://www.douyin.com/user/{sec_uid}" if sec_uid else None) if author else None,
    )
    if is_note:
        _note(item, result, headers)
    else:
        result.videos = _videos(item, headers)
        duration = as_int(dig(item, "video", "duration")) or as_int(item.get("duration"))
        result.duration = round(duration / 1000, 3) if duration else 0
    return result


def _media_link(url: str) -> MediaResult:
    """A Douyin CDN link answered as one media item, typed by its extension, else by its host."""
    parts = urlsplit(url)
    host, ext = (parts.hostname or "").lower(), posixpath.splitext(parts.path)[1].lower()
    headers = download_headers("douyin")
    result = MediaResult(platform="douyin", url=url)
    if ext in _VIDEO_EXTS or (not ext and host.endswith("douyinvod.com")):
        source = "hls" if ext == ".m3u8" else "direct"
        result.videos.append(Video(url=url, mime_type=_VIDEO_EXTS.get(ext, "video/mp4"), source=source,
                                   headers=headers))
    elif ext in _AUDIO_EXTS:
        result.audios.append(Audio(url=url, mime_type=_AUDIO_EXTS[ext], headers=headers))
    elif ext in _IMAGE_EXTS or "~tplv-" in parts.path or host.endswith("douyinpic.com"):
        result.images.append(Image(url=url, headers=headers))
        result.thumbnail = url
    else:
        raise UnsupportedLink(reason="unknown_media_type")
    return result
