"""Offline recognition of every URL form in the public contract, share texts and spoofed hosts."""

from __future__ import annotations

import pytest

from parsing.recognition import (
    PLATFORMS,
    Recognition,
    extract_url,
    platform_for_host,
    recognize,
    recognize_expanded,
)

DY = "7301234567890123456"  # Douyin / TikTok style 19-digit ids
NOTE = "64b8c1e1000000001e03a2f4"  # Xiaohongshu 24-hex note id
BV = "BV1xx411c7mD"
WB = "4845690523452345"  # Weibo numeric post id
MBLOG = "Lpv1eAZ8J"  # Weibo base62 mblogid
FID = "1034:4707432316731401"

# (input, platform, kind, id) for every form the contract lists as supported, plus the forms its
# platforms' apps and redirects produce for the same posts.
SUPPORTED: list[tuple[str, str, str, str | None]] = [
    # TikTok
    ("https://www.tiktok.com/@scout2015/video/6718335390845095173", "tiktok", "video", "6718335390845095173"),
    ("https://tiktok.com/@user.name/video/7301234567890123456?is_from_webapp=1", "tiktok", "video", DY),
    (f"https://www.tiktok.com/@bestrumraisin/photo/{DY}?_r=1&_t=ZS-8zjzroAFzlN", "tiktok", "photo", DY),
    (f"https://m.tiktok.com/v/{DY}.html", "tiktok", "video", DY),
    (f"https://www.tiktok.com/embed/v2/{DY}", "tiktok", "video", DY),
    (f"https://www.tiktok.com/embed/{DY}", "tiktok", "video", DY),
    (f"https://t.tiktok.com/i18n/share/video/{DY}/?u_code=x", "tiktok", "video", DY),
    ("https://www.tiktok.com/t/ZTRU8DsQA/?k=1", "tiktok", "short", None),
    ("https://vm.tiktok.com/ZMS2rujS5/", "tiktok", "short", None),
    ("https://vt.tiktok.com/ZSDMtC7eH/", "tiktok", "short", None),
    ("https://lite.tiktok.com/t/ZS2NCLfRA/", "tiktok", "short", None),
    # Douyin
    ("https://v.douyin.com/iRNBho5q/", "douyin", "short", None),
    (f"https://www.douyin.com/video/{DY}", "douyin", "video", DY),
    (f"https://douyin.com/share/video/{DY}", "douyin", "video", DY),
    (f"https://www.douyin.com/note/{DY}", "douyin", "note", DY),
    (f"https://www.douyin.com/share/note/{DY}", "douyin", "note", DY),
    (f"https://www.douyin.com/shipin/{DY}", "douyin", "video", DY),
    (f"https://www.douyin.com/vsdetail/{DY}", "douyin", "video", DY),
    (f"https://www.iesdouyin.com/share/video/{DY}/?region=CN&mid=1", "douyin", "video", DY),
    (f"https://www.iesdouyin.com/share/note/{DY}/", "douyin", "note", DY),
    (f"https://www.iesdouyin.com/share/slides/{DY}/", "douyin", "note", DY),
    (f"https://www.douyin.com/discover?modal_id={DY}", "douyin", "video", DY),
    (f"https://www.douyin.com/user/MS4wLjABAAAA?modal_id={DY}", "douyin", "video", DY),
    (
        "https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/abc~tplv-dy-aweme-images.jpeg?x-expires=1",
        "douyin",
        "media",
        None,
    ),
    ("https://v3-web.douyinvod.com/a1b2/65f0/video/tos/cn/x/?a=6383&br=1", "douyin", "media", None),
    ("https://lf-douyin-pc-web.douyinstatic.com/obj/douyin-pc-web/x.png", "douyin", "media", None),
    # YouTube
    ("https://youtu.be/dQw4w9WgXcQ?si=abc", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ&list=PL1", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RDAMVM", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/shorts/aqz-KE-bpKQ", "youtube", "shorts", "aqz-KE-bpKQ"),
    ("https://youtube.com/shorts/aqz-KE-bpKQ?feature=share", "youtube", "shorts", "aqz-KE-bpKQ"),
    ("https://www.youtube.com/live/jfKfPfyJRdk?si=x", "youtube", "video", "jfKfPfyJRdk"),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "youtube", "video", "dQw4w9WgXcQ"),
    # X / Twitter
    ("https://x.com/jack/status/20", "twitter", "post", "20"),
    ("https://twitter.com/NASA/status/1234567890123456789?s=20", "twitter", "post", "1234567890123456789"),
    ("https://mobile.twitter.com/NASA/status/1234567890123456789", "twitter", "post", "1234567890123456789"),
    ("https://www.twitter.com/NASA/statuses/1234567890123456789", "twitter", "post", "1234567890123456789"),
    ("https://x.com/i/status/1234567890123456789", "twitter", "post", "1234567890123456789"),
    ("https://x.com/i/web/status/1234567890123456789", "twitter", "post", "1234567890123456789"),
    ("https://x.com/NASA/status/1234567890123456789/photo/1", "twitter", "post", "1234567890123456789"),
    ("https://x.com/NASA/status/1234567890123456789/video/1", "twitter", "post", "1234567890123456789"),
    ("https://t.co/abc123XYZ", "twitter", "short", None),
    # Instagram
    ("https://www.instagram.com/p/CxYz123AbC/", "instagram", "post", "CxYz123AbC"),
    ("https://www.instagram.com/reel/C1a2B3c4D5e/?igsh=abc", "instagram", "reel", "C1a2B3c4D5e"),
    ("https://www.instagram.com/reels/C1a2B3c4D5e/", "instagram", "reel", "C1a2B3c4D5e"),
    ("https://www.instagram.com/tv/B_abc-12345/", "instagram", "video", "B_abc-12345"),
    ("https://www.instagram.com/natgeo/p/CxYz123AbC/", "instagram", "post", "CxYz123AbC"),
    ("https://www.instagram.com/nat.geo_1/reel/C1a2B3c4D5e/", "instagram", "reel", "C1a2B3c4D5e"),
    ("https://www.instagram.com/p/CxYz123AbC/embed", "instagram", "post", "CxYz123AbC"),
    ("https://www.instagram.com/p/CxYz123AbC/embed/captioned/", "instagram", "post", "CxYz123AbC"),
    ("https://instagr.am/p/CxYz123AbC/", "instagram", "post", "CxYz123AbC"),
    ("https://m.instagram.com/p/CxYz123AbC/", "instagram", "post", "CxYz123AbC"),
    ("https://www.instagram.com/r/AbCdEf123/", "instagram", "short", None),
    ("https://www.instagram.com/share/reel/BAabc123XyZ/", "instagram", "short", None),
    ("https://www.instagram.com/share/p/BAabc123XyZ/", "instagram", "short", None),
    ("https://www.instagram.com/share/BAabc123XyZ", "instagram", "short", None),
    # Xiaohongshu
    ("https://xhslink.com/AbCdEf", "xiaohongshu", "short", None),
    ("http://xhslink.com/a/AbCdEf", "xiaohongshu", "short", None),
    ("https://xhslink.com/o/9xYz1", "xiaohongshu", "short", None),
    ("https://xhslink.com/m/9xYz1", "xiaohongshu", "short", None),
    (f"https://www.xiaohongshu.com/explore/{NOTE}", "xiaohongshu", "note", NOTE),
    (
        f"https://www.xiaohongshu.com/discovery/item/{NOTE}?xsec_token=AB1%3D&xsec_source=app_share",
        "xiaohongshu",
        "note",
        NOTE,
    ),
    (f"https://www.xiaohongshu.com/user/profile/5f0e1234567890abcdef1234/{NOTE}", "xiaohongshu", "note", NOTE),
    # Bilibili
    (f"https://www.bilibili.com/video/{BV}", "bilibili", "video", BV),
    (f"https://www.bilibili.com/video/{BV}/?p=2&spm_id_from=333.1007", "bilibili", "video", BV),
    ("https://www.bilibili.com/video/av170001", "bilibili", "video", "av170001"),
    (f"https://m.bilibili.com/video/{BV}", "bilibili", "video", BV),
    (f"https://www.bilibili.com/s/video/{BV}", "bilibili", "video", BV),
    ("https://b23.tv/AbCdEf1", "bilibili", "short", None),
    ("https://bili.im/AbCdEf1", "bilibili", "short", None),
    (f"https://www.bilibili.com/list/1234567?sid=1&bvid={BV}&oid=2", "bilibili", "video", BV),
    (f"https://www.bilibili.com/list/ml1234567?bvid={BV}", "bilibili", "video", BV),
    ("https://www.bilibili.com/bangumi/play/ep123456", "bilibili", "episode", "ep123456"),
    ("https://www.bilibili.com/bangumi/play/ss12345?from_spmid=x", "bilibili", "season", "ss12345"),
    ("https://m.bilibili.com/bangumi/play/ep123456", "bilibili", "episode", "ep123456"),
    ("https://www.bilibili.com/cheese/play/ss123", "bilibili", "season", "ss123"),
    ("https://www.bilibili.com/cheese/play/ep456", "bilibili", "episode", "ep456"),
    # Kuaishou
    ("https://www.kuaishou.com/short-video/3xabcdefgh12345", "kuaishou", "video", "3xabcdefgh12345"),
    ("https://www.kuaishou.com/f/X-1ZPlLXbJ6Zi1vX", "kuaishou", "short", None),
    ("https://kuaishou.com/f/X-1ZPlLXbJ6Zi1vX", "kuaishou", "short", None),
    ("https://v.kuaishou.com/AbCd12", "kuaishou", "short", None),
    ("https://www.gifshow.com/fw/photo/3xabcdefgh12345", "kuaishou", "video", "3xabcdefgh12345"),
    (
        "https://m.gifshow.com/fw/photo/5249431024930474227?fid=1&cc=share_copylink",
        "kuaishou",
        "video",
        "5249431024930474227",
    ),
    ("https://v.m.chenzhongtech.com/fw/photo/3xabcdefgh12345?shareId=1", "kuaishou", "video", "3xabcdefgh12345"),
    ("https://v.m.chenzhongtech.com/fw/long-video/3xabcdefgh12345", "kuaishou", "video", "3xabcdefgh12345"),
    ("https://v.kuaishou.com/fw/photo/3xabcdefgh12345", "kuaishou", "video", "3xabcdefgh12345"),
    # Weibo
    (f"https://weibo.com/1234567890/{WB}", "weibo", "post", WB),
    (f"https://www.weibo.com/1234567890/{MBLOG}", "weibo", "post", MBLOG),
    (f"https://m.weibo.cn/status/{WB}", "weibo", "post", WB),
    (f"https://m.weibo.cn/status/{MBLOG}?sourceType=weixin", "weibo", "post", MBLOG),
    (f"https://m.weibo.cn/detail/{WB}", "weibo", "post", WB),
    (f"https://m.weibo.cn/1234567890/{WB}", "weibo", "post", WB),
    (f"https://weibo.com/detail/{WB}", "weibo", "post", WB),
    (f"https://weibo.com/tv/show/{FID}?from=old_pc_videoshow", "weibo", "video", FID),
    ("https://weibo.com/tv/show/1034%3A4707432316731401", "weibo", "video", FID),
    (f"https://video.weibo.com/show?fid={FID}", "weibo", "video", FID),
    (f"https://h5.video.weibo.com/show/{FID}", "weibo", "video", FID),
    ("https://t.cn/A6abcDef", "weibo", "short", None),
    ("https://mapp.api.weibo.cn/fx/8a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d.html", "weibo", "short", None),
]

