"""TikTok: videos through the warm yt-dlp instance (its page fetches are impersonated with curl_cffi),
photo posts through our own reading of the post page (yt-dlp returns only their music).

The page ``www.tiktok.com/@<user>/video/<id>`` (photo ids too) embeds ``__UNIVERSAL_DATA_FOR_REHYDRATION__``;
the post is ``__DEFAULT_SCOPE__["webapp.video-detail"].itemInfo.itemStruct`` with images in
``imagePost.images[].imageURL.urlList`` and the music in ``music.playUrl``. TikTok's CDN wants the
``tt_chain_token`` cookie that page fetch sets: it is passed on in each item's headers.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Audio, Author, Image, LiveResult, MediaResult, Stats, count, iso_from_timestamp

from .base import ContentUnavailable, ExtractorError, UnsupportedLink, UpstreamFailure, UpstreamTimeout, normalises
from .headers import download_headers
from .pagedata import as_dict, as_list, text
from .ytdlp import FORWARDED_COOKIES, YtDlpExtractor, info_to_result, ytdlp_info
from .ytdlp.operations import ytdlp_live

_UNIVERSAL_DATA = re.compile(
    r'<script[^>]+\bid="__UNIVERSAL_DATA_FOR_REHYDRATION__"[^>]*>(?P<json>.*?)</script>', re.S)
_USER = re.compile(r"^/@([\w.-]+)/")
_MAX_PAGE_BYTES = 4 << 20

# webapp.video-detail statusCode → why the post cannot be served. 10204 ("item doesn't exist") is also
# what TikTok answers blocked datacenter IPs for every post, so like yt-dlp we read it as a block.
STATUS_ERRORS: dict[int, tuple[type[ExtractorError], str]] = {
    10204: (UpstreamFailure, "upstream_error"),
    10216: (ContentUnavailable, "private"),
    10222: (ContentUnavailable, "private"),
    10217: (ContentUnavailable, "deleted"),
    10201: (ContentUnavailable, "deleted"),
    10202: (ContentUnavailable, "deleted"),
    10221: (ContentUnavailable, "deleted"),
    10231: (ContentUnavailable, "region_blocked"),
}


def status_error(status: int) -> ExtractorError:
    """The typed error for a non-zero webapp.video-detail statusCode."""
    cls, reason = STATUS_ERRORS.get(status, (ContentUnavailable, "unavailable"))
    return cls(f"tiktok status {status}", reason=reason)


def _user(target: Recognition) -> str:
    match = _USER.match(urlsplit(target.url or "").path)
    return match.group(1) if match else "_"


def _page_url(target: Recognition) -> str:
    if not target.id:
        raise UnsupportedLink(reason="unsupported")
    return f"https://www.tiktok.com/@{_user(target)}/video/{target.id}"


def _best_url(urls: Any) -> str | None:
    """The first URL of a TikTok urlList, preferring a JPEG over WebP variants."""
    valid = [u for u in as_list(urls) if isinstance(u, str) and u.startswith("http")]
    return next((u for u in valid if ".webp" not in urlsplit(u).path), valid[0] if valid else None)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: the JSON may say Infinity
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@normalises
def read_item(html: str) -> dict:
    """The itemStruct embedded in a post page; raises ContentUnavailable / UpstreamFailure when there is none
    (a shape we cannot read is an UpstreamFailure too)."""
    match = _UNIVERSAL_DATA.search(html)
    if not match:
        raise UpstreamFailure("no universal data (challenge or block page)")
    try:
        scope = json.loads(match.group("json")).get("__DEFAULT_SCOPE__") or {}
    except (ValueError, AttributeError):
        raise UpstreamFailure("unreadable universal data") from None
    detail = as_dict(scope.get("webapp.video-detail"))
    status = _int(detail.get("statusCode")) or 0
    if status:
        raise status_error(status)
    item = as_dict(detail.get("itemInfo")).get("itemStruct")
    if not isinstance(item, dict) or not text(item.get("id")):
        raise ContentUnavailable("no itemStruct", reason="unavailable")
    return item


@normalises
def photo_result(item: dict, *, cookie: str | None = None) -> MediaResult:
    """A photo post's images (full size, in order) and its music as a MediaResult; a photo without an address
    is left out, the others stay."""
    headers = download_headers("tiktok")
    if cookie:
        headers["Cookie"] = cookie
    post = as_dict(item.get("imagePost"))
    images = []
    for image in as_list(post.get("images")):
        image = as_dict(image)
        url = _best_url(as_dict(image.get("imageURL")).get("urlList"))
        if url:
            images.append(Image(url=url, width=_int(image.get("imageWidth")), height=_int(image.get("imageHeight")),
                                headers=dict(headers)))
    music = as_dict(item.get("music"))
    audios = []
    play_url = _str(music.get("playUrl"))
    if play_url and play_url.startswith("http"):
        mp3 = urlsplit(play_url).path.endswith(".mp3")
        audios.append(Audio(url=play_url, mime_type="audio/mpeg" if mp3 else "audio/mp4",
                            quality=_str(music.get("title")), headers=dict(headers)))
    author = as_dict(item.get("author"))
    user = _str(author.get("uniqueId"))
    post_id = text(item.get("id"))
    if not post_id:
        raise UpstreamFailure("the post has no id")
    cover = _best_url(as_dict(as_dict(post.get("cover")).get("imageURL")).get("urlList"))
    result = MediaResult(
        platform="tiktok", title=(_str(item.get("desc")) or _str(post.get("title")) or "").strip(),
        thumbnail=cover or (images[0].url if images else _str(as_dict(item.get("video")).get("cover"))),
        duration=0, images=images, audios=audios, id=post_id,
        url=f"https://www.tiktok.com/@{user or '_'}/photo/{post_id}",
        author=Author(name=_str(author.get("nickname")) or user, id=text(author.get("id")),
                      url=f"https://www.tiktok.com/@{user}" if user else None) if author else None,
    )
    result.uploaded_at = iso_from_timestamp(item.get("createTime"))
    result.stats = _stats(item)
    return result


def _stats(item: dict) -> Stats | None:
    """The post's counts: ``statsV2`` (strings of digits) where it gives one, else ``stats`` (numbers)."""
    v2, v1 = as_dict(item.get("statsV2")), as_dict(item.get("stats"))

    def pick(key: str) -> int | None:
        exact = count(v2.get(key))
        return exact if exact is not None else count(v1.get(key))

    stats = Stats(views=pick("playCount"), likes=pick("diggCount"), comments=pick("commentCount"),
                  shares=pick("shareCount"))
    return stats if stats.known else None


