"""yt-dlp's processed info dicts → MediaResult (our unified, best-first shape)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from parsing.schema import Audio, Author, Image, MediaResult, Stats, Video, count, iso_from_timestamp

from ..base import ContentUnavailable
from ..headers import download_headers

# Platforms whose yt-dlp "title" is a truncated caption: the description holds the whole text.
CAPTION_PLATFORMS = frozenset({"tiktok", "instagram", "twitter", "weibo"})
# Cookies a media download may carry to the customer (set by the platform for an anonymous visit;
# never the operator's session cookies, which yt-dlp may copy onto CDN hosts).
FORWARDED_COOKIES = {"tiktok": frozenset({"tt_chain_token"})}
_VIDEO_MIME = {"mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "flv": "video/x-flv",
               "mov": "video/quicktime", "3gp": "video/3gpp", "mkv": "video/x-matroska", "ts": "video/mp2t"}
_AUDIO_MIME = {"m4a": "audio/mp4", "mp4": "audio/mp4", "mp3": "audio/mpeg", "aac": "audio/aac", "webm": "audio/webm",
               "weba": "audio/webm", "opus": "audio/ogg", "ogg": "audio/ogg", "flac": "audio/flac", "wav": "audio/wav"}
_IMAGE_EXTS = frozenset({"jpg", "jpeg", "png", "webp", "gif", "heic", "avif"})
_HLS_MIME, _DASH_MIME = "application/vnd.apple.mpegurl", "application/dash+xml"
_KEPT_HEADERS = ("Referer", "Origin")


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _bitrate(fmt: dict, *keys: str) -> int | None:
    kbps = next((fmt[k] for k in keys if isinstance(fmt.get(k), int | float) and fmt[k] > 0), None)
    return int(kbps * 1000) if kbps else None


def _protocol(fmt: dict) -> str:
    protocol = str(fmt.get("protocol") or "")
    if protocol.startswith("m3u8") or fmt.get("ext") == "m3u8":
        return "hls"
    if "dash" in protocol:
        return "dash"
    return "direct"


def _headers(fmt: dict, platform: str, default_ua: str | None) -> dict[str, str]:
    """download_headers(platform) plus what the format itself says a download needs."""
    headers = download_headers(platform)
    own = fmt.get("http_headers") or {}
    for name in _KEPT_HEADERS:
        if own.get(name):
            headers[name] = own[name]
    if own.get("User-Agent") and own["User-Agent"] != default_ua:  # a client-specific UA (YouTube apps)
        headers["User-Agent"] = own["User-Agent"]
    allowed = FORWARDED_COOKIES.get(platform)
    if allowed and fmt.get("cookies"):
        pairs = (p.split("=", 1) for p in str(fmt["cookies"]).split("; ") if "=" in p)
        cookie = "; ".join(f"{k}={v}" for k, v in pairs if k in allowed)
        if cookie:
            headers["Cookie"] = cookie
    return headers


def _entry_media(entry: dict, platform: str, default_ua: str | None,
                 in_playlist: bool) -> tuple[list[Video], list[Audio], list[Image]]:
    formats = [f for f in entry.get("formats") or ([entry] if entry.get("url") else []) if isinstance(f, dict)]
    split = any(f.get("acodec") == "none" and f.get("vcodec") not in (None, "none") for f in formats)
    videos: list[Video] = []
    audios: list[Audio] = []
    images: list[Image] = []
    for fmt in formats:
        url, ext = fmt.get("url"), str(fmt.get("ext") or "").lower()
        vcodec, acodec = fmt.get("vcodec"), fmt.get("acodec")
        if not url or fmt.get("has_drm") or ext == "mhtml" or str(fmt.get("protocol")).startswith("mhtml"):
            continue
        source = _protocol(fmt)
        headers = _headers(fmt, platform, default_ua)
        manifest = {"hls": _HLS_MIME, "dash": _DASH_MIME}.get(source) if fmt.get("manifest_url") == url else None
        if vcodec == "none" and acodec == "none":
            if ext in _IMAGE_EXTS:
                images.append(Image(url=url, width=_int(fmt.get("width")), height=_int(fmt.get("height")),
                                    headers=headers))
            continue
        if vcodec == "none" or (vcodec is None and ext in _AUDIO_MIME and ext not in _VIDEO_MIME):
            bitrate = _bitrate(fmt, "abr", "tbr")
            path_ext = urlsplit(url).path.rpartition(".")[2].lower()  # an .mp3 URL yt-dlp calls m4a
            audios.append(Audio(
                url=url, mime_type=manifest or (_HLS_MIME if source == "hls" else _AUDIO_MIME.get(
                    path_ext if path_ext in ("mp3", "m4a", "aac", "opus", "ogg", "flac") else ext, "audio/mp4")),
                quality=fmt.get("format_note") or (f"{round(bitrate / 1000)}kbps" if bitrate else fmt.get("format_id")),
                bitrate=bitrate, source="dash" if split and source == "direct" else source,  # type: ignore[arg-type]
                headers=headers))
            continue
        width, height = _int(fmt.get("width")), _int(fmt.get("height"))
        short_side = min(width, height) if width and height else height
        has_audio = acodec != "none"
        videos.append(Video(
            url=url, quality=f"{short_side}p" if short_side else (fmt.get("format_note") or fmt.get("format_id")),
            mime_type=manifest or (_HLS_MIME if source == "hls" else _VIDEO_MIME.get(ext, "video/mp4")),
            width=width, height=height, has_audio=has_audio,
            source="dash" if not has_audio and source == "direct" else source,  # type: ignore[arg-type]
            bitrate=_bitrate(fmt, "tbr", "vbr"), headers=headers))
    if in_playlist and not videos and not audios and not images:
        best = _best_thumbnail(entry)
        if best:
            images.append(Image(url=best["url"], width=_int(best.get("width")), height=_int(best.get("height")),
                                headers=download_headers(platform)))
    return videos, audios, images


def _best_thumbnail(entry: dict) -> dict | None:
    thumbnails = [t for t in entry.get("thumbnails") or [] if isinstance(t, dict) and t.get("url")]
    if thumbnails:  # yt-dlp sorts them worst to best; prefer the biggest known size
        return max(reversed(thumbnails), key=lambda t: (_int(t.get("width")) or 0) * (_int(t.get("height")) or 0))
    return {"url": entry["thumbnail"]} if entry.get("thumbnail") else None


def entries(info: dict) -> Iterator[tuple[dict, bool]]:
    """The media items of an info dict, flattened, each with whether it came from a playlist."""
    if info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or []:
            # Unresolved references (url results) name pages, not media.
            if isinstance(entry, dict) and entry.get("_type") not in ("url", "url_transparent"):
                yield from ((e, True) for e, _ in entries(entry))
    else:
        yield info, False


def info_to_result(info: dict, *, platform: str) -> MediaResult:
    """Normalise a processed yt-dlp info dict (a single item or a playlist, flattened) into a MediaResult,
    best quality first in each list; raises ContentUnavailable('drm') when nothing but DRM-protected
    streams is left."""
    default_ua = None
    try:
        from yt_dlp.utils.networking import std_headers

        default_ua = std_headers.get("User-Agent")
    except ImportError:  # pragma: no cover - yt-dlp is a dependency
        pass
    result = MediaResult(platform=platform)
    seen: set[str] = set()
    first_video_entry: dict | None = None
    drm = False
    for entry, in_playlist in entries(info):
        formats = entry.get("formats") or []
        if formats and all(isinstance(f, dict) and f.get("has_drm") for f in formats):
            drm = True  # an entry that only has protected streams; others may still be served
            continue
        videos, audios, images = _entry_media(entry, platform, default_ua, in_playlist)
        if videos and first_video_entry is None:
            first_video_entry = entry
        for item in (*videos, *audios, *images):
            if item.url not in seen:
                seen.add(item.url)
                {Video: result.videos, Audio: result.audios, Image: result.images}[type(item)].append(item)
    if drm and not result.has_media:
        raise ContentUnavailable("every stream is DRM-protected", reason="drm")
    result.videos.sort(key=lambda v: (min(v.width, v.height) if v.width and v.height else v.height or 0,
                                      v.bitrate or 0, v.has_audio), reverse=True)
    result.audios.sort(key=lambda a: a.bitrate or 0, reverse=True)
    main = first_video_entry or info
    title = info.get("title") or main.get("title") or ""
    if platform in CAPTION_PLATFORMS:
        title = info.get("description") or main.get("description") or title
    result.title = str(title).strip()
    thumb = info.get("thumbnail") or main.get("thumbnail") or (_best_thumbnail(main) or {}).get("url")
    result.thumbnail = thumb
    duration = main.get("duration") if result.videos or result.audios else 0
    result.duration = duration if isinstance(duration, int | float) else 0
    result.id = str(info.get("id") or main.get("id") or "") or None
    result.url = info.get("webpage_url") or main.get("webpage_url") or info.get("original_url")
    name = main.get("uploader") or main.get("channel") or info.get("uploader") or info.get("channel")
    author_id = main.get("uploader_id") or main.get("channel_id") or info.get("uploader_id")
    author_url = main.get("uploader_url") or main.get("channel_url") or info.get("uploader_url")
    if name or author_id or author_url:
        result.author = Author(name=name, id=str(author_id) if author_id else None, url=author_url)
    _metadata(result, main, info)
    return result


def _metadata(result: MediaResult, main: dict, info: dict) -> None:
    """description, uploadedAt and stats, from the fields yt-dlp fills in where the platform gives them."""
    description = main.get("description") or info.get("description")
    if isinstance(description, str) and description.strip() and description.strip() != result.title:
        result.description = description.strip()[:5000]
    when = main.get("timestamp") or main.get("release_timestamp") or info.get("timestamp")
    result.uploaded_at = iso_from_timestamp(when)
    if result.uploaded_at is None and isinstance(main.get("upload_date"), str) and len(main["upload_date"]) == 8:
        day = main["upload_date"]
        if day.isdigit():
            result.uploaded_at = f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00Z"
    stats = Stats(views=count(main.get("view_count")), likes=count(main.get("like_count")),
                  comments=count(main.get("comment_count")), shares=count(main.get("repost_count")))
    result.stats = stats if stats.known else None

