"""Xiaohongshu notes (videos, pictures and live photos) from the public note page, or its mobile page.

``www.xiaohongshu.com/explore/<id>?xsec_token=…`` embeds ``window.__INITIAL_STATE__`` (JSON with bare
``undefined`` values); the note is at ``note.noteDetailMap[<id>].note`` (``note.note`` on 2023 pages; a
hydrated state wraps values in Vue refs, ``{"__v_isRef": true, "_rawValue": …}``). The page only shows a note
opened with the ``xsec_token`` of its share link, so the recognised link's token is sent along.

When the desktop page fails (a login wall, a captcha or rate limit, an unreadable state, a video without
streams), the mobile page ``/discovery/item/<id>?xsec_token=…`` fetched with a phone User-Agent is the fallback:
it is made for logged-out visitors from share links and carries the note either in ``window.__INITIAL_STATE__``
at ``noteData.data.noteData`` or in ``window.__SETUP_SERVER_STATE__`` at
``LAUNCHER_SSR_STORE_PAGE_DATA.noteData``. A timeout is not followed by a second page.

Videos come from ``video.media.stream.<codec>[]`` (``masterUrl``, else a ``backupUrls`` entry); notes of 2026
no longer carry ``video.consumer.originVideoKey``, so the original on the video CDN is only a last resort.
A live photo's clip is labelled from its own stream; the still's size is never passed off as the clip's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Author, Image, MediaResult, Stats, Video, count, iso_from_timestamp

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure, UpstreamTimeout, normalises
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
    https,
    reason_from_text,
    short_side_quality,
    text,
)

NOTE_PAGE = "https://www.xiaohongshu.com/explore/{id}"
MOBILE_PAGE = "https://www.xiaohongshu.com/discovery/item/{id}"
VIDEO_CDN = "https://sns-video-bd.xhscdn.com/{key}"
CODECS = ("h264", "h265", "av1", "h266")  # compatibility order, used to break ties between equal frames
# Error codes the note page's redirects and state carry (learnt from public reports; others are "unavailable").
DELETED_CODES = frozenset({"-510001", "-510000"})
LOGIN_CODES = frozenset({"300031"})
BLOCK_CODES = frozenset({"300012", "300013", "300015"})
_LOGIN_WALL = re.compile(r"登录后查看|请先登录|扫码查看|login to view|log in to view|This Page Isn't Available", re.I)
# Desktop answers the mobile page may do better on (besides UpstreamFailure): a login wall, a video note
# whose streams are missing. A deleted or private note is not retried.
_MOBILE_RETRY = frozenset({"login_required", "no_media"})
# Globals of the mobile page that carry the note, the newer first.
_MOBILE_STATES = ("window.__SETUP_SERVER_STATE__", "window.__INITIAL_STATE__")


class XiaohongshuExtractor(Extractor):
    """Xiaohongshu notes through the note page's initial state, or the mobile page's when that fails."""

    platform = "xiaohongshu"

    def extract(self, target: Recognition) -> MediaResult:
        """The note's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if not target.id or target.kind != "note":
            raise UnsupportedLink(reason="unsupported")
        token = _xsec_token(target.url)
        query = f"?{urlencode({'xsec_token': token})}" if token else ""
        url = NOTE_PAGE.format(id=target.id) + query
        try:
            return _with_media(_result(self._note(url, target.id), target.id, url))
        except (UpstreamFailure, ContentUnavailable) as exc:
            if isinstance(exc, ContentUnavailable) and exc.reason not in _MOBILE_RETRY:
                raise
            primary = exc
        try:
            note = self._mobile_note(MOBILE_PAGE.format(id=target.id) + query, target.id)
            return _with_media(_result(note, target.id, url))
        except (UpstreamFailure, UpstreamTimeout):
            raise primary from None
        except ContentUnavailable:
            if isinstance(primary, UpstreamFailure):
                raise  # the mobile page says why; the desktop page only failed
            raise primary from None

    def _page(self, url: str, *, mobile: bool) -> str:
        """The HTML of a note page; raises the typed error a refusal or a redirect away from the note means."""
        with http_client(self.platform, mobile=mobile, headers={"Referer": "https://www.xiaohongshu.com/"}) as client:
            response = fetch(client, url)
            final = urlsplit(str(response.url))
            check_status(response)
            html = response.text
        _check_redirect(final.path, parse_qs(final.query))
        return html

    def _note(self, url: str, note_id: str) -> dict[str, Any]:
        """The note object of the desktop page; raises the typed error the page amounts to."""
        html = self._page(url, mobile=False)
        try:
            state = embedded_json(html, "window.__INITIAL_STATE__")
        except PageDataMissing:
            if _LOGIN_WALL.search(html):
                raise ContentUnavailable("Xiaohongshu shows a login wall", reason="login_required") from None
            raise UpstreamFailure("the note page has no initial state") from None
        except PageDataMalformed as exc:
            raise UpstreamFailure("the note page's initial state is not readable") from exc
        note = find_note(state, note_id)
        if note is not None:
            return note
        raise ContentUnavailable("Xiaohongshu does not show this note", reason=_missing_reason(state, html))

    def _mobile_note(self, url: str, note_id: str) -> dict[str, Any]:
        """The note object of the mobile page (phone User-Agent); raises the typed error the page amounts to.
        Its reason for showing no note is not guessed: only a login wall is told apart."""
        html = self._page(url, mobile=True)
        for name in _MOBILE_STATES:
            try:
                note = find_note(embedded_json(html, name), note_id)
            except PageDataMissing:
                continue
            except PageDataMalformed:
                continue  # the other global may still carry it
            if note is not None:
                return note
        if _LOGIN_WALL.search(html):
            raise ContentUnavailable("Xiaohongshu's mobile page shows a login wall", reason="login_required")
        raise UpstreamFailure("the mobile note page carries no note")


