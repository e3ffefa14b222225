"""AcFun videos (``/v/ac<n>``, parts ``ac<n>_<p>``, the mobile ``?ac=`` form) and bangumi episodes, through
the warm yt-dlp instance.

yt-dlp reads the page's ``window.videoInfo`` (``window.bangumiData`` for bangumi): title, uploader, cover,
counts, and ``currentVideoInfo.ksPlayJson``, whose ``adaptationSet[0].representation[]`` are HLS renditions
(one m3u8 each). Downloads need ``Referer: https://www.acfun.cn/``.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from parsing.recognition import Recognition
from parsing.schema import MediaResult

from .base import ContentUnavailable, UnsupportedLink
from .pagedata import https
from .ytdlp import YtDlpExtractor


class AcfunExtractor(YtDlpExtractor):
    platform: ClassVar[str] = "acfun"

    def ytdlp_url(self, target: Recognition) -> str:
        """The www.acfun.cn page yt-dlp knows for the recognised video or episode (mobile links included)."""
        if not target.id or target.kind not in ("video", "bangumi"):
            raise UnsupportedLink(reason="unsupported")
        if target.kind == "video":
            return f"https://www.acfun.cn/v/{target.id}"
        part = parse_qs(urlsplit(target.url or "").query).get("ac", [""])[0]
        return f"https://www.acfun.cn/bangumi/{target.id}" + (f"?ac={part}" if part.isdigit() else "")

    def ytdlp_ie(self, target: Recognition) -> str | None:
        return "AcFunVideo" if target.kind == "video" else "AcFunBangumi"

    def extract(self, target: Recognition) -> MediaResult:
        result = super().extract(target)
        if not result.videos:
            raise ContentUnavailable("the video has no playable stream", reason="no_media")
        if result.thumbnail:
            result.thumbnail = https(result.thumbnail)
        if result.author and result.author.id and not result.author.url:
            result.author.url = f"https://www.acfun.cn/u/{result.author.id}"
        return result
