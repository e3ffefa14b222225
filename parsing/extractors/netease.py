"""NetEase Cloud Music: songs through the warm yt-dlp instance, playlists and albums from the site's own JSON.

Songs: yt-dlp's ``NetEaseMusic`` extractor reads ``music.163.com/api/song/detail`` (title, artists, album
cover, duration, release time) and asks the player API (``interface3.music.163.com/eapi/song/enhance/player/
url/v1``) level by level for the best quality the anonymous tier gets; the track comes back in ``audios[]``.
A song whose player answer has no URL (VIP-only, or not licensed where we ask from) is ``region_blocked``
(yt-dlp cannot tell the two apart and says "possibly due to geo restriction"); an empty ``songs`` list is a
song that no longer exists.

Collections (``collection``): a playlist's ``/api/v6/playlist/detail`` lists every track id (``trackIds``)
and the first tracks in full; the others of a page come from ``/api/v3/song/detail``. An album's
``/api/v1/album/<id>`` lists all its songs at once.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import COLLECTION_PAGE_SIZE, Author, CollectionItem, CollectionPage, MediaResult

from .base import ContentUnavailable, UnsupportedLink, UpstreamFailure, UpstreamTimeout, normalises
from .pagedata import as_dict, as_int, as_list, https, text
from .ytdlp import YtDlpExtractor, info_to_result, ytdlp_info

PLATFORM = "netease"
SONG_URL = "https://music.163.com/song?id={id}"
PLAYLIST_API = "https://music.163.com/api/v6/playlist/detail"
SONG_DETAIL_API = "https://music.163.com/api/v3/song/detail"
ALBUM_API = "https://music.163.com/api/v1/album/{id}"
# The API's own codes: -462 asks to log in (or to bind a phone), 401 a private playlist, 404 and 400 a missing one.
_CODE_REASONS = {-462: "login_required", 401: "private", 404: "deleted", 400: "deleted", -447: "unavailable"}


class NeteaseExtractor(YtDlpExtractor):
    platform: ClassVar[str] = PLATFORM

    def ytdlp_url(self, target: Recognition) -> str:
        """The canonical song page for the recognised id (every song link form leads there)."""
        if target.kind != "song" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        return SONG_URL.format(id=target.id)

    def ytdlp_ie(self, target: Recognition) -> str | None:
        return "NetEaseMusic"

    def extract(self, target: Recognition) -> MediaResult:
        url = self.ytdlp_url(target)
        try:
            info = ytdlp_info(url, platform=PLATFORM, ie_key=self.ytdlp_ie(target))
        except UpstreamFailure as exc:
            # yt-dlp indexes songs[0] of the detail answer: an empty list (a removed song) fails there.
            if isinstance(exc.__cause__, IndexError):
                raise ContentUnavailable("NetEase has no such song", reason="deleted") from exc
            raise
        return _song_result(info, info_to_result(info, platform=PLATFORM), target.id or "")

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        """One page of a playlist or an album; raises ContentUnavailable (deleted, private, login_required,
        no_such_page), UpstreamFailure or UpstreamTimeout."""
        if target.kind not in ("playlist", "album") or not target.id:
            raise UnsupportedLink(reason="unsupported")
        with http_client(PLATFORM, headers={"Referer": "https://music.163.com/"}) as client:
            if target.kind == "album":
                return _album_page(_get_json(client, ALBUM_API.format(id=target.id)), target.id, page)
            payload = _get_json(client, PLAYLIST_API, params={"id": target.id, "n": "1000", "s": "0"})
            ids, known = _playlist_tracks(payload)
            _check_page(page, len(ids))
            wanted = ids[(page - 1) * COLLECTION_PAGE_SIZE:page * COLLECTION_PAGE_SIZE]
            missing = [i for i in wanted if i not in known]
            if missing:
                details = _get_json(client, SONG_DETAIL_API,
                                    params={"c": json.dumps([{"id": int(i)} for i in missing], separators=(",", ":"))})
                known.update(_songs_by_id(details, "songs"))
        return _playlist_page(payload, target.id, page, ids, known)


@normalises
def _song_result(info: dict[str, Any], result: MediaResult, song_id: str) -> MediaResult:
    """The song's result: the artists as author, an https cover, no lyrics posing as a description."""
    artists = [a for a in as_list(info.get("creators")) if isinstance(a, str) and a]
    if artists:
        result.author = Author(name=" / ".join(artists))
    result.description = None  # yt-dlp puts the lyrics there; they are not the song's description
    if result.thumbnail:
        result.thumbnail = https(result.thumbnail)
    result.id = result.id or song_id
    result.url = SONG_URL.format(id=result.id)
    if not result.audios:
        raise ContentUnavailable("the song has no playable address", reason="no_media")
    return result


