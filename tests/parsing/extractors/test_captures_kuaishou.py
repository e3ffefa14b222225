"""Kuaishou: real payloads other public projects saved (../shared/captures/kuaishou), replayed through our
own code with the expected media read from the capture itself. Skipped where the captures are absent.

INIT_STATE captures are served as the mobile photo page (a script assigning the capture's text) through
``extract()``; the GraphQL capture is the answer to the fallback request when the page fails.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors import kuaishou
from parsing.extractors.base import ContentUnavailable
from parsing.extractors.kuaishou import KuaishouExtractor, _result
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, capture_path, load_capture, mutated

RAW_VIDEO = "kuaishou/fw_photo_init_state_raw_video_2026-02.json"
VIDEO = "kuaishou/fw_photo_init_state_keysdecoded_video_2026-07.json"
ATLAS = "kuaishou/fw_photo_init_state_keysdecoded_atlas_2026-07.json"
GRAPHQL_CAPTURE = "kuaishou/graphql_visionVideoDetail_2026-05.json"
PHOTO_ID = "3xcapture7k2mz4u"  # any id: the page answered is the capture's
MOBILE_PAGE = f"https://v.m.chenzhongtech.com/fw/photo/{PHOTO_ID}"
GRAPHQL = "https://www.kuaishou.com/graphql"


def state_page(capture: str) -> str:
    """The mobile photo page around a saved INIT_STATE, built from the capture's own text."""
    return f"<html><body><script>window.INIT_STATE = {capture_path(capture).read_text(encoding='utf-8')};</script>"


def post_entry(state: dict) -> dict:
    [entry] = [v for v in state.values() if isinstance(v, dict) and isinstance(v.get("photo"), dict)]
    return entry


def representations(manifest: dict) -> list[dict]:
    return [rep for adaptation in manifest["adaptationSet"] for rep in adaptation["representation"]]


