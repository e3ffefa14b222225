"""Kugou songs from the mobile site's song-info API (yt-dlp has no Kugou extractor).

A song is named by its file hash: ``www.kugou.com/song/#hash=<hash>`` carries it; a mix-song page
(``/mixsong/<id>.html``) and the app's share pages (``t1.kugou.com/song.html?id=``, ``/share/<id>.html``)
embed it in their page data (``"hash":"<32 hex>"``). ``m.kugou.com/app/i/getSongInfo.php?cmd=playInfo&hash=``
answers the song: ``songName``, ``singerName``, ``timeLength`` (seconds), the cover as ``album_img`` or
``imgUrl`` (a ``{size}`` template), the track's ``url`` (``backup_url`` beside it), ``bitRate`` (kbps),
``extName`` and ``fileSize``. A paid or VIP-only song answers without a ``url``; an unknown hash answers
``status`` 0 with an ``error``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Audio, Author, MediaResult

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure, normalises
from .headers import download_headers
from .pagedata import as_int, as_list, check_status, fetch, first_str, https, text

PLATFORM = "kugou"
SONG_INFO_API = "https://m.kugou.com/app/i/getSongInfo.php"
MIXSONG_PAGE = "https://www.kugou.com/mixsong/{id}.html"
COVER_SIZE = "480"
_PAGE_HASH = re.compile(r'"(?:hash|FileHash|audio_hash)"\s*:\s*"([0-9A-Fa-f]{32})"', re.I)
_MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "flac": "audio/flac", "ogg": "audio/ogg"}
_GONE = ("不存在", "下架", "删除", "not exist", "hash错误")
_REGION = ("地区", "区域", "海外", "版权", "region", "copyright")
# privilege 10: the song is sold or for VIP members only (the anonymous answer then has no url).
_PAID_PRIVILEGES = frozenset({10})


class KugouExtractor(Extractor):
    platform = PLATFORM

    def extract(self, target: Recognition) -> MediaResult:
        """The song's track and metadata; raises ContentUnavailable (deleted, login_required, region_blocked,
        no_media), UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if target.kind not in ("hash", "mixsong", "share") or not target.id:
            raise UnsupportedLink(reason="unsupported")
        with http_client(PLATFORM, mobile=True, headers={"Referer": "https://m.kugou.com/"}) as client:
            song_hash = target.id if target.kind == "hash" else self._page_hash(client, target)
            response = fetch(client, SONG_INFO_API, params={"cmd": "playInfo", "hash": song_hash})
            check_status(response)
            try:
                payload = response.json()
            except (ValueError, RecursionError) as exc:
                raise UpstreamFailure("Kugou's song info is not JSON") from exc
        return song_result(payload, song_hash)

    def _page_hash(self, client: httpx.Client, target: Recognition) -> str:
        """The song hash a mix-song or share page embeds; raises the typed error the page amounts to."""
        url = MIXSONG_PAGE.format(id=target.id) if target.kind == "mixsong" else target.url or ""
        response = fetch(client, url)
        check_status(response)
        found = _PAGE_HASH.search(response.text)
        if found:
            return found.group(1).upper()
        if any(word in response.text for word in _GONE):
            raise ContentUnavailable("Kugou says the song is gone", reason="deleted")
        raise UpstreamFailure("the Kugou page names no song hash")


def _reason(message: str, default: str) -> str:
    lowered = message.lower()
    if any(word in lowered for word in _GONE):
        return "deleted"
    if any(word in lowered for word in _REGION):
        return "region_blocked"
    return default


@normalises
def song_result(payload: Any, song_hash: str) -> MediaResult:
    """The result of a ``getSongInfo`` answer; ContentUnavailable when it has no track to give."""
    if not isinstance(payload, dict):
        raise UpstreamFailure("Kugou's song info is not an object")
    error = text(payload.get("error")) or ""
    if payload.get("status") != 1 or (as_int(payload.get("errcode")) or 0) != 0:
        if error:
            raise ContentUnavailable(f"Kugou: {error}", reason=_reason(error, "unavailable"))
        raise UpstreamFailure(f"Kugou answered status {payload.get('status')!r}")
    title = text(payload.get("songName"))
    singer = text(payload.get("singerName"))
    if not title and text(payload.get("fileName")):  # "<singer> - <song>" when the parts are missing
        singer_part, _, song_part = payload["fileName"].partition(" - ")
        title, singer = (song_part or singer_part).strip(), singer or (singer_part.strip() if song_part else None)
    album_id = text(payload.get("albumid"))
    cover = first_str([payload.get("album_img"), payload.get("imgUrl")])
    singer_id = text(payload.get("singerId"))
    result = MediaResult(
        platform=PLATFORM, title=title or "", id=song_hash.upper(),
        thumbnail=https(cover.replace("{size}", COVER_SIZE)) if cover else None,
        url=f"https://www.kugou.com/song/#hash={song_hash.upper()}" + (f"&album_id={album_id}" if album_id else ""),
        author=Author(name=singer, id=singer_id if singer_id != "0" else None) if singer else None,
    )
    track = first_str([payload.get("url"), *as_list(payload.get("backup_url"))])
    if not track:
        if as_int(payload.get("privilege")) in _PAID_PRIVILEGES or "付费" in error or "vip" in error.lower():
            raise ContentUnavailable("the song is for paying or VIP listeners", reason="login_required")
        raise ContentUnavailable(f"Kugou gives no track: {error}", reason=_reason(error, "no_media"))
    kbps = as_int(payload.get("bitRate"))
    ext = (text(payload.get("extName")) or track.rsplit("?", 1)[0].rpartition(".")[2]).lower()
    result.audios = [Audio(url=https(track), mime_type=_MIME.get(ext, "audio/mpeg"),
                           quality=f"{kbps}kbps" if kbps else None, bitrate=kbps * 1000 if kbps else None,
                           headers=download_headers(PLATFORM))]
    result.duration = as_int(payload.get("timeLength")) or 0
    return result
