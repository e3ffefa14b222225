"""Recognition for the endpoints beside /parse: live rooms (/live) and collections (/collection), and the
`endpoint` every recognition names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.recognition import ENDPOINTS, recognize, recognize_expanded

BV = "BV1xx411c7mD"
YT = "dQw4w9WgXcQ"
PL = "PLBCF2DAC6FFB574DE"
ROOM = "7318296342189919011"  # a Douyin room id (the app's share page), not a web id
REFLOW = f"https://webcast.amemv.com/douyin/webcast/reflow/{ROOM}"

# (link, operation, platform, kind, id): supported for that operation.
SUPPORTED = [
    # /live
    ("https://live.bilibili.com/21495945", "live", "bilibili", "live", "21495945"),
    ("https://live.bilibili.com/21495945?broadcast_type=0&spm_id_from=333.999", "live", "bilibili", "live", "21495945"),
    ("https://live.bilibili.com/h5/21495945", "live", "bilibili", "live", "21495945"),
    ("https://live.bilibili.com/blanc/196", "live", "bilibili", "live", "196"),
    ("https://live.douyin.com/745964462470", "live", "douyin", "live", "745964462470"),
    ("https://www.douyin.com/root/live/745964462470", "live", "douyin", "live", "745964462470"),
    ("https://www.douyin.com/follow/live/745964462470", "live", "douyin", "live", "745964462470"),
    (REFLOW, "live", "douyin", "room", ROOM),
    (f"{REFLOW}?u_code=l1j9bkbd&with_sec_did=1&liveId={ROOM}&from=share&style=share&sec_user_id=MS4wLjABAAAAq7W",
     "live", "douyin", "room", ROOM),
    ("https://live.kuaishou.com/u/3xgexgpig9gwwqa", "live", "kuaishou", "live", "3xgexgpig9gwwqa"),
    ("https://www.tiktok.com/@some.streamer_1/live", "live", "tiktok", "live", "some.streamer_1"),
    ("https://www.tiktok.com/@some.streamer_1/live?lang=en", "live", "tiktok", "live", "some.streamer_1"),
    (f"https://www.youtube.com/watch?v={YT}", "live", "youtube", "live", YT),
    (f"https://www.youtube.com/live/{YT}", "live", "youtube", "live", YT),
    (f"https://youtu.be/{YT}", "live", "youtube", "live", YT),
    ("https://www.youtube.com/@NASA/live", "live", "youtube", "channel_live", "@NASA"),
    ("https://www.youtube.com/channel/UCLA_DiR1FfKNvjuUpBHmylQ/live", "live", "youtube", "channel_live",
     "UCLA_DiR1FfKNvjuUpBHmylQ"),
    ("https://www.youtube.com/c/NASA/live", "live", "youtube", "channel_live", "NASA"),
    # /collection
    (f"https://www.youtube.com/playlist?list={PL}", "collection", "youtube", "playlist", PL),
    (f"https://www.youtube.com/watch?v={YT}&list={PL}&index=3", "collection", "youtube", "playlist", PL),
    (f"https://www.youtube.com/watch?list={PL}", "collection", "youtube", "playlist", PL),
    (f"https://www.youtube.com/embed/videoseries?list={PL}", "collection", "youtube", "playlist", PL),
    (f"https://youtu.be/{YT}?list={PL}", "collection", "youtube", "playlist", PL),
    (f"https://m.youtube.com/playlist?list={PL}", "collection", "youtube", "playlist", PL),
    (f"https://www.bilibili.com/video/{BV}", "collection", "bilibili", "parts", BV),
    (f"https://www.bilibili.com/video/{BV}/?p=3", "collection", "bilibili", "parts", BV),
    (f"https://m.bilibili.com/video/{BV}", "collection", "bilibili", "parts", BV),
    ("https://www.bilibili.com/video/av170001", "collection", "bilibili", "parts", "av170001"),
    (f"https://www.bilibili.com/s/video/{BV}", "collection", "bilibili", "parts", BV),
    ("https://space.bilibili.com/2142762/channel/collectiondetail?sid=57445", "collection", "bilibili", "season",
     "57445"),
    ("https://space.bilibili.com/1958703906/channel/seriesdetail?sid=547718&ctype=0", "collection", "bilibili",
     "series", "547718"),
    ("https://space.bilibili.com/2142762/lists/3662502?type=season", "collection", "bilibili", "season", "3662502"),
    ("https://space.bilibili.com/2142762/lists/3662502", "collection", "bilibili", "season", "3662502"),
    ("https://space.bilibili.com/1958703906/lists/547718?type=series", "collection", "bilibili", "series", "547718"),
    ("https://www.douyin.com/collection/7228425464914200635", "collection", "douyin", "mix", "7228425464914200635"),
    ("https://www.douyin.com/mix/detail/7228425464914200635", "collection", "douyin", "mix", "7228425464914200635"),
    ("https://www.iesdouyin.com/share/mix/detail/7228425464914200635/?schema_type=24", "collection", "douyin", "mix",
     "7228425464914200635"),
]

# (link, operation, platform, reason): refused for that operation.
REFUSED = [
    # /live: not a room, or a platform /live does not serve
    (f"https://www.bilibili.com/video/{BV}", "live", "bilibili", "not_live"),
    ("https://live.bilibili.com/", "live", "bilibili", "not_live"),
    ("https://live.bilibili.com/p/eden/area-tags", "live", "bilibili", "not_live"),
    ("https://live.bilibili.com/abc", "live", "bilibili", "invalid_id"),
    ("https://www.douyin.com/video/7300000000000000000", "live", "douyin", "not_live"),
    ("https://live.douyin.com/", "live", "douyin", "not_live"),
    ("https://live.douyin.com/not-a-room", "live", "douyin", "invalid_id"),
    ("https://webcast.amemv.com/", "live", "douyin", "not_live"),
    ("https://webcast.amemv.com/douyin/webcast/reflow/", "live", "douyin", "not_live"),
    ("https://webcast.amemv.com/douyin/webcast/reflow/not-a-room", "live", "douyin", "invalid_id"),
    (f"{REFLOW}/more", "live", "douyin", "not_live"),
    (f"https://webcast.amemv.com/webcast/room/reflow/info/?room_id={ROOM}", "live", "douyin", "not_live"),  # its API
    (f"https://api.amemv.com/douyin/webcast/reflow/{ROOM}", "live", None, "unknown_platform"),
    ("https://www.kuaishou.com/short-video/3xabcdefg", "live", "kuaishou", "not_live"),
    ("https://live.kuaishou.com/", "live", "kuaishou", "not_live"),
    ("https://www.tiktok.com/@someone/video/7300000000000000000", "live", "tiktok", "not_live"),
    ("https://www.tiktok.com/@someone", "live", "tiktok", "not_live"),
    (f"https://www.youtube.com/playlist?list={PL}", "live", "youtube", "not_live"),
    ("https://www.youtube.com/@NASA/streams", "live", "youtube", "not_live"),
    ("https://www.youtube.com/watch?v=short", "live", "youtube", "invalid_id"),
    ("https://x.com/i/broadcasts/1ZkJzbdvLgRJv", "live", "twitter", "operation_not_supported"),
    ("https://www.instagram.com/someone/live/", "live", "instagram", "operation_not_supported"),
    ("https://weibo.com/l/wblive/p/show/1022:2321324936472716443664", "live", "weibo", "operation_not_supported"),
    ("https://www.xiaohongshu.com/livestream/123", "live", "xiaohongshu", "operation_not_supported"),
    ("https://p3-sign.douyinpic.com/obj/tos-cn-i-0813/abc.jpeg", "live", "douyin", "not_live"),
    ("https://example.com/live/1", "live", None, "unknown_platform"),
    ("no link at all", "live", None, "no_url"),
    # /collection: not a collection, or a platform /collection does not serve
    (f"https://www.youtube.com/watch?v={YT}", "collection", "youtube", "not_a_collection"),
    (f"https://youtu.be/{YT}", "collection", "youtube", "not_a_collection"),
    ("https://www.youtube.com/playlist", "collection", "youtube", "not_a_collection"),
    ("https://www.youtube.com/playlist?list=WL", "collection", "youtube", "private"),
    ("https://www.youtube.com/playlist?list=bad%20list", "collection", "youtube", "invalid_id"),
    ("https://www.youtube.com/@NASA", "collection", "youtube", "not_a_collection"),
    ("https://live.bilibili.com/21495945", "collection", "bilibili", "not_a_collection"),
    ("https://www.bilibili.com/bangumi/play/ss12345", "collection", "bilibili", "not_a_collection"),
    ("https://space.bilibili.com/2142762", "collection", "bilibili", "not_a_collection"),
    ("https://space.bilibili.com/2142762/favlist?fid=123", "collection", "bilibili", "favorites"),
    ("https://space.bilibili.com/2142762/channel/collectiondetail", "collection", "bilibili", "invalid_id"),
    ("https://space.bilibili.com/2142762/channel/collectiondetail?sid=abc", "collection", "bilibili", "invalid_id"),
    ("https://www.bilibili.com/video/BV1short", "collection", "bilibili", "invalid_id"),
    ("https://www.douyin.com/video/7300000000000000000", "collection", "douyin", "not_a_collection"),
    ("https://www.douyin.com/collection/abc", "collection", "douyin", "invalid_id"),
    ("https://live.douyin.com/745964462470", "collection", "douyin", "not_a_collection"),
    (REFLOW, "collection", "douyin", "not_a_collection"),
    ("https://webcast.amemv.com/collection/7228425464914200635", "collection", "douyin", "not_a_collection"),
    ("https://www.tiktok.com/@someone/collection/cats-7300000000000000000", "collection", "tiktok",
     "operation_not_supported"),
    ("https://www.kuaishou.com/short-video/3xabcdefg", "collection", "kuaishou", "operation_not_supported"),
    ("https://x.com/i/lists/123", "collection", "twitter", "operation_not_supported"),
    ("https://example.com/playlist?list=x", "collection", None, "unknown_platform"),
    ("", "collection", None, "no_url"),
]

# (link, endpoint): which endpoint serves a link, whatever the operation asked.
ENDPOINT_OF = [
    (f"https://www.bilibili.com/video/{BV}", "parse"),  # /parse and /collection: the primary wins
    (f"https://www.youtube.com/watch?v={YT}&list={PL}", "parse"),
    (f"https://www.youtube.com/live/{YT}", "parse"),
    ("https://www.youtube.com/@NASA/live", "live"),
    (f"https://www.youtube.com/playlist?list={PL}", "collection"),
    ("https://live.bilibili.com/21495945", "live"),
    ("https://live.douyin.com/745964462470", "live"),
    (REFLOW, "live"),
    ("https://live.kuaishou.com/u/3xgexgpig9gwwqa", "live"),
    ("https://www.tiktok.com/@someone/live", "live"),
    ("https://space.bilibili.com/2142762/lists/3662502?type=season", "collection"),
    ("https://www.douyin.com/collection/7228425464914200635", "collection"),
    ("https://b23.tv/AbCdEf1", "parse"),  # a short link is /parse's until it is expanded
    ("https://www.tiktok.com/@someone", None),
    ("https://www.youtube.com/playlist?list=WL", None),
    ("https://x.com/i/broadcasts/1ZkJzbdvLgRJv", None),
    ("https://example.com/", None),
    ("nothing here", None),
]


@pytest.mark.parametrize(("link", "operation", "platform", "kind", "media_id"), SUPPORTED)
def test_it_recognises_every_live_and_collection_form(
    link: str, operation: str, platform: str, kind: str, media_id: str
) -> None:
    result = recognize(link, operation)
    assert (result.supported, result.platform, result.kind, result.id, result.reason) == (
        True, platform, kind, media_id, None)
    assert result.short is False and result.url and result.url.startswith("https://")
    # The same link without scheme and in another case of the host is the same recognition.
    bare = recognize(link.removeprefix("https://").replace("www.", "WWW.", 1), operation)
    assert (bare.supported, bare.kind, bare.id) == (True, kind, media_id)


@pytest.mark.parametrize(("link", "operation", "platform", "reason"), REFUSED)
def test_it_refuses_links_the_operation_does_not_serve(
    link: str, operation: str, platform: str | None, reason: str
) -> None:
    result = recognize(link, operation)
    assert (result.supported, result.platform, result.reason) == (False, platform, reason)
    assert (result.kind, result.id, result.short) == (None, None, False)


@pytest.mark.parametrize(("link", "endpoint"), ENDPOINT_OF)
@pytest.mark.parametrize("operation", ENDPOINTS)
def test_endpoint_names_what_serves_the_link_whatever_the_operation(link: str, endpoint: str | None,
                                                                    operation: str) -> None:
    result = recognize(link, operation)
    assert result.endpoint == endpoint
    assert result.as_dict()["endpoint"] == endpoint
    if endpoint:  # the endpoint it names does serve it
        assert recognize(link, endpoint).supported


@pytest.mark.parametrize(("link", "operation", "platform", "kind", "media_id"), SUPPORTED)
def test_parse_keeps_its_answer_for_the_new_forms(link: str, operation: str, platform: str, kind: str,
                                                  media_id: str) -> None:
    parsed = recognize(link)
    # /parse accepts only what it accepted before: single posts (BV links and watch/live links).
    assert parsed.supported is (parsed.endpoint == "parse")
    if not parsed.supported:
        assert parsed.reason in ("live", "playlist", "profile", "collection", "follow")


def test_the_parts_link_keeps_no_part_number_for_collection_but_parse_does() -> None:
    link = f"https://www.bilibili.com/video/{BV}/?p=3&spm_id_from=333.1"
    assert recognize(link, "collection").url == f"https://www.bilibili.com/video/{BV}/"
    assert recognize(link).url == f"https://www.bilibili.com/video/{BV}/?p=3"


def test_collection_urls_keep_the_parameters_naming_the_collection() -> None:
    assert recognize(f"https://www.youtube.com/playlist?list={PL}&si=tracking", "collection").url == (
        f"https://www.youtube.com/playlist?list={PL}")
    assert recognize(f"https://www.youtube.com/watch?v={YT}&list={PL}&pp=x", "collection").url == (
        f"https://www.youtube.com/watch?v={YT}&list={PL}")
    assert recognize("https://space.bilibili.com/1/channel/seriesdetail?sid=5&ctype=0", "collection").url == (
        "https://space.bilibili.com/1/channel/seriesdetail?sid=5")
    assert recognize("https://space.bilibili.com/1/lists/5?type=series&spm=x", "collection").url == (
        "https://space.bilibili.com/1/lists/5?type=series")
    assert recognize("https://live.bilibili.com/21495945?spm_id_from=x", "live").url == (
        "https://live.bilibili.com/21495945")


@pytest.mark.parametrize(
    ("text", "operation", "platform", "kind", "media_id"),
    [
        ("【直播】某某正在直播 https://live.bilibili.com/21495945?live_from=85001 快来围观！", "live", "bilibili",
         "live", "21495945"),
        ("8- 长按复制此条消息，打开抖音搜索，查看TA的直播。 https://v.douyin.com/iRNBho5q/", "live", "douyin",
         "short", None),
        (f"9- 长按复制此条消息，打开抖音搜索，查看TA的直播。 {REFLOW}?from=share&style=share", "live", "douyin", "room",
         ROOM),
        ("看看这个合集 https://www.douyin.com/collection/7228425464914200635 一起追更", "collection", "douyin", "mix",
         "7228425464914200635"),
        # Share text with a post first and the playlist after: /collection picks the link it serves.
        (f"watch https://x.com/a/status/1 and then www.youtube.com/playlist?list={PL}", "collection", "youtube",
         "playlist", PL),
        ("【合集】黑神话悟空 https://b23.tv/Ab3xYz9", "collection", "bilibili", "short", None),
    ],
)
def test_share_text_and_short_links_work_for_every_operation(text: str, operation: str, platform: str, kind: str,
                                                             media_id: str | None) -> None:
    result = recognize(text, operation)
    assert (result.supported, result.platform, result.kind, result.id) == (True, platform, kind, media_id)
    assert result.short is (kind == "short")


@pytest.mark.parametrize("operation", ["live", "collection"])
def test_short_links_of_platforms_without_the_operation_are_refused(operation: str) -> None:
    result = recognize("https://t.co/Vd9xKq2LmN", operation)
    assert (result.supported, result.platform, result.reason) == (False, "twitter", "operation_not_supported")


@pytest.mark.parametrize(
    ("platform", "url", "operation", "supported", "kind", "reason"),
    [
        ("bilibili", "https://live.bilibili.com/21495945", "live", True, "live", None),
        ("bilibili", "https://live.bilibili.com/21495945", "parse", False, None, "live"),
        ("bilibili", "https://m.bilibili.com/video/BV1xx411c7mD?share_source=copy", "collection", True, "parts", None),
        ("bilibili", "https://space.bilibili.com/2142762/lists/3662502?type=season", "collection", True, "season",
         None),
        ("douyin", f"{REFLOW}?liveId={ROOM}&from=share", "live", True, "room", None),
        ("douyin", REFLOW, "parse", False, None, "live"),  # /parse answers it as it answers live.douyin.com
        ("douyin", REFLOW, "collection", False, None, "not_a_collection"),
        ("tiktok", REFLOW, "live", False, None, "platform_mismatch"),
        ("douyin", "https://www.iesdouyin.com/share/mix/detail/7228425464914200635/", "collection", True, "mix",
         None),
        ("douyin", "https://www.douyin.com/collection/7228425464914200635", "live", False, None, "not_live"),
        ("youtube", "https://www.youtube.com/playlist?list=PLBCF2DAC6FFB574DE", "live", False, None, "not_live"),
        ("tiktok", "https://vm.tiktok.com/ZMabc/", "live", False, None, "unresolved_short_link"),
        ("kuaishou", "https://live.kuaishou.com/u/3xgexgpig9gwwqa", "live", True, "live", None),
        ("kuaishou", "https://live.bilibili.com/21495945", "live", False, None, "platform_mismatch"),
    ],
)
def test_recognize_expanded_takes_the_operation(platform: str, url: str, operation: str, supported: bool,
                                                kind: str | None, reason: str | None) -> None:
    result = recognize_expanded(platform, url, operation)
    assert (result.supported, result.kind, result.reason) == (supported, kind, reason)


def test_an_unknown_operation_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        recognize("https://live.bilibili.com/1", "download")
    with pytest.raises(ValueError, match="unknown operation"):
        recognize_expanded("bilibili", "https://live.bilibili.com/1", "lives")


_LINKS = st.sampled_from([s[0] for s in SUPPORTED] + [r[0] for r in REFUSED] + [e[0] for e in ENDPOINT_OF])


@settings(max_examples=300, deadline=None)
@given(prefix=st.text(max_size=30), link=_LINKS, operation=st.sampled_from(ENDPOINTS))
def test_every_operation_keeps_the_recognition_invariants(prefix: str, link: str, operation: str) -> None:
    result = recognize(prefix + " " + link, operation)
    assert result.supported is (result.reason is None)
    assert result.endpoint in (*ENDPOINTS, None)
    if result.supported:
        assert result.kind and result.endpoint is not None
    else:
        assert result.kind is None and result.id is None
    # /parse's answer is the same whatever else the link is, apart from naming the endpoint.
    if operation != "parse":
        parsed = recognize(prefix + " " + link)
        assert parsed.endpoint is not None or not parsed.supported