def extract_page(capture: str) -> tuple[dict, respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(MOBILE_PAGE).respond(200, html=state_page(capture))
        graphql = mock.post(GRAPHQL).respond(500)
        data = KuaishouExtractor().extract(recognize(f"https://www.kuaishou.com/short-video/{PHOTO_ID}")).to_dict()
    return data, graphql



def assert_page_video(capture: str) -> None:
    photo = post_entry(load_capture(capture))["photo"]
    reps = representations(photo["manifest"])
    assert len(reps) == 2 and len({(r["width"], r["height"]) for r in reps}) == 1
    # mainMvUrls is the first representation's file on other CDN hosts: listed once, not again.
    assert {urlsplit(u["url"]).path for u in photo["mainMvUrls"]} == {urlsplit(reps[0]["url"]).path}
    data, graphql = extract_page(capture)
    best_first = sorted(reps, key=lambda r: -r["avgBitrate"])
    assert [v["url"] for v in data["videos"]] == [r["url"] for r in best_first]
    assert [v["bitrate"] for v in data["videos"]] == [r["avgBitrate"] * 1000 for r in best_first]
    assert [(v["width"], v["height"], v["quality"]) for v in data["videos"]] == [
        (r["width"], r["height"], f"{min(r['width'], r['height'])}p") for r in best_first]
    assert all(v["headers"]["Referer"] == "https://www.kuaishou.com/" for v in data["videos"])
    assert data["images"] == [] and data["audios"] == []
    assert data["thumbnail"] == photo["coverUrls"][0]["url"]
    assert data["duration"] == photo["duration"] / 1000
    assert (data["id"], data["title"]) == (photo["photoId"], photo["caption"])
    assert data["author"] == {"name": photo["userName"], "id": photo["userEid"],
                              "url": f"https://www.kuaishou.com/profile/{photo['userEid']}"}
    assert not graphql.called  # the page was enough


# --- replays: exact media per capture --------------------------------------------------------------------------


def test_video_page_with_decoded_keys_gives_each_rendition_once_best_first():
    assert_page_video(VIDEO)


def test_video_page_with_keys_as_served_gives_the_same_shape():
    state = load_capture(RAW_VIDEO)
    assert not any(key.startswith("/rest/") for key in state)  # the shift-by-one keys, as the page serves them
    assert_page_video(RAW_VIDEO)


def test_atlas_page_gives_every_picture_and_its_music_from_the_audio_cdn():
    entry = post_entry(load_capture(ATLAS))
    atlas = entry["atlas"]  # the entry's own copy lists JPEGs; photo.ext_params.atlas lists WebPs
    assert len(atlas["list"]) == 14 and all(path.endswith(".jpg") for path in atlas["list"])
    data, _ = extract_page(ATLAS)
    assert [i["url"] for i in data["images"]] == [f"https://{atlas['cdn'][0]}{path}" for path in atlas["list"]]
    assert [(i["width"], i["height"]) for i in data["images"]] == [(s["w"], s["h"]) for s in atlas["size"]]
    assert all(i["headers"]["Referer"] == "https://www.kuaishou.com/" for i in data["images"])
    [music] = data["audios"]
    assert music["url"] == f"https://{atlas['musicCdnList'][0]['cdn']}{atlas['music']}"
    assert music["mimeType"] == "audio/mp4"
    assert data["videos"] == [] and data["duration"] == 0
    assert data["thumbnail"] == entry["photo"]["coverUrls"][0]["url"]
    assert data["id"] == entry["photo"]["photoId"]


def test_atlas_music_is_joined_with_the_music_cdn_not_the_image_cdn():
    photo = post_entry(load_capture(ATLAS))["photo"]
    atlas = photo["ext_params"]["atlas"]
    image_hosts = set(atlas["cdn"]) | {c["cdn"] for c in atlas["cdnList"]}
    assert atlas["musicCdnList"][0]["cdn"] not in image_hosts
    data = _result(photo, PHOTO_ID).to_dict()
    [music] = data["audios"]
    assert music["url"] == f"https://{atlas['musicCdnList'][0]['cdn']}{atlas['music']}"
    assert [i["url"] for i in data["images"]] == [f"https://{atlas['cdn'][0]}{path}" for path in atlas["list"]]


def test_graphql_answers_when_the_photo_page_yields_nothing_usable():
    detail = load_capture(GRAPHQL_CAPTURE)["data"]["visionVideoDetail"]
    photo, author = detail["photo"], detail["author"]
    [h264] = representations(photo["manifest"])
    [h265] = representations(photo["manifestH265"])
    # photoUrl / photoH265Url and videoResource are the same two files, with other signed queries.
    assert urlsplit(photo["photoUrl"]).path == urlsplit(h264["url"]).path
    assert urlsplit(photo["photoH265Url"]).path == urlsplit(h265["url"]).path
    with respx.mock() as mock:
        page = mock.get(MOBILE_PAGE).respond(200, html="<html><title>验证</title><div id='captcha'></div></html>")
        graphql = mock.post(GRAPHQL).respond(200, text=capture_path(GRAPHQL_CAPTURE).read_text(encoding="utf-8"),
                                             headers={"Content-Type": "application/json"})
        data = KuaishouExtractor().extract(recognize(f"https://www.kuaishou.com/short-video/{PHOTO_ID}")).to_dict()
    assert page.called and graphql.call_count == 1
    request = graphql.calls.last.request
    body = json.loads(request.content)
    assert body["operationName"] == "visionVideoDetail"
    assert body["variables"] == {"photoId": PHOTO_ID, "page": "detail"}
    assert "visionVideoDetail(" in body["query"]
    assert request.headers["Content-Type"].startswith("application/json")
    assert "did=web_" in request.headers["Cookie"]
    assert request.headers["Referer"] == f"https://www.kuaishou.com/short-video/{PHOTO_ID}"
    assert [v["url"] for v in data["videos"]] == [h264["url"], h265["url"]]
    assert [v["bitrate"] for v in data["videos"]] == [h264["avgBitrate"] * 1000, h265["avgBitrate"] * 1000]
    assert [(v["width"], v["height"], v["quality"]) for v in data["videos"]] == [
        (h264["width"], h264["height"], "720p"), (h265["width"], h265["height"], "720p")]
    assert all(v["headers"]["Referer"] == "https://www.kuaishou.com/" for v in data["videos"])
    assert data["images"] == [] and data["audios"] == []
    assert data["thumbnail"] == photo["coverUrl"]
    assert data["duration"] == photo["duration"] / 1000
    assert (data["id"], data["title"]) == (photo["id"], photo["caption"])
    assert data["url"] == f"https://www.kuaishou.com/short-video/{photo['id']}"
    assert data["author"] == {"name": author["name"], "id": author["id"],
                              "url": f"https://www.kuaishou.com/profile/{author['id']}"}


def test_a_video_post_without_a_playable_address_is_no_media_despite_its_cover():
    entry = post_entry(load_capture(VIDEO))
    entry["photo"]["mainMvUrls"] = []
    entry["photo"]["manifest"] = None
    assert entry["photo"]["coverUrls"]
    with pytest.raises(ContentUnavailable) as caught:
        kuaishou._entry_result(entry, PHOTO_ID)
    assert caught.value.reason == "no_media"


def test_an_atlas_missing_some_pictures_gives_what_it_has():
    entry = post_entry(load_capture(ATLAS))
    paths = list(entry["atlas"]["list"])
    entry["atlas"]["list"][3] = None
    entry["atlas"]["list"][7] = ""
    data = kuaishou._entry_result(entry, PHOTO_ID).to_dict()
    host = entry["atlas"]["cdn"][0]
    assert [i["url"] for i in data["images"]] == [
        f"https://{host}{path}" for n, path in enumerate(paths) if n not in (3, 7)]
    assert (data["images"][3]["width"], data["images"][3]["height"]) == (
        entry["atlas"]["size"][4]["w"], entry["atlas"]["size"][4]["h"])  # sizes stay with their pictures


# --- mutated real payloads: only a result or a typed error ---------------------------------------------------


@pytest.mark.parametrize("capture", [VIDEO, ATLAS, RAW_VIDEO])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_post_entries_give_a_result_or_a_typed_error(capture, data):
    payload = data.draw(mutated(post_entry(load_capture(capture))))
    assert_only_typed_errors(lambda: kuaishou._entry_result(payload, PHOTO_ID))


@pytest.mark.parametrize("capture", [VIDEO, ATLAS])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_states_give_a_result_or_a_typed_error(capture, data):
    payload = data.draw(mutated(load_capture(capture)))
    assert_only_typed_errors(lambda: kuaishou._entry_result(kuaishou._post_entry(payload), PHOTO_ID))


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_graphql_answers_give_a_result_or_a_typed_error(data):
    payload = data.draw(mutated(load_capture(GRAPHQL_CAPTURE)))
    assert_only_typed_errors(lambda: kuaishou._graphql_result(payload, PHOTO_ID))


def test_a_post_carries_its_counts_and_its_time():
    photo = post_entry(load_capture(VIDEO))["photo"]
    data, _ = extract_page(VIDEO)
    assert data["stats"] == {"views": photo["viewCount"], "likes": photo["likeCount"],
                             "comments": photo["commentCount"], "shares": photo["shareCount"]}
    posted = dt.datetime.fromtimestamp(photo["timestamp"] // 1000, dt.UTC)
    assert data["uploadedAt"] == posted.strftime("%Y-%m-%dT%H:%M:%SZ")
