"""Kuaishou live rooms: the desktop room page ``live.kuaishou.com/u/<user>`` embeds ``window.__INITIAL_STATE__``
whose ``liveroom.playList[0]`` holds the streamer (``author``), whether the room is live (``isLiving``), why
it cannot be shown (``errorType``) and the stream (``liveStream``: caption, poster and its pull addresses,
``playUrls.h264.adaptationSet.representation[]`` in the 2025 shape, a list of ``{quality, url}`` before)."""

from __future__ import annotations

from typing import Any

from parsing.http import http_client
from parsing.schema import Author, LiveResult, Stream

from .base import ContentUnavailable, UpstreamFailure, normalises
from .headers import download_headers
from .pagedata import (
    PageDataMalformed,
    PageDataMissing,
    as_dict,
    as_list,
    check_status,
    dig,
    embedded_json,
    fetch,
    reason_from_text,
    split_url,
    text,
)

ROOM_PAGE = "https://live.kuaishou.com/u/{id}"
LIVE_REFERER = "https://live.kuaishou.com/"


def kuaishou_live(user_id: str) -> LiveResult:
    """The streamer's room; raises ContentUnavailable("offline") when it is not live."""
    with http_client("kuaishou", headers={"Referer": LIVE_REFERER}) as client:
        response = fetch(client, ROOM_PAGE.format(id=user_id))
        check_status(response)
        html = response.text
    try:
        state = embedded_json(html, "window.__INITIAL_STATE__")
    except PageDataMissing:
        raise UpstreamFailure("the room page has no state (a verification page?)") from None
    except PageDataMalformed as exc:
        raise UpstreamFailure("the room page's state is not readable") from exc
    return room_result(state, user_id)


def _streams(live_stream: dict[str, Any]) -> list[Stream]:
    headers = download_headers("kuaishou") | {"Referer": LIVE_REFERER}
    play = live_stream.get("playUrls")
    found: list[tuple[str | None, str]] = []
    if isinstance(play, dict):  # {"h264": {"adaptationSet": {"representation": [...]}}, "hevc": {...}}
        for codec in ("h264", "hevc"):
            for rep in as_list(dig(play, codec, "adaptationSet", "representation")):
                rep = as_dict(rep)
                found.append((text(rep.get("name")) or text(rep.get("qualityType")), text(rep.get("url")) or ""))
    for entry in as_list(play) if isinstance(play, list) else []:
        entry = as_dict(entry)
        found.append((text(entry.get("quality")) or text(entry.get("qualityType")), text(entry.get("url")) or ""))
    streams, seen = [], set()
    for quality, url in found:
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            kind = "hls" if split_url(url).path.lower().endswith(".m3u8") else "flv"
            streams.append(Stream(url=url, format=kind, quality=quality, headers=dict(headers)))
    return streams


@normalises
def room_result(state: Any, user_id: str) -> LiveResult:
    """The LiveResult of a room page's state; raises the typed error the state amounts to."""
    rooms = as_list(dig(state, "liveroom", "playList"))
    if not rooms or not isinstance(rooms[0], dict):
        raise UpstreamFailure("the room page lists no room")
    room = rooms[0]
    error = as_dict(room.get("errorType"))
    if error.get("type") or error.get("title"):
        words = f"{error.get('title') or ''} {error.get('content') or ''}"
        raise ContentUnavailable(words.strip()[:200], reason=reason_from_text(words, "deleted"))
    if room.get("isLiving") is not True:
        raise ContentUnavailable("the room is not live", reason="offline")
    live_stream = room["liveStream"]
    if not isinstance(live_stream, dict):
        raise TypeError("liveStream is not an object")
    streams = _streams(live_stream)
    if not streams:
        raise ContentUnavailable("the room has no stream address", reason="no_media")
    author = as_dict(room.get("author"))
    author_id = text(author.get("id")) or user_id
    return LiveResult(
        platform="kuaishou", title=text(live_stream.get("caption")) or "",
        thumbnail=text(live_stream.get("poster")) or text(live_stream.get("coverUrl")),
        author=Author(name=text(author.get("name")), id=author_id, url=f"https://www.kuaishou.com/profile/{author_id}"),
        streams=streams, id=text(live_stream.get("id")) or user_id, url=ROOM_PAGE.format(id=user_id))
