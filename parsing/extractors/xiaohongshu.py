"""Xiaohongshu notes (videos, pictures and live photos) from the public note page.

``www.xiaohongshu.com/explore/<id>?xsec_token=…`` embeds ``window.__INITIAL_STATE__`` (JSON with bare
``undefined`` values); the note is at ``note.noteDetailMap[<id>].note``. The page only shows a note
opened with the ``xsec_token`` of its share link, so the recognised link's token is sent along.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Author, Image, MediaResult, Video

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
    https,
    reason_from_text,
    short_side_quality,
    text,
)

NOTE_PAGE = "https://www.xiaohongshu.com/explore/{id}"
VIDEO_CDN = "https://sns-video-bd.xhscdn.com/{key}"
CODECS = ("h264", "h265", "av1", "h266")  # compatibility order, used to break ties between equal frames
# Error codes the note page's redirects and state carry (learnt from public reports; others are "unavailable").
DELETED_CODES = frozenset({"-510001", "-510000"})
LOGIN_CODES = frozenset({"300031"})
BLOCK_CODES = frozenset({"300012", "300013", "300015"})
_LOGIN_WALL = re.compile(r"登录后查看|请先登录|扫码查看|login to view|log in to view|This Page Isn't Available", re.I)


class XiaohongshuExtractor(Extractor):
    """Xiaohongshu notes through the note page's initial state."""

    platform = "xiaohongshu"

    def extract(self, target: Recognition) -> MediaResult:
        """The note's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if not target.id or target.kind != "note":
            raise UnsupportedLink(reason="unsupported")
        token = _xsec_token(target.url)
        url = NOTE_PAGE.format(id=target.id) + (f"?{urlencode({'xsec_token': token})}" if token else "")
        note = self._note(url, target.id)
        try:
            return _result(note, target.id, url)
        except SHAPE_ERRORS as exc:
            raise UpstreamFailure("the note has an unexpected shape") from exc

    def _note(self, url: str, note_id: str) -> dict[str, Any]:
        """The note object of the page; raises the typed error the page amounts to."""
        with http_client(self.platform, headers={"Referer": "https://www.xiaohongshu.com/"}) as client:
            response = fetch(client, url)
            final = urlsplit(str(response.url))
            check_status(response)
            html = response.text
        _check_redirect(final.path, parse_qs(final.query))
        try:
            state = embedded_json(html, "window.__INITIAL_STATE__")
        except PageDataMissing:
            if _LOGIN_WALL.search(html):
                raise ContentUnavailable("Xiaohongshu shows a login wall", reason="login_required") from None
            raise UpstreamFailure("the note page has no initial state") from None
        except PageDataMalformed as exc:
            raise UpstreamFailure("the note page's initial state is not readable") from exc
        note = dig(state, "note", "noteDetailMap", note_id, "note")
        if isinstance(note, dict) and (note.get("noteId") or note.get("type")):
            return note
        raise ContentUnavailable("Xiaohongshu does not show this note", reason=_missing_reason(state, html))


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
    info = as_dict(dig(state, "note", "serverRequestInfo"))
    code = str(info.get("errorCode") or "")
    if code in DELETED_CODES:
        return "deleted"
    if code in LOGIN_CODES or _LOGIN_WALL.search(html):
        return "login_required"
    if code in BLOCK_CODES:
        raise UpstreamFailure("Xiaohongshu rate-limited the note page")
    message = str(info.get("errMsg") or "")
    return reason_from_text(message, "deleted")


def _stream_videos(stream: Any, headers: dict[str, str], *, fallback: tuple[int | None, int | None] = (None, None)
                   ) -> list[Video]:
    """Every rendition of a ``stream`` object ({h264: [...], h265: [...]}), best first."""
    found: list[tuple[int, Video]] = []
    for rank, codec in enumerate(CODECS):
        for item in as_list(dig(stream, codec)):
            url = item.get("masterUrl") if isinstance(item, dict) else None
            if not isinstance(url, str) or not url:
                continue
            width, height = as_int(item.get("width")) or fallback[0], as_int(item.get("height")) or fallback[1]
            bitrate = as_int(item.get("videoBitrate")) or as_int(item.get("avgBitrate"))
            found.append((rank, Video(url=https(url), quality=short_side_quality(width, height), width=width,
                                      height=height, bitrate=bitrate, headers=dict(headers))))
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


def _result(note: dict[str, Any], note_id: str, page_url: str) -> MediaResult:
    """The normalised result of a note."""
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
    pictures = [i for i in as_list(note.get("imageList")) if isinstance(i, dict)]
    cover = next((u for u in (_image_url(i) for i in pictures) if u), None)
    result.thumbnail = cover
    if note.get("type") == "video":
        result.videos = _stream_videos(dig(note, "video", "media", "stream"), headers)
        key = dig(note, "video", "consumer", "originVideoKey")
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
            # A live photo: its short clip comes with the still, framed like it.
            clips = _stream_videos(picture.get("stream"), headers, fallback=(width, height))
            result.videos.extend(clips[:1])
    result.duration = 0
    return result
