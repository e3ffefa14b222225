"""YouTube: watch, youtu.be, Shorts, live replays and embeds, through the warm yt-dlp instance; for /live a
stream that is live now (a watch link or a channel's /live page), for /collection a playlist listed flat.

yt-dlp picks its own player clients (its defaults use deno and the yt-dlp-ejs solver scripts for the
JavaScript challenges); high qualities come as split DASH video + audio, audio in ``audios[]``.
"""

from __future__ import annotations

from typing import ClassVar

from parsing.recognition import Recognition
from parsing.schema import CollectionPage, LiveResult

from .base import UnsupportedLink
from .ytdlp import YtDlpExtractor
from .ytdlp.operations import ytdlp_collection, ytdlp_live


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

    def live(self, target: Recognition) -> LiveResult:
        """The stream live now at a watch link (kind "live") or on a channel's /live page ("channel_live")."""
        if target.kind == "live" and target.id:
            return ytdlp_live(f"https://www.youtube.com/watch?v={target.id}", platform=self.platform,
                              ie_key="Youtube", extractor_args=self.extractor_args or None)
        if target.kind == "channel_live" and target.url:
            # The channel's /live page names its current stream; yt-dlp follows it to the watch page.
            return ytdlp_live(target.url, platform=self.platform, ie_key="YoutubeTab",
                              extractor_args=self.extractor_args or None)
        raise UnsupportedLink(reason="unsupported")

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        """One page of the playlist (``list=``), listed flat: one listing, never a fetch per video."""
        if target.kind != "playlist" or not target.id:
            raise UnsupportedLink(reason="unsupported")
        return ytdlp_collection(f"https://www.youtube.com/playlist?list={target.id}", platform=self.platform,
                                page=page, item_url=_watch_url, ie_key="YoutubeTab",
                                extractor_args=self.extractor_args or None)


def _watch_url(entry: dict) -> str | None:
    """The watch link of a flat playlist entry (a link /parse accepts), None for anything but a video."""
    video_id = entry.get("id")
    if not isinstance(video_id, str) or len(video_id) != 11 or entry.get("ie_key") not in (None, "Youtube"):
        return None
    return f"https://www.youtube.com/watch?v={video_id}"