# Where page shapes keep the note (None stands for the note id): desktop (2024–), desktop 2023, mobile state,
# mobile setup state.
_NOTE_PATHS: tuple[tuple[str | None, ...], ...] = (
    ("note", "noteDetailMap", None, "note"), ("note", "note"), ("noteData", "data", "noteData"),
    ("LAUNCHER_SSR_STORE_PAGE_DATA", "noteData"),
)


def _unref(value: Any) -> Any:
    """The value inside Vue ref wrappers (``{"__v_isRef": true, "_rawValue": …}``) of a hydrated state."""
    for _ in range(8):  # refs of refs do not nest deeper than this
        if not (isinstance(value, dict) and value.get("__v_isRef") is True):
            break
        value = value.get("_rawValue", value.get("_value"))
    return value


def _walk(data: Any, *path: str) -> Any:
    """``dig`` through a state whose values may be wrapped in Vue refs."""
    for step in path:
        data = dig(_unref(data), step)
    return _unref(data)


@normalises
def find_note(state: Any, note_id: str) -> dict[str, Any] | None:
    """The note object wherever a page shape has kept it: desktop (``note.noteDetailMap[id].note``, and
    ``note.note`` in 2023), mobile (``noteData.data.noteData``, ``LAUNCHER_SSR_STORE_PAGE_DATA.noteData``).
    None when no shape holds this note (a note of another id is not taken for it)."""
    for path in _NOTE_PATHS:
        note = _walk(state, *(note_id if step is None else step for step in path))
        if not isinstance(note, dict) or not (note.get("noteId") or note.get("type")):
            continue
        if text(note.get("noteId")) in (None, note_id):
            return note
    return None


def _with_media(result: MediaResult) -> MediaResult:
    """The result, unless it holds nothing to download: a video note whose video could not be resolved is not
    answered with its cover."""
    if not result.has_media:
        raise ContentUnavailable("the note has no media we can serve", reason="no_media")
    return result


def _xsec_token(url: str | None) -> str | None:
    """The xsec_token of the recognised link, if it had one."""
    values = parse_qs(urlsplit(url or "").query).get("xsec_token")
    return values[0] if values and values[0] else None


def _check_redirect(path: str, query: dict[str, list[str]]) -> None:
    """Raise the typed error of the page Xiaohongshu redirected to instead of the note, if it did."""
    code = (query.get("error_code") or [""])[0]
    if path.startswith("/website-login/captcha") or code in BLOCK_CODES:
        raise UpstreamFailure("Xiaohongshu answered a verification or rate-limit page")
    if path.startswith(("/website-login", "/login")) or code in LOGIN_CODES:
        raise ContentUnavailable("Xiaohongshu asks to log in", reason="login_required")
    if path.startswith("/404"):
        message = (query.get("error_msg") or [""])[0]
        reason = "deleted" if code in DELETED_CODES else reason_from_text(message, "unavailable")
        raise ContentUnavailable("Xiaohongshu shows no note here", reason=reason)


def _missing_reason(state: Any, html: str) -> str:
    """Why the state holds no note: its error code, a login wall, else deleted; raises UpstreamFailure if limited."""
    info = as_dict(_walk(state, "note", "serverRequestInfo"))
    code = str(info.get("errorCode") or "")
    if code in DELETED_CODES:
        return "deleted"
    if code in LOGIN_CODES or _LOGIN_WALL.search(html):
        return "login_required"
    if code in BLOCK_CODES:
        raise UpstreamFailure("Xiaohongshu rate-limited the note page")
    message = str(info.get("errMsg") or "")
    return reason_from_text(message, "deleted")


def _stream_url(item: dict[str, Any]) -> str | None:
    """A rendition's address: ``masterUrl``, else the first of its ``backupUrls`` (the same file on another host)."""
    for url in (item.get("masterUrl"), *as_list(item.get("backupUrls"))):
        if isinstance(url, str) and url.startswith("http"):
            return url
    return None