# (input, platform, reason) for the forms the contract refuses, and malformed variants of supported ones.
REFUSED: list[tuple[str, str | None, str]] = [
    # TikTok
    ("https://www.tiktok.com/@uongnuocnhieudo", "tiktok", "profile"),
    ("https://www.tiktok.com/@uongnuocnhieudo?_t=ZS-8zjzivnVK1F&_r=1", "tiktok", "profile"),
    ("https://www.tiktok.com/@someone/live", "tiktok", "live"),
    ("https://www.tiktok.com/live", "tiktok", "live"),
    ("https://www.tiktok.com/tiktoklite", "tiktok", "tiktok_lite"),
    (f"https://lite.tiktok.com/@someone/video/{DY}", "tiktok", "tiktok_lite"),
    ("https://www.tiktok.com/search?q=cats", "tiktok", "search"),
    ("https://www.tiktok.com/tag/fyp", "tiktok", "topic"),
    ("https://www.tiktok.com/@someone/video/notanumber", "tiktok", "invalid_id"),
    ("https://www.tiktok.com/", "tiktok", "not_a_post"),
    ("https://vm.tiktok.com/", "tiktok", "not_a_post"),
    ("https://p16-sign-va.tiktokcdn.com/obj/x.jpeg", "tiktok", "media_url"),
    # Douyin
    ("https://www.douyin.com/user/MS4wLjABAAAAabc", "douyin", "profile"),
    ("https://www.iesdouyin.com/share/user/MS4wLjABAAAAabc", "douyin", "profile"),
    ("https://www.douyin.com/search/%E6%97%A5%E8%90%BD", "douyin", "search"),
    ("https://www.douyin.com/collection/7123456789012345678", "douyin", "collection"),
    ("https://www.douyin.com/follow", "douyin", "follow"),
    ("https://live.douyin.com/123456789", "douyin", "live"),
    ("https://www.douyin.com/root/live/123456789", "douyin", "live"),
    ("https://webcast.amemv.com/douyin/webcast/reflow/7318296342189919011?from=share", "douyin", "live"),
    ("https://webcast.amemv.com/", "douyin", "live"),
    ("https://www.douyin.com/video/abc", "douyin", "invalid_id"),
    ("https://www.douyin.com/", "douyin", "not_a_post"),
    ("https://www.douyin.com/jingxuan", "douyin", "unsupported_path"),
    ("https://v.douyin.com/", "douyin", "not_a_post"),
    ("https://p3-pc-sign.douyinpic.com/", "douyin", "not_a_post"),
    # YouTube
    ("https://www.youtube.com/playlist?list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf", "youtube", "playlist"),
    ("https://www.youtube.com/watch?list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf", "youtube", "playlist"),
    ("https://www.youtube.com/embed/videoseries?list=PL1", "youtube", "playlist"),
    ("https://www.youtube.com/@MrBeast", "youtube", "profile"),
    ("https://www.youtube.com/@MrBeast/videos", "youtube", "profile"),
    ("https://www.youtube.com/channel/UCX6OQ3DkcsbYNE6H8uQQuVA", "youtube", "profile"),
    ("https://www.youtube.com/c/MrBeast6000", "youtube", "profile"),
    ("https://www.youtube.com/user/PewDiePie", "youtube", "profile"),
    ("https://www.youtube.com/@MrBeast/community", "youtube", "community_post"),
    ("https://www.youtube.com/channel/UCX6OQ3DkcsbYNE6H8uQQuVA/community", "youtube", "community_post"),
    ("https://www.youtube.com/post/UgkxABCDEF123", "youtube", "community_post"),
    ("https://www.youtube.com/@MrBeast/live", "youtube", "live"),
    ("https://www.youtube.com/results?search_query=cats", "youtube", "search"),
    ("https://www.youtube.com/watch?v=tooshort", "youtube", "invalid_id"),
    ("https://www.youtube.com/shorts/", "youtube", "not_a_post"),
    ("https://youtu.be/", "youtube", "not_a_post"),
    ("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg", "youtube", "media_url"),
    ("https://rr1---sn-abc.googlevideo.com/videoplayback?expire=1", "youtube", "media_url"),
    # X / Twitter
    ("https://x.com/NASA", "twitter", "profile"),
    ("https://twitter.com/NASA/media", "twitter", "profile"),
    ("https://x.com/NASA/with_replies", "twitter", "profile"),
    ("https://x.com/search?q=cats&src=typed_query", "twitter", "search"),
    ("https://x.com/i/spaces/1YqKDoNbkAbcd", "twitter", "space"),
    ("https://x.com/hashtag/cats", "twitter", "topic"),
    ("https://x.com/explore", "twitter", "explore"),
    ("https://x.com/messages", "twitter", "direct_message"),
    ("https://x.com/i/lists/123", "twitter", "collection"),
    ("https://x.com/home", "twitter", "unsupported_path"),
    ("https://x.com/NASA/status/notanumber", "twitter", "invalid_id"),
    ("https://pbs.twimg.com/media/GabcdEFXsAAxyz.jpg?name=orig", "twitter", "media_url"),
    ("https://video.twimg.com/ext_tw_video/1/pu/vid/720x1280/a.mp4", "twitter", "media_url"),
    ("https://x.com/", "twitter", "not_a_post"),
    # Instagram
    ("https://www.instagram.com/stories/natgeo/3141592653589793238/", "instagram", "story"),
    ("https://www.instagram.com/stories/highlights/17890000000000000/", "instagram", "highlight"),
    ("https://www.instagram.com/s/aGlnaGxpZ2h0OjE3OTg?story_media_id=1", "instagram", "highlight"),
    ("https://www.instagram.com/natgeo/", "instagram", "profile"),
    ("https://www.instagram.com/natgeo/tagged/", "instagram", "profile"),
    ("https://www.instagram.com/natgeo/reels/", "instagram", "profile"),
    ("https://www.instagram.com/direct/inbox/", "instagram", "direct_message"),
    ("https://www.instagram.com/direct/t/1234567890/", "instagram", "direct_message"),
    ("https://www.instagram.com/explore/", "instagram", "explore"),
    ("https://www.instagram.com/explore/tags/cats/", "instagram", "explore"),
    ("https://www.instagram.com/accounts/login/?next=/p/CxYz123AbC/", "instagram", "unsupported_path"),
    ("https://www.instagram.com/p/ab/", "instagram", "invalid_id"),
    ("https://scontent-lax3-1.cdninstagram.com/v/t51.2885-15/abc.jpg", "instagram", "media_url"),
    # Xiaohongshu
    ("https://www.xiaohongshu.com/user/profile/5f0e1234567890abcdef1234", "xiaohongshu", "profile"),
    ("https://www.xiaohongshu.com/search_result?keyword=cats", "xiaohongshu", "search"),
    ("https://www.xiaohongshu.com/board/5f0e1234567890abcdef1234", "xiaohongshu", "collection"),
    ("https://www.xiaohongshu.com/explore", "xiaohongshu", "explore"),
    ("https://www.xiaohongshu.com/explore/notanoteid", "xiaohongshu", "invalid_id"),
    ("https://xhslink.com/", "xiaohongshu", "not_a_post"),
    ("https://sns-webpic-qc.xhscdn.com/202401/abc!nd_dft_wlteh_webp_3", "xiaohongshu", "media_url"),
    # Bilibili
    ("https://www.bilibili.com/watchlater/#/list", "bilibili", "playlist"),
    (f"https://www.bilibili.com/list/watchlater?bvid={BV}", "bilibili", "playlist"),
    ("https://www.bilibili.com/list/ml1234567", "bilibili", "playlist"),
    ("https://www.bilibili.com/list/1234567?sid=1", "bilibili", "playlist"),
    ("https://www.bilibili.com/medialist/detail/ml1234567", "bilibili", "collection"),
    ("https://space.bilibili.com/1234567", "bilibili", "profile"),
    ("https://space.bilibili.com/1234567/favlist?fid=1", "bilibili", "collection"),
    ("https://live.bilibili.com/21452505", "bilibili", "live"),
    ("https://search.bilibili.com/all?keyword=cats", "bilibili", "search"),
    ("https://www.bilibili.com/video/BVabc", "bilibili", "invalid_id"),
    ("https://www.bilibili.com/bangumi/play/xx1", "bilibili", "invalid_id"),
    ("https://www.bilibili.com/bangumi/media/md28229233", "bilibili", "unsupported_path"),
    ("https://i0.hdslb.com/bfs/archive/abc.jpg", "bilibili", "media_url"),
    ("https://b23.tv/", "bilibili", "not_a_post"),
    # Kuaishou
    ("https://www.kuaishou.com/profile/3xuserabc", "kuaishou", "profile"),
    ("https://v.m.chenzhongtech.com/fw/user/3xuserabc", "kuaishou", "profile"),
    ("https://www.kuaishou.com/search/video?searchKey=cats", "kuaishou", "search"),
    ("https://live.kuaishou.com/u/3xuserabc", "kuaishou", "live"),
    ("https://v.m.chenzhongtech.com/fw/live/3xuserabc", "kuaishou", "live"),
    ("https://www.kuaishou.com/", "kuaishou", "not_a_post"),
    ("https://www.kuaishou.com/short-video/x", "kuaishou", "invalid_id"),
    # Weibo
    ("https://weibo.com/u/1234567890", "weibo", "profile"),
    ("https://weibo.com/1234567890", "weibo", "profile"),
    ("https://weibo.com/n/someone", "weibo", "profile"),
    ("https://m.weibo.cn/u/1234567890", "weibo", "profile"),
    ("https://m.weibo.cn/profile/1234567890", "weibo", "profile"),
    ("https://s.weibo.com/weibo?q=%23cats%23", "weibo", "search"),
    ("https://huati.weibo.com/k/cats", "weibo", "topic"),
    ("https://weibo.com/p/1008081234567890abcdef/super_index", "weibo", "topic"),
    ("https://m.weibo.cn/p/index?containerid=1008081234567890abcdef", "weibo", "topic"),
    ("https://weibo.com/l/wblive/p/show/1022:2321324567890123", "weibo", "live"),
    ("https://weibo.com/ttarticle/p/show?id=2309404567890123456789", "weibo", "article"),
    ("https://card.weibo.com/article/m/show/id/2309404567890123456789", "weibo", "article"),
    ("https://weibo.com/fav", "weibo", "collection"),
    ("https://weibo.com/1234567890/home", "weibo", "invalid_id"),
    ("https://video.weibo.com/show", "weibo", "invalid_id"),
    ("https://wx1.sinaimg.cn/large/abc.jpg", "weibo", "media_url"),
    ("https://t.cn/", "weibo", "not_a_post"),
    # No platform at all
    ("https://example.com/video/123", None, "unknown_platform"),
    ("just some words, no link", None, "no_url"),
    ("", None, "no_url"),
]


