"""The yt-dlp adapter: normalisation of info dicts, error mapping, the warm instance and its per-task state."""

from __future__ import annotations

import subprocess

import pytest
from celery.signals import worker_init, worker_process_init
from yt_dlp.networking.exceptions import TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from parsing.extractors import ytdlp
from parsing.extractors.base import ContentUnavailable, UnsupportedLink, UpstreamFailure, UpstreamTimeout
from parsing.extractors.headers import download_headers
from parsing.http import BROWSER_UA
from tests.support.ytdlp_replay import replay

TIKTOK_URL = "https://www.tiktok.com/@sunny.kitchen/video/7301234567890123456"
TIKTOK_PAGE = {f"{TIKTOK_URL}*": "tiktok/video_page.html"}


def fmt(**fields):
    return {"protocol": "https", "http_headers": {"User-Agent": "yt-dlp default UA"}, **fields}


# --- normalisation -------------------------------------------------------------------------------------------


def test_split_dash_video_is_a_silent_video_and_its_audio_goes_to_audios():
    info = {"id": "v1", "title": "t", "formats": [
        fmt(url="https://cdn/a.m4a", ext="m4a", vcodec="none", acodec="mp4a.40.2", abr=128),
        fmt(url="https://cdn/v720.mp4", ext="mp4", vcodec="avc1", acodec="none", width=1280, height=720, tbr=2000),
        fmt(url="https://cdn/v1080.mp4", ext="mp4", vcodec="avc1", acodec="none", width=1920, height=1080, tbr=4000),
    ]}
    result = ytdlp.info_to_result(info, platform="youtube")
    assert [v.url for v in result.videos] == ["https://cdn/v1080.mp4", "https://cdn/v720.mp4"]
    assert all(not v.has_audio and v.source == "dash" for v in result.videos)
    assert result.videos[0].quality == "1080p" and result.videos[0].mime_type == "video/mp4"
    assert [(a.url, a.mime_type, a.source, a.bitrate) for a in result.audios] == [
        ("https://cdn/a.m4a", "audio/mp4", "dash", 128000)]


def test_description_upload_time_and_counts_come_along_as_integers():
    info = {"id": "v9", "title": "A title", "description": "  What the video is about.  ", "timestamp": 1764487519,
            "view_count": 1234567, "like_count": "890", "comment_count": float("inf"), "repost_count": -3,
            "formats": [fmt(url="https://cdn/v.mp4", ext="mp4", vcodec="avc1", acodec="mp4a", width=640, height=360)]}
    data = ytdlp.info_to_result(info, platform="youtube").to_dict()
    assert data["description"] == "What the video is about."
    assert data["uploadedAt"] == "2025-11-30T07:25:19Z"
    # Only what reads as a whole non-negative number counts; Infinity and -3 are no counts.
    assert data["stats"] == {"views": 1234567, "likes": 890, "comments": None, "shares": None}
    # Without any of them, the fields are absent (additions only, nothing documented changes).
    bare = ytdlp.info_to_result({"id": "v8", "formats": info["formats"], "upload_date": "20240105"},
                                platform="youtube").to_dict()
    assert "description" not in bare and "stats" not in bare and bare["uploadedAt"] == "2024-01-05T00:00:00Z"


def test_muxed_direct_and_hls_formats_keep_their_source_and_type():
    info = {"id": "v2", "formats": [
        fmt(url="https://cdn/master.m3u8", manifest_url="https://cdn/master.m3u8", ext="mp4", protocol="m3u8_native",
            vcodec="avc1", acodec="mp4a", width=1280, height=720),
        fmt(url="https://cdn/file.webm", ext="webm", vcodec="vp9", acodec="opus", width=640, height=360),
    ]}
    hls, direct = ytdlp.info_to_result(info, platform="twitter").videos
    assert (hls.source, hls.mime_type, hls.has_audio) == ("hls", "application/vnd.apple.mpegurl", True)
    assert (direct.source, direct.mime_type, direct.quality) == ("direct", "video/webm", "360p")


def test_best_first_by_short_side_then_bitrate_portrait_included():
    info = {"id": "v3", "formats": [
        fmt(url=f"https://cdn/{name}", ext="mp4", vcodec="h264", acodec="aac", width=w, height=h, tbr=tbr)
        for name, w, h, tbr in (("540", 576, 1024, 600), ("1080lo", 1080, 1920, 1500), ("1080hi", 1080, 1920, 2300),
                                ("720", 720, 1280, 1100))
    ]}
    result = ytdlp.info_to_result(info, platform="tiktok")
    assert [v.url.rsplit("/", 1)[1] for v in result.videos] == ["1080hi", "1080lo", "720", "540"]
    assert [v.quality for v in result.videos] == ["1080p", "1080p", "720p", "576p"]


