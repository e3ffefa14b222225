"""X/Twitter: syndication-endpoint posts (photos, videos, GIFs, mixed), tombstones and failures; offline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.twitter import SYNDICATION_URL, TwitterExtractor, js_radix_string, syndication_token
from parsing.http import BROWSER_UA
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twitter"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def extract(url: str):
    return TwitterExtractor().extract(recognize(url))


def test_token_matches_a_token_seen_in_the_wild():
    assert syndication_token("1163218564784017422") == "2ticx4q85hf"


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_token_digits_match_javascript_number_to_string(tweet_id):
    from yt_dlp.jsinterp import js_number_to_string  # an independent implementation of the same JS rule

    value = tweet_id / 1e15 * math.pi
    assert js_radix_string(value, 36) == js_number_to_string(value, 36)


def test_photo_post_returns_every_photo_in_original_size():
    with respx.mock() as mock:
        route = mock.get(SYNDICATION_URL).respond(json=fixture("photos.json"))
        result = extract("https://x.com/harbourlight/status/1835012345678901248?s=20")
    sent = route.calls.last.request
    assert sent.url.params["id"] == "1835012345678901248"
    assert sent.url.params["token"] == syndication_token("1835012345678901248")
    data = result.to_dict()
    assert data["platform"] == "twitter"
    assert data["title"] == "Morning fog over the harbour 🌫️ x2"
    assert data["duration"] == 0
    assert data["videos"] == [] and data["audios"] == []
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [
        ("https://pbs.twimg.com/media/GXa1bC2dEfGhIjK?format=jpg&name=orig", 4032, 3024),
        ("https://pbs.twimg.com/media/GXa1bC3aZyXwVuT?format=png&name=orig", 1080, 1350),
    ]
    assert data["images"][0]["headers"] == {"User-Agent": BROWSER_UA, "Referer": "https://x.com/"}
    assert data["thumbnail"] == "https://pbs.twimg.com/media/GXa1bC2dEfGhIjK.jpg"
    assert data["id"] == "1835012345678901248"
    assert data["url"] == "https://x.com/harbourlight/status/1835012345678901248"
    assert data["author"] == {"name": "Harbour Light", "id": "902211334455667788", "url": "https://x.com/harbourlight"}


def test_video_post_lists_mp4_variants_best_first_then_hls():
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=fixture("video.json"))
        data = extract("https://twitter.com/orbitworks/status/1841532209876543210/video/1").to_dict()
    videos = data["videos"]
    assert [(v["quality"], v["width"], v["height"], v["bitrate"]) for v in videos[:4]] == [
        ("1080p", 1920, 1080, 10368000), ("720p", 1280, 720, 2176000), ("360p", 640, 360, 832000),
        ("270p", 480, 270, 256000),
    ]
    assert all(v["mimeType"] == "video/mp4" and v["source"] == "direct" and v["hasAudio"] for v in videos[:4])
    assert videos[0]["url"].startswith("https://video.twimg.com/ext_tw_video/1841532100000000000/pu/vid/avc1/1920x1080/")
    assert videos[4]["source"] == "hls" and videos[4]["mimeType"] == "application/x-mpegURL"
    assert videos[4]["url"].endswith(".m3u8?tag=12&v=5a1")
    assert all(v["headers"]["Referer"] == "https://x.com/" for v in videos)
    assert data["duration"] == 48.215
    assert data["images"] == []
    assert data["thumbnail"].startswith("https://pbs.twimg.com/ext_tw_video_thumb/")
    assert data["title"] == "Launch day. Watch the whole thing go up 🚀"


def test_mixed_post_returns_photos_videos_and_silent_gifs():
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=fixture("mixed.json"))
        data = extract("https://x.com/clayandkiln/status/1848077665544332211").to_dict()
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [
        ("https://pbs.twimg.com/media/GZq7rS8tUvWxYz1?format=jpg&name=orig", 1200, 1600)]
    assert [(v["quality"], v["width"], v["height"], v["source"], v["hasAudio"]) for v in data["videos"]] == [
        ("720p", 720, 1280, "direct", True),
        ("320p", 320, 568, "direct", True),
        ("HLS", None, None, "hls", True),
        ("270p", 480, 270, "direct", False),  # the GIF: size from original_info, no sound
    ]
    assert data["duration"] == 15.5


def test_deleted_post_answers_404():
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(404, text="")
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://x.com/someone/status/1700000000000000001")
    assert caught.value.reason == "deleted"


@pytest.mark.parametrize("name, reason", [
    ("tombstone_age_restricted.json", "login_required"),
    ("tombstone_protected.json", "private"),
])
def test_tombstones_say_why_the_post_is_hidden(name, reason):
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=fixture(name))
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://x.com/someone/status/1700000000000000002")
    assert caught.value.reason == reason


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            extract("https://x.com/someone/status/1700000000000000003")


def test_a_post_without_an_id_is_an_upstream_failure_before_any_fallback():
    from parsing.extractors.twitter import fetch_tweet

    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json={"__typename": "Tweet", "text": "no id"})
        with pytest.raises(UpstreamFailure):
            fetch_tweet("1700000000000000004")


# --- yt-dlp fallback (replayed through yt-dlp's request-handler interface) and short links ---------------

GUEST = "POST https://api.x.com/1.1/guest/activate.json"
GRAPHQL = "https://x.com/i/api/graphql/*/TweetResultByRestId?*"


def test_rate_limited_syndication_falls_back_to_ytdlp_for_the_video():
    from tests.support.ytdlp_replay import replay

    with respx.mock() as mock, replay({GUEST: "twitter/guest_activate.json", GRAPHQL: "twitter/graphql_video.json"}) \
            as calls:
        mock.get(SYNDICATION_URL).respond(429, json={"errors": [{"message": "Rate limit exceeded", "code": 88}]})
        data = extract("https://x.com/orbitworks/status/1841532209876543210").to_dict()
    assert any("1841532209876543210" in c.url for c in calls if "TweetResultByRestId" in c.url)
    assert [(v["quality"], v["width"], v["height"], v["source"]) for v in data["videos"]] == [
        ("1080p", 1920, 1080, "direct"), ("720p", 1280, 720, "direct"), ("360p", 640, 360, "direct"),
        ("270p", 480, 270, "direct")]
    assert all(v["headers"]["Referer"] == "https://x.com/" and v["mimeType"] == "video/mp4" for v in data["videos"])
    assert data["duration"] == 48.215
    assert data["author"]["name"] == "Orbit Works"
    assert data["title"].startswith("Launch day. Watch the whole thing go up")


def test_malformed_syndication_and_api_answers_are_an_upstream_failure():
    from tests.support.ytdlp_replay import replay

    with respx.mock() as mock, replay({GUEST: "twitter/guest_activate.json", GRAPHQL: (b"<html>oops</html>", 200, {})}):
        mock.get(SYNDICATION_URL).respond(200, text="<html>Something went wrong</html>")
        with pytest.raises(UpstreamFailure):
            extract("https://x.com/orbitworks/status/1841532209876543210")


def test_tco_short_link_expands_to_the_post():
    from parsing.expansion import resolve

    target = recognize("look at this https://t.co/Vd9xKq2LmN")
    assert target.short
    with respx.mock() as mock:
        mock.get("https://t.co/Vd9xKq2LmN").respond(
            301, headers={"Location": "https://x.com/orbitworks/status/1841532209876543210/video/1"})
        mock.get(SYNDICATION_URL).respond(json=fixture("video.json"))
        data = TwitterExtractor().extract(resolve(target)).to_dict()
    assert data["id"] == "1841532209876543210"
    assert data["videos"][0]["quality"] == "1080p"


def test_age_restricted_post_is_read_by_ytdlp_with_the_operators_cookies(tmp_path, settings):
    from tests.support.ytdlp_replay import replay

    cookies = tmp_path / "x-cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       ".x.com\tTRUE\t/\tTRUE\t2145916800\tauth_token\tfeedc0ffee\n"
                       ".x.com\tTRUE\t/\tTRUE\t2145916800\tct0\tcsrf123\n")
    settings.EASYDOWN_COOKIES = {"twitter": str(cookies)}
    with respx.mock() as mock, replay({GRAPHQL: "twitter/graphql_video.json"}) as calls:
        mock.get(SYNDICATION_URL).respond(json=fixture("tombstone_age_restricted.json"))
        data = extract("https://x.com/orbitworks/status/1841532209876543210").to_dict()
    assert not any("guest/activate" in c.url for c in calls)  # a session, not a guest token
    api_call = next(c for c in calls if "TweetResultByRestId" in c.url)
    assert "auth_token=feedc0ffee" in api_call.headers.get("Cookie", "")
    assert data["videos"][0]["quality"] == "1080p"


def test_video_listed_without_variants_is_filled_from_ytdlp_and_photos_are_kept():
    from tests.support.ytdlp_replay import replay

    tweet = fixture("mixed.json")
    tweet["id_str"] = "1841532209876543210"
    tweet["mediaDetails"] = [tweet["mediaDetails"][0], {**tweet["mediaDetails"][1], "video_info": {"variants": []}}]
    with respx.mock() as mock, replay({GUEST: "twitter/guest_activate.json", GRAPHQL: "twitter/graphql_video.json"}):
        mock.get(SYNDICATION_URL).respond(json=tweet)
        data = extract("https://x.com/clayandkiln/status/1841532209876543210").to_dict()
    assert [i["width"] for i in data["images"]] == [1200]
    assert [v["quality"] for v in data["videos"]] == ["1080p", "720p", "360p", "270p"]
    assert data["duration"] == 48.215


def test_photos_are_still_answered_when_ytdlp_cannot_fill_a_missing_video():
    from tests.support.ytdlp_replay import replay

    tweet = fixture("mixed.json")
    tweet["mediaDetails"] = [tweet["mediaDetails"][0], {**tweet["mediaDetails"][1], "video_info": {"variants": []}}]
    with respx.mock() as mock, replay({GUEST: (b"", 503, {})}):
        mock.get(SYNDICATION_URL).respond(json=tweet)
        data = extract("https://x.com/clayandkiln/status/1848077665544332211").to_dict()
    assert len(data["images"]) == 1 and data["videos"] == []


# --- quoted posts, shape errors, posts without playable media ------------------------------------------------


def quoting(quoted: dict) -> dict:
    """The photo post of photos.json quoting ``quoted`` (as syndication nests it)."""
    return {**fixture("photos.json"), "quoted_tweet": {k: v for k, v in quoted.items() if k != "__typename"}}


def test_quoted_post_media_come_after_the_posts_own_marked_quoted():
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=quoting(fixture("mixed.json")))
        data = extract("https://x.com/harbourlight/status/1835012345678901248").to_dict()
    assert [(i["url"], i.get("quoted", False)) for i in data["images"]] == [
        ("https://pbs.twimg.com/media/GXa1bC2dEfGhIjK?format=jpg&name=orig", False),
        ("https://pbs.twimg.com/media/GXa1bC3aZyXwVuT?format=png&name=orig", False),
        ("https://pbs.twimg.com/media/GZq7rS8tUvWxYz1?format=jpg&name=orig", True),
    ]
    assert [(v["quality"], v["source"], v["quoted"]) for v in data["videos"]] == [
        ("720p", "direct", True), ("320p", "direct", True), ("HLS", "hls", True), ("270p", "direct", True)]
    assert "quoted" not in data["images"][0]  # only quoted items say so
    assert data["duration"] == 15.5  # the only video is the quoted one
    assert data["thumbnail"] == "https://pbs.twimg.com/media/GXa1bC2dEfGhIjK.jpg"  # the post's own first
    assert data["id"] == "1835012345678901248"


def test_a_post_without_media_of_its_own_gives_the_quoted_posts():
    tweet = quoting(fixture("video.json"))
    tweet["mediaDetails"] = []
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=tweet)
        data = extract("https://x.com/harbourlight/status/1835012345678901248").to_dict()
    assert data["images"] == []
    assert data["videos"] and all(v["quoted"] for v in data["videos"])
    assert data["videos"][0]["quality"] == "1080p"
    assert data["duration"] == 48.215
    assert data["thumbnail"].startswith("https://pbs.twimg.com/ext_tw_video_thumb/")


def test_a_quoted_tombstone_adds_nothing():
    tweet = quoting({"tombstone": {"text": {"text": "This Post is from a suspended account."}}})
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(json=tweet)
        data = extract("https://x.com/harbourlight/status/1835012345678901248").to_dict()
    assert len(data["images"]) == 2 and data["videos"] == []


def test_infinite_numbers_in_a_post_are_not_an_untyped_error():
    text = json.dumps(fixture("video.json")).replace('"duration_millis": 48215', '"duration_millis": Infinity')
    assert "Infinity" in text
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(200, text=text, headers={"Content-Type": "application/json"})
        data = extract("https://twitter.com/orbitworks/status/1841532209876543210").to_dict()
    assert data["videos"][0]["quality"] == "1080p"
    assert data["duration"] == 0  # unknown, not infinite


@pytest.mark.parametrize("change", [
    {"mediaDetails": 5},
    {"mediaDetails": [{"type": "video", "video_info": {"variants": 5}}]},
    {"mediaDetails": [{"type": "photo", "media_url_https": "https://pbs.twimg.com/media/A.jpg",
                       "original_info": {"width": float("inf"), "height": 10}}]},
    {"mediaDetails": [{"type": "video", "video_info": {"duration_millis": float("inf"), "variants": [
        {"content_type": "video/mp4", "url": "https://video.twimg.com/a/vid/avc1/1280x720/b.mp4", "bitrate": "x"}]}}]},
    {"quoted_tweet": {"mediaDetails": {"type": "photo"}}},
    {"quoted_tweet": 7},
    {"id_str": None},
])
def test_tweet_shapes_give_a_result_or_a_typed_error(change):
    from parsing.extractors.twitter import tweet_to_result

    try:
        result, _missing = tweet_to_result({**fixture("photos.json"), **change})
    except UpstreamFailure:
        return
    data = result.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_an_unreadable_media_list_goes_to_ytdlp():
    from tests.support.ytdlp_replay import replay

    tweet = {**fixture("video.json"), "mediaDetails": {"not": "a list"}}
    with respx.mock() as mock, replay({GUEST: "twitter/guest_activate.json", GRAPHQL: "twitter/graphql_video.json"}):
        mock.get(SYNDICATION_URL).respond(json=tweet)
        data = extract("https://x.com/orbitworks/status/1841532209876543210").to_dict()
    assert [v["quality"] for v in data["videos"]] == ["1080p", "720p", "360p", "270p"]


def test_video_post_whose_video_cannot_be_resolved_is_no_media_despite_its_cover():
    from tests.support.ytdlp_replay import replay

    tweet = fixture("video.json")
    tweet["mediaDetails"][0]["video_info"]["variants"] = []
    assert tweet["mediaDetails"][0]["media_url_https"]  # the cover is known ...
    legacy = {"full_text": "Launch day", "id_str": "1841532209876543210"}  # the post, without any media
    no_formats = {"data": {"tweetResult": {"result": {"__typename": "Tweet", "rest_id": "1841532209876543210",
                                                      "legacy": legacy}}}}
    answer = (json.dumps(no_formats).encode(), 200, {})
    with respx.mock() as mock, replay({GUEST: "twitter/guest_activate.json", GRAPHQL: answer}):
        mock.get(SYNDICATION_URL).respond(json=tweet)
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://x.com/orbitworks/status/1841532209876543210")
    assert caught.value.reason == "no_media"  # ... but the customer asked for the video


def test_a_posts_unresolved_video_is_not_answered_with_the_quoted_posts_media():
    from tests.support.ytdlp_replay import replay

    tweet = quoting(fixture("photos.json"))
    tweet["mediaDetails"] = [{**fixture("video.json")["mediaDetails"][0], "video_info": {"variants": []}}]
    with respx.mock() as mock, replay({GUEST: (b"", 503, {})}):
        mock.get(SYNDICATION_URL).respond(json=tweet)
        with pytest.raises((ContentUnavailable, UpstreamFailure)):
            extract("https://x.com/harbourlight/status/1835012345678901248")


def test_an_answer_nested_deeper_than_the_parser_goes_is_a_typed_failure():
    from parsing.extractors.twitter import fetch_tweet

    deep = '{"__typename": "Tweet", "id_str": "1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with respx.mock() as mock:
        mock.get(SYNDICATION_URL).respond(200, text=deep, headers={"Content-Type": "application/json"})
        with pytest.raises(UpstreamFailure):
            fetch_tweet("1700000000000000005")
