"""Bilibili: BV/av videos (any host: www, m., share /s/video, list pages with a bvid), bangumi and
cheese (course) episodes and seasons, through the warm yt-dlp instance.

Streams are DASH: video-only renditions in ``videos[]`` (hasAudio false) and the audio renditions in
``audios[]``; downloads need ``Referer: https://www.bilibili.com/``.

/live and /collection use Bilibili's public JSON APIs through our HTTP policy (yt-dlp's live extractor asks
for every quality in turn, and its list extractors fetch a page of 30 where we show 50): live rooms
(``live.bilibili.com``), the parts of a multi-part video, and an uploader's seasons (合集) and series (列表).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import (
    COLLECTION_PAGE_SIZE,
    Author,
    CollectionItem,
    CollectionPage,
    LiveResult,
    MediaResult,
    Stream,
    count,
)

from .base import ContentUnavailable, ExtractorError, UnsupportedLink, UpstreamFailure, normalises
from .headers import download_headers
from .pagedata import as_dict, as_int, as_list, check_status, dig, fetch, https, reason_from_text, text
from .ytdlp import YtDlpExtractor


class BilibiliExtractor(YtDlpExtractor):
    platform: ClassVar[str] = "bilibili"

    def ytdlp_url(self, target: Recognition) -> str:
        """The www.bilibili.com page yt-dlp knows for the recognised id (m. and share hosts included)."""
        if not target.id or not target.url:
            raise UnsupportedLink(reason="unsupported")
        if target.kind == "video":
            part = parse_qs(urlsplit(target.url).query).get("p", [""])[0]
            return f"https://www.bilibili.com/video/{target.id}/" + (f"?p={part}" if part.isdigit() else "")
        section = "cheese" if "/cheese/" in urlsplit(target.url).path.lower() else "bangumi"
        return f"https://www.bilibili.com/{section}/play/{target.id}"

    def ytdlp_ie(self, target: Recognition) -> str | None:
        """yt-dlp's extractor for the link's kind (its key, so yt-dlp need not match every URL pattern)."""
        if target.kind == "video":
            return "BiliBili"
        cheese = "/cheese/" in urlsplit(target.url or "").path.lower()
        season = target.kind == "season"
        return ("BilibiliCheese" if cheese else "BiliBiliBangumi") + ("Season" if season else "")

    def ytdlp_params(self, target: Recognition) -> dict[str, Any]:
        """A season link names its first episode: extract only that one, not the whole season."""
        return {"playlist_items": "1"} if target.kind == "season" else {}

    def extract(self, target: Recognition) -> MediaResult:
        result = super().extract(target)
        if result.thumbnail and result.thumbnail.startswith("http://"):  # hdslb serves https too: no mixed content
            result.thumbnail = "https://" + result.thumbnail[len("http://"):]
        if result.author and result.author.id and not result.author.url:
            result.author.url = f"https://space.bilibili.com/{result.author.id}"
        return result

    def live(self, target: Recognition) -> LiveResult:
        """A live room: ``room/v1/Room/get_info`` (title, cover, status, streamer), then
        ``getRoomPlayInfo`` (its FLV and HLS addresses). Raises ContentUnavailable("offline") when not live."""
        if target.kind != "live" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        with http_client(self.platform, headers={"Referer": LIVE_REFERER}) as client:
            room = _api(client, f"{LIVE_API}/room/v1/Room/get_info", {"room_id": target.id})
            if _live_status(room) != 1:
                raise ContentUnavailable("the room is not live", reason="offline")
            play = _api(client, f"{LIVE_API}/xlive/web-room/v2/index/getRoomPlayInfo", {
                "room_id": target.id, "protocol": "0,1", "format": "0,1,2", "codec": "0,1", "qn": "10000",
                "platform": "web", "ptype": "8"})
        return _live_result(room, play, target.id)

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        """A multi-part video's parts (``x/web-interface/view``) or one page of an uploader's season or
        series (one API call per page of 50)."""
        if not target.id or target.kind not in ("parts", "season", "series"):
            raise UnsupportedLink(reason="unsupported")
        if page < 1:
            raise ContentUnavailable("pages count from 1", reason="no_such_page")
        with http_client(self.platform, headers={"Referer": "https://www.bilibili.com/"}) as client:
            if target.kind == "parts":
                key = "aid" if target.id.startswith("av") else "bvid"
                view = _api(client, f"{API}/x/web-interface/view", {key: target.id.removeprefix("av")})
                return _parts_page(view, page)
            mid = urlsplit(target.url or "").path.strip("/").split("/")[0]
            if not mid.isdigit():
                raise UnsupportedLink(reason="unsupported")
            if target.kind == "season":
                data = _api(client, f"{API}/x/polymer/web-space/seasons_archives_list", {
                    "mid": mid, "season_id": target.id, "page_num": page, "page_size": COLLECTION_PAGE_SIZE})
                return _list_page(data, page, kind="season", list_id=target.id, mid=mid)
            data = _api(client, f"{API}/x/series/archives", {
                "mid": mid, "series_id": target.id, "pn": page, "ps": COLLECTION_PAGE_SIZE, "sort": "asc"})
            try:
                meta = _api(client, f"{API}/x/series/series", {"series_id": target.id})
            except ExtractorError:  # the list is what was asked for; its name is a nicety
                meta = {}
            return _list_page({**data, "meta": dig(meta, "meta")}, page, kind="series", list_id=target.id, mid=mid)


API = "https://api.bilibili.com"
LIVE_API = "https://api.live.bilibili.com"
LIVE_REFERER = "https://live.bilibili.com/"
# Bilibili API codes: what a failure means for the customer.
_DELETED = {-404, 62002, 62004, 62012, 19002000, 60004, 1}
_LOGIN = {-101, -403, 87008, 62003}
_REGION = {-10403, 6002003}


def _api(client: httpx.Client, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a Bilibili API answer; raises the typed error its ``code`` means."""
    response = fetch(client, url, params=params)
    check_status(response)
    try:
        body = response.json()
    except ValueError as exc:
        raise UpstreamFailure("Bilibili answered something that is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("code"), int):
        raise UpstreamFailure("Bilibili answered an unexpected shape")
    code, message = body["code"], str(body.get("message") or body.get("msg") or "")
    if code == 0:
        data = body.get("data")
        if not isinstance(data, dict):
            raise UpstreamFailure("Bilibili answered no data")
        return data
    if code == 62012:
        raise ContentUnavailable(message, reason="private")
    if code in _DELETED:
        raise ContentUnavailable(message, reason=reason_from_text(message, "deleted"))
    if code in _LOGIN:
        raise ContentUnavailable(message, reason="login_required")
    if code in _REGION:
        raise ContentUnavailable(message, reason="region_blocked")
    raise UpstreamFailure(f"Bilibili answered code {code}: {message[:200]}")


@normalises
def _live_status(room: dict[str, Any]) -> int:
    status = room["live_status"]
    if not isinstance(status, int):
        raise TypeError("live_status is not a number")
    return status


@normalises
def _live_result(room: dict[str, Any], play: dict[str, Any], room_id: str) -> LiveResult:
    """getRoomPlayInfo's streams (``playurl_info.playurl.stream[].format[].codec[]``: base_url on each host)."""
    if play.get("encrypted") and not play.get("pwd_verified"):
        raise ContentUnavailable("the room is locked with a password", reason="private")
    if play.get("is_locked"):
        raise ContentUnavailable("the room is locked", reason="deleted")
    if play.get("live_status") not in (None, 1):
        raise ContentUnavailable("the room is not live", reason="offline")
    playurl = as_dict(dig(play, "playurl_info", "playurl"))
    names = {as_int(q.get("qn")): text(q.get("desc")) for q in as_list(playurl.get("g_qn_desc")) if isinstance(q, dict)}
    headers = {**download_headers("bilibili"), "Referer": LIVE_REFERER}
    streams: list[Stream] = []
    for stream in as_list(playurl.get("stream")):
        protocol = as_dict(stream).get("protocol_name")
        for fmt in as_list(as_dict(stream).get("format")):
            kind = "flv" if protocol == "http_stream" else "hls" if protocol == "http_hls" else None
            if kind is None:
                continue
            # avc before hevc: every player decodes H.264
            codecs = as_list(as_dict(fmt).get("codec"))
            for codec in sorted(codecs, key=lambda c: as_dict(c).get("codec_name") != "avc"):
                codec = as_dict(codec)
                base = text(codec.get("base_url"))
                for host in as_list(codec.get("url_info")):
                    host = as_dict(host)
                    if base and text(host.get("host")):
                        qn = as_int(codec.get("current_qn"))
                        streams.append(Stream(url=f"{host['host']}{base}{host.get('extra') or ''}", format=kind,
                                              quality=names.get(qn) or (str(qn) if qn else None),
                                              headers=dict(headers)))
    if not streams:
        raise ContentUnavailable("the room has no stream address", reason="no_media")
    uid = text(room.get("uid"))
    return LiveResult(
        platform="bilibili", title=text(room.get("title")) or "",
        thumbnail=https(text(room.get("user_cover")) or text(room.get("keyframe")) or "") or None,
        author=Author(id=uid, url=f"https://space.bilibili.com/{uid}") if uid else None,
        streams=streams, id=text(room.get("room_id")) or room_id,
        url=f"https://live.bilibili.com/{text(room.get('room_id')) or room_id}")


def _page_slice(total: int, page: int) -> None:
    if page > 1 and (page - 1) * COLLECTION_PAGE_SIZE >= total:
        raise ContentUnavailable(f"page {page} is past the end ({total} items)", reason="no_such_page")


@normalises
def _parts_page(view: dict[str, Any], page: int) -> CollectionPage:
    """The parts (``pages[]``) of a video; each item is the part's own link (``?p=N``)."""
    bvid = text(view["bvid"])
    if not bvid:
        raise ValueError("the video has no bvid")
    parts = [p for p in as_list(view.get("pages")) if isinstance(p, dict)]
    if not parts:
        raise ContentUnavailable("the video lists no parts", reason="no_media")
    _page_slice(len(parts), page)
    start = (page - 1) * COLLECTION_PAGE_SIZE
    items = [CollectionItem(index=as_int(p.get("page")) or start + i + 1, id=str(as_int(p["cid"])),
                            url=f"https://www.bilibili.com/video/{bvid}?p={as_int(p.get('page')) or start + i + 1}",
                            title=text(p.get("part")) or "", duration=as_int(p.get("duration")),
                            thumbnail=https(text(p.get("first_frame")) or "") or None)
             for i, p in enumerate(parts[start:start + COLLECTION_PAGE_SIZE])]
    owner = as_dict(view.get("owner"))
    mid = text(owner.get("mid"))
    return CollectionPage(
        platform="bilibili", page=page, total=len(parts), items=items, title=text(view.get("title")) or "",
        thumbnail=https(text(view.get("pic")) or "") or None, id=bvid, url=f"https://www.bilibili.com/video/{bvid}",
        author=Author(name=text(owner.get("name")), id=mid, url=f"https://space.bilibili.com/{mid}") if mid else None)


@normalises
def _list_page(data: dict[str, Any], page: int, *, kind: str, list_id: str, mid: str) -> CollectionPage:
    """A season's (``seasons_archives_list``) or series' (``x/series/archives``) page of archives."""
    paging = as_dict(data["page"])
    total = count(paging.get("total"))  # 0 for an empty list
    if total is None:
        raise ValueError("the list does not say its size")
    _page_slice(total, page)
    archives = [a for a in as_list(data.get("archives")) if isinstance(a, dict)]
    if not archives:
        raise ContentUnavailable("the list is empty" if page == 1 else "no such page",
                                 reason="no_media" if page == 1 else "no_such_page")
    start = (page - 1) * COLLECTION_PAGE_SIZE
    items = [CollectionItem(index=start + i + 1, id=str(a["bvid"]), url=f"https://www.bilibili.com/video/{a['bvid']}",
                            title=text(a.get("title")) or "", duration=as_int(a.get("duration")),
                            thumbnail=https(text(a.get("pic")) or "") or None)
             for i, a in enumerate(archives[:COLLECTION_PAGE_SIZE]) if text(a.get("bvid"))]
    meta = as_dict(data.get("meta"))
    path = "collectiondetail" if kind == "season" else "seriesdetail"
    return CollectionPage(
        platform="bilibili", page=page, total=total, items=items, title=text(meta.get("name")) or "",
        thumbnail=https(text(meta.get("cover")) or "") or None, id=list_id,
        url=f"https://space.bilibili.com/{mid}/channel/{path}?sid={list_id}",
        author=Author(id=mid, url=f"https://space.bilibili.com/{mid}"))