class TikTokExtractor(YtDlpExtractor):
    platform: ClassVar[str] = "tiktok"

    def ytdlp_url(self, target: Recognition) -> str:
        return _page_url(target)

    def ytdlp_ie(self, target: Recognition) -> str | None:
        return "TikTok"

    def extract(self, target: Recognition) -> MediaResult:
        if target.kind == "photo":
            return self.extract_photo(target)
        try:
            info = ytdlp_info(self.ytdlp_url(target), platform=self.platform, ie_key="TikTok")
            result = info_to_result(info, platform=self.platform)
        except ContentUnavailable as exc:
            status = re.search(r"status code (\d+)", str(exc))
            if status:
                raise status_error(int(status.group(1))) from None
            raise
        if not result.videos:  # a photo post behind a /video/ link: yt-dlp found only its music
            return self.extract_photo(target)
        if result.author and info.get("channel"):  # yt-dlp's "uploader" is the handle; the name is "channel"
            result.author.name = info["channel"]
        return result

    def live(self, target: Recognition) -> LiveResult:
        """The streamer's room (www.tiktok.com/@<user>/live) through yt-dlp's TikTok live extractor: the
        profile page names the room, webcast's room/info gives its status and FLV/HLS pull addresses."""
        if target.kind != "live" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        return ytdlp_live(f"https://www.tiktok.com/@{target.id}/live", platform=self.platform, ie_key="TikTokLive")

    def extract_photo(self, target: Recognition) -> MediaResult:
        """Read a photo post from its page; raises ContentUnavailable, UpstreamFailure or UpstreamTimeout."""
        allowed = FORWARDED_COOKIES["tiktok"]
        try:
            with http_client("tiktok") as client, client.stream("GET", _page_url(target)) as response:
                if response.status_code == 404:
                    raise ContentUnavailable("page 404", reason="deleted")
                if response.status_code != 200:
                    raise UpstreamFailure(f"page answered {response.status_code}")
                if response.url.path.startswith("/login"):
                    raise ContentUnavailable("login wall", reason="login_required")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_PAGE_BYTES:
                        raise UpstreamFailure("page too large")
                cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar if c.name in allowed)
        except httpx.TimeoutException:
            raise UpstreamTimeout() from None
        except httpx.HTTPError as exc:
            raise UpstreamFailure(f"page fetch failed: {type(exc).__name__}") from None
        item = read_item(body.decode(response.encoding or "utf-8", errors="replace"))
        if not as_dict(item.get("imagePost")).get("images"):
            if target.kind == "photo":  # a video behind a /photo/ link
                return super().extract(target)
            raise ContentUnavailable("no images", reason="no_media")
        result = photo_result(item, cookie=cookie or None)
        if not result.images:
            # Photos listed, none with an address: the music and the cover alone are not what was asked for.
            raise ContentUnavailable("no photo could be resolved", reason="no_media")
        return result
