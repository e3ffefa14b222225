"""Xiaohongshu: real page states (../shared/captures/xiaohongshu) replayed through the extractor (served as
the pages that embed them: desktop __INITIAL_STATE__, mobile __INITIAL_STATE__ and __SETUP_SERVER_STATE__),
and mutated into the shapes platforms break into. The expected media are read from each capture."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors.xiaohongshu import XiaohongshuExtractor, _result, find_note
from parsing.http import MOBILE_UA
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, load_capture, mutated

VIDEO = "xiaohongshu/initial_state_note_video_2026-05.json"
IMAGE = "xiaohongshu/initial_state_note_image_2026-05.json"
LIVE = "xiaohongshu/initial_state_note_livephoto_2026-05.json"
EXPLORE = "xiaohongshu/initial_state_full_explore_image_2026-03.json"
MOBILE_VIDEO = "xiaohongshu/mobile_state_note_video_2026-06.json"
MOBILE_SETUP = "xiaohongshu/mobile_setup_server_state_note_2026-03.json"
CODECS = ("h264", "h265", "av1", "h266")  # most compatible first: the tie-break between equal frames


def page(name: str, state: object) -> str:
    """The page around a state: the global assigned in an inline script, as the site serves it."""
    return f"<!doctype html><html><body><div id='app'></div><script>{name}={json.dumps(state)}</script></body></html>"


def https(url: str) -> str:
    return "https://" + url.removeprefix("http://")


def desktop_note(state: dict) -> tuple[str, dict]:
    [(note_id, entry)] = state["note"]["noteDetailMap"].items()
    return note_id, entry["note"]


def links(note_id: str, token: str) -> tuple[str, str, str]:
    """The share link, and the desktop and mobile pages it leads to (the token sent along)."""
    query = f"xsec_token={quote(token, safe='')}"
    return (f"https://www.xiaohongshu.com/explore/{note_id}?xsec_token={token}",
            f"https://www.xiaohongshu.com/explore/{note_id}?{query}",
            f"https://www.xiaohongshu.com/discovery/item/{note_id}?{query}")


def replay_desktop(state: dict, note_id: str, token: str) -> dict:
    link, desktop, _mobile = links(note_id, token)
    with respx.mock() as mock:
        route = mock.get(desktop).respond(200, html=page("window.__INITIAL_STATE__", state))
        data = XiaohongshuExtractor().extract(recognize(link)).to_dict()
    assert route.called
    return data


def replay_mobile(name: str, state: dict, note_id: str, token: str) -> dict:
    """The desktop page shows a login wall; the mobile page (phone User-Agent) carries ``state``."""
    link, desktop, mobile = links(note_id, token)
    wall = page("window.__INITIAL_STATE__", {"note": {"noteDetailMap": {}, "serverRequestInfo": {
        "state": "fail", "errorCode": 300031, "errMsg": "当前笔记暂时无法浏览"}}})
    with respx.mock() as mock:
        mock.get(desktop).respond(200, html=wall)
        route = mock.get(mobile).respond(200, html=page(name, state))
        data = XiaohongshuExtractor().extract(recognize(link)).to_dict()
    assert route.calls.last.request.headers["User-Agent"] == MOBILE_UA
    return data


def streams(stream: dict) -> list[tuple[str, int, int]]:
    """Every rendition of a stream object, best frame first, then the most compatible codec."""
    ranked = [(-(i["width"] * i["height"]), rank, https(i["masterUrl"]), i["width"], i["height"])
              for rank, codec in enumerate(CODECS) for i in stream.get(codec) or []]
    return [(url, width, height) for *_, url, width, height in sorted(ranked)]


def picture(image: dict) -> tuple[str, int, int]:
    """A picture's full-size address: urlDefault on the desktop page, url on the mobile one."""
    return https(image.get("urlDefault") or image["url"]), image["width"], image["height"]


def test_desktop_video_note_gives_its_streams_best_first_without_an_origin_video_key():
    state = load_capture(VIDEO)
    note_id, note = desktop_note(state)
    assert "consumer" not in note["video"]  # no originVideoKey to fall back on: the streams must do
    data = replay_desktop(state, note_id, note["xsecToken"])
    expected = streams(note["video"]["media"]["stream"])
    assert len(expected) == 2
    assert [(v["url"], v["width"], v["height"]) for v in data["videos"]] == expected
    assert [v["quality"] for v in data["videos"]] == ["1080p", "720p"]
    assert data["images"] == []
    assert data["duration"] == note["video"]["capa"]["duration"]
    assert data["thumbnail"] == https(note["imageList"][0]["urlDefault"])
    assert data["id"] == note_id and data["title"] == note["title"]
    assert data["author"]["name"] == note["user"]["nickname"]


def test_desktop_image_note_gives_every_picture_in_order():
    state = load_capture(IMAGE)
    note_id, note = desktop_note(state)
    data = replay_desktop(state, note_id, note["xsecToken"])
    assert len(note["imageList"]) == 6
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [picture(i) for i in note["imageList"]]
    assert data["videos"] == [] and data["duration"] == 0


def test_desktop_live_photo_note_gives_each_still_and_its_clip_without_a_made_up_quality():
    state = load_capture(LIVE)
    note_id, note = desktop_note(state)
    data = replay_desktop(state, note_id, note["xsecToken"])
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [picture(i) for i in note["imageList"]]
    live = [i for i in note["imageList"] if i["livePhoto"]]
    assert (len(note["imageList"]), len(live)) == (10, 9)
    assert [v["url"] for v in data["videos"]] == [https(i["stream"]["h264"][0]["masterUrl"]) for i in live]
    # The clips' streams carry no size; the photos are 3024x4032 or 1920x2560, which the clips are not.
    assert all((v["quality"], v["width"], v["height"]) == (None, None, None) for v in data["videos"])


