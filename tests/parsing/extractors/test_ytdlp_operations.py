"""/live and /collection through the embedded yt-dlp: TikTok rooms replayed through yt-dlp's own extractor,
and the normalisation of live streams and flat playlists from info dicts (edge cases no page shows). YouTube
streams and playlists replayed through yt-dlp's own extractors: test_youtube_live_and_playlists.py."""

from __future__ import annotations

import pytest
from yt_dlp.networking.exceptions import TransportError
from yt_dlp.utils import DownloadError, UserNotLive

from parsing.extractors.base import ContentUnavailable, ExtractorError, UpstreamFailure, UpstreamTimeout
from parsing.extractors.tiktok import TikTokExtractor
from parsing.extractors.ytdlp import map_error
from parsing.extractors.ytdlp.operations import info_to_collection, info_to_live
from parsing.recognition import recognize
from tests.support.ytdlp_replay import replay

PROFILE = "https://www.tiktok.com/@night.radio"
ROOM_INFO = "https://webcast.tiktok.com/webcast/room/info*"


def tiktok_live():
    return TikTokExtractor().live(recognize("https://www.tiktok.com/@night.radio/live?lang=en", "live"))


def test_a_tiktok_room_gives_its_flv_and_hls_streams():
    with replay({PROFILE: "tiktok/live_profile.html", ROOM_INFO: "tiktok/live_room_info.json"}) as calls:
        data = tiktok_live().to_dict()
    assert "room_id=7442209876543210987" in calls[1].url
    assert (data["platform"], data["id"], data["title"]) == ("tiktok", "7442209876543210987", "late night lofi & chat")
    assert data["author"]["name"] == "night.radio" and data["author"]["url"] == PROFILE
    kinds = {(s["format"], s["url"].split("?")[0].rsplit("/", 1)[1]) for s in data["streams"]}
    assert ("flv", "stream-3284_or4.flv") in kinds and ("hls", "index.m3u8") in kinds
    assert ("flv", "stream-3284_hd.flv") in kinds
    assert data["streams"][0]["headers"]["Referer"] == "https://www.tiktok.com/"


def test_a_tiktok_room_that_ended_is_offline():
    with replay({PROFILE: "tiktok/live_profile.html", ROOM_INFO: "tiktok/live_room_ended.json"}), \
            pytest.raises(ContentUnavailable) as caught:
        tiktok_live()
    assert caught.value.reason == "offline"


def test_a_tiktok_streamer_that_does_not_exist_is_deleted():
    with replay({PROFILE: (b"<html>Couldn't find this account</html>", 404, {})}), \
            pytest.raises(ContentUnavailable) as caught:
        tiktok_live()
    assert caught.value.reason == "deleted"


def test_a_malformed_tiktok_room_answer_is_a_typed_error():
    with replay({PROFILE: "tiktok/live_profile.html", ROOM_INFO: (b"<html>blocked</html>", 200, {}),
                 "https://www.tiktok.com/@night.radio/live*": (b"<html></html>", 200, {})}), \
            pytest.raises(ExtractorError):
        tiktok_live()


def test_a_tiktok_room_that_times_out_is_an_upstream_timeout():
    with replay({PROFILE: TransportError("timed out", cause=TimeoutError())}), pytest.raises(UpstreamTimeout):
        tiktok_live()


def test_not_live_errors_are_offline():
    assert map_error(DownloadError("ERROR: x", exc_info=(UserNotLive, UserNotLive(), None))).reason == "offline"
    assert map_error(DownloadError("ERROR: [BiliLive] 196: Streamer is not live")).reason == "offline"


def test_live_without_hls_or_flv_is_no_media_and_a_malformed_info_is_an_upstream_failure():
    with pytest.raises(ContentUnavailable) as caught:
        info_to_live({"id": "x", "formats": [{"url": "https://x/v.mp4", "ext": "mp4"}]}, platform="youtube")
    assert caught.value.reason == "no_media"
    with pytest.raises(UpstreamFailure):
        info_to_live({"id": "x", "formats": 5}, platform="youtube")


def _flat(start: int, count: int, playlist_count: int | None = 120) -> dict:
    return {"_type": "playlist", "id": "PLBCF2DAC6FFB574DE", "title": "Lectures", "uploader": "MIT",
            "playlist_count": playlist_count, "webpage_url": "https://www.youtube.com/playlist?list=PLBCF2DAC6FFB574DE",
            "entries": [{"_type": "url", "ie_key": "Youtube", "id": f"vid{n:08d}", "title": f"Lecture {n}",
                         "duration": 3000 + n, "url": f"https://www.youtube.com/watch?v=vid{n:08d}",
                         "thumbnails": [{"url": f"https://i.ytimg.com/vi/vid{n:08d}/hqdefault.jpg"}]}
                        for n in range(start, start + count)]}


def test_a_playlist_without_a_count_has_a_next_page_only_when_the_look_ahead_entry_came():
    page = info_to_collection(_flat(1, 51, None), platform="youtube", page=1, item_url=lambda e: e["url"])
    assert (page.total, page.next_page, len(page.items)) == (51, 2, 50)
    last = info_to_collection(_flat(51, 7, None), platform="youtube", page=2, item_url=lambda e: e["url"])
    assert (last.total, last.next_page) == (57, None)


def test_a_playlist_page_past_the_end_is_no_such_page_and_an_empty_one_no_media():
    with pytest.raises(ContentUnavailable) as caught:
        info_to_collection(_flat(1, 0), platform="youtube", page=4, item_url=lambda e: e["url"])
    assert caught.value.reason == "no_such_page"
    with pytest.raises(ContentUnavailable) as caught:
        info_to_collection(_flat(1, 0), platform="youtube", page=1, item_url=lambda e: e["url"])
    assert caught.value.reason == "no_media"


def test_a_listing_that_is_not_a_playlist_is_an_upstream_failure():
    with pytest.raises(UpstreamFailure):
        info_to_collection({"_type": "video", "id": "x"}, platform="youtube", page=1, item_url=lambda e: None)
