"""Kuaishou single videos and image sets from the mobile photo page, with the desktop GraphQL API as fallback.

``/fw/photo/<photoId>`` on a Kuaishou host embeds ``window.INIT_STATE``: a dict under generated keys (served
obfuscated, shift-by-one; we never need them), one of whose entries holds ``result`` and ``photo``.
``result == 1`` means a readable post: the video is in ``photo.mainMvUrls`` (and, when present, renditions in
``photo.manifest.adaptationSet[].representation``), an image set is a CDN host plus paths under
``photo.ext_params.atlas`` (the entry repeats it as ``atlas``), its music a path on the audio CDNs of
``musicCdnList``.

When that page yields nothing usable (a verification or login page, a changed shape, no playable address),
``www.kuaishou.com/graphql`` is asked the ``visionVideoDetail`` operation, as the desktop site does, with a
random ``did`` cookie.
"""

from __future__ import annotations

import posixpath
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Audio, Author, Image, LiveResult, MediaResult, Stats, Video, count, iso_from_timestamp

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
from .kuaishou_live import kuaishou_live
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
    https,
    reason_from_text,
    short_side_quality,
    split_url,
    text,
)

MOBILE_PAGE = "https://v.m.chenzhongtech.com/fw/photo/{id}"
PAGE_HOSTS = ("kuaishou.com", "gifshow.com", "chenzhongtech.com")
DELETED_RESULTS = frozenset({2, 400002})
_LOGIN = re.compile(r"/(?:account/)?login|passport\.", re.I)
_CAPTCHA = re.compile(r"captcha|验证|滑块|访问频繁", re.I)
GRAPHQL_URL = "https://www.kuaishou.com/graphql"
# What the page's failure may be overcome by asking GraphQL; deleted and private are the page's last word.
FALLBACK_REASONS = frozenset({"no_media", "login_required", "unavailable"})
# Only the fields we read. manifestH265 and videoResource are JSON values in this schema (no selection set).
VIDEO_DETAIL_QUERY = """query visionVideoDetail($photoId: String, $page: String) {
  visionVideoDetail(photoId: $photoId, page: $page) {
    status
    type
    author { id name }
    photo {
      id
      caption
      duration
      coverUrl
      photoUrl
      photoH265Url
      manifest { adaptationSet { representation { url width height avgBitrate maxBitrate } } }
      manifestH265
      videoResource
    }
  }
}"""


class KuaishouExtractor(Extractor):
    """Kuaishou posts through the cookie-less mobile photo page, else the desktop site's GraphQL."""

    platform = "kuaishou"

    def extract(self, target: Recognition) -> MediaResult:
        """The post's media; raises ContentUnavailable, UpstreamFailure, UpstreamTimeout or UnsupportedLink.

        The photo page first; GraphQL when the page yields nothing usable. A timeout is not retried there (the
        parse's time is spent), nor a post the page says is deleted or private."""
        if not target.id or target.kind != "video":
            raise UnsupportedLink(reason="unsupported")
        try:
            return _entry_result(self._entry(page_url(target)), target.id)
        except (UpstreamFailure, ContentUnavailable) as exc:
            if isinstance(exc, ContentUnavailable) and exc.reason not in FALLBACK_REASONS:
                raise
            primary = exc
        try:
            return _graphql_result(self._graphql(target.id), target.id)
        except ContentUnavailable:
            raise  # GraphQL saw the post and it has nothing to download: that is the answer
        except ExtractorError:
            # GraphQL could not help: the page's own failure (with its own cause) is the answer.
            raise primary from primary.__cause__

    def live(self, target: Recognition) -> LiveResult:
        """The streamer's room (live.kuaishou.com/u/<user>); ContentUnavailable("offline") when not live."""
        if target.kind != "live" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        return kuaishou_live(target.id)

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
        return _post_entry(state)

    def _graphql(self, photo_id: str) -> Any:
        """The desktop site's ``visionVideoDetail`` answer (JSON) for a photo id; typed errors otherwise."""
        headers = {"Referer": f"https://www.kuaishou.com/short-video/{photo_id}", "Origin": "https://www.kuaishou.com"}
        body = {"operationName": "visionVideoDetail", "variables": {"photoId": photo_id, "page": "detail"},
                "query": VIDEO_DETAIL_QUERY}
        with http_client(self.platform, headers=headers) as client:
            if not any(cookie.name == "did" for cookie in client.cookies.jar):
                # The site answers a visitor with any device id; an operator's own cookie is kept.
                client.cookies.set("did", f"web_{secrets.token_hex(16)}", domain=".kuaishou.com")
            try:
                response = client.post(GRAPHQL_URL, json=body)
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout("Kuaishou's GraphQL did not answer in time") from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise UpstreamFailure("Kuaishou's GraphQL could not be reached") from exc
            check_status(response, not_found=None)
            try:
                return response.json()
            except ValueError as exc:
                raise UpstreamFailure("Kuaishou's GraphQL answer is not JSON") from exc


