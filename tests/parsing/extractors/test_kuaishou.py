"""Kuaishou: videos and image sets from the mobile photo page's INIT_STATE, typed failures."""

import json
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.expansion import resolve
from parsing.extractors import kuaishou
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.kuaishou import KuaishouExtractor, _result
from parsing.http import MOBILE_UA
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kuaishou"
VIDEO_ID = "3xq9abc7k2mz4uw"
ATLAS_ID = "3xatlas5p7r9t2v"
MOBILE_PAGE = "https://v.m.chenzhongtech.com/fw/photo/{}"
GRAPHQL = "https://www.kuaishou.com/graphql"


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def extract(link: str) -> dict:
    return KuaishouExtractor().extract(recognize(link)).to_dict()


def test_video_renditions_best_first_with_sizes_and_headers():
    with respx.mock() as mock:
        route = mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page("photo_video.html"))
        data = extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert route.calls.last.request.headers["User-Agent"] == MOBILE_UA
    best, main = data["videos"]
    assert "_hd15_" in best["url"] and best["url"].startswith("https://txmov2.a.kwimgs.com/upic/")
    assert (best["width"], best["height"], best["quality"], best["bitrate"]) == (1080, 1920, "1080p", 2_861_000)
    # mainMvUrls[0] is also the manifest's 720p rendition: listed once.
    assert "_b_" in main["url"] and (main["width"], main["height"], main["quality"]) == (720, 1280, "720p")
    for video in data["videos"]:
        assert (video["mimeType"], video["hasAudio"], video["source"]) == ("video/mp4", True, "direct")
        assert video["headers"]["Referer"] == "https://www.kuaishou.com/"
    assert data["title"] == "今天的晚霞太美了 #晚霞 #治愈"
    assert data["duration"] == 12.48
    assert data["thumbnail"].startswith("https://p2.a.yximgs.com/upic/2024/09/22/18/")
    assert data["id"] == VIDEO_ID and data["url"] == f"https://www.kuaishou.com/short-video/{VIDEO_ID}"
    assert data["author"] == {"name": "阿杰的vlog", "id": "3x5kq8wz2n7hd4a",
                              "url": "https://www.kuaishou.com/profile/3x5kq8wz2n7hd4a"}
    assert data["images"] == [] and data["audios"] == []


def test_photo_page_links_are_fetched_on_their_own_host():
    with respx.mock() as mock:
        mock.get(f"https://www.gifshow.com/fw/photo/{VIDEO_ID}").respond(200, html=page("photo_video.html"))
        mock.get(f"https://v.m.chenzhongtech.com/fw/photo/{VIDEO_ID}").respond(200, html=page("photo_video.html"))
        assert extract(f"https://www.gifshow.com/fw/photo/{VIDEO_ID}")["id"] == VIDEO_ID
        # A long video's link reads the photo page of the same id.
        assert extract(f"https://v.m.chenzhongtech.com/fw/long-video/{VIDEO_ID}?fid=1")["id"] == VIDEO_ID


def test_atlas_gives_images_with_sizes_and_its_music_not_the_slideshow():
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(ATLAS_ID)).respond(200, html=page("photo_atlas.html"))
        data = extract(f"https://v.m.chenzhongtech.com/fw/photo/{ATLAS_ID}")
    assert [i["url"] for i in data["images"]] == [
        f"https://p5.a.yximgs.com/ufile/atlas/NTIyMzM0NDU1NjZfMTcyNzIwMDAwMDAwMA==_{n}.jpg" for n in range(3)]
    assert [(i["width"], i["height"]) for i in data["images"]] == [(1080, 1440), (1080, 1440), (1440, 1080)]
    assert all(i["headers"]["Referer"] == "https://www.kuaishou.com/" for i in data["images"])
    assert data["videos"] == []
    # The music lives on the audio CDN (musicCdnList), which this page does not name: joined with the image
    # CDN it would be a broken link, so none is given.
    assert data["audios"] == []
    assert data["duration"] == 0
    assert data["title"] == "周末咖啡店打卡 ☕️" and data["author"]["name"] == "小满的日常"


@pytest.mark.parametrize("short", ["https://v.kuaishou.com/2yAnzeZ", "https://www.kuaishou.com/f/X8kQzR2mP1aB"])
def test_short_link_is_expanded_then_read_from_the_photo_page(short):
    # Share links redirect (here in two hops) to a /fw/ page carrying share parameters.
    hop = "https://v.kuaishou.com/fw/share/redirect?code=2yAnzeZ"
    landing = f"https://v.m.chenzhongtech.com/fw/long-video/{VIDEO_ID}?fid=0&cc=share_copylink&shareId=1"
    with respx.mock() as mock:
        mock.get(short).respond(302, headers={"Location": hop})
        mock.get(hop).respond(302, headers={"Location": landing})
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page("photo_video.html"))
        target = resolve(recognize(f"看看这个作品 {short} 复制此消息，打开【快手】直接观看！"))
        data = KuaishouExtractor().extract(target).to_dict()
    assert (target.kind, target.id) == ("video", VIDEO_ID)
    assert data["id"] == VIDEO_ID and len(data["videos"]) == 2