def test_hydrated_full_explore_state_gives_the_note_pictures():
    state = load_capture(EXPLORE)
    assert state["note"]["firstNoteId"]["__v_isRef"] is True  # the state around the note is wrapped in refs
    note_id, note = desktop_note(state)
    data = replay_desktop(state, note_id, note["xsecToken"])
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [picture(i) for i in note["imageList"]]
    assert data["title"] == note["title"]


def test_mobile_initial_state_video_note_is_read_when_the_desktop_page_fails():
    state = load_capture(MOBILE_VIDEO)
    note = state["noteData"]["data"]["noteData"]
    token = state["noteData"]["routeQuery"]["xsec_token"]
    data = replay_mobile("window.__INITIAL_STATE__", state, note["noteId"], token)
    expected = streams(note["video"]["media"]["stream"])
    assert [(v["url"], v["width"], v["height"]) for v in data["videos"]] == expected
    assert [v["url"].split("?")[0].rsplit("_", 1)[1] for v in data["videos"]] == ["259.mp4", "309.mp4"]  # h264 first
    assert data["images"] == []
    assert data["thumbnail"] == https(note["imageList"][0]["url"])
    assert data["author"]["name"] == note["user"]["nickName"]
    assert data["id"] == note["noteId"]


def test_mobile_setup_server_state_live_photo_is_read_when_the_desktop_page_fails():
    state = load_capture(MOBILE_SETUP)
    note = state["LAUNCHER_SSR_STORE_PAGE_DATA"]["noteData"]
    data = replay_mobile("window.__SETUP_SERVER_STATE__", state, note["noteId"], "ABtoken=")
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [picture(i) for i in note["imageList"]]
    [image] = note["imageList"]
    [clip] = image["stream"]["h264"]
    [video] = data["videos"]
    assert (video["url"], video["width"], video["height"]) == (https(clip["masterUrl"]), clip["width"], clip["height"])
    assert video["quality"] == f"{clip['width']}p"  # from the clip's own size, not the 3024-wide still
    assert data["title"] == note["title"]



def captured_note(name: str) -> tuple[dict, dict]:
    """A capture's state and the note in it, whatever the page shape."""
    state = load_capture(name)
    return state, find_note(state, note_id_of(state))


def exact(value: str) -> int | None:
    """What a count string is worth: digits only; "8.3万" is no count."""
    return int(value) if value.isdigit() else None


@pytest.mark.parametrize("name", [VIDEO, IMAGE, LIVE, EXPLORE, MOBILE_VIDEO, MOBILE_SETUP])
def test_a_note_carries_its_text_time_and_exact_counts(name):
    state, note = captured_note(name)
    data = normalise(state, note_id_of(state)).to_dict()
    assert data["description"] == note["desc"].strip() != note["title"]
    assert data["uploadedAt"] == dt.datetime.fromtimestamp(note["time"] // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = note["interactInfo"]
    assert data["stats"] == {"views": None, "likes": exact(info["likedCount"]), "comments": exact(info["commentCount"]),
                             "shares": exact(info["shareCount"])}


def test_abbreviated_counts_are_unknown_and_the_others_exact():
    _state, note = captured_note(VIDEO)
    assert note["interactInfo"]["likedCount"] == "8.3万" and note["interactInfo"]["commentCount"] == "440"
    data = replay_desktop(load_capture(VIDEO), note["noteId"], note["xsecToken"])
    assert (data["stats"]["likes"], data["stats"]["comments"]) == (None, 440)
    assert data["uploadedAt"].startswith("2024-11-01T")  # "time": 1730467066000, milliseconds


def normalise(state: dict, note_id: str):
    note = find_note(state, note_id)
    return None if note is None else _result(note, note_id, f"https://www.xiaohongshu.com/explore/{note_id}")


def note_id_of(state: dict) -> str:
    if "note" in state:
        return next(iter(state["note"]["noteDetailMap"]))
    if "noteData" in state:
        return state["noteData"]["data"]["noteData"]["noteId"]
    return state["LAUNCHER_SSR_STORE_PAGE_DATA"]["noteData"]["noteId"]


@pytest.mark.parametrize("name", [VIDEO, IMAGE, LIVE, MOBILE_VIDEO, MOBILE_SETUP])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_states_give_a_result_or_a_typed_error(name, data):
    original = load_capture(name)
    note_id = note_id_of(original)
    state = data.draw(mutated(original))
    check(assert_only_typed_errors(lambda: normalise(state, note_id)))


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_full_explore_note_branch_gives_a_result_or_a_typed_error(data):
    original = load_capture(EXPLORE)
    note_id = note_id_of(original)
    state = {**original, "note": data.draw(mutated(original["note"]))}  # the rest is the hydrated app state
    check(assert_only_typed_errors(lambda: normalise(state, note_id)))


def check(result) -> None:
    if result is None:
        return
    for item in (*result.images, *result.videos):
        assert isinstance(item.url, str) and item.url
        assert item.width is None or isinstance(item.width, int)
    assert all(v.quality is None or isinstance(v.quality, str) for v in result.videos)
    assert isinstance(result.title, str) and isinstance(result.duration, int | float)
    assert result.description is None or isinstance(result.description, str)
    assert result.uploaded_at is None or isinstance(result.uploaded_at, str)
    if result.stats is not None:
        assert all(type(v) is int or v is None for v in result.stats.to_dict().values())