def _assert_supported(result: Recognition, platform: str, kind: str, media_id: str | None) -> None:
    """Check a supported recognition's platform, kind, id and short flag."""
    assert (result.supported, result.reason) == (True, None)
    assert (result.platform, result.kind, result.id) == (platform, kind, media_id)
    assert result.short is (kind == "short")
    assert result.platform in PLATFORMS


@pytest.mark.parametrize(("text", "platform", "kind", "media_id"), SUPPORTED)
def test_it_recognises_every_supported_form(text: str, platform: str, kind: str, media_id: str | None) -> None:
    _assert_supported(recognize(text), platform, kind, media_id)


@pytest.mark.parametrize(("text", "platform", "kind", "media_id"), SUPPORTED)
def test_it_recognises_supported_forms_without_scheme_and_in_any_case(
    text: str, platform: str, kind: str, media_id: str | None
) -> None:
    bare = text.split("://", 1)[1]
    _assert_supported(recognize(bare), platform, kind, media_id)
    scheme, rest = text.split("://", 1)
    host, _, path = rest.partition("/")
    _assert_supported(recognize(f"{scheme.upper()}://{host.upper()}/{path}"), platform, kind, media_id)


@pytest.mark.parametrize(("text", "platform", "reason"), REFUSED)
def test_it_refuses_forms_the_contract_does_not_support(text: str, platform: str | None, reason: str) -> None:
    result = recognize(text)
    assert (result.supported, result.platform, result.reason) == (False, platform, reason)
    assert (result.kind, result.id, result.short) == (None, None, False)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (
            "https://www.tiktok.com/@scout2015/video/6718335390845095173?is_from_webapp=1&sender_device=pc#top",
            "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        ),
        (
            "https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ&t=42",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("youtu.be/dQw4w9WgXcQ?si=tracking", "https://youtu.be/dQw4w9WgXcQ"),
        (
            f"https://www.xiaohongshu.com/discovery/item/{NOTE}?app_platform=ios&xsec_token=CBa%2Bb%3D&xsec_source=app_share",
            f"https://www.xiaohongshu.com/discovery/item/{NOTE}?xsec_token=CBa%2Bb%3D",
        ),
        (
            f"https://www.bilibili.com/list/1234567?sid=1&bvid={BV}&oid=2",
            f"https://www.bilibili.com/list/1234567?bvid={BV}",
        ),
        (f"https://www.bilibili.com/video/{BV}/?p=2&spm_id_from=x", f"https://www.bilibili.com/video/{BV}/?p=2"),
        (f"https://video.weibo.com/show?fid={FID}&from=share", f"https://video.weibo.com/show?fid={FID}"),
        (f"https://www.douyin.com/discover?modal_id={DY}&from=x", f"https://www.douyin.com/discover?modal_id={DY}"),
        (
            "https://www.instagram.com/share/reel/BAabc123XyZ/?igsh=abc",
            "https://www.instagram.com/share/reel/BAabc123XyZ/",
        ),
        (
            "https://v3-web.douyinvod.com/a1b2/video/x/?a=6383&br=1&sign=abc",
            "https://v3-web.douyinvod.com/a1b2/video/x/?a=6383&br=1&sign=abc",
        ),
        (
            "HTTPS://WWW.TIKTOK.COM.:443/@u/video/7301234567890123456",
            "https://www.tiktok.com/@u/video/7301234567890123456",
        ),
        ("https://x.com/NASA?lang=en", "https://x.com/NASA"),
    ],
)
def test_it_normalises_the_url_keeping_only_identity_parameters(text: str, url: str) -> None:
    assert recognize(text).url == url