@pytest.mark.parametrize("fixture, reason", [("photo_deleted.html", "deleted"), ("photo_private.html", "private")])
def test_post_the_page_does_not_show_is_unavailable(fixture, reason):
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page(fixture))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert caught.value.reason == reason


def test_removed_post_entry_without_photo_is_deleted():
    html = '<script>window.INIT_STATE = {"a":{"isSpider":false},"b":{"result":2,"serverExpTag":""}}</script>'
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=html)
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert caught.value.reason == "deleted"


def test_login_redirect_is_login_required():
    login = "https://passport.kuaishou.com/pc/account/login/?sid=kuaishou.server.web&callback=x"
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(302, headers={"Location": login})
        mock.get(login).respond(200, html="<html><title>登录</title><div id='login'></div></html>")
        graphql = mock.post(GRAPHQL).respond(200, json={"data": {"visionVideoDetail": {"status": 1, "photo": None}}})
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert caught.value.reason == "login_required"
    assert graphql.called  # tried, gave nothing: the page's own reason is the answer


@pytest.mark.parametrize("response", [
    httpx.Response(200, html=page("captcha.html")),
    httpx.Response(403, text="Forbidden"),
    httpx.Response(429, text="Too Many Requests"),
])
def test_captcha_or_refusal_is_an_upstream_failure(response):
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).mock(return_value=response)
        graphql = mock.post(GRAPHQL).respond(403, text="Forbidden")
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert graphql.called


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(UpstreamTimeout):
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")


@pytest.mark.parametrize("html", [
    '<script>window.INIT_STATE = {"k":{"result":1,"photo":{"caption":"cut</script>',
    '<script>window.INIT_STATE = {"k":{"isSpider":false}}</script>',
    "<script>window.INIT_STATE = [1, 2]</script>",
])
def test_malformed_or_unexpected_state_is_an_upstream_failure(html):
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=html)
        graphql = mock.post(GRAPHQL).respond(200, text="<html>not json</html>")
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert graphql.called


def graphql_answer(**photo: object) -> dict:
    return {"data": {"visionVideoDetail": {"status": 1, "type": 1,
                                           "author": {"id": "3x5kq8wz2n7hd4a", "name": "阿杰的vlog"},
                                           "photo": {"id": VIDEO_ID, "caption": "晚霞", "duration": 12480,
                                                     "coverUrl": "https://p2.a.yximgs.com/upic/2024/c.jpg", **photo}}}}


REP = {"url": "https://v2.kwaicdn.com/upic/2024/x_b_B1.mp4?tag=manifest", "width": 720, "height": 1280,
       "avgBitrate": 2000, "maxBitrate": 3000}


def test_graphql_is_asked_when_the_page_has_no_state():
    answer = graphql_answer(photoUrl="https://v1.kwaicdn.com/upic/2024/x_b_B1.mp4?tag=photo",
                            manifest={"adaptationSet": [{"representation": [REP]}]})
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page("captcha.html"))
        graphql = mock.post(GRAPHQL).respond(200, json=answer)
        data = extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    body = json.loads(graphql.calls.last.request.content)
    assert (body["operationName"], body["variables"]) == ("visionVideoDetail", {"photoId": VIDEO_ID, "page": "detail"})
    # photoUrl is the manifest's file on another host: listed once.
    [video] = data["videos"]
    assert video["url"] == REP["url"] and (video["width"], video["height"], video["bitrate"]) == (720, 1280, 2_000_000)
    assert video["headers"]["Referer"] == "https://www.kuaishou.com/"
    assert data["thumbnail"] == "https://p2.a.yximgs.com/upic/2024/c.jpg" and data["duration"] == 12.48
    assert data["author"]["id"] == "3x5kq8wz2n7hd4a" and data["id"] == VIDEO_ID


def test_graphql_video_without_an_address_is_no_media_and_wins_over_the_pages_failure():
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(403)
        mock.post(GRAPHQL).respond(200, json=graphql_answer(photoUrl="", manifest=None))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert caught.value.reason == "no_media"


@pytest.mark.parametrize("answer", [
    {"errors": [{"message": "need captcha"}], "data": None},
    {"data": {"visionVideoDetail": None}},
    {"result": 2, "error_msg": "请求过于频繁"},
    [1, 2],
])
def test_graphql_that_cannot_help_leaves_the_pages_failure(answer):
    with respx.mock() as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page("captcha.html"))
        mock.post(GRAPHQL).respond(200, json=answer)
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")