def test_storyboards_and_drm_formats_are_dropped_and_all_drm_is_refused():
    info = {"id": "v4", "formats": [
        fmt(url="https://cdn/sb.mhtml", ext="mhtml", protocol="mhtml", vcodec="none", acodec="none"),
        fmt(url="https://cdn/drm.mp4", ext="mp4", vcodec="avc1", acodec="aac", height=1080, has_drm=True),
        fmt(url="https://cdn/ok.mp4", ext="mp4", vcodec="avc1", acodec="aac", height=360),
    ]}
    assert [v.url for v in ytdlp.info_to_result(info, platform="youtube").videos] == ["https://cdn/ok.mp4"]
    locked = {"id": "v5", "formats": [fmt(url="https://cdn/drm.mp4", ext="mp4", vcodec="avc1", has_drm=True)]}
    with pytest.raises(ContentUnavailable) as caught:
        ytdlp.info_to_result(locked, platform="youtube")
    assert caught.value.reason == "drm"


def test_a_carousel_is_flattened_into_videos_and_images():
    info = {"_type": "playlist", "id": "C1", "title": "Video by someone", "description": "Two pictures and a clip",
            "uploader": "someone", "webpage_url": "https://www.instagram.com/p/C1/", "entries": [
                {"id": "e1", "formats": [], "thumbnails": [
                    {"url": "https://cdn/e1_small.jpg", "width": 320, "height": 400},
                    {"url": "https://cdn/e1_full.jpg", "width": 1080, "height": 1350}]},
                {"id": "e2", "duration": 9.5, "formats": [
                    fmt(url="https://cdn/e2.mp4", ext="mp4", vcodec="avc1", acodec="aac", width=1080, height=1920)]},
                {"id": "e3", "thumbnail": "https://cdn/e3.jpg"},
            ]}
    result = ytdlp.info_to_result(info, platform="instagram")
    assert [(i.url, i.width, i.height) for i in result.images] == [
        ("https://cdn/e1_full.jpg", 1080, 1350), ("https://cdn/e3.jpg", None, None)]
    assert [v.url for v in result.videos] == ["https://cdn/e2.mp4"]
    assert result.duration == 9.5
    assert result.title == "Two pictures and a clip"  # a caption platform: the whole text, not "Video by …"
    assert result.url == "https://www.instagram.com/p/C1/" and result.id == "C1"


def test_a_single_item_without_formats_is_not_turned_into_its_thumbnail():
    info = {"id": "v6", "thumbnail": "https://i.ytimg.com/vi/v6/maxresdefault.jpg", "formats": []}
    result = ytdlp.info_to_result(info, platform="youtube")
    assert not result.has_media and result.thumbnail == "https://i.ytimg.com/vi/v6/maxresdefault.jpg"


def test_item_headers_add_the_formats_referer_and_client_user_agent_to_the_platform_headers(monkeypatch):
    from yt_dlp.utils.networking import std_headers

    monkeypatch.setitem(std_headers, "User-Agent", "yt-dlp default UA")
    info = {"id": "v7", "formats": [
        fmt(url="https://cdn/a.mp4", ext="mp4", vcodec="avc1", acodec="aac", height=720,
            http_headers={"User-Agent": "yt-dlp default UA", "Referer": "https://www.bilibili.com/video/BV1/"}),
        fmt(url="https://cdn/b.mp4", ext="mp4", vcodec="avc1", acodec="aac", height=360,
            http_headers={"User-Agent": "com.google.android.apps.youtube.vr.oculus/1.65.10",
                          "X-Forwarded-For": "1.2.3.4"}),
    ]}
    a, b = ytdlp.info_to_result(info, platform="bilibili").videos
    assert a.headers == {**download_headers("bilibili"), "Referer": "https://www.bilibili.com/video/BV1/"}
    assert a.headers["User-Agent"] == BROWSER_UA
    assert b.headers["User-Agent"] == "com.google.android.apps.youtube.vr.oculus/1.65.10"
    assert "X-Forwarded-For" not in b.headers


def test_only_the_anonymous_cdn_cookie_is_passed_on_never_a_session_cookie():
    cookies = "tt_chain_token=abc; Domain=.tiktok.com; Path=/; Secure; sid_tt=SECRET; Domain=.tiktokcdn.com; Path=/"
    info = {"id": "v8", "formats": [fmt(url="https://v16.tiktokcdn.com/v.mp4", ext="mp4", vcodec="h264",
                                        acodec="aac", height=1024, width=576, cookies=cookies)]}
    (video,) = ytdlp.info_to_result(info, platform="tiktok").videos
    assert video.headers["Cookie"] == "tt_chain_token=abc"
    (other,) = ytdlp.info_to_result({**info, "id": "v9"}, platform="instagram").videos
    assert "Cookie" not in other.headers