@pytest.mark.parametrize(
    ("text", "platform", "kind", "media_id", "url"),
    [
        (
            "7.43 复制打开抖音，看看【某某的作品】今天的晚霞 # 日落 https://v.douyin.com/iRNBho5q/ a@A.Gv 02/19 yTm:/",
            "douyin",
            "short",
            None,
            "https://v.douyin.com/iRNBho5q/",
        ),
        (
            "【标题】 😆 http://xhslink.com/a/AbCdEf，复制本条信息，打开【小红书】App查看精彩内容！",
            "xiaohongshu",
            "short",
            None,
            "http://xhslink.com/a/AbCdEf",
        ),
        (
            "https://v.kuaishou.com/AbCd12 某某的作品 🎉 该作品在快手被播放过1.2万次，"
            "复制此消息，打开【快手】直接观看！",
            "kuaishou",
            "short",
            None,
            "https://v.kuaishou.com/AbCd12",
        ),
        (
            "【超好看的视频-哔哩哔哩】 https://b23.tv/AbCdEf1",
            "bilibili",
            "short",
            None,
            "https://b23.tv/AbCdEf1",
        ),
        ("转发微博 //@某某: 好看！http://t.cn/A6abcDef。", "weibo", "short", None, "http://t.cn/A6abcDef"),
        (
            f"看这个👉https://www.bilibili.com/video/{BV}?share_source=copy_web。太好笑了",
            "bilibili",
            "video",
            BV,
            f"https://www.bilibili.com/video/{BV}",
        ),
        ("（https://youtu.be/dQw4w9WgXcQ）", "youtube", "video", "dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ"),
        (
            "Watch this: https://youtu.be/dQw4w9WgXcQ.",
            "youtube",
            "video",
            "dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ",
        ),
        ("(see https://youtu.be/dQw4w9WgXcQ)!", "youtube", "video", "dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ"),
        (
            "[post](https://x.com/jack/status/20), nice",
            "twitter",
            "post",
            "20",
            "https://x.com/jack/status/20",
        ),
        ("看这个 v.douyin.com/iRNBho5q/ 好看", "douyin", "short", None, "https://v.douyin.com/iRNBho5q/"),
        (
            "https://vm.tiktok.com/ZSHwo6gjkDWYc-0cnFY/ This post is shared via TikTok Lite. "
            "Download TikTok Lite to enjoy more posts: https://www.tiktok.com/tiktoklite",
            "tiktok",
            "short",
            None,
            "https://vm.tiktok.com/ZSHwo6gjkDWYc-0cnFY/",
        ),
        (
            f"first https://example.com/page then https://www.douyin.com/note/{DY}",
            "douyin",
            "note",
            DY,
            f"https://www.douyin.com/note/{DY}",
        ),
        (
            f"profile https://www.douyin.com/user/abc and the post https://www.douyin.com/video/{DY}",
            "douyin",
            "video",
            DY,
            f"https://www.douyin.com/video/{DY}",
        ),
        (
            f"{NOTE} 小红书笔记 https://www.xiaohongshu.com/explore/{NOTE}?xsec_token=AB1%3D＃好物",
            "xiaohongshu",
            "note",
            NOTE,
            f"https://www.xiaohongshu.com/explore/{NOTE}?xsec_token=AB1%3D",
        ),
    ],
)
def test_it_finds_the_link_in_share_text(text: str, platform: str, kind: str, media_id: str | None, url: str) -> None:
    result = recognize(text)
    _assert_supported(result, platform, kind, media_id)
    assert result.url == url
    assert result.input == text


