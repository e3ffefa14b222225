"""Douyin videos and image notes from the public mobile share page, without cookies.

``www.iesdouyin.com/share/{video|note}/<id>/`` fetched with a phone User-Agent embeds ``window._ROUTER_DATA``;
its ``loaderData`` holds one page entry (``video_(id)/page`` or ``note_(id)/page``) whose
``videoInfoRes.item_list[0]`` is the post, or whose ``filter_list`` says why there is none. Links to Douyin's
media CDNs are answered as they are, without any request.

The post object is the one ``aweme/detail`` answers too. Since 2026 every post there has ``aweme_type`` 0
and its kind is in ``media_type`` (4 video, 2 images, 42 live photos and slides, whose ``images[]`` each
carry a ``video`` clip). An image note's ``video.play_addr`` is its background music, or a silent
placeholder file when it has none.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import (
    COLLECTION_PAGE_SIZE,
    Audio,
    Author,
    CollectionItem,
    CollectionPage,
    Image,
    LiveResult,
    MediaResult,
    Stats,
    Stream,
    Video,
    count,
    iso_from_timestamp,
)

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure, normalises
from .headers import download_headers
from .pagedata import (
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
LIVE_HOME = "https://live.douyin.com/"
LIVE_ENTER = "https://live.douyin.com/webcast/room/web/enter/"
# A room by its room id (what the app's share page names; not the web id): the share page's own API.
ROOM_REFLOW = "https://webcast.amemv.com/webcast/room/reflow/info/"
ROOM_PAGE = "https://webcast.amemv.com/douyin/webcast/reflow/{room_id}"
REFLOW_PARAMS = {"type_id": "0", "live_id": "1", "app_id": "1128"}
MIX_LIST = "https://www.douyin.com/aweme/v1/web/mix/aweme/"
MIX_BATCH = 20
WEB_PARAMS = {"device_platform": "webapp", "app_name": "douyin_web", "live_id": "1", "language": "zh-CN",
              "browser_language": "zh-CN", "browser_platform": "Win32", "browser_name": "Chrome",
              "browser_version": "131.0.0.0", "cookie_enabled": "true"}
IMAGE_POST_TYPES = frozenset({2, 68, 150})
# media_type of image posts: 2 pictures, 42 live photos and "slides" (a clip per picture); 4 is a video.
IMAGE_MEDIA_TYPES = frozenset({2, 42})
_VIDEO_EXTS = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".m3u8": "application/x-mpegURL"}
_AUDIO_EXTS = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac"}
_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".avif", ".image", ".awebp"}
_CAPTCHA = re.compile(r"验证码|captcha|verify_?center", re.I)
# The file Douyin puts in an image note's video.play_addr when the note has no music: silence, not audio.
_SILENT_PLACEHOLDER = re.compile(r"/images_no_sound_volume_audio_file\.\w+$", re.I)


class DouyinExtractor(Extractor):
    """Douyin posts through the cookie-less share page; CDN links returned as they are."""

    platform = "douyin"

    def extract(self, target: Recognition) -> MediaResult:
        """The post's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if target.kind == "media" and target.url:
            return _media_link(target.url)
        if not target.id or target.kind not in ("video", "note"):
            raise UnsupportedLink(reason="unsupported")
        return _result(self._item(target.id, target.kind), target.id)

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
        return _router_item(router)

    def live(self, target: Recognition) -> LiveResult:
        """A live room by its web id (kind "live"): the site's ``webcast/room/web/enter`` answer (status 2 live,
        4 ended), after a visit to live.douyin.com for the ``ttwid`` cookie it wants. By its room id (kind
        "room", from the app's share page): the share page's ``webcast/room/reflow/info`` answer."""
        if target.kind == "room" and target.id:
            page = ROOM_PAGE.format(room_id=target.id)
            with http_client(self.platform, mobile=True, headers={"Referer": page}) as client:
                body = _json(fetch(client, ROOM_REFLOW, params={**REFLOW_PARAMS, "room_id": target.id}))
            return _reflow_result(body, target.id)
        if target.kind != "live" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        with http_client(self.platform, headers={"Referer": LIVE_HOME}) as client:
            check_status(fetch(client, LIVE_HOME), not_found=None)
            body = _json(fetch(client, LIVE_ENTER, params={**WEB_PARAMS, "aid": "6383", "web_rid": target.id}))
        return _live_result(body, target.id)

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        """One page of a mix (合集) from the site's ``aweme/v1/web/mix/aweme`` list (its cursor is an offset;
        it gives at most MIX_BATCH posts a call)."""
        if target.kind != "mix" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        if page < 1:
            raise ContentUnavailable("pages count from 1", reason="no_such_page")
        start = (page - 1) * COLLECTION_PAGE_SIZE
        posts: list[dict[str, Any]] = []
        info: dict[str, Any] = {}
        with http_client(self.platform, headers={"Referer": "https://www.douyin.com/"}) as client:
            cursor, more = start, True
            while more and len(posts) < COLLECTION_PAGE_SIZE:
                body = _json(fetch(client, MIX_LIST, params={
                    **WEB_PARAMS, "aid": "6383", "mix_id": target.id, "cursor": cursor, "count": MIX_BATCH}))
                batch, cursor, more, info = _mix_batch(body, info)
                posts += batch
                if not batch:
                    break
        return _mix_page(posts[:COLLECTION_PAGE_SIZE], info, page, target.id)


