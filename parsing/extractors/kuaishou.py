"""Kuaishou single videos and image sets from the mobile photo page.

``/fw/photo/<photoId>`` on a Kuaishou host embeds ``window.INIT_STATE``: a dict under generated keys, one
of whose entries holds ``result`` and ``photo``. ``result == 1`` means a readable post: the video is in
``photo.mainMvUrls`` (and, when present, renditions in ``photo.manifest.adaptationSet[].representation``),
an image set is a CDN host plus paths under ``photo.ext_params.atlas``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

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
    https,
    reason_from_text,
    short_side_quality,
    text,
)

MOBILE_PAGE = "https://v.m.chenzhongtech.com/fw/photo/{id}"
PAGE_HOSTS = ("kuaishou.com", "gifshow.com", "chenzhongtech.com")
DELETED_RESULTS = frozenset({2, 400002})
_LOGIN = re.compile(r"/(?:account/)?login|passport\.", re.I)
_CAPTCHA = re.compile(r"captcha|验证|滑块|访问频繁", re.I)


class KuaishouExtractor(Extractor):
    """Kuaishou posts through the cookie-less mobile photo page."""

    platform = "kuaishou"

    def extract(self, target: Recognition) -> MediaResult:
        """The post's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if not target.id or target.kind != "video":
            raise UnsupportedLink(reason="unsupported")
        entry = self._entry(page_url(target))
        result = entry.get("result")
        photo = entry.get("photo")
        if type(result) is not int or result != 1 or not isinstance(photo, dict):
            raise ContentUnavailable("Kuaishou does not show this post", reason=_unavailable_reason(entry))
        try:
            return _result(photo, target.id)
        except SHAPE_ERRORS as exc:
            raise UpstreamFailure("the photo page's post has an unexpected shape") from exc

    def _entry(self, url: str) -> dict[str, Any]:
        """The INIT_STATE entry describing the post; raises the typed error the page amounts to."""
        with http_client(self.platform, mobile=True, headers={"Referer": "https://www.kuaishou.com/"}) as client:
            response = fetch(client, url)
            final = str(response.url)
            check_status(response)
            html = response.text
        if _LOGIN.search(urlsplit(final).path) or _LOGIN.search(urlsplit(final).hostname or ""):
            raise ContentUnavailable("Kuaishou asks to log in", reason="login_required")
        try:
            state = embedded_json(html, "window.INIT_STATE")
        except PageDataMissing:
            if _CAPTCHA.search(final) or _CAPTCHA.search(html[:20000]):
                raise UpstreamFailure("Kuaishou answered a verification page") from None
            raise UpstreamFailure("the photo page has no INIT_STATE") from None
        except PageDataMalformed as exc:
            raise UpstreamFailure("the photo page's INIT_STATE is not readable") from exc
        entries = [v for v in state.values() if isinstance(v, dict)] if isinstance(state, dict) else []
        # Prefer the entry that carries the post itself; other entries hold recommendations and settings.
        entry = (next((e for e in entries if "result" in e and isinstance(e.get("photo"), dict)), None)
                 or next((e for e in entries if "result" in e and "photo" in e), None)
                 # A removed post's entry may carry only its result code.
                 or next((e for e in entries if e.get("result") in DELETED_RESULTS), None))
        if entry is None:
            raise UpstreamFailure("the photo page's INIT_STATE has no post entry")
        return entry


def page_url(target: Recognition) -> str:
    """The mobile photo page for a recognised link (a /fw/ page as linked, anything else by photo id)."""
    parts = urlsplit(target.url or "")
    host = (parts.hostname or "").lower()
    segs = [s for s in parts.path.split("/") if s]
    on_site = any(host == h or host.endswith("." + h) for h in PAGE_HOSTS)
    if on_site and len(segs) >= 3 and segs[0] == "fw" and segs[1] in ("photo", "long-video"):
        # A long video's page differs; its photo page has the same INIT_STATE shape as short ones.
        return f"https://{host}/fw/photo/{target.id}"
    return MOBILE_PAGE.format(id=target.id)


def _unavailable_reason(entry: dict[str, Any]) -> str:
    """Why the page shows no post: its result code, else its message, else unavailable."""
    if entry.get("result") in DELETED_RESULTS:
        return "deleted"
    message = " ".join(str(entry.get(k) or "") for k in ("error_msg", "errorMsg", "msg", "message"))
    return reason_from_text(message, "unavailable")