@pytest.mark.parametrize(
    "text",
    [
        f"https://www.tiktok.com.evil.example/@u/video/{DY}",
        f"https://eviltiktok.com/@u/video/{DY}",
        f"https://tiktok.com-evil.example/@u/video/{DY}",
        "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://notyoutu.be/dQw4w9WgXcQ",
        "https://youtu.be.evil.example/dQw4w9WgXcQ",
        "https://x.com@evil.example/jack/status/20",
        "https://www.instagram.com:443@evil.example/p/CxYz123AbC/",
        f"https://evil.example/?next=https://www.tiktok.com/@u/video/{DY}",
        f"https://evil.example/#https://www.douyin.com/video/{DY}",
        "https://xhslink.com.evil.example/a/AbCdEf",
        "https://myxhslink.com/a/AbCdEf",
        "https://t.cn.evil.example/A6abcDef",
        f"https://www.bilibili.com.cn/video/{BV}",
        f"https://fakebilibili.com/video/{BV}",
        "https://weibo.com.evil.example/1234567890/Lpv1eAZ8J",
        f"https://%77ww.douyin.com/video/{DY}",
    ],
)
def test_it_does_not_trust_lookalike_hosts(text: str) -> None:
    result = recognize(text)
    assert (result.supported, result.platform, result.kind, result.id) == (False, None, None, None)
    assert result.reason in ("unknown_platform", "no_url")


