"""YouTube: watch, youtu.be, Shorts, live replays and embeds, through the warm yt-dlp instance.

yt-dlp picks its own player clients (its defaults use deno and the yt-dlp-ejs solver scripts for the
JavaScript challenges); high qualities come as split DASH video + audio, audio in ``audios[]``.
"""

from __future__ import annotations

from typing import ClassVar

from parsing.recognition import Recognition

from .base import UnsupportedLink
from .ytdlp import YtDlpExtractor


class YouTubeExtractor(YtDlpExtractor):
    platform: ClassVar[str] = "youtube"
    # yt-dlp's defaults: its maintainers keep the client list working as YouTube changes. Tests pin the
    # JS-less "visionos" client (one of those defaults) to replay recorded player responses offline.
    extractor_args: ClassVar[dict[str, dict[str, list[str]]]] = {}

    def ytdlp_url(self, target: Recognition) -> str:
        """The canonical watch URL for the video id (Shorts, live and embeds included)."""
        if not target.id:
            raise UnsupportedLink(reason="unsupported")
        return f"https://www.youtube.com/watch?v={target.id}"

    def ytdlp_ie(self, target: Recognition) -> str | None:
        return "Youtube"
