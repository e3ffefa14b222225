"""Douyin: real payloads other public projects saved (../shared/captures/douyin), replayed through our own
normalisation, with the expected media read from the capture itself. Skipped where the captures are absent.

The ``aweme/detail`` item is the same post object the share page's ``item_list[0]`` carries, so it goes
through ``_result`` as it is; the share-page excerpt goes through ``extract()`` with respx serving it.
"""

from __future__ import annotations

import datetime as dt

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors import douyin
from parsing.extractors.base import ContentUnavailable
from parsing.extractors.douyin import DouyinExtractor, _result
from parsing.extractors.pagedata import embedded_json
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, capture_path, load_capture, mutated

DETAIL = {
    "video": "douyin/aweme_detail_video_2026-08.json",
    "note": "douyin/aweme_detail_note_2026-08.json",
    "note_live": "douyin/aweme_detail_note_live_2026-08.json",
    "slide": "douyin/aweme_detail_slide_2026-08.json",
    "long_note": "douyin/aweme_detail_long_note_2026-08.json",
}
SHARE_PAGE = "douyin/iesdouyin_share_video_router_data_2025-11.excerpt.html"
SILENT = "images_no_sound_volume_audio_file"


def detail(name: str) -> dict:
    return load_capture(DETAIL[name])["aweme_detail"]


def first_jpeg(url_list: list[str]) -> str:
    """The capture's first JPEG address of a picture (its list starts with WebP ones)."""
    return next(u for u in url_list if ".jpeg?" in u)


def clip_url(picture: dict) -> str:
    """The clip address we expect: the only rendition of the clip (checked), as the capture lists it."""
    [rendition] = picture["video"]["bit_rate"]
    return rendition["play_addr"]["url_list"][0]



def assert_douyin_headers(items: list[dict]) -> None:
    assert items and all(i["headers"]["Referer"] == "https://www.douyin.com/" for i in items)


# --- replays: exact media per capture --------------------------------------------------------------------------


def test_video_detail_gives_each_rendition_once_best_first():
    item = detail("video")
    assert (item["aweme_type"], item["media_type"]) == (0, 4) and not item["images"]
    renditions = item["video"]["bit_rate"]
    assert len(renditions) == 3 and len({(r["play_addr"]["width"], r["play_addr"]["height"]) for r in renditions}) == 1
    data = _result(item, "0").to_dict()
    # Same frame everywhere: the higher bitrate first. play_addr is one of them (listed once).
    best_first = sorted(renditions, key=lambda r: -r["bit_rate"])
    assert [v["url"] for v in data["videos"]] == [r["play_addr"]["url_list"][0] for r in best_first]
    assert item["video"]["play_addr"]["url_list"][0] in [v["url"] for v in data["videos"]]
    assert [v["bitrate"] for v in data["videos"]] == [r["bit_rate"] for r in best_first]
    width, height = renditions[0]["play_addr"]["width"], renditions[0]["play_addr"]["height"]
    assert {(v["width"], v["height"], v["quality"]) for v in data["videos"]} == {
        (width, height, f"{min(width, height)}p")}
    assert_douyin_headers(data["videos"])
    assert data["images"] == [] and data["audios"] == []
    assert data["duration"] == item["video"]["duration"] / 1000
    assert data["thumbnail"] == item["video"]["cover"]["url_list"][0]
    assert (data["id"], data["url"]) == (item["aweme_id"], f"https://www.douyin.com/video/{item['aweme_id']}")
    assert data["title"] == item["desc"] and data["author"]["name"] == item["author"]["nickname"]


def test_note_without_music_gives_its_picture_and_no_silent_placeholder_audio():
    item = detail("note")
    assert (item["aweme_type"], item["media_type"]) == (0, 2)
    assert SILENT in item["video"]["play_addr"]["url_list"][0] and item["music"]["play_url"]["url_list"] == []
    data = _result(item, "0").to_dict()
    [picture] = item["images"]
    [image] = data["images"]
    assert image["url"] == first_jpeg(picture["url_list"])
    assert (image["width"], image["height"]) == (picture["width"], picture["height"])
    assert_douyin_headers(data["images"])
    assert data["audios"] == []  # the placeholder is silence, not the post's music
    assert data["videos"] == []
    assert data["thumbnail"] == image["url"] and data["duration"] == 0
    assert data["url"] == f"https://www.douyin.com/note/{item['aweme_id']}"


def test_long_note_gives_its_picture_and_its_music():
    item = detail("long_note")
    assert (item["aweme_type"], item["media_type"]) == (0, 2)
    data = _result(item, "0").to_dict()
    assert [i["url"] for i in data["images"]] == [first_jpeg(p["url_list"]) for p in item["images"]]
    [music] = data["audios"]
    assert music["url"] == item["video"]["play_addr"]["url_list"][0] == item["music"]["play_url"]["url_list"][0]
    assert music["mimeType"] == "audio/mpeg"
    assert_douyin_headers(data["audios"])
    assert data["videos"] == []
    assert data["url"] == f"https://www.douyin.com/note/{item['aweme_id']}"