@pytest.mark.parametrize(
    "text",
    [
        f"https://evil.example\\@www.douyin.com/video/{DY}",
        f"https://evil.example/|@www.douyin.com/video/{DY}",
        f"https://evil.example/<www.douyin.com/video/{DY}>",
    ],
)
def test_a_link_split_by_characters_outside_urls_yields_only_the_platform_part(text: str) -> None:
    # Backslashes and friends end a URL, so the platform link after them stands on its own, and the URL
    # handed on is the platform's, never the host before it.
    result = recognize(text)
    _assert_supported(result, "douyin", "video", DY)
    assert result.url == f"https://www.douyin.com/video/{DY}"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("share: https://v.douyin.com/iRNBho5q/，复制此链接", "https://v.douyin.com/iRNBho5q/"),
        ("【标题】 😆 http://xhslink.com/a/AbCdEf，复制本条信息", "http://xhslink.com/a/AbCdEf"),
        ("去看 v.douyin.com/abc/ 吧", "v.douyin.com/abc/"),
        ("bare www.example.com first, then https://example.org/x", "https://example.org/x"),
        ("「https://example.com/a_b?c=d」", "https://example.com/a_b?c=d"),
        ("a@A.Gv 02/19 yTm:/ 1.2万 e.g. nothing", None),
        ("no links here", None),
        ("", None),
    ],
)
def test_extract_url_returns_the_first_link_without_surrounding_punctuation(text: str, url: str | None) -> None:
    assert extract_url(text) == url