def _cdn_url(host: str, path: str) -> str:
    """An absolute https URL from a CDN host and a path (either may carry slashes or a scheme)."""
    if path.startswith(("http://", "https://")):
        return https(path)
    host = host.split("://", 1)[-1].strip("/")
    return f"https://{host}/{path.lstrip('/')}"


def _atlas(photo: dict[str, Any], headers: dict[str, str]) -> tuple[list[Image], list[Audio]]:
    """An image set's pictures (with sizes) and its background music."""
    atlas = as_dict(dig(photo, "ext_params", "atlas"))
    hosts = [h for h in as_list(atlas.get("cdn")) if isinstance(h, str) and h] + [
        c["cdn"] for c in as_list(atlas.get("cdnList")) if isinstance(c, dict) and isinstance(c.get("cdn"), str)]
    if not hosts:
        return [], []
    sizes = as_list(atlas.get("size"))
    images = []
    for index, path in enumerate(as_list(atlas.get("list"))):
        if isinstance(path, str) and path:
            size = sizes[index] if index < len(sizes) and isinstance(sizes[index], dict) else {}
            images.append(Image(url=_cdn_url(hosts[0], path), width=as_int(size.get("w")),
                                height=as_int(size.get("h")), headers=dict(headers)))
    music = atlas.get("music")
    audios = [Audio(url=_cdn_url(hosts[0], music), mime_type="audio/mp4", headers=dict(headers))] if (
        images and isinstance(music, str) and music) else []
    return images, audios


def _videos(photo: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """The video's renditions, best first: the manifest's representations, then the main address."""
    found: list[Video] = []
    for adaptation in as_list(dig(photo, "manifest", "adaptationSet")):
        for rep in as_list(dig(adaptation, "representation")):
            url = rep.get("url") if isinstance(rep, dict) else None
            if isinstance(url, str) and url:
                width, height = as_int(rep.get("width")), as_int(rep.get("height"))
                kbps = as_int(rep.get("avgBitrate")) or as_int(rep.get("maxBitrate"))
                found.append(Video(url=https(url), quality=short_side_quality(width, height), width=width,
                                   height=height, bitrate=kbps * 1000 if kbps else None, headers=dict(headers)))
    main = first_str([u.get("url") for u in as_list(photo.get("mainMvUrls")) if isinstance(u, dict)])
    if main:
        width, height = as_int(photo.get("width")), as_int(photo.get("height"))
        found.append(Video(url=https(main), quality=short_side_quality(width, height), width=width, height=height,
                           headers=dict(headers)))
    unique: dict[str, Video] = {}
    for video in found:  # the first rendition of a URL wins
        unique.setdefault(video.url, video)
    # Largest frame first, then the higher bitrate; the sort is stable, so page order breaks ties.
    return sorted(unique.values(), key=lambda v: (-(v.width or 0) * (v.height or 0), -(v.bitrate or 0)))


def _result(photo: dict[str, Any], photo_id: str) -> MediaResult:
    """The normalised result of a readable post."""
    headers = download_headers("kuaishou")
    post_id = text(photo.get("photoId")) or photo_id
    user_eid = text(photo.get("userEid"))
    user_id = user_eid or text(photo.get("userId"))
    result = MediaResult(
        platform="kuaishou",
        title=text(photo.get("caption")) or "",
        thumbnail=https(cover) if (cover := first_str(
            [c.get("url") for c in as_list(photo.get("coverUrls")) if isinstance(c, dict)])) else None,
        id=post_id,
        url=f"https://www.kuaishou.com/short-video/{post_id}",
        author=Author(name=text(photo.get("userName")), id=user_id,
                      url=f"https://www.kuaishou.com/profile/{user_eid}" if user_eid else None),
    )
    result.images, result.audios = _atlas(photo, headers)
    if result.images:
        # An image set's mainMvUrls is a slideshow rendering of the pictures, not the post's media.
        result.thumbnail = result.thumbnail or result.images[0].url
        return result
    result.videos = _videos(photo, headers)
    duration = as_int(photo.get("duration"))
    result.duration = round(duration / 1000, 3) if duration else 0
    return result