def test_live_photo_note_gives_every_picture_then_each_clip_at_its_own_size_and_the_music():
    item = detail("note_live")
    assert (item["aweme_type"], item["media_type"]) == (0, 42)
    with_clip = [p for p in item["images"] if p.get("video")]
    assert len(item["images"]) == 6 and len(with_clip) == 3
    data = _result(item, "0").to_dict()
    assert [i["url"] for i in data["images"]] == [first_jpeg(p["url_list"]) for p in item["images"]]
    assert [(i["width"], i["height"]) for i in data["images"]] == [(p["width"], p["height"]) for p in item["images"]]
    # One clip per live photo, in picture order: the clip's own rendition, its own frame (not the still's).
    assert [v["url"] for v in data["videos"]] == [clip_url(p) for p in with_clip]
    frames = [(p["video"]["play_addr"]["width"], p["video"]["play_addr"]["height"]) for p in with_clip]
    assert [(v["width"], v["height"]) for v in data["videos"]] == frames
    assert [v["quality"] for v in data["videos"]] == [f"{min(f)}p" for f in frames]
    assert [v["bitrate"] for v in data["videos"]] == [p["video"]["bit_rate"][0]["bit_rate"] for p in with_clip]
    assert all("watermark" not in v["url"] and "/logo/" not in v["url"] for v in data["videos"])
    assert_douyin_headers(data["videos"])
    [music] = data["audios"]
    assert music["url"] == item["video"]["play_addr"]["url_list"][0]
    assert data["thumbnail"] == data["images"][0]["url"] and data["duration"] == 0


def test_slide_post_gives_every_picture_its_clip_and_the_music():
    item = detail("slide")
    assert (item["aweme_type"], item["media_type"]) == (0, 42)
    assert len(item["images"]) == 4 and all(p.get("video") for p in item["images"])
    data = _result(item, "0").to_dict()
    assert [i["url"] for i in data["images"]] == [first_jpeg(p["url_list"]) for p in item["images"]]
    assert [v["url"] for v in data["videos"]] == [clip_url(p) for p in item["images"]]
    assert [(v["width"], v["height"]) for v in data["videos"]] == [
        (p["video"]["play_addr"]["width"], p["video"]["play_addr"]["height"]) for p in item["images"]]
    [music] = data["audios"]
    assert music["url"] == item["music"]["play_url"]["url_list"][0]
    assert data["url"] == f"https://www.douyin.com/note/{item['aweme_id']}"


def test_share_page_excerpt_gives_the_unwatermarked_video():
    html = capture_path(SHARE_PAGE).read_text(encoding="utf-8")
    router = embedded_json(html, "window._ROUTER_DATA")
    [item] = router["loaderData"]["video_(id)/page"]["videoInfoRes"]["item_list"]
    aweme_id, play = item["aweme_id"], item["video"]["play_addr"]["url_list"][0]
    assert "/playwm/" in play and "ratio=720p" in play
    with respx.mock() as mock:
        mock.get(f"https://www.iesdouyin.com/share/video/{aweme_id}/").respond(200, html=html)
        data = DouyinExtractor().extract(recognize(f"https://www.douyin.com/video/{aweme_id}")).to_dict()
    [video] = data["videos"]
    assert video["url"] == play.replace("/playwm/", "/play/")
    assert video["quality"] == "720p" and video["mimeType"] == "video/mp4"
    assert_douyin_headers(data["videos"])
    assert data["images"] == [] and data["audios"] == []
    assert data["duration"] == item["video"]["duration"] / 1000
    assert data["thumbnail"] == item["video"]["cover"]["url_list"][0]
    assert (data["id"], data["title"]) == (aweme_id, item["desc"])
    assert data["author"]["url"] == f"https://www.douyin.com/user/{item['author']['sec_uid']}"


# --- the 2026 shapes the issue describes ---------------------------------------------------------------------


def test_an_image_note_is_told_by_its_media_type_even_without_pictures():
    """aweme_type is 0 for every 2026 post; without media_type, a note lacking pictures looked like a video
    whose "video" was its silent placeholder."""
    item = detail("note")
    item["images"] = None
    with pytest.raises(ContentUnavailable) as caught:
        _result(item, "0")
    assert caught.value.reason == "no_media"


def test_a_video_post_without_a_playable_address_is_no_media_despite_its_cover():
    item = detail("video")
    item["video"]["bit_rate"] = None
    item["video"]["play_addr"] = {"url_list": []}
    assert item["video"]["cover"]["url_list"]
    with pytest.raises(ContentUnavailable) as caught:
        _result(item, "0")
    assert caught.value.reason == "no_media"


def test_a_gallery_missing_some_pictures_gives_what_it_has():
    item = detail("note_live")
    item["images"][0]["url_list"] = []  # a live photo whose still is gone: its clip stays
    item["images"][4] = None
    data = _result(item, "0").to_dict()
    expected = [first_jpeg(p["url_list"]) for i, p in enumerate(detail("note_live")["images"]) if i not in (0, 4)]
    assert [i["url"] for i in data["images"]] == expected
    assert len(data["videos"]) == 3


# --- mutated real payloads: only a result or a typed error ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(DETAIL))
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_detail_items_give_a_result_or_a_typed_error(name, data):
    payload = data.draw(mutated(detail(name)))
    assert_only_typed_errors(lambda: _result(payload, "0"))


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_share_page_router_data_gives_a_result_or_a_typed_error(data):
    router = embedded_json(capture_path(SHARE_PAGE).read_text(encoding="utf-8"), "window._ROUTER_DATA")
    payload = data.draw(mutated(router))
    assert_only_typed_errors(lambda: _result(douyin._router_item(payload), "0"))



def test_a_post_carries_its_counts_as_integers_and_its_upload_time():
    item = detail("video")
    data = _result(item, "0").to_dict()
    counts = item["statistics"]
    assert data["stats"] == {"views": None, "likes": counts["digg_count"], "comments": counts["comment_count"],
                             "shares": counts["share_count"]}  # play_count is 0 in public payloads: unknown
    created = dt.datetime.fromtimestamp(item["create_time"], dt.UTC)
    assert data["uploadedAt"] == created.strftime("%Y-%m-%dT%H:%M:%SZ")
