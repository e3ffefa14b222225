"""X: real syndication tweet-result answers (../shared/captures/twitter) replayed through the extractor, and
mutated into the shapes platforms break into. The expected media are read from each capture."""

from __future__ import annotations

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors.twitter import SYNDICATION_URL, TwitterExtractor, syndication_token, tweet_to_result
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, load_capture, mutated

QUOTING = "twitter/syndication_tweet_result_photo_quoted_2026-03.json"
PHOTO = "twitter/syndication_tweet_result_photo_2023-03.json"


def replay(tweet: dict) -> dict:
    """extract() on the post's own link, the syndication endpoint answering with the capture."""
    with respx.mock() as mock:
        route = mock.get(SYNDICATION_URL).respond(json=tweet)
        data = TwitterExtractor().extract(
            recognize(f"https://x.com/{tweet['user']['screen_name']}/status/{tweet['id_str']}")).to_dict()
    assert route.calls.last.request.url.params["token"] == syndication_token(tweet["id_str"])
    return data


def original_size(media_url: str) -> str:
    """pbs.twimg.com/media/<name>.jpg in its original size: the extension moves to format=, name=orig."""
    base, ext = media_url.rsplit(".", 1)
    return f"{base}?format={ext}&name=orig"


def photos(details: list[dict]) -> list[tuple[str, int, int]]:
    return [(original_size(m["media_url_https"]), m["original_info"]["width"], m["original_info"]["height"])
            for m in details if m["type"] == "photo"]


def test_photo_post_quoting_a_video_gives_its_photo_then_the_quoted_video_marked_quoted():
    tweet = load_capture(QUOTING)
    quoted = tweet["quoted_tweet"]
    data = replay(tweet)
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == photos(tweet["mediaDetails"])
    assert all("quoted" not in i for i in data["images"])  # the post's own photo
    [video_media] = [m for m in quoted["mediaDetails"] if m["type"] == "video"]
    variants = video_media["video_info"]["variants"]
    mp4 = sorted((v for v in variants if v["content_type"] == "video/mp4"), key=lambda v: v["bitrate"], reverse=True)
    hls = [v["url"] for v in variants if v["content_type"] == "application/x-mpegURL"]
    assert [v["url"] for v in data["videos"]] == [v["url"] for v in mp4] + hls
    assert [v["bitrate"] for v in data["videos"][:len(mp4)]] == [v["bitrate"] for v in mp4]
    assert [v["quality"] for v in data["videos"]] == ["1080p", "720p", "360p", "270p", "HLS"]
    assert all(v["quoted"] is True for v in data["videos"])
    assert data["duration"] == video_media["video_info"]["duration_millis"] / 1000
    assert data["thumbnail"] == tweet["mediaDetails"][0]["media_url_https"]
    start, end = tweet["display_text_range"]
    assert data["title"] == tweet["text"][start:end].strip()
    assert data["id"] == tweet["id_str"] and data["author"]["name"] == tweet["user"]["name"]


def test_photo_post_gives_its_photo_in_original_size():
    tweet = load_capture(PHOTO)
    data = replay(tweet)
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == photos(tweet["mediaDetails"])
    assert data["videos"] == [] and data["duration"] == 0
    start, end = tweet["display_text_range"]
    assert data["title"] == tweet["text"][start:end].strip()
    assert not data["title"].endswith(tweet["mediaDetails"][0]["url"])  # the t.co link for the photo is dropped



@pytest.mark.parametrize("name", [QUOTING, PHOTO])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_posts_give_a_result_or_a_typed_error(name, data):
    payload = data.draw(mutated(load_capture(name)))
    outcome = assert_only_typed_errors(lambda: tweet_to_result(payload))
    if outcome is not None:
        result, missing = outcome
        assert isinstance(missing, int)
        for item in (*result.images, *result.videos):
            assert isinstance(item.url, str) and item.url
            assert item.width is None or isinstance(item.width, int)
        assert isinstance(result.title, str) and isinstance(result.duration, int | float)


def test_a_post_carries_its_counts_and_its_time():
    tweet = load_capture(QUOTING)
    data = tweet_to_result(tweet)[0].to_dict()
    assert data["stats"] == {"views": None, "likes": tweet["favorite_count"], "comments": tweet["conversation_count"],
                             "shares": None}  # the syndication gives no view or repost count for this post
    assert tweet["created_at"] == "2026-03-12T14:02:40.000Z" and data["uploadedAt"] == "2026-03-12T14:02:40Z"
