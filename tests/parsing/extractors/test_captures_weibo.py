"""Weibo: real statuses/show answers (../shared/captures/weibo) replayed through the extractor, and mutated
into the shapes platforms break into. The expected media are read from each capture, never copied here."""

from __future__ import annotations

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors.base import ContentUnavailable
from parsing.extractors.weibo import AJAX_URL, WeiboExtractor, status_to_result
from parsing.recognition import recognize
from parsing.schema import MediaResult
from tests.support.mutations import assert_only_typed_errors, load_capture, mutated

PICTURES = "weibo/ajax_statuses_show_pics18_2026-06.json"
VIDEO = "weibo/ajax_statuses_show_video_2026-06.json"
LIVE = "weibo/ajax_statuses_show_livephoto_2026-06.json"
REPOST = "weibo/ajax_statuses_show_retweet_video_2026-06.json"
TEXT = "weibo/ajax_statuses_show_text_2026-06.json"


def replay(status: dict) -> dict:
    """extract() on the post's own link, the statuses API answering with the capture."""
    with respx.mock() as mock:
        route = mock.get(AJAX_URL).respond(json=status)
        data = WeiboExtractor().extract(recognize(f"https://weibo.com/{status['user']['idstr']}/{status['mblogid']}"))
    assert route.calls.last.request.url.params["id"] == status["mblogid"]
    return data.to_dict()


def largest(status: dict) -> list[tuple[str, int, int]]:
    """Each picture's "largest" rendition, in pic_ids order (the biggest size Weibo keeps)."""
    infos = status["pic_infos"]
    return [(infos[p]["largest"]["url"], infos[p]["largest"]["width"], infos[p]["largest"]["height"])
            for p in status["pic_ids"]]


def playback(status: dict) -> list[tuple[str, str, int, int]]:
    return [(e["play_info"]["url"], e["meta"]["quality_label"], e["play_info"]["width"], e["play_info"]["height"])
            for e in status["page_info"]["media_info"]["playback_list"]]


def test_eighteen_picture_post_gives_every_picture_in_its_largest_size_in_order():
    status = load_capture(PICTURES)
    data = replay(status)
    assert len(status["pic_ids"]) == 18
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == largest(status)
    assert data["videos"] == [] and data["audios"] == [] and data["duration"] == 0
    assert data["thumbnail"] == data["images"][0]["url"]
    assert data["id"] == status["idstr"]
    assert data["title"] == status["text_raw"].strip()
    assert data["author"]["name"] == status["user"]["screen_name"]


def test_video_post_gives_its_playback_renditions_best_first_and_its_cover_as_thumbnail():
    status = load_capture(VIDEO)
    data = replay(status)
    expected = playback(status)
    assert len(expected) == 2 and expected[0][2] * expected[0][3] > expected[1][2] * expected[1][3]
    assert [(v["url"], v["quality"], v["width"], v["height"]) for v in data["videos"]] == expected
    assert all(v["mimeType"] == "video/mp4" and v["source"] == "direct" and v["hasAudio"] for v in data["videos"])
    assert data["images"] == []
    assert data["duration"] == status["page_info"]["media_info"]["duration"]
    assert data["thumbnail"] == status["page_info"]["page_pic"]


def test_live_photo_post_gives_each_still_and_its_clip():
    status = load_capture(LIVE)
    infos = status["pic_infos"]
    assert all(infos[p]["type"] == "livephoto" for p in status["pic_ids"])
    data = replay(status)
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == largest(status)
    assert [v["url"] for v in data["videos"]] == [infos[p]["video"] for p in status["pic_ids"]]
    assert all(v["mimeType"] == "video/quicktime" and v["quality"] is None and v["width"] is None
               for v in data["videos"])
    assert data["duration"] == 0


def test_repost_gives_the_video_it_carries():
    status = load_capture(REPOST)
    assert status["retweeted_status"]["page_info"]["object_type"] == "video"
    data = replay(status)
    assert [(v["url"], v["quality"], v["width"], v["height"]) for v in data["videos"]] == playback(status)
    assert data["images"] == []
    assert data["id"] == status["idstr"]  # the repost itself, not the post it reposts
    assert data["title"] == status["text_raw"].strip()


def test_text_only_post_is_no_media():
    status = load_capture(TEXT)
    with respx.mock() as mock, pytest.raises(ContentUnavailable) as caught:
        mock.get(AJAX_URL).respond(json=status)
        WeiboExtractor().extract(recognize(f"https://weibo.com/{status['user']['idstr']}/{status['mblogid']}"))
    assert caught.value.reason == "no_media"



def check_media(result: MediaResult | None) -> None:
    """A normalised result carries only usable items: URL strings, label strings, sizes as ints."""
    if result is None:
        return
    for item in (*result.images, *result.videos):
        assert isinstance(item.url, str) and item.url
        assert item.width is None or isinstance(item.width, int)
    assert all(v.quality is None or isinstance(v.quality, str) for v in result.videos)
    assert isinstance(result.title, str) and isinstance(result.duration, int | float)


@pytest.mark.parametrize("name", [PICTURES, VIDEO, LIVE, REPOST, TEXT])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_statuses_give_a_result_or_a_typed_error(name, data):
    payload = data.draw(mutated(load_capture(name)))
    check_media(assert_only_typed_errors(lambda: status_to_result(payload)))


def test_a_post_carries_its_counts_and_its_time_in_utc():
    status = load_capture(VIDEO)
    data = status_to_result(status).to_dict()
    assert data["stats"] == {"views": status["page_info"]["media_info"]["online_users_number"],
                             "likes": status["attitudes_count"], "comments": status["comments_count"],
                             "shares": status["reposts_count"]}
    assert all(isinstance(value, int) for value in data["stats"].values())
    # "Mon Nov 17 16:04:01 +0800 2025" is 08:04:01 UTC.
    assert status["created_at"] == "Mon Nov 17 16:04:01 +0800 2025"
    assert data["uploadedAt"] == "2025-11-17T08:04:01Z"