def _get_json(client: httpx.Client, url: str, **kwargs: Any) -> Any:
    """The JSON answer of a NetEase API; typed errors for timeouts, failures and the API's own codes."""
    try:
        response = client.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("NetEase did not answer in time") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise UpstreamFailure("NetEase could not be reached") from exc
    if response.status_code == 404:
        raise ContentUnavailable("NetEase answered 404", reason="deleted")
    if response.status_code >= 300:
        raise UpstreamFailure(f"NetEase answered {response.status_code}")
    try:
        payload = response.json()
    except (ValueError, RecursionError) as exc:
        raise UpstreamFailure("NetEase's answer is not JSON") from exc
    code = payload.get("code") if isinstance(payload, dict) else None
    if code != 200:
        reason = _CODE_REASONS.get(code) if isinstance(code, int) else None
        if reason:
            raise ContentUnavailable(f"NetEase answered code {code}", reason=reason)
        raise UpstreamFailure(f"NetEase answered code {code!r}")
    return payload


def _song_item(song: dict[str, Any]) -> CollectionItem | None:
    """A collection item of a song object (new ``ar``/``al``/``dt`` or old ``artists``/``album``/``duration``
    names), its index still 0; None without an id."""
    song_id = text(song.get("id"))
    if not song_id or not song_id.isdigit():
        return None
    album = as_dict(song.get("al") or song.get("album"))
    cover = album.get("picUrl")
    millis = as_int(song.get("dt") or song.get("duration"))
    return CollectionItem(index=0, id=song_id, url=SONG_URL.format(id=song_id), title=text(song.get("name")) or "",
                          duration=round(millis / 1000, 3) if millis else None,
                          thumbnail=https(cover) if isinstance(cover, str) and cover else None)


@normalises
def _songs_by_id(payload: Any, *path: str) -> dict[str, CollectionItem]:
    songs: Any = payload
    for key in path:
        songs = as_dict(songs).get(key)
    items = (_song_item(s) for s in as_list(songs) if isinstance(s, dict))
    return {item.id: item for item in items if item}


@normalises
def _playlist_tracks(payload: Any) -> tuple[list[str], dict[str, CollectionItem]]:
    """Every track id of a playlist, in order, and the tracks the answer describes in full."""
    playlist = payload["playlist"]
    if not isinstance(playlist, dict):
        raise ContentUnavailable("NetEase has no such playlist", reason="deleted")
    known = _songs_by_id(playlist, "tracks")
    ids = [str(t["id"]) for t in as_list(playlist.get("trackIds")) if isinstance(t, dict) and as_int(t.get("id"))]
    return ids or list(known), known


def _check_page(page: int, total: int) -> None:
    """Raise ContentUnavailable(no_such_page) for a page past the end (page 1 of an empty list exists)."""
    if page < 1 or (page > 1 and (page - 1) * COLLECTION_PAGE_SIZE >= total):
        raise ContentUnavailable(f"page {page} is past the end", reason="no_such_page")


def _numbered(items: list[CollectionItem], page: int) -> list[CollectionItem]:
    """The page's items with their index over the whole collection (from 1)."""
    for index, item in enumerate(items, (page - 1) * COLLECTION_PAGE_SIZE + 1):
        item.index = index
    return items


@normalises
def _playlist_page(payload: Any, list_id: str, page: int, ids: list[str],
                   known: dict[str, CollectionItem]) -> CollectionPage:
    playlist = payload["playlist"]
    creator = as_dict(playlist.get("creator"))
    creator_id = text(creator.get("userId"))
    wanted = ids[(page - 1) * COLLECTION_PAGE_SIZE:page * COLLECTION_PAGE_SIZE]
    # A track the details did not describe (removed since) is still listed, by its id.
    items = [known.get(i) or CollectionItem(index=0, id=i, url=SONG_URL.format(id=i)) for i in wanted]
    cover = playlist.get("coverImgUrl")
    return CollectionPage(
        platform=PLATFORM, page=page, total=len(ids), items=_numbered(items, page),
        title=text(playlist.get("name")) or "",
        thumbnail=https(cover) if isinstance(cover, str) and cover else None,
        author=Author(name=text(creator.get("nickname")), id=creator_id,
                      url=f"https://music.163.com/user/home?id={creator_id}" if creator_id else None),
        id=list_id, url=f"https://music.163.com/playlist?id={list_id}",
    )


@normalises
def _album_page(payload: Any, album_id: str, page: int) -> CollectionPage:
    album = payload["album"]
    if not isinstance(album, dict):
        raise ContentUnavailable("NetEase has no such album", reason="deleted")
    songs = payload.get("songs") if isinstance(payload.get("songs"), list) else album.get("songs")
    items = list(_songs_by_id({"songs": songs}, "songs").values())
    artist = as_dict(album.get("artist"))
    artist_id = text(artist.get("id"))
    cover = album.get("picUrl")
    _check_page(page, len(items))
    start = (page - 1) * COLLECTION_PAGE_SIZE
    chosen = _numbered(items[start:start + COLLECTION_PAGE_SIZE], page)
    return CollectionPage(
        platform=PLATFORM, page=page, total=len(items), items=chosen,
        title=text(album.get("name")) or "",
        thumbnail=https(cover) if isinstance(cover, str) and cover else None,
        author=Author(name=text(artist.get("name")), id=artist_id,
                      url=f"https://music.163.com/artist?id={artist_id}" if artist_id and artist_id != "0" else None),
        id=album_id, url=f"https://music.163.com/album?id={album_id}",
    )