@pytest.mark.parametrize(
    ("host", "platform"),
    [
        ("www.tiktok.com", "tiktok"),
        ("vm.tiktok.com", "tiktok"),
        ("v16-webapp.tiktokcdn.com", "tiktok"),
        ("WWW.DOUYIN.COM", "douyin"),
        ("www.iesdouyin.com", "douyin"),
        ("v3-web.douyinvod.com", "douyin"),
        ("webcast.amemv.com", "douyin"),  # the app's live share pages
        ("api.amemv.com", None),  # amemv.com's other hosts are app APIs, no page a link names
        ("amemv.com", None),
        ("youtu.be", "youtube"),
        ("rr1---sn-abc.googlevideo.com", "youtube"),
        ("mobile.twitter.com", "twitter"),
        ("t.co", "twitter"),
        ("pbs.twimg.com", "twitter"),
        ("www.instagram.com:443", "instagram"),
        ("xhslink.com", "xiaohongshu"),
        ("www.xiaohongshu.com.", "xiaohongshu"),
        ("b23.tv", "bilibili"),
        ("upos-sz-mirrorcos.bilivideo.com", "bilibili"),
        ("v.m.chenzhongtech.com", "kuaishou"),
        ("t.cn", "weibo"),
        ("mapp.api.weibo.cn", "weibo"),
        ("tiktok.com.evil.example", None),
        ("eviltiktok.com", None),
        ("com", None),
        ("", None),
        ("not a host", None),
    ],
)
def test_platform_for_host_matches_exact_hosts_and_real_subdomains(host: str, platform: str | None) -> None:
    assert platform_for_host(host) == platform