@normalises
def _post_entry(state: Any) -> dict[str, Any]:
    """The INIT_STATE entry describing the post; UpstreamFailure when there is none."""
    entries = [v for v in state.values() if isinstance(v, dict)] if isinstance(state, dict) else []
    # Prefer the entry that carries the post itself; other entries hold recommendations and settings.
    entry = (next((e for e in entries if "result" in e and isinstance(e.get("photo"), dict)), None)
             or next((e for e in entries if "result" in e and "photo" in e), None)
             # A removed post's entry may carry only its result code.
             or next((e for e in entries if e.get("result") in DELETED_RESULTS), None))
    if entry is None:
        raise UpstreamFailure("the photo page's INIT_STATE has no post entry")
    return entry


@normalises
def _entry_result(entry: dict[str, Any], photo_id: str) -> MediaResult:
    """The result of the page's post entry, which must say ``result == 1`` and carry the photo; otherwise
    ContentUnavailable with the reason the entry gives."""
    result, photo = entry.get("result"), entry.get("photo")
    if type(result) is not int or result != 1 or not isinstance(photo, dict):
        raise ContentUnavailable("Kuaishou does not show this post", reason=_unavailable_reason(entry))
    return _result(photo, photo_id, entry.get("atlas"))


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


@normalises
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


def _hosts(names: Any, entries: Any) -> list[str]:
    """CDN hosts from a list of names and a list of ``{"cdn": name}`` objects, in that order."""
    return [h for h in as_list(names) if isinstance(h, str) and h] + [
        c["cdn"] for c in as_list(entries) if isinstance(c, dict) and isinstance(c.get("cdn"), str) and c["cdn"]]


@normalises
def _atlas_media(atlas: dict[str, Any], headers: dict[str, str]) -> tuple[list[Image], list[Audio]]:
    """One atlas object's pictures (with sizes; a missing one is skipped) and its music.

    Pictures are on the image CDNs (``cdn``, ``cdnList``); the music is on the audio CDNs (``musicCdnList``):
    joined with an image host its link is broken, so without an audio host there is no music."""
    hosts = _hosts(atlas.get("cdn"), atlas.get("cdnList"))
    if not hosts:
        return [], []
    sizes = as_list(atlas.get("size"))
    images = []
    for index, path in enumerate(as_list(atlas.get("list"))):
        if isinstance(path, str) and path:
            size = sizes[index] if index < len(sizes) and isinstance(sizes[index], dict) else {}
            images.append(Image(url=_cdn_url(hosts[0], path), width=as_int(size.get("w")),
                                height=as_int(size.get("h")), headers=dict(headers)))
    music, music_hosts = atlas.get("music"), _hosts(None, atlas.get("musicCdnList"))
    audios = []
    if images and isinstance(music, str) and music and (music_hosts or music.startswith(("http://", "https://"))):
        audios.append(Audio(url=_cdn_url(music_hosts[0] if music_hosts else "", music), mime_type="audio/mp4",
                            headers=dict(headers)))
    return images, audios


@normalises
def _atlas(photo: dict[str, Any], headers: dict[str, str], entry_atlas: Any = None) -> tuple[list[Image], list[Audio]]:
    """An image set's pictures and music: from the entry's ``atlas`` (it lists JPEGs, which every client shows),
    else from ``photo.ext_params.atlas`` (the same pictures as WebP)."""
    for atlas in (entry_atlas, dig(photo, "ext_params", "atlas")):
        if isinstance(atlas, dict):
            images, audios = _atlas_media(atlas, headers)
            if images:
                return images, audios
    return [], []


def _same_file_key(url: str) -> str:
    """What identifies a media file across Kuaishou's CDN hosts and per-host signed queries: its path, when the
    path names a file; else the whole address."""
    path = split_url(url).path
    return path if posixpath.splitext(path)[1] else url


def _best_first(found: list[Video]) -> list[Video]:
    """Each file once (its first, most described listing), largest frame first, then the higher bitrate."""
    unique: dict[str, Video] = {}
    for video in found:
        unique.setdefault(_same_file_key(video.url), video)
    # The sort is stable, so page order breaks ties.
    return sorted(unique.values(), key=lambda v: (-(v.width or 0) * (v.height or 0), -(v.bitrate or 0)))