def _stream_videos(stream: Any, headers: dict[str, str]) -> list[Video]:
    """Every rendition of a ``stream`` object ({h264: [...], h265: [...]}), best first. Labels come from the
    rendition's own size (or its ``qualityType``), else stay None."""
    found: list[tuple[int, Video]] = []
    for rank, codec in enumerate(CODECS):
        for item in as_list(dig(stream, codec)):
            url = _stream_url(item) if isinstance(item, dict) else None
            if not url:
                continue
            width, height = as_int(item.get("width")), as_int(item.get("height"))
            bitrate = as_int(item.get("videoBitrate")) or as_int(item.get("avgBitrate"))
            quality = short_side_quality(width, height) or text(item.get("qualityType"))
            found.append((rank, Video(url=https(url), quality=quality, width=width, height=height, bitrate=bitrate,
                                      headers=dict(headers))))
    found.sort(key=lambda pair: (-(pair[1].width or 0) * (pair[1].height or 0), pair[0], -(pair[1].bitrate or 0)))
    unique: dict[str, Video] = {}
    for _rank, video in found:
        unique.setdefault(video.url, video)
    return list(unique.values())


def _duration(note: dict[str, Any]) -> float:
    """A video note's length in seconds, from whichever field the page filled."""
    seconds = as_int(dig(note, "video", "capa", "duration")) or as_int(dig(note, "video", "media", "video", "duration"))
    if seconds:
        return float(seconds)
    for codec in CODECS:
        millis = as_int(dig(note, "video", "media", "stream", codec, 0, "duration"))
        if millis:
            return round(millis / 1000, 3)
    return 0


def _image_url(image: dict[str, Any]) -> str | None:
    """The full-size address of a picture: urlDefault, else the default-scene entry, else url."""
    default_scene = next((i.get("url") for i in as_list(image.get("infoList"))
                          if isinstance(i, dict) and i.get("imageScene") == "WB_DFT"), None)
    for url in (image.get("urlDefault"), default_scene, image.get("url"), image.get("urlPre")):
        if isinstance(url, str) and url:
            return https(url)
    return None


def _metadata(result: MediaResult, note: dict[str, Any]) -> None:
    """The note's text (``desc``, when it is not already the title), posting time (``time``, milliseconds) and
    counts (``interactInfo``). Counts the page abbreviates ("1.2万") are unknown, never estimated; it gives no
    view count, and its ``collectedCount`` (saves) is none of likes, comments or shares."""
    desc = note.get("desc")
    if isinstance(desc, str) and desc.strip() and desc.strip() != result.title:
        result.description = desc.strip()
    posted = count(note.get("time"))
    result.uploaded_at = iso_from_timestamp(posted // 1000) if posted else None
    info = as_dict(_unref(note.get("interactInfo")))
    stats = Stats(likes=count(info.get("likedCount")), comments=count(info.get("commentCount")),
                  shares=count(info.get("shareCount")))
    result.stats = stats if stats.known else None


@normalises
def _result(note: dict[str, Any], note_id: str, page_url: str) -> MediaResult:
    """The normalised result of a note (any page shape); a picture without an address is left out."""
    headers = download_headers("xiaohongshu")
    user = as_dict(note.get("user"))
    user_id = text(user.get("userId"))
    title = text(note.get("title")) or text(note.get("desc")) or ""
    result = MediaResult(
        platform="xiaohongshu",
        title=title,
        id=text(note.get("noteId")) or note_id,
        url=page_url,
        author=Author(name=text(user.get("nickname")) or text(user.get("nickName")), id=user_id,
                      url=f"https://www.xiaohongshu.com/user/profile/{user_id}" if user_id else None) if user else None,
    )
    _metadata(result, note)
    pictures = [i for i in as_list(note.get("imageList")) if isinstance(i, dict)]
    cover = next((u for u in (_image_url(i) for i in pictures) if u), None)
    result.thumbnail = cover
    if note.get("type") == "video":
        result.videos = _stream_videos(dig(note, "video", "media", "stream"), headers)
        key = dig(note, "video", "consumer", "originVideoKey")  # gone from 2026 notes: a last resort only
        if not result.videos and isinstance(key, str) and key:
            result.videos.append(Video(url=VIDEO_CDN.format(key=key.lstrip("/")), quality="original",
                                       headers=dict(headers)))
        result.duration = _duration(note)
        return result
    for picture in pictures:
        url = _image_url(picture)
        width, height = as_int(picture.get("width")), as_int(picture.get("height"))
        if url:
            result.images.append(Image(url=url, width=width, height=height, headers=dict(headers)))
        if picture.get("livePhoto") or dig(picture, "stream", "h264"):
            # A live photo: its short clip comes with the still. Its stream may give no size; the still's is
            # not the clip's (a 3024x4032 photo does not make a "3024p" clip), so it then stays unknown.
            result.videos.extend(_stream_videos(picture.get("stream"), headers)[:1])
    result.duration = 0
    return result