@pytest.mark.parametrize(
    ("platform", "url", "kind", "media_id"),
    [
        ("douyin", f"https://www.iesdouyin.com/share/video/{DY}/?region=CN&mid=1", "video", DY),
        ("tiktok", f"https://www.tiktok.com/@someone/video/{DY}?_r=1", "video", DY),
        ("tiktok", f"https://t.tiktok.com/i18n/share/video/{DY}/?u_code=x", "video", DY),
        ("xiaohongshu", f"https://www.xiaohongshu.com/discovery/item/{NOTE}?xsec_token=AB1%3D", "note", NOTE),
        ("bilibili", f"https://m.bilibili.com/video/{BV}?share_medium=android", "video", BV),
        ("kuaishou", "https://v.m.chenzhongtech.com/fw/photo/3xabcdefgh12345?fid=1", "video", "3xabcdefgh12345"),
        ("weibo", f"https://m.weibo.cn/status/{MBLOG}", "post", MBLOG),
        ("instagram", "https://www.instagram.com/reel/C1a2B3c4D5e/", "reel", "C1a2B3c4D5e"),
        ("twitter", "https://x.com/NASA/status/1234567890123456789/photo/1", "post", "1234567890123456789"),
    ],
)
def test_recognize_expanded_accepts_a_post_on_the_same_platform(
    platform: str, url: str, kind: str, media_id: str
) -> None:
    _assert_supported(recognize_expanded(platform, url), platform, kind, media_id)


@pytest.mark.parametrize(
    ("platform", "url", "reason"),
    [
        ("douyin", "https://v.douyin.com/iRNBho5q/", "unresolved_short_link"),
        ("bilibili", "https://b23.tv/AbCdEf1", "unresolved_short_link"),
        ("tiktok", "https://www.tiktok.com/t/ZTRU8DsQA/", "unresolved_short_link"),
        ("weibo", "https://mapp.api.weibo.cn/fx/8a1b2c3d4e5f.html", "unresolved_short_link"),
        ("douyin", f"https://www.tiktok.com/@someone/video/{DY}", "platform_mismatch"),
        ("twitter", "https://example.com/article", "platform_mismatch"),
        ("tiktok", f"https://www.tiktok.com.evil.example/@u/video/{DY}", "platform_mismatch"),
        ("myspace", f"https://www.tiktok.com/@someone/video/{DY}", "platform_mismatch"),
        ("xiaohongshu", "https://www.xiaohongshu.com/website-login/error?redirectPath=x", "unsupported_path"),
        ("tiktok", "https://www.tiktok.com/@someone", "profile"),
        ("tiktok", f"not a url https://www.tiktok.com/@someone/video/{DY}", "no_url"),
        ("tiktok", f"https://evil.example/|https://www.tiktok.com/@u/video/{DY}", "platform_mismatch"),
        ("tiktok", "", "no_url"),
    ],
)
def test_recognize_expanded_refuses_short_links_other_platforms_and_non_posts(
    platform: str, url: str, reason: str
) -> None:
    result = recognize_expanded(platform, url)
    assert (result.supported, result.reason, result.id) == (False, reason, None)


def test_recognize_expanded_encodes_characters_outside_the_url_alphabet() -> None:
    result = recognize_expanded("douyin", f"https://www.douyin.com/search/日落?modal_id={DY}")
    _assert_supported(result, "douyin", "video", DY)
    assert result.url == f"https://www.douyin.com/search/%E6%97%A5%E8%90%BD?modal_id={DY}"


def test_as_dict_has_exactly_the_documented_keys() -> None:
    data = recognize("https://youtu.be/dQw4w9WgXcQ").as_dict()
    assert list(data) == ["input", "supported", "platform", "kind", "id", "short", "url", "reason", "endpoint"]
    assert data == {
        "input": "https://youtu.be/dQw4w9WgXcQ",
        "supported": True,
        "platform": "youtube",
        "kind": "video",
        "id": "dQw4w9WgXcQ",
        "short": False,
        "url": "https://youtu.be/dQw4w9WgXcQ",
        "reason": None,
        "endpoint": "parse",
    }


def test_platforms_lists_the_nine_contract_platforms_first_in_contract_order() -> None:
    # Issue 11's platforms (acfun, netease, kugou, migu) follow; test_recognition_new_platforms.py checks them.
    assert PLATFORMS[:9] == (
        "tiktok",
        "douyin",
        "youtube",
        "twitter",
        "instagram",
        "xiaohongshu",
        "bilibili",
        "kuaishou",
        "weibo",
    )