@normalises
def _manifest_videos(manifest: Any, headers: dict[str, str]) -> list[Video]:
    """The renditions a manifest lists (``adaptationSet[].representation[]``), in its order."""
    found: list[Video] = []
    for adaptation in as_list(dig(manifest, "adaptationSet")):
        for rep in as_list(dig(adaptation, "representation")):
            url = rep.get("url") if isinstance(rep, dict) else None
            if isinstance(url, str) and url:
                width, height = as_int(rep.get("width")), as_int(rep.get("height"))
                kbps = as_int(rep.get("avgBitrate")) or as_int(rep.get("maxBitrate"))
                found.append(Video(url=https(url), quality=short_side_quality(width, height), width=width,
                                   height=height, bitrate=kbps * 1000 if kbps else None, headers=dict(headers)))
    return found


@normalises
def _videos(photo: dict[str, Any], headers: dict[str, str]) -> list[Video]:
    """The video's renditions, best first: the manifest's representations, then the main address (usually the
    first representation's file on other hosts, so listed once)."""
    found = _manifest_videos(photo.get("manifest"), headers)
    main = first_str([u.get("url") for u in as_list(photo.get("mainMvUrls")) if isinstance(u, dict)])
    if main:
        width, height = as_int(photo.get("width")), as_int(photo.get("height"))
        found.append(Video(url=https(main), quality=short_side_quality(width, height), width=width, height=height,
                           headers=dict(headers)))
    return _best_first(found)


@normalises
def _result(photo: dict[str, Any], photo_id: str, entry_atlas: Any = None) -> MediaResult:
    """The normalised result of a readable post (``entry_atlas``: the page entry's own copy of the image set).

    Raises ContentUnavailable(no_media) when neither a picture nor a playable video is there: a video post's
    cover is not its video."""
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
    stats = Stats(views=count(photo.get("viewCount")), likes=count(photo.get("likeCount")),
                  comments=count(photo.get("commentCount")), shares=count(photo.get("shareCount")))
    result.stats = stats if stats.known else None
    posted = count(photo.get("timestamp"))  # milliseconds
    result.uploaded_at = iso_from_timestamp(posted // 1000) if posted else None
    result.images, result.audios = _atlas(photo, headers, entry_atlas)
    if result.images:
        # An image set's mainMvUrls is a slideshow rendering of the pictures, not the post's media.
        result.thumbnail = result.thumbnail or result.images[0].url
        return result
    result.videos = _videos(photo, headers)
    if not result.videos:
        raise ContentUnavailable("the post has no playable address", reason="no_media")
    duration = as_int(photo.get("duration"))
    result.duration = round(duration / 1000, 3) if duration else 0
    return result


@normalises
def _graphql_result(payload: Any, photo_id: str) -> MediaResult:
    """The normalised result of a ``visionVideoDetail`` answer.

    No photo in it (errors, a refusal, an unknown id) is an UpstreamFailure: it does not say why. A photo
    without a playable address is ContentUnavailable(no_media)."""
    detail = dig(payload, "data", "visionVideoDetail")
    photo = dig(detail, "photo")
    if not isinstance(photo, dict):
        raise UpstreamFailure("Kuaishou's GraphQL answer carries no photo")
    headers = download_headers("kuaishou")
    post_id = text(photo.get("id")) or photo_id
    author = as_dict(detail.get("author"))
    author_id = text(author.get("id"))
    cover = photo.get("coverUrl")
    result = MediaResult(
        platform="kuaishou",
        title=text(photo.get("caption")) or "",
        thumbnail=https(cover) if isinstance(cover, str) and cover else None,
        id=post_id,
        url=f"https://www.kuaishou.com/short-video/{post_id}",
        author=Author(name=text(author.get("name")), id=author_id,
                      url=f"https://www.kuaishou.com/profile/{author_id}" if author_id else None),
    )
    # H.264 before HEVC at equal frame and bitrate; the single addresses are the same files again.
    found: list[Video] = []
    for manifest in (photo.get("manifest"), photo.get("manifestH265"), dig(photo, "videoResource", "h264"),
                     dig(photo, "videoResource", "hevc")):
        found += _manifest_videos(manifest, headers)
    for key in ("photoUrl", "photoH265Url"):
        url = photo.get(key)
        if isinstance(url, str) and url:
            found.append(Video(url=https(url), headers=dict(headers)))
    result.videos = _best_first(found)
    if not result.videos:
        raise ContentUnavailable("the post has no playable address", reason="no_media")
    duration = as_int(photo.get("duration"))
    result.duration = round(duration / 1000, 3) if duration else 0
    return result