@normalises
def _router_item(router: Any) -> dict[str, Any]:
    """The post object of the share page's router data; raises the typed error the page amounts to."""
    info = next((page["videoInfoRes"] for page in as_dict(dig(router, "loaderData")).values()
                 if isinstance(page, dict) and isinstance(page.get("videoInfoRes"), dict)), None)
    if info is None:
        raise UpstreamFailure("the share page carries no post information")
    items = [i for i in as_list(info.get("item_list")) if isinstance(i, dict)]
    if items:
        return items[0]
    raise ContentUnavailable("Douyin lists no post for this id", reason=_filter_reason(info))


@normalises
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


@normalises
def _videos(item: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """Every distinct playable rendition of a video post, best first."""
    return _renditions(as_dict(item.get("video")), headers)


@normalises
def _renditions(video: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """Every distinct playable rendition of a ``video`` object (a post's or a live photo's clip), best first.

    ``bit_rate[]`` and ``play_addr`` are clean; ``download_addr`` is the watermarked copy and never used."""
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


@normalises
def _clip(picture: dict[str, Any], headers: dict[str, str]) -> Video | None:
    """A live photo's or slide's clip: its best clean rendition, at the clip's own frame (the still's when the
    clip does not give one)."""
    clip = dig(picture, "video")
    renditions = _renditions(clip, headers) if isinstance(clip, dict) else []
    if not renditions:
        return None
    best = renditions[0]
    if not (best.width or best.height):
        best.width, best.height = as_int(picture.get("width")), as_int(picture.get("height"))
        best.quality = best.quality or short_side_quality(best.width, best.height)
    return best


@normalises
def _music(item: dict[str, Any], headers: dict[str, str]) -> Audio | None:
    """An image note's background music: its ``video.play_addr``, else the music's own address; never the
    silent placeholder a note without music carries."""
    for urls in (dig(item, "video", "play_addr", "url_list"), dig(item, "music", "play_url", "url_list")):
        url = first_str(urls)
        if url and not _SILENT_PLACEHOLDER.search(split_url(url).path):
            mime = _AUDIO_EXTS.get(posixpath.splitext(split_url(url).path)[1].lower(), "audio/mpeg")
            return Audio(url=_play_url(url), mime_type=mime, headers=dict(headers))
    return None


@normalises
def _note(item: dict[str, Any], result: MediaResult, headers: dict[str, str]) -> None:
    """Fill an image note's pictures, then its live-photo and slide clips (one per picture that has one), and
    its background music. A picture without an address is skipped; the others are kept."""
    for picture in as_list(item.get("images")):
        if not isinstance(picture, dict):
            continue
        url = _image_url(as_list(picture.get("url_list")))
        if url:
            result.images.append(Image(url=url, width=as_int(picture.get("width")),
                                       height=as_int(picture.get("height")), headers=dict(headers)))
        clip = _clip(picture, headers)
        if clip:
            result.videos.append(clip)
    music = _music(item, headers)
    if music:
        result.audios.append(music)
    result.thumbnail = result.images[0].url if result.images else result.thumbnail
    result.duration = 0


@normalises
def _is_image_post(item: dict[str, Any]) -> bool:
    """An image post by its media_type (2026 shape, aweme_type 0), its aweme_type (older), or its pictures."""
    return (as_int(item.get("media_type")) in IMAGE_MEDIA_TYPES or as_int(item.get("aweme_type")) in IMAGE_POST_TYPES
            or bool(as_list(item.get("images"))))


@normalises
def _result(item: dict[str, Any], aweme_id: str) -> MediaResult:
    """The normalised result of a share-page (or aweme/detail) post.

    Raises ContentUnavailable(no_media) when nothing the customer asked for is there: a video post whose
    video cannot be resolved (its cover is not the video), an image post with neither pictures nor clips."""
    headers = download_headers("douyin")
    post_id = text(item.get("aweme_id")) or aweme_id
    is_note = _is_image_post(item)
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
        if not (result.images or result.videos):
            raise ContentUnavailable("the image post lists no picture", reason="no_media")
    else:
        result.videos = _videos(item, headers)
        if not result.videos:
            raise ContentUnavailable("the video post has no playable address", reason="no_media")
        duration = as_int(dig(item, "video", "duration")) or as_int(item.get("duration"))
        result.duration = round(duration / 1000, 3) if duration else 0
    statistics = as_dict(item.get("statistics"))
    stats = Stats(views=count(statistics.get("play_count")) or None, likes=count(statistics.get("digg_count")),
                  comments=count(statistics.get("comment_count")), shares=count(statistics.get("share_count")))
    result.stats = stats if stats.known else None  # (play_count is 0 in public payloads: no count, not zero)
    result.uploaded_at = iso_from_timestamp(item.get("create_time"))
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


# --- /live and /collection ----------------------------------------------------------------------------------


def _json(response: Any) -> dict[str, Any]:
    """The JSON object of a Douyin web API answer; an empty body (what it answers an unsigned or blocked
    request) or anything else is an UpstreamFailure."""
    check_status(response)
    try:
        body = response.json()
    except ValueError as exc:
        raise UpstreamFailure("Douyin answered something that is not JSON (a verification page?)") from exc
    if not isinstance(body, dict):
        raise UpstreamFailure("Douyin answered an unexpected shape")
    return body


def _api_error(body: dict[str, Any]) -> None:
    """Raise what a non-zero ``status_code`` means."""
    code = body.get("status_code")
    if code in (0, None):
        return
    words = " ".join(str(body.get(k) or "") for k in ("status_msg", "prompts", "message"))
    words += " " + str(dig(body, "data", "prompts") or "")
    reason = reason_from_text(words, "")
    if reason:
        raise ContentUnavailable(words.strip()[:300], reason=reason)
    raise UpstreamFailure(f"Douyin answered status_code {code}")


@normalises
def _live_result(body: dict[str, Any], web_rid: str) -> LiveResult:
    """``data.data[0]`` is the room (``status`` 2 when live), ``data.user`` the streamer."""
    _api_error(body)
    data = body["data"]
    if not isinstance(data, dict):
        raise TypeError("the answer's data is not an object")
    rooms = [r for r in as_list(data.get("data")) if isinstance(r, dict)]
    if not rooms:
        words = " ".join(str(v) for v in (data.get("prompts"), data.get("message")) if v)
        raise ContentUnavailable(words or "Douyin lists no room for this id", reason=reason_from_text(words, "deleted"))
    room = rooms[0]
    return _room(room, as_dict(data.get("user")) or as_dict(room.get("owner")), web_rid,
                 f"https://live.douyin.com/{web_rid}")


@normalises
def _reflow_result(body: dict[str, Any], room_id: str) -> LiveResult:
    """``data.room`` is the room (the object the web answer lists, ``status`` 2 when live), its ``owner`` the
    streamer; a room id Douyin does not know comes without a room."""
    _api_error(body)
    data = body["data"]
    if not isinstance(data, dict):
        raise TypeError("the answer's data is not an object")
    room = as_dict(data.get("room"))
    if not room:
        words = " ".join(str(v) for v in (data.get("prompts"), data.get("message")) if v)
        raise ContentUnavailable(words or "Douyin has no room of this id", reason=reason_from_text(words, "deleted"))
    return _room(room, as_dict(room.get("owner")), room_id, ROOM_PAGE.format(room_id=room_id))


@normalises
def _room(room: dict[str, Any], user: dict[str, Any], room_id: str, url: str) -> LiveResult:
    """A room object of either answer: its streams when ``status`` is 2 (live), else ContentUnavailable
    (offline; 4 is ended); no_media when a live room lists no stream address."""
    status = as_int(room.get("status"))
    if status is None:
        raise ValueError("the room has no status")
    if status != 2:
        raise ContentUnavailable("the room is not live", reason="offline")
    streams = _streams(as_dict(room.get("stream_url")), download_headers("douyin") | {"Referer": LIVE_HOME})
    if not streams:
        raise ContentUnavailable("the room has no stream address", reason="no_media")
    sec_uid = text(user.get("sec_uid"))
    return LiveResult(
        platform="douyin", title=text(room.get("title")) or "", thumbnail=first_str(dig(room, "cover", "url_list")),
        author=Author(name=text(user.get("nickname")), id=text(user.get("id_str")) or sec_uid,
                      url=f"https://www.douyin.com/user/{sec_uid}" if sec_uid else None) if user else None,
        streams=streams, id=room_id, url=url)


def _streams(pull: dict[str, Any], headers: dict[str, str]) -> list[Stream]:
    """The FLV then HLS pull addresses of a room's ``stream_url``, each map in its own order (best first:
    FULL_HD1, HD1, SD1, SD2). Where a map is empty, its single address (``rtmp_pull_url``, an FLV over HTTP,
    or ``hls_pull_url``) stands in, its quality unknown."""
    streams: list[Stream] = []
    for kind, named, single in (("flv", "flv_pull_url", "rtmp_pull_url"), ("hls", "hls_pull_url_map", "hls_pull_url")):
        found = [Stream(url=url, format=kind, quality=str(quality), headers=dict(headers))
                 for quality, url in as_dict(pull.get(named)).items() if _pull_address(url)]
        if not found and _pull_address(pull.get(single)):
            found = [Stream(url=pull[single], format=kind, headers=dict(headers))]
        streams += found
    return streams


def _pull_address(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


@normalises
def _mix_batch(body: dict[str, Any], info: dict[str, Any]) -> tuple[list[dict[str, Any]], int, bool, dict[str, Any]]:
    """One call's posts, the next cursor, whether more follow, and the mix's own info (from its first post)."""
    _api_error(body)
    posts = [p for p in as_list(body.get("aweme_list")) if isinstance(p, dict) and text(p.get("aweme_id"))]
    cursor = count(body.get("cursor"))
    if cursor is None:
        raise ValueError("the mix list has no cursor")
    return posts, cursor, bool(body.get("has_more")), info or next(
        (as_dict(p.get("mix_info")) for p in posts if isinstance(p.get("mix_info"), dict)), {})


@normalises
def _mix_page(posts: list[dict[str, Any]], info: dict[str, Any], page: int, mix_id: str) -> CollectionPage:
    """The page's posts; the total is the mix's episode count (``statis.updated_to_episode``)."""
    if not posts:
        if page > 1:
            raise ContentUnavailable("no such page", reason="no_such_page")
        raise ContentUnavailable("Douyin lists no post in this mix", reason="deleted")
    start = (page - 1) * COLLECTION_PAGE_SIZE
    items = []
    for i, post in enumerate(posts):
        post_id = text(post["aweme_id"])
        note = _is_image_post(post)
        duration = as_int(dig(post, "video", "duration"))
        items.append(CollectionItem(
            index=start + i + 1, id=post_id or "",
            url=f"https://www.douyin.com/{'note' if note else 'video'}/{post_id}",
            title=text(post.get("desc")) or "", duration=round(duration / 1000, 3) if duration and not note else None,
            thumbnail=first_str(dig(post, "video", "cover", "url_list"))))
    total = as_int(dig(info, "statis", "updated_to_episode")) or 0
    author = as_dict(posts[0].get("author"))
    sec_uid = text(author.get("sec_uid"))
    return CollectionPage(
        platform="douyin", page=page, total=max(total, start + len(items)), items=items,
        title=text(info.get("mix_name")) or "", thumbnail=first_str(dig(info, "cover_url", "url_list")), id=mix_id,
        url=f"https://www.douyin.com/collection/{mix_id}",
        author=Author(name=text(author.get("nickname")), id=text(author.get("uid")) or sec_uid,
                      url=f"https://www.douyin.com/user/{sec_uid}" if sec_uid else None) if author else None)