def test_metadata_title_thumbnail_duration_author():
    info = {"id": "BV1", "title": "A title", "description": "desc", "duration": 183.4,
            "thumbnail": "https://i0.hdslb.com/x.jpg", "uploader": "Up", "uploader_id": 42,
            "webpage_url": "https://www.bilibili.com/video/BV1/",
            "formats": [fmt(url="https://cdn/v.m4s", ext="mp4", vcodec="avc1", acodec="none", height=1080)]}
    result = ytdlp.info_to_result(info, platform="bilibili").to_dict()
    assert {k: result[k] for k in ("platform", "title", "thumbnail", "duration", "id", "url")} == {
        "platform": "bilibili", "title": "A title", "thumbnail": "https://i0.hdslb.com/x.jpg", "duration": 183.4,
        "id": "BV1", "url": "https://www.bilibili.com/video/BV1/"}
    assert result["author"] == {"name": "Up", "id": "42", "url": None}


# --- error mapping -------------------------------------------------------------------------------------------


def download_error(message: str, cause: BaseException | None = None) -> DownloadError:
    original = ExtractorError(message, expected=True, cause=cause)
    return DownloadError(f"ERROR: [site] id: {message}", (type(original), original, None))


@pytest.mark.parametrize("message, error, reason", [
    ("Private video. Sign in if you've been granted access to this video", ContentUnavailable, "private"),
    ("You do not have permission to view this post. Log into an account that has access", ContentUnavailable,
     "private"),
    ("Sign in to confirm your age. This video may be inappropriate for some users.", ContentUnavailable,
     "login_required"),
    ("This content requires login. Use --cookies for the authentication", ContentUnavailable, "login_required"),
    ("Instagram sent an empty media response. Check if this post is accessible", ContentUnavailable,
     "login_required"),
    ("Video unavailable. This video has been removed by the uploader", ContentUnavailable, "deleted"),
    ("Unable to download webpage: HTTP Error 404: Not Found", ContentUnavailable, "deleted"),
    ("The uploader has not made this video available in your country", ContentUnavailable, "region_blocked"),
    ("This live event will begin in a few moments.", ContentUnavailable, "live"),
    ("This video is DRM protected", ContentUnavailable, "drm"),
    ("Sign in to confirm you’re not a bot. Use --cookies-from-browser", UpstreamFailure, "upstream_error"),
    ("Your IP address is blocked from accessing this post", UpstreamFailure, "upstream_error"),
    ("Unable to download JSON metadata: HTTP Error 412: Precondition Failed", UpstreamFailure, "upstream_error"),
    ("Unsupported URL: https://example.com/", UnsupportedLink, "unsupported"),
    ("Unable to download webpage: The read operation timed out", UpstreamTimeout, "upstream_timeout"),
    ("Something nobody has seen before", UpstreamFailure, "upstream_error"),
])
def test_yt_dlp_messages_map_to_typed_errors(message, error, reason):
    mapped = ytdlp.map_error(download_error(message))
    assert type(mapped) is error and mapped.reason == reason


def test_error_types_and_causes_win_over_messages():
    geo = GeoRestrictedError("This video is not available", countries=["US"])
    assert ytdlp.map_error(DownloadError("x", (type(geo), geo, None))).reason == "region_blocked"
    unsupported = UnsupportedError("https://example.com/")
    assert isinstance(ytdlp.map_error(DownloadError("x", (type(unsupported), unsupported, None))), UnsupportedLink)
    timeout = download_error("Unable to download webpage", cause=TransportError(cause=TimeoutError()))
    assert isinstance(ytdlp.map_error(timeout), UpstreamTimeout)


# --- the warm instance and a task's state --------------------------------------------------------------------


def test_extraction_through_the_replay_reuses_one_warm_instance(monkeypatch):
    built = []
    real_build = ytdlp._build
    monkeypatch.setattr(ytdlp, "_build", lambda proxy: built.append(proxy) or real_build(proxy))
    monkeypatch.setattr(ytdlp, "_idle", {})
    with replay(TIKTOK_PAGE) as calls:
        first = ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
        second = ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
    assert built == [None] and len(calls) == 2
    assert first["id"] == second["id"] == "7301234567890123456"
    assert calls[0].impersonate  # TikTok's page fetch asks for a browser impersonation; the replay serves it


