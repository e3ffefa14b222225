"""Instagram: photos and carousels from the embed page, videos through yt-dlp, walls and failures; offline."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.instagram import InstagramExtractor, embedded_media, media_to_result
from parsing.http import BROWSER_UA
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "instagram"


def page(name: str) -> str:
    return (FIXTURES / name).read_text()


def embed_url(code: str) -> str:
    return f"https://www.instagram.com/p/{code}/embed/captioned/"


def extract(url: str):
    return InstagramExtractor().extract(recognize(url))


def test_carousel_returns_every_item_in_order():
    with respx.mock() as mock:
        route = mock.get(embed_url("DCa1Bc2De3F")).respond(200, html=page("embed_carousel.html"))
        data = extract("https://www.instagram.com/p/DCa1Bc2De3F/?igsh=MTc4MmM1YmI2Ng==").to_dict()
    assert route.called
    assert [(i["width"], i["height"]) for i in data["images"]] == [(1080, 1350), (1080, 1080)]
    assert data["images"][0]["url"].startswith("https://scontent-lax3-1.cdninstagram.com/v/t51.29350-15/465123_1_n.jpg")
    assert data["images"][1]["url"].startswith("https://scontent-lax3-1.cdninstagram.com/v/t51.29350-15/465123_3_n.jpg")
    assert data["images"][0]["headers"] == {"User-Agent": BROWSER_UA, "Referer": "https://www.instagram.com/"}
    [video] = data["videos"]
    assert (video["quality"], video["width"], video["height"], video["hasAudio"], video["source"]) == (
        "720p", 720, 1280, True, "direct")
    assert video["mimeType"] == "video/mp4" and "465123_2_video.mp4" in video["url"]
    assert video["headers"]["Referer"] == "https://www.instagram.com/"
    assert data["duration"] == 12.4
    assert data["title"] == "Three from the kiln this week ✨\n#ceramics"
    assert data["id"] == "DCa1Bc2De3F"
    assert data["url"] == "https://www.instagram.com/p/DCa1Bc2De3F/"
    assert data["author"] == {"name": "Kiln & Co.", "id": "5812345678", "url": "https://www.instagram.com/kilnandco/"}
    assert data["thumbnail"] == data["images"][0]["url"]


def test_single_photo_post_returns_the_full_size_photo():
    with respx.mock() as mock:
        mock.get(embed_url("DCb2Cd3Ef4G")).respond(200, html=page("embed_photo.html"))
        data = extract("https://www.instagram.com/kilnandco/p/DCb2Cd3Ef4G/").to_dict()
    [image] = data["images"]
    assert (image["width"], image["height"]) == (1440, 1800)
    assert "stp=dst-jpg_e35&" in image["url"]  # display_url, not a 1080-wide display resource
    assert data["videos"] == [] and data["duration"] == 0
    assert data["title"] == "Glaze test #7"


def test_embed_posts_carry_their_posting_time_and_no_counts_they_do_not_give():
    with respx.mock() as mock:
        mock.get(embed_url("DCa1Bc2De3F")).respond(200, html=page("embed_carousel.html"))
        mock.get(embed_url("DCb2Cd3Ef4G")).respond(200, html=page("embed_photo.html"))
        carousel = extract("https://www.instagram.com/p/DCa1Bc2De3F/").to_dict()
        photo = extract("https://www.instagram.com/p/DCb2Cd3Ef4G/").to_dict()
    assert carousel["uploadedAt"] == "2025-10-23T15:49:27Z"  # taken_at_timestamp 1761234567
    assert photo["uploadedAt"] == "2025-10-24T10:00:00Z"  # 1761300000
    # The carousel's video item has its own video_view_count (18231): that is the item's, not the post's.
    assert "stats" not in carousel and "stats" not in photo
    assert "description" not in carousel  # the caption is the title already


def test_counts_come_from_the_edges_and_hidden_ones_stay_unknown():
    media = embedded_media(page("embed_photo.html"))
    media.update(edge_media_preview_like={"count": 1204}, edge_media_to_comment={"count": 37}, video_view_count="9")
    result, _ = media_to_result(media, code="DCb2Cd3Ef4G", kind="post")
    assert result.to_dict()["stats"] == {"views": 9, "likes": 1204, "comments": 37, "shares": None}
    media.update(like_and_view_counts_disabled=True)
    result, _ = media_to_result(media, code="DCb2Cd3Ef4G", kind="post")
    assert result.to_dict()["stats"] == {"views": None, "likes": None, "comments": 37, "shares": None}
    media.update(edge_media_to_comment={"count": "1.2K"})
    result, _ = media_to_result(media, code="DCb2Cd3Ef4G", kind="post")
    assert "stats" not in result.to_dict()


def test_embed_page_json_is_read_from_the_string_that_holds_the_media():
    assert embedded_media(page("embed_unavailable.html")) is None
    assert embedded_media(page("embed_photo.html"))["shortcode"] == "DCb2Cd3Ef4G"
    assert embedded_media('"contextJSON":"{not json"') is None


def test_login_redirect_is_login_required():
    with respx.mock() as mock:
        mock.get(embed_url("DCb2Cd3Ef4G")).respond(
            302, headers={"Location": "https://www.instagram.com/accounts/login/?next=%2Fp%2FDCb2Cd3Ef4G%2Fembed%2F"})
        mock.get("https://www.instagram.com/accounts/login/").respond(200, html="<html>Log in</html>")
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://www.instagram.com/p/DCb2Cd3Ef4G/")
    assert caught.value.reason == "login_required"


def test_missing_post_is_deleted():
    with respx.mock() as mock:
        mock.get(embed_url("DCz9Yx8Wv7U")).respond(404, html="<html>Sorry, this page isn't available.</html>")
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://www.instagram.com/p/DCz9Yx8Wv7U/")
    assert caught.value.reason == "deleted"


def test_private_post_is_private():
    code = "DCe5Fg6Hi7J" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"  # private posts carry 28 extra characters
    with respx.mock() as mock:
        mock.get(embed_url(code)).respond(200, html=page("embed_unavailable.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.instagram.com/p/{code}/")
    assert caught.value.reason == "private"


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(embed_url("DCb2Cd3Ef4G")).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            extract("https://www.instagram.com/p/DCb2Cd3Ef4G/")


# --- videos through yt-dlp (replayed through its request-handler interface), walls, short links ----------


def ytdlp_routes(graphql: str | tuple, **extra) -> dict:
    return {
        "https://www.instagram.com/": ("instagram/home.html", 200,
                                       {"Set-Cookie": "csrftoken=Tk3nCsrfExample; Path=/; Domain=.instagram.com"}),
        "https://www.instagram.com/api/v1/web/get_ruling_for_content/*": "instagram/ruling_ok.json",
        "POST https://www.instagram.com/api/graphql": graphql if isinstance(graphql, tuple) else f"instagram/{graphql}",
        **extra,
    }


def test_reel_video_comes_from_ytdlp_best_first():
    from tests.support.ytdlp_replay import replay

    with respx.mock() as mock, replay(ytdlp_routes("graphql_reel.json")) as calls:
        mock.get(embed_url("DCc3De4Fg5H")).respond(200, html=page("embed_reel.html"))
        data = extract("https://www.instagram.com/reel/DCc3De4Fg5H/?igsh=abc").to_dict()
    graphql = next(c for c in calls if c.url == "https://www.instagram.com/api/graphql")
    assert b"3502916742057168455" in graphql.data  # the media id of the shortcode
    assert [(v["quality"], v["width"], v["height"]) for v in data["videos"]] == [
        ("1080p", 1080, 1920), ("720p", 720, 1280), ("480p", 480, 854)]
    assert all(v["hasAudio"] and v["source"] == "direct" and v["mimeType"] == "video/mp4" for v in data["videos"])
    assert all(v["headers"]["Referer"] == "https://www.instagram.com/" for v in data["videos"])
    assert data["images"] == []
    assert data["duration"] == 27.1
    assert data["title"] == "Throwing a tall vase in one take"
    assert data["url"] == "https://www.instagram.com/reel/DCc3De4Fg5H/"
    assert data["thumbnail"].startswith("https://scontent-lax3-1.cdninstagram.com/v/t51.29350-15/466000_1_n.jpg")
    # The embed gives the reel's views and no time; yt-dlp's answer fills the time, likes and comments.
    assert data["uploadedAt"] == "2025-10-25T13:46:40Z"  # taken_at 1761400000
    assert data["stats"] == {"views": 18231, "likes": 5120, "comments": 88, "shares": None}


def test_carousel_video_without_url_is_filled_from_ytdlp_and_photos_stay_in_order():
    from tests.support.ytdlp_replay import replay

    with respx.mock() as mock, replay(ytdlp_routes("graphql_carousel.json")):
        mock.get(embed_url("DCd4Ef5Gh6I")).respond(200, html=page("embed_carousel_video_without_url.html"))
        data = extract("https://www.instagram.com/p/DCd4Ef5Gh6I/").to_dict()
    assert [i["url"].split("?")[0].rsplit("/", 1)[1] for i in data["images"]] == ["465123_1_n.jpg", "465123_3_n.jpg"]
    assert [(v["quality"], v["width"], v["height"]) for v in data["videos"]] == [
        ("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]
    assert data["duration"] == 12.4


def test_gated_post_is_login_required():
    from tests.support.ytdlp_replay import replay

    # The API answers no media for a logged-out visitor and the post page carries none either: yt-dlp's
    # "empty media response".
    routes = ytdlp_routes("graphql_gated.json", **{
        "https://www.instagram.com/p/DCf6Gh7Ij8K*": (b"<html><body>Instagram</body></html>", 200, {})})
    with respx.mock() as mock, replay(routes):
        mock.get(embed_url("DCf6Gh7Ij8K")).respond(200, html=page("embed_unavailable.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://www.instagram.com/p/DCf6Gh7Ij8K/")
    assert caught.value.reason == "login_required"


def test_unreadable_embed_and_api_answers_are_an_upstream_failure():
    from tests.support.ytdlp_replay import replay

    routes = ytdlp_routes((b"<html>not json</html>", 200, {}),
                          **{"https://www.instagram.com/p/DCf6Gh7Ij8K*": (b"<html>busy</html>", 503, {})})
    with respx.mock() as mock, replay(routes):
        mock.get(embed_url("DCf6Gh7Ij8K")).respond(200, html="<html><body>A new layout</body></html>")
        with pytest.raises(UpstreamFailure):
            extract("https://www.instagram.com/p/DCf6Gh7Ij8K/")


@pytest.mark.parametrize("short", [
    "https://www.instagram.com/share/p/BQx1y2Z3a4/",
    "https://www.instagram.com/share/reel/BQx1y2Z3a4/",
])
def test_share_links_expand_to_the_post(short):
    from parsing.expansion import resolve

    target = recognize(short)
    assert target.short
    with respx.mock() as mock:
        mock.get(short).respond(302, headers={"Location": "https://www.instagram.com/p/DCb2Cd3Ef4G/?igsh=MWQ1ZGUxMzBkMA=="})
        mock.get(embed_url("DCb2Cd3Ef4G")).respond(200, html=page("embed_photo.html"))
        data = InstagramExtractor().extract(resolve(target)).to_dict()
    assert data["id"] == "DCb2Cd3Ef4G" and len(data["images"]) == 1


# --- shape errors, unreadable carousels, posts without playable media ------------------------------------------


def embedded(name: str) -> dict:
    media = embedded_media(page(name))
    assert media is not None
    return media


def embed_page(media: dict) -> str:
    """A minimal embed page carrying ``media`` the way Instagram's does: JSON inside a JSON string."""
    context = json.dumps({"context": {"shortcode": media.get("shortcode")}, "gql_data": {"shortcode_media": media}})
    return ('<html><body class="embedded"><script>requireLazy([],function(){s.handle({"require":[["PolarisEmbedSimple",'
            f'"init",[],[{{"contextJSON":{json.dumps(context)}}}]]]}});}});</script></body></html>')


