"""yt-dlp for /live and /collection: a live stream's formats → LiveResult, one page of a flat playlist →
CollectionPage (one listing per page: entries are never resolved one by one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from parsing.schema import COLLECTION_PAGE_SIZE, Author, CollectionItem, CollectionPage, LiveResult, Stream

from ..base import ContentUnavailable, UpstreamFailure, normalises
from ..headers import download_headers
from . import ytdlp_info

_KEPT_HEADERS = ("Referer", "Origin")


def ytdlp_live(url: str, *, platform: str, ie_key: str | None = None,
               extractor_args: dict[str, dict[str, list[str]]] | None = None) -> LiveResult:
    """The live stream at ``url``; raises ContentUnavailable("offline") when nothing is live there now, and
    the typed errors of ytdlp_info otherwise."""
    info = ytdlp_info(url, platform=platform, ie_key=ie_key, extractor_args=extractor_args, operation="live")
    return info_to_live(info, platform=platform)


def ytdlp_collection(url: str, *, platform: str, page: int, item_url: Callable[[dict], str | None],
                     ie_key: str | None = None,
                     extractor_args: dict[str, dict[str, list[str]]] | None = None) -> CollectionPage:
    """Page ``page`` (from 1) of the playlist at ``url``, listed flat; ``item_url`` turns an entry into the
    link /parse accepts (None drops the entry). One item past the page is asked for, to know whether another
    page follows when the playlist does not say its size."""
    if page < 1:
        raise ContentUnavailable("pages count from 1", reason="no_such_page")
    start = (page - 1) * COLLECTION_PAGE_SIZE + 1
    params = {"extract_flat": "in_playlist", "noplaylist": False,
              "playlist_items": f"{start}:{start + COLLECTION_PAGE_SIZE}"}
    info = ytdlp_info(url, platform=platform, ie_key=ie_key, extractor_args=extractor_args, params=params,
                      operation="collection")
    return info_to_collection(info, platform=platform, page=page, item_url=item_url)


def _stream_format(fmt: dict) -> str | None:
    protocol = str(fmt.get("protocol") or "")
    path = urlsplit(str(fmt.get("url") or "")).path.lower()
    if protocol.startswith("m3u8") or fmt.get("ext") == "m3u8" or path.endswith(".m3u8"):
        return "hls"
    if fmt.get("ext") == "flv" or path.endswith(".flv"):
        return "flv"
    return None


@normalises
def info_to_live(info: dict, *, platform: str) -> LiveResult:
    """A live info dict → LiveResult with its HLS and FLV streams, best first; ContentUnavailable("no_media")
    when it has neither."""
    streams: list[tuple[tuple[int, float], Stream]] = []
    seen: set[str] = set()
    for fmt in info.get("formats") or ([info] if info.get("url") else []):
        if not isinstance(fmt, dict) or not isinstance(fmt.get("url"), str) or fmt["url"] in seen:
            continue
        kind = _stream_format(fmt)
        if kind is None or fmt.get("has_drm"):
            continue
        seen.add(fmt["url"])
        headers = download_headers(platform)
        own = fmt.get("http_headers") or {}
        headers.update({name: own[name] for name in _KEPT_HEADERS if isinstance(own.get(name), str)})
        height = fmt.get("height") if isinstance(fmt.get("height"), int) else None
        quality = fmt.get("format_note") or (f"{height}p" if height else None) or fmt.get("format_id")
        rank = (height or 0, float(fmt.get("quality") or 0) if isinstance(fmt.get("quality"), int | float) else 0.0)
        streams.append((rank, Stream(url=fmt["url"], format=kind, quality=str(quality) if quality else None,
                                     headers=headers)))
    if not streams:
        raise ContentUnavailable("the live stream has no HLS or FLV address", reason="no_media")
    streams.sort(key=lambda pair: pair[0], reverse=True)  # stable: yt-dlp's own order breaks ties
    name = info.get("uploader") or info.get("channel") or info.get("creator")
    author_id = info.get("uploader_id") or info.get("channel_id")
    author_url = info.get("uploader_url") or info.get("channel_url")
    return LiveResult(
        # fulltitle: yt-dlp appends the current time to a live stream's title
        platform=platform, title=str(info.get("fulltitle") or info.get("title") or "").strip(),
        thumbnail=info.get("thumbnail"),
        author=Author(name=name, id=str(author_id) if author_id else None, url=author_url)
        if name or author_id or author_url else None,
        streams=[stream for _, stream in streams], id=str(info.get("id") or "") or None,
        url=info.get("webpage_url") or info.get("original_url"))


@normalises
def info_to_collection(info: dict, *, platform: str, page: int,
                       item_url: Callable[[dict], str | None]) -> CollectionPage:
    """A flat playlist info dict holding the requested slice (plus one look-ahead entry) → CollectionPage.

    Raises ContentUnavailable("no_such_page") for a page past the end, ("no_media") for an empty playlist."""
    if info.get("_type") not in ("playlist", "multi_video"):
        raise UpstreamFailure("yt-dlp did not answer a playlist")
    offset = (page - 1) * COLLECTION_PAGE_SIZE
    entries = [e for e in info.get("entries") or [] if isinstance(e, dict)]
    items: list[CollectionItem] = []
    for position, entry in enumerate(entries[:COLLECTION_PAGE_SIZE], start=offset + 1):
        url = item_url(entry)
        if not url or not entry.get("id"):
            continue
        index = entry.get("playlist_index") if isinstance(entry.get("playlist_index"), int) else position
        duration = entry.get("duration") if isinstance(entry.get("duration"), int | float) else None
        items.append(CollectionItem(index=index, id=str(entry["id"]), url=url, title=str(entry.get("title") or ""),
                                    duration=duration, thumbnail=_thumbnail(entry)))
    counted = info.get("playlist_count")
    total = counted if isinstance(counted, int) and counted >= 0 else offset + len(entries)
    if not entries:
        raise ContentUnavailable("the playlist has no such page" if page > 1 else "the playlist is empty",
                                 reason="no_such_page" if page > 1 else "no_media")
    total = max(total, offset + len(entries))  # a look-ahead entry beyond a stale count still means more
    name = info.get("uploader") or info.get("channel")
    author_id = info.get("uploader_id") or info.get("channel_id")
    author_url = info.get("uploader_url") or info.get("channel_url")
    return CollectionPage(
        platform=platform, page=page, total=total, items=items, title=str(info.get("title") or "").strip(),
        thumbnail=_thumbnail(info), id=str(info.get("id") or "") or None,
        author=Author(name=name, id=str(author_id) if author_id else None, url=author_url)
        if name or author_id or author_url else None,
        url=info.get("webpage_url") or info.get("original_url"))


def _thumbnail(entry: dict[str, Any]) -> str | None:
    if isinstance(entry.get("thumbnail"), str):
        return entry["thumbnail"]
    thumbs = [t for t in entry.get("thumbnails") or [] if isinstance(t, dict) and isinstance(t.get("url"), str)]
    return thumbs[-1]["url"] if thumbs else None  # yt-dlp lists them worst to best