@pytest.mark.filterwarnings("ignore::celery.exceptions.FixupWarning")  # sent without a worker instance
@pytest.mark.parametrize("signal", [worker_init, worker_process_init])
def test_the_worker_start_signals_build_the_instance_before_the_first_task(monkeypatch, signal):
    monkeypatch.setattr(ytdlp, "_idle", {})
    signal.send(sender=None)
    [warmed] = ytdlp._idle[None]
    assert ytdlp.warm_ydl("youtube") is warmed and ytdlp.warm_ydl("tiktok") is warmed


def test_each_task_gets_a_fresh_cookie_jar_with_the_operators_cookies(tmp_path, settings):
    jar = tmp_path / "tiktok.txt"
    jar.write_text("# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t2147483647\tsessionid\toperator\n")
    settings.EASYDOWN_COOKIES = {"tiktok": str(jar)}
    page = ("tiktok/video_page.html", 200, {"Set-Cookie": "tt_chain_token=from-task-one; Domain=.tiktok.com; Path=/"})
    with replay({f"{TIKTOK_URL}*": page}) as calls:
        ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
        ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
    assert [c.headers.get("Cookie") for c in calls] == ["sessionid=operator", "sessionid=operator"]
    assert len(ytdlp.warm_ydl("tiktok").cookiejar) == 0  # nothing of a task outlives it
    assert "operator" in jar.read_text()  # the operator's file is read, never written back


def test_per_call_params_apply_to_one_call_only():
    ydl = ytdlp.warm_ydl("tiktok")
    with replay(TIKTOK_PAGE):
        ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok", params={"playlist_items": "1", "noplaylist": False})
    assert "playlist_items" not in ydl.params and ydl.params["noplaylist"] is True


def test_a_live_stream_is_refused_as_live(monkeypatch):
    ydl = ytdlp.warm_ydl("youtube")
    monkeypatch.setattr(ydl, "extract_info", lambda *a, **k: {"id": "x", "is_live": True, "formats": [{"url": "u"}]})
    with pytest.raises(ContentUnavailable) as caught:
        ytdlp.ytdlp_info("https://www.youtube.com/watch?v=xxxxxxxxxxx", platform="youtube")
    assert caught.value.reason == "live"


def test_extraction_never_starts_a_subprocess(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"subprocess started: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    with replay(TIKTOK_PAGE):
        info = ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
    assert info["formats"]


def test_a_link_no_platform_extractor_knows_is_unsupported_and_never_fetched():
    with replay({}) as calls, pytest.raises(UnsupportedLink):
        ytdlp.ytdlp_info("https://example.com/some/video.mp4", platform="tiktok")
    assert calls == []  # the generic extractor is disabled: it would fetch any page a link names


def test_a_timeout_while_fetching_is_an_upstream_timeout():
    with replay({f"{TIKTOK_URL}*": TransportError("timed out", cause=TimeoutError())}), \
            pytest.raises(UpstreamTimeout):
        ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")


def test_a_request_the_replay_does_not_know_fails_the_extraction_and_names_the_url():
    with replay({}) as calls, pytest.raises(UpstreamFailure) as caught:
        ytdlp.ytdlp_info(TIKTOK_URL, platform="tiktok")
    assert "no replay route for GET " + TIKTOK_URL in str(caught.value) and len(calls) == 1


def test_the_replay_follows_redirects_and_is_removed_afterwards():
    routes = {"https://www.tiktok.com/@_/video/7301234567890123456": (None, 301, {"Location": TIKTOK_URL}),
              TIKTOK_URL: "tiktok/video_page.html"}
    with replay(routes) as calls:
        info = ytdlp.ytdlp_info("https://www.tiktok.com/@_/video/7301234567890123456", platform="tiktok")
    assert [c.url for c in calls] == ["https://www.tiktok.com/@_/video/7301234567890123456", TIKTOK_URL]
    assert info["id"] == "7301234567890123456"
    handlers = ytdlp.warm_ydl("tiktok")._request_director.handlers.values()
    assert not any(getattr(h, "_easydown_extra", False) for h in handlers)


def test_a_protected_entry_of_a_playlist_does_not_sink_the_others():
    info = {"_type": "playlist", "id": "P", "entries": [
        {"id": "a", "formats": [fmt(url="https://cdn/drm.mp4", ext="mp4", vcodec="avc1", has_drm=True)]},
        {"id": "b", "formats": [fmt(url="https://cdn/ok.mp4", ext="mp4", vcodec="avc1", acodec="aac", height=720)]},
        {"_type": "url", "url": "https://www.example.com/some/page", "ie_key": "Generic"},
    ]}
    assert [v.url for v in ytdlp.info_to_result(info, platform="twitter").videos] == ["https://cdn/ok.mp4"]
