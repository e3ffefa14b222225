"""Migu songs from the app's resource API (yt-dlp has no Migu extractor).

A song is named by its copyright id (``music.migu.cn/v3/music/song/<copyrightId>``).
``c.musicapp.migu.cn/MIGUM2.0/v1.0/content/resourceinfo.do?copyrightId=…&resourceType=2`` answers
``{"code": "000000", "resource": [song]}``: ``songName``, ``singer``, ``album``, ``albumImgs``
(``imgSizeType`` 01 small to 03 large) and the qualities in ``newRateFormats`` (else ``rateFormats``):
``formatType`` PQ (128k MP3), HQ (320k MP3), SQ (FLAC), ZQ (hi-res FLAC), each with a ``url`` (or
``androidUrl``) on the ``ftp://`` host that ``freetyst.nf.migu.cn`` serves over https. A format without an
address is played through the listen endpoint by ``contentId`` and ``toneFlag``, which redirects to the file.
Encrypted formats (3D, Z3D, I3D) are skipped. Another ``code`` comes with its reason in ``info``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import Audio, Author, MediaResult

from .base import ContentUnavailable, Extractor, UnsupportedLink, UpstreamFailure, normalises
from .headers import download_headers
from .pagedata import as_dict, as_int, as_list, check_status, fetch, https, reason_from_text, text

PLATFORM = "migu"
RESOURCE_API = "https://c.musicapp.migu.cn/MIGUM2.0/v1.0/content/resourceinfo.do"
LISTEN_URL = "https://app.pd.nf.migu.cn/MIGUM3.0/v1.0/content/sub/listenSong.do"
FILE_HOST = "https://freetyst.nf.migu.cn"
_FTP = re.compile(r"^ftp://[^/]+")
# formatType -> (quality label, kbps, mime type), best first.
_FORMATS = {
    "ZQ": ("hires", 2304, "audio/flac"),
    "SQ": ("lossless", 1411, "audio/flac"),
    "HQ": ("320kbps", 320, "audio/mpeg"),
    "PQ": ("128kbps", 128, "audio/mpeg"),
    "LQ": ("64kbps", 64, "audio/mpeg"),
}


class MiguExtractor(Extractor):
    platform = PLATFORM

    def extract(self, target: Recognition) -> MediaResult:
        """The song's tracks (best first) and metadata; raises ContentUnavailable (deleted, region_blocked,
        login_required, no_media), UpstreamFailure, UpstreamTimeout or UnsupportedLink."""
        if target.kind != "song" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        with http_client(PLATFORM, mobile=True, headers={"Referer": "https://m.music.migu.cn/"}) as client:
            response = fetch(client, RESOURCE_API, params={"copyrightId": target.id, "resourceType": "2"})
            check_status(response)
            try:
                payload = response.json()
            except (ValueError, RecursionError) as exc:
                raise UpstreamFailure("Migu's resource answer is not JSON") from exc
        return song_result(payload, target.id)


def _file_url(fmt: dict[str, Any]) -> str | None:
    """The format's own file address, over https."""
    url = next((u for u in (fmt.get("url"), fmt.get("androidUrl"))
                if isinstance(u, str) and u.startswith(("ftp://", "http://", "https://"))), None)
    if not url:
        return None
    return https(_FTP.sub(FILE_HOST, url))


def _duration(song: dict[str, Any]) -> float:
    """Seconds from ``duration`` (seconds) or a ``length`` of ``mm:ss``/``hh:mm:ss``, where the answer has one."""
    seconds = as_int(song.get("duration"))
    if seconds:
        return seconds
    length = text(song.get("length")) or ""
    if re.fullmatch(r"\d{1,2}(?::\d{2}){1,2}", length):
        total = 0
        for part in length.split(":"):
            total = total * 60 + int(part)
        return total
    return 0


@normalises
def song_result(payload: Any, copyright_id: str) -> MediaResult:
    """The result of a ``resourceinfo.do`` answer; ContentUnavailable when it has no track to give."""
    if not isinstance(payload, dict):
        raise UpstreamFailure("Migu's answer is not an object")
    code, info = text(payload.get("code")), text(payload.get("info")) or ""
    if code != "000000":
        reason = "region_blocked" if "版权" in info else reason_from_text(info, "")
        if reason:
            raise ContentUnavailable(f"Migu: {info}", reason=reason)
        raise UpstreamFailure(f"Migu answered code {code!r}: {info[:100]}")
    songs = [s for s in as_list(payload.get("resource")) if isinstance(s, dict)]
    if not songs:
        raise ContentUnavailable("Migu has no such song", reason="deleted")
    song = songs[0]
    headers = download_headers(PLATFORM)
    content_id = text(song.get("contentId"))
    formats = as_list(song.get("newRateFormats")) or as_list(song.get("rateFormats"))
    audios: list[Audio] = []
    for fmt in sorted((as_dict(f) for f in formats), key=lambda f: list(_FORMATS).index(f["formatType"])
                      if f.get("formatType") in _FORMATS else len(_FORMATS)):
        tone = fmt.get("formatType")
        if tone not in _FORMATS:
            continue  # 3D and the other encrypted formats
        label, kbps, mime = _FORMATS[tone]
        url = _file_url(fmt)
        if not url and content_id:
            url = LISTEN_URL + "?" + urlencode({"toneFlag": tone, "netType": "00", "copyrightId": copyright_id,
                                                "contentId": content_id, "resourceType": "2", "channel": "0"})
        if url and all(a.url != url for a in audios):
            ext = text(fmt.get("fileType")) or text(fmt.get("androidFileType"))
            audios.append(Audio(url=url, mime_type="audio/flac" if ext == "flac" else mime, quality=label,
                                bitrate=kbps * 1000, headers=dict(headers)))
    if not audios:
        raise ContentUnavailable("Migu lists no playable quality", reason="no_media")
    images = {text(i.get("imgSizeType")): text(i.get("img"))
              for i in as_list(song.get("albumImgs")) if isinstance(i, dict)}
    cover = next((images[k] for k in ("03", "02", "01") if images.get(k)), None)
    singer_id = text(song.get("singerId"))
    return MediaResult(
        platform=PLATFORM, title=text(song.get("songName")) or "", thumbnail=https(cover) if cover else None,
        duration=_duration(song), audios=audios, id=copyright_id,
        url=f"https://music.migu.cn/v3/music/song/{copyright_id}",
        author=Author(name=text(song.get("singer")), id=singer_id.split(",")[0] if singer_id else None,
                      url=f"https://music.migu.cn/v3/music/artist/{singer_id.split(',')[0]}" if singer_id else None)
        if text(song.get("singer")) else None,
    )