@pytest.mark.parametrize("fixture", ["photo_video.html", "photo_deleted.html", "photo_private.html"])
def test_graphql_is_not_asked_when_the_page_answers(fixture):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).respond(200, html=page(fixture))
        graphql = mock.post(GRAPHQL).respond(500)
        try:
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
        except ContentUnavailable:
            pass
    assert not graphql.called


def test_page_timeout_does_not_spend_more_time_on_graphql():
    with respx.mock(assert_all_called=False) as mock:
        mock.get(MOBILE_PAGE.format(VIDEO_ID)).mock(side_effect=httpx.ReadTimeout("timed out"))
        graphql = mock.post(GRAPHQL).respond(500)
        with pytest.raises(UpstreamTimeout):
            extract(f"https://www.kuaishou.com/short-video/{VIDEO_ID}")
    assert not graphql.called


def test_atlas_music_is_joined_with_its_audio_cdn():
    photo = {"photoId": ATLAS_ID, "ext_params": {"atlas": {
        "cdn": ["p5.a.yximgs.com"], "cdnList": [{"cdn": "p5.a.yximgs.com"}], "list": ["/ufile/atlas/a_0.jpg"],
        "musicCdnList": [{"cdn": "hwmov.a.yximgs.com"}, {"cdn": "tymov2.a.kwimgs.com"}],
        "music": "/ufile/atlas/a.m4a"}}}
    data = _result(photo, ATLAS_ID).to_dict()
    assert [i["url"] for i in data["images"]] == ["https://p5.a.yximgs.com/ufile/atlas/a_0.jpg"]
    assert [a["url"] for a in data["audios"]] == ["https://hwmov.a.yximgs.com/ufile/atlas/a.m4a"]


def test_video_post_whose_video_is_gone_is_no_media_even_with_its_cover():
    photo = {"photoId": VIDEO_ID, "photoType": "VIDEO", "mainMvUrls": [], "manifest": None,
             "coverUrls": [{"url": "https://p2.a.yximgs.com/upic/2024/c.jpg"}]}
    with pytest.raises(ContentUnavailable) as caught:
        _result(photo, VIDEO_ID)
    assert caught.value.reason == "no_media"


@pytest.mark.parametrize("payload", [None, [], "photo", 7])
def test_a_photo_of_another_shape_is_a_typed_upstream_failure(payload):
    with pytest.raises(UpstreamFailure):
        _result(payload, VIDEO_ID)


@pytest.mark.parametrize("state", [None, [], "x", {"k": {"result": 1, "photo": []}}])
def test_a_state_or_entry_of_another_shape_is_a_typed_error(state):
    with pytest.raises((UpstreamFailure, ContentUnavailable)):
        kuaishou._entry_result(kuaishou._post_entry(state), VIDEO_ID)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
URL = st.sampled_from(["https://txmov2.a.kwimgs.com/a_b.mp4", "http://p2.a.yximgs.com/c.jpg", "/ufile/atlas/x.jpg",
                       "p5.a.yximgs.com", ""]) | JSON
URLS = JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={"url": URL, "cdn": URL}), max_size=2)
REPS = st.lists(JSON | st.fixed_dictionaries({}, optional={
    "url": URL, "width": JSON, "height": JSON, "avgBitrate": JSON, "maxBitrate": JSON}), max_size=2)
ATLAS = JSON | st.fixed_dictionaries({}, optional={
    "cdn": JSON | st.lists(URL, max_size=2), "cdnList": URLS, "list": JSON | st.lists(URL, max_size=3),
    "size": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={"w": JSON, "h": JSON}), max_size=3),
    "music": URL})
PHOTO = st.fixed_dictionaries({}, optional={
    "photoId": JSON, "caption": JSON, "userName": JSON, "userEid": JSON, "userId": JSON, "duration": JSON,
    "width": JSON, "height": JSON, "coverUrls": URLS, "mainMvUrls": URLS,
    "manifest": JSON | st.fixed_dictionaries({}, optional={
        "adaptationSet": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={"representation": REPS}))}),
    "ext_params": JSON | st.fixed_dictionaries({}, optional={"atlas": ATLAS}),
})


@settings(max_examples=300, deadline=None)
@given(PHOTO)
def test_any_photo_shape_normalises_to_media_or_no_media(photo):
    try:
        data = _result(photo, VIDEO_ID).to_dict()
    except ContentUnavailable as exc:  # a post with nothing to download says so; it is never an empty result
        assert exc.reason == "no_media"
        return
    assert data["videos"] or data["images"]
    assert data["platform"] == "kuaishou" and isinstance(data["title"], str)
    for kind in ("videos", "images", "audios"):
        assert all(isinstance(m["url"], str) and m["url"] for m in data[kind])
