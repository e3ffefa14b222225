"""Bilibili: BV/av videos (any host: www, m., share /s/video, list pages with a bvid), bangumi and
cheese (course) episodes and seasons, through the warm yt-dlp instance.

Streams are DASH: video-only renditions in ``videos[]`` (hasAudio false) and the audio renditions in
``audios[]``; downloads need ``Referer: https://www.bilibili.com/``.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from parsing.recognition import Recognition
from parsing.schema import MediaResult

from .base import UnsupportedLink
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