@pytest.mark.parametrize("change", [
    {"display_resources": 5},
    {"dimensions": {"width": float("inf"), "height": 1800}},
    {"is_video": True, "video_url": "https://scontent.cdninstagram.com/v/a.mp4", "video_duration": "12 s"},
    {"is_video": True, "video_url": "https://scontent.cdninstagram.com/v/a.mp4", "video_duration": float("inf")},
    {"is_video": True, "video_url": "https://scontent.cdninstagram.com/v/a.mp4", "video_duration": [1]},
    {"owner": {"id": float("nan"), "username": ["x"]}},
    {"edge_media_to_caption": {"edges": [{"node": {"text": {"a": 1}}}]}},
])
def test_media_shapes_give_a_result_or_a_typed_error(change):
    from parsing.extractors.instagram import media_to_result

    try:
        result, _missing = media_to_result({**embedded("embed_photo.html"), **change}, code="DCb2Cd3Ef4G", kind="post")
    except UpstreamFailure:
        return
    data = result.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert isinstance(data["title"], str)


def test_a_carousel_whose_item_list_is_unreadable_goes_to_ytdlp_not_to_its_cover():
    from tests.support.ytdlp_replay import replay

    media = embedded("embed_carousel_video_without_url.html")
    media["edge_sidecar_to_children"] = {"edges": "unreadable"}
    with respx.mock() as mock, replay(ytdlp_routes("graphql_carousel.json")) as calls:
        mock.get(embed_url("DCd4Ef5Gh6I")).respond(200, html=embed_page(media))
        data = extract("https://www.instagram.com/p/DCd4Ef5Gh6I/").to_dict()
    assert any(c.url == "https://www.instagram.com/api/graphql" for c in calls)
    assert [(v["quality"], v["width"], v["height"]) for v in data["videos"]] == [
        ("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]


def test_video_post_whose_video_cannot_be_resolved_is_no_media_despite_its_cover():
    from tests.support.ytdlp_replay import replay

    answer = json.loads((FIXTURES / "graphql_reel.json").read_text())
    item = answer["data"]["xig_polaris_media"]["if_not_gated_logged_out"]
    del item["video_versions"]  # the API lists the reel's cover but no stream
    assert embedded("embed_reel.html").get("display_url")  # the cover is known ...
    with respx.mock() as mock, replay(ytdlp_routes((json.dumps(answer).encode(), 200, {}))):
        mock.get(embed_url("DCc3De4Fg5H")).respond(200, html=page("embed_reel.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://www.instagram.com/reel/DCc3De4Fg5H/")
    assert caught.value.reason == "no_media"  # ... but the customer asked for the video


def test_a_carousel_with_a_photo_missing_answers_the_others():
    media = embedded("embed_carousel.html")
    first = media["edge_sidecar_to_children"]["edges"][0]["node"]
    first.pop("display_url")
    first["display_resources"] = []
    with respx.mock() as mock:
        mock.get(embed_url("DCa1Bc2De3F")).respond(200, html=embed_page(media))
        data = extract("https://www.instagram.com/p/DCa1Bc2De3F/").to_dict()
    assert [i["url"].split("?")[0].rsplit("/", 1)[1] for i in data["images"]] == ["465123_3_n.jpg"]
    assert len(data["videos"]) == 1
