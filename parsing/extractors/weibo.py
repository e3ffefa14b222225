"""Weibo posts (pictures, videos, mixed posts) from the site's own JSON; video pages through yt-dlp.

Posts: ``weibo.com/ajax/statuses/show?id=<mblogid or mid>`` answers the whole post: ``pic_ids`` (order) and
``pic_infos`` (sizes per picture; a live photo, ``type == "livephoto"``, also carries its clip in ``video``),
``mix_media_info.items`` for posts mixing pictures and videos, and ``page_info.media_info`` for a video with
its ``playback_list``. Its videos are read from that same answer (yt-dlp would make the same request again).
Without cookies it redirects to the passport visitor system, whose two-step guest flow (genvisitor, then
incarnate) sets the SUB/SUBP cookies; we run it once and retry. When the desktop API is blocked or answers a
post we cannot normalise, ``m.weibo.cn/statuses/show?id=<mid>`` (``pics[].large``,
``page_info.urls``) is the fallback. ``weibo.com/tv/show`` and ``video.weibo.com/show?fid=`` video pages go
to yt-dlp, which resolves the fid to its post.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any
from urllib.parse import parse_qs

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Author, Image, MediaResult, Stats, Video, count

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure, UpstreamTimeout, normalises
from .headers import download_headers
from .pagedata import as_dict, dig, https, split_url

PLATFORM = "weibo"
AJAX_URL = "https://weibo.com/ajax/statuses/show"
MOBILE_URL = "https://m.weibo.cn/statuses/show"
GENVISITOR_URL = "https://passport.weibo.com/visitor/genvisitor"
INCARNATE_URL = "https://passport.weibo.com/visitor/visitor"

_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MID = re.compile(r"\d{10,20}")
_MBLOGID = re.compile(r"[0-9A-Za-z]{8,10}")
_JSONP = re.compile(r"^[^(]*\((.*)\)[^)]*$", re.S)
_TEMPLATE = re.compile(r"template=(\d{2,5})x(\d{2,5})")
# Picture size keys, best first; "largest" is the original upload when Weibo kept it.
_PIC_SIZES = ("largest", "original", "mw2000", "large", "bmiddle")
# Video URL keys of page_info.media_info (and of the mobile API's page_info.urls) when there is no playback_list.
_VIDEO_KEYS = (
    ("mp4_1080p_mp4", "1080p"), ("mp4_720p_mp4", "720p"), ("mp4_hd_mp4", "HD"), ("mp4_hd_url", "HD"),
    ("stream_url_hd", "HD"), ("mp4_ld_mp4", "SD"), ("mp4_sd_url", "SD"), ("stream_url", "SD"),
)
# Error codes of the statuses API: 20101 the post does not exist, 20112 the author's privacy settings hide it.
_ERROR_CODES = {20101: "deleted", 20112: "private", 20003: "deleted", 20016: "private"}


def mblogid_to_mid(mblogid: str) -> str:
    """The numeric id of a base62 mblogid: 4-character groups from the right, each 7 decimal digits."""
    groups: list[str] = []
    end = len(mblogid)
    while end > 0:
        start = max(0, end - 4)
        number = 0
        for char in mblogid[start:end]:
            number = number * 62 + _BASE62.index(char)
        groups.append(str(number).zfill(7) if start else str(number))
        end = start
    return "".join(reversed(groups))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: the JSON may say Infinity
        return None
    return number if number > 0 else None


def _seconds(value: Any) -> float:
    """A duration in seconds from a number or a numeric string; 0 for anything else (Infinity and NaN too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return 0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0


def _str(value: Any) -> str | None:
    """A non-empty string, else None (labels and names must not turn into lists or numbers)."""
    return value if isinstance(value, str) and value else None


def _reason(payload: dict[str, Any], default: str) -> str:
    """ContentUnavailable reason from a statuses API error (error code first, then Weibo's own wording)."""
    code = _int(payload.get("error_code") or payload.get("errno"))
    if code in _ERROR_CODES:
        return _ERROR_CODES[code]
    text = " ".join(str(payload.get(k) or "") for k in ("message", "msg", "error", "errmsg"))
    if any(word in text for word in ("隐私", "权限", "仅自己", "好友", "粉丝可见")):
        return "private"
    if any(word in text for word in ("不存在", "删除", "已被")):
        return "deleted"
    if "登录" in text:
        return "login_required"
    return default


def _get(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise UpstreamTimeout() from None
    except httpx.HTTPError:
        raise UpstreamFailure("weibo could not be reached") from None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise UpstreamFailure("weibo answered something that is not JSON") from None


def _on_passport(response: httpx.Response) -> bool:
    return response.url.host in ("passport.weibo.com", "passport.weibo.cn", "login.sina.com.cn")


def _is_login_page(response: httpx.Response) -> bool:
    return _on_passport(response) and "/visitor/" not in response.url.path


def _visitor_cookies(client: httpx.Client, referer: str) -> None:
    """Run the passport guest flow so the client's jar holds visitor SUB/SUBP cookies; raises UpstreamFailure."""
    fingerprint = {"os": "1", "browser": "Chrome131,0,0,0", "fonts": "undefined", "screenInfo": "1920*1080*24",
                   "plugins": ""}
    response = _get(client, "POST", GENVISITOR_URL, headers={"Referer": referer},
                    data={"cb": "gen_callback", "fp": json.dumps(fingerprint, separators=(",", ":"))})
    data = dig(_jsonp(response), "data")
    if response.status_code != 200 or not isinstance(dig(data, "tid"), str):
        raise UpstreamFailure("weibo's visitor system did not hand out a guest id")
    confidence = _int(data.get("confidence")) or 100
    response = _get(client, "GET", INCARNATE_URL, headers={"Referer": referer}, params={
        "a": "incarnate", "t": data["tid"], "w": 3 if data.get("new_tid") else 2, "c": f"{confidence:03d}",
        "gc": "", "cb": "cross_domain", "from": "weibo", "_rand": f"{random.random():.16f}",
    })
    if response.status_code != 200:
        raise UpstreamFailure("weibo's visitor system refused the guest id")
    # The cookies come as Set-Cookie for .weibo.com; the JSONP body repeats them, so set them if the jar has none.
    granted = dig(_jsonp(response), "data") or {}
    for name in ("sub", "subp"):
        value = granted.get(name) if isinstance(granted, dict) else None
        if isinstance(value, str) and value and not client.cookies.get(name.upper(), domain=".weibo.com"):
            client.cookies.set(name.upper(), value, domain=".weibo.com", path="/")


def _jsonp(response: httpx.Response) -> Any:
    match = _JSONP.match(response.text.strip())
    try:
        return json.loads(match.group(1) if match else response.text)
    except (ValueError, RecursionError):
        raise UpstreamFailure("weibo's visitor system answered something unreadable") from None


def fetch_status(client: httpx.Client, post_id: str) -> dict[str, Any]:
    """The desktop API's post JSON; raises ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
    headers = {"Referer": "https://weibo.com/", "Accept": "application/json, text/plain, */*",
               "X-Requested-With": "XMLHttpRequest"}
    for attempt in range(2):
        response = _get(client, "GET", AJAX_URL, params={"id": post_id}, headers=headers)
        if _is_login_page(response):
            raise ContentUnavailable(reason="login_required")
        if not _on_passport(response):
            break
        if attempt:
            raise UpstreamFailure("weibo kept sending us to its visitor system")
        _visitor_cookies(client, str(response.url))
    if response.status_code in (404, 410):
        raise ContentUnavailable(reason="deleted")
    payload = _json(response)
    if not isinstance(payload, dict):
        raise UpstreamFailure("weibo answered an unexpected shape")
    ok = payload.get("ok")
    if ok == -100:
        raise ContentUnavailable(reason="login_required")  # the API's "log in first" answer
    if (ok is not None and ok != 1) or payload.get("error_code"):
        raise ContentUnavailable(reason=_reason(payload, "unavailable"))
    if response.status_code != 200 or not (payload.get("idstr") or payload.get("id") or payload.get("mblogid")):
        raise UpstreamFailure("weibo answered a post without an id")
    return payload


def fetch_mobile_status(client: httpx.Client, post_id: str) -> dict[str, Any]:
    """The mobile API's post JSON (``data``); raises ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
    mid = post_id if _MID.fullmatch(post_id) else mblogid_to_mid(post_id)
    response = _get(client, "GET", MOBILE_URL, params={"id": mid},
                    headers={"Referer": f"https://m.weibo.cn/status/{mid}", "MWeibo-Pwa": "1",
                             "X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/plain, */*"})
    if _is_login_page(response):
        raise ContentUnavailable(reason="login_required")
    if _on_passport(response):
        raise UpstreamFailure("the mobile API sent us to the visitor system too")
    if response.status_code in (404, 410):
        raise ContentUnavailable(reason="deleted")
    payload = _json(response)
    if not isinstance(payload, dict):
        raise UpstreamFailure("weibo answered an unexpected shape")
    if payload.get("ok") != 1:
        raise ContentUnavailable(reason=_reason(payload, "unavailable"))
    data = payload.get("data")
    if response.status_code != 200 or not isinstance(data, dict) or not (data.get("id") or data.get("mid")):
        raise UpstreamFailure("weibo answered a post without an id")
    return data


def _best_size(info: Any) -> tuple[str, int | None, int | None] | None:
    """The biggest rendition of one picture (``pic_infos[pid]`` or a mixed item's data)."""
    best: tuple[int, int, str, int | None, int | None] | None = None
    for rank, key in enumerate(_PIC_SIZES):
        url = dig(info, key, "url")
        if not isinstance(url, str) or not url:
            continue
        width, height = _int(dig(info, key, "width")), _int(dig(info, key, "height"))
        candidate = ((width or 0) * (height or 0), -rank, https(url), width, height)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2:] if best else None


def _playback_videos(media_info: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """Every rendition of one video, best first: ``playback_list`` when present, else the plain URL keys."""
    videos: list[Video] = []
    for entry in media_info.get("playback_list") or []:
        play = dig(entry, "play_info")
        url = dig(play, "url")
        if not isinstance(url, str) or not url:
            continue
        mime = _str(play.get("mime")) or "video/mp4"
        width, height = _int(play.get("width")), _int(play.get("height"))
        label = _str(dig(entry, "meta", "quality_label")) or (f"{min(width, height)}p" if width and height else None)
        hls = "mpegurl" in mime.lower() or ".m3u8" in url
        videos.append(Video(url=https(url), quality=label, mime_type=mime, width=width, height=height,
                            has_audio=play.get("audio_codecs") != "" and play.get("audio_channels") != 0,
                            source="hls" if hls else "direct", bitrate=_int(play.get("bitrate")),
                            headers=dict(headers)))
    if not videos:
        for key, label in _VIDEO_KEYS:
            url = media_info.get(key)
            if isinstance(url, str) and url.startswith("http"):
                size = _TEMPLATE.search(url)
                width, height = (int(size[1]), int(size[2])) if size else (None, None)
                quality = f"{min(width, height)}p" if width and height else label
                videos.append(Video(url=https(url), quality=quality, width=width, height=height,
                                    headers=dict(headers)))
    unique = list({v.url: v for v in videos}.values())
    unique.sort(key=lambda v: (min(v.width or 0, v.height or 0), v.bitrate or 0, v.source == "direct"), reverse=True)
    return unique


def _add_video(result: MediaResult, media_info: Any, headers: dict[str, str]) -> None:
    if not isinstance(media_info, dict):
        return
    videos = _playback_videos(media_info, headers)
    if videos and not result.duration:
        result.duration = _seconds(media_info.get("duration"))
    result.videos.extend(videos)


def _live_clip(info: Any, headers: dict[str, str]) -> Video | None:
    """The short clip of a live photo (``type == "livephoto"``). ``video`` is the signed file on the livephoto
    CDN; ``video_hd`` only wraps a file address in a player link, so its ``livephoto`` parameter is the
    fallback. The answer gives no size for the clip, and the still's size is not the clip's: both stay unknown."""
    if dig(info, "type") != "livephoto":
        return None
    url = _str(dig(info, "video"))
    if not url or not url.startswith("http"):
        wrapped = _str(dig(info, "video_hd")) or ""
        url = next(iter(parse_qs(split_url(wrapped).query).get("livephoto") or []), None)
    if not url or not url.startswith("http"):
        return None
    mov = split_url(url).path.lower().endswith(".mov")
    return Video(url=https(url), quality=None, mime_type="video/quicktime" if mov else "video/mp4",
                 headers=dict(headers))


def _add_picture(result: MediaResult, info: Any, headers: dict[str, str]) -> None:
    """One picture in its biggest size; a live photo's clip goes beside it, among the videos."""
    best = _best_size(info)
    if best:
        url, width, height = best
        result.images.append(Image(url=url, width=width, height=height, headers=dict(headers)))
    clip = _live_clip(info, headers)
    if clip:
        result.videos.append(clip)


def _collect_desktop(result: MediaResult, status: dict[str, Any], headers: dict[str, str]) -> None:
    """Pictures and videos of a desktop-API post, in the post's own order."""
    items = dig(status, "mix_media_info", "items")
    if isinstance(items, list) and items:
        for item in items:
            if dig(item, "type") == "pic":
                _add_picture(result, dig(item, "data"), headers)
            else:
                _add_video(result, dig(item, "data", "media_info"), headers)
        return
    pic_infos = as_dict(status.get("pic_infos"))
    # A pic_ids that is not a list of ids is a shape error on purpose: the post cannot be read from this answer,
    # and the caller's fallback (the mobile API) gets its turn.
    order = [p for p in status.get("pic_ids") or [] if p in pic_infos] or list(pic_infos)
    for pid in order:
        _add_picture(result, pic_infos[pid], headers)
    page = status.get("page_info")
    if dig(page, "object_type") in ("video", None) or dig(page, "type") == "video":
        _add_video(result, dig(page, "media_info"), headers)


def _collect_mobile(result: MediaResult, status: dict[str, Any], headers: dict[str, str]) -> None:
    """Pictures and the video of a mobile-API post."""
    for pic in status.get("pics") or []:
        large = dig(pic, "large")
        url = _str(dig(large, "url")) or _str(dig(pic, "url"))
        if url:
            width, height = _int(dig(large, "geo", "width")), _int(dig(large, "geo", "height"))
            result.images.append(Image(url=https(url), width=width, height=height, headers=dict(headers)))
    page = status.get("page_info")
    if dig(page, "type") == "video":
        media_info = dict(as_dict(dig(page, "media_info")))
        media_info.update({k: v for k, v in as_dict(dig(page, "urls")).items() if isinstance(v, str)})
        _add_video(result, media_info, headers)


def _id(value: Any) -> str | None:
    """An id from a string or an integer (the API sends both)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _str(value)


@normalises
def status_to_result(status: dict[str, Any], *, mobile: bool = False) -> MediaResult:
    """Map a statuses API post (desktop or mobile shape) to a MediaResult; a repost without media of its own
    gives the reposted post's media. A shape error is an UpstreamFailure, so the caller can try the mobile API."""
    headers = download_headers(PLATFORM)
    user = as_dict(status.get("user"))
    uid = _id(user.get("idstr")) or _id(user.get("id"))
    mid = _id(status.get("idstr")) or _id(status.get("mid")) or _id(status.get("id")) or ""
    mblogid = _id(status.get("mblogid")) or _id(status.get("bid"))
    page = status.get("page_info")
    title = (_str(status.get("text_raw")) or _str(dig(page, "media_info", "video_title")) or _str(dig(page, "title"))
             or "")
    if mobile and not _str(status.get("text_raw")):
        title = re.sub(r"<[^>]+>", "", _str(status.get("text")) or "")  # the mobile API only has HTML text
    thumbnail = _str(dig(page, "page_pic", "url") if mobile else dig(page, "page_pic"))
    result = MediaResult(
        platform=PLATFORM, title=title.strip(), id=mid or None,
        thumbnail=https(thumbnail) if thumbnail else None,
        url=f"https://weibo.com/{uid or 0}/{mblogid or mid}",
        author=Author(name=_str(user.get("screen_name")), id=uid, url=f"https://weibo.com/u/{uid}" if uid else None),
    )
    (_collect_mobile if mobile else _collect_desktop)(result, status, headers)
    reposted = status.get("retweeted_status")
    if not result.has_media and isinstance(reposted, dict):
        (_collect_mobile if mobile else _collect_desktop)(result, reposted, headers)
    if not result.thumbnail and result.images:
        result.thumbnail = result.images[0].url
    if not result.videos:
        result.duration = 0
    stats = Stats(views=count(dig(page, "media_info", "online_users_number")),
                  likes=count(status.get("attitudes_count")), comments=count(status.get("comments_count")),
                  shares=count(status.get("reposts_count")))
    result.stats = stats if stats.known else None
    result.uploaded_at = _posted_at(status.get("created_at"))
    return result


def _posted_at(value: Any) -> str | None:
    """Weibo's ``Mon Nov 17 16:04:01 +0800 2025`` as ISO 8601 UTC; None for anything else."""
    import datetime as dt

    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WeiboExtractor(Extractor):
    """Weibo posts by mid or mblogid (pictures, videos, mixed) and video pages (through yt-dlp)."""

    platform = PLATFORM

    def extract(self, target: Recognition) -> MediaResult:
        """Raises UnsupportedLink, ContentUnavailable, UpstreamTimeout or UpstreamFailure."""
        post_id = target.id or ""
        if target.kind == "video":
            return self._video_page(target)
        if not (_MID.fullmatch(post_id) or _MBLOGID.fullmatch(post_id)):
            raise UnsupportedLink(reason="invalid_id")
        with http_client(PLATFORM) as client:
            try:
                result = status_to_result(fetch_status(client, post_id))
            except UpstreamFailure:
                # The desktop API is blocked, or answered a post we could not read: the mobile API has the same post.
                result = status_to_result(fetch_mobile_status(client, post_id), mobile=True)
        if not result.has_media:
            # A text post, or a video whose streams are all missing: its cover alone is not what was asked for.
            raise ContentUnavailable("the post has no media we can serve", reason="no_media")
        return result

    def _video_page(self, target: Recognition) -> MediaResult:
        """A tv/show or video.weibo.com page: yt-dlp resolves the fid to its post (visitor cookies included)."""
        from .ytdlp import info_to_result, ytdlp_info  # imported lazily: yt-dlp is heavy

        fid = target.id or ""
        info = ytdlp_info(f"https://weibo.com/tv/show/{fid}", platform=PLATFORM)
        return info_to_result(info, platform=PLATFORM)
