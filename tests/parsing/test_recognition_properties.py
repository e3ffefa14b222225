"""Property tests: recognition never raises, keeps its invariants, and stays bounded on hostile input."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.recognition import (
    PLATFORMS,
    Recognition,
    extract_url,
    platform_for_host,
    recognize,
    recognize_expanded,
)

# Pieces of real links, share-text noise and characters that have tripped URL finders before.
FRAGMENTS = [
    "http://",
    "https://",
    "HTTPS://",
    "www.",
    "m.",
    "v.",
    "tiktok.com",
    "vm.tiktok.com",
    "/@",
    "/video/",
    "/photo/",
    "douyin.com",
    "v.douyin.com",
    "iesdouyin.com",
    "/share/",
    "/note/",
    "youtu.be",
    "youtube.com",
    "/watch?v=",
    "dQw4w9WgXcQ",
    "x.com",
    "/status/",
    "instagram.com",
    "/p/",
    "/reel/",
    "xhslink.com",
    "xiaohongshu.com",
    "/explore/",
    "64b8c1e1000000001e03a2f4",
    "b23.tv",
    "bilibili.com",
    "BV1xx411c7mD",
    "?bvid=",
    "kuaishou.com",
    "/fw/photo/",
    "weibo.com",
    "t.cn",
    "m.weibo.cn",
    "fid=1034:",
    "7301234567890123456",
    "evil.example",
    ".",
    "/",
    "?",
    "&",
    "=",
    "#",
    "%",
    "%2F",
    "@",
    ":",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "|",
    "'",
    '"',
    " ",
    "\n",
    "\t",
    "。",
    "，",
    "！",
    "【",
    "】",
    "（",
    "）",
    "＂",
    "😆",
    "🎉",
    "复制打开抖音",
    "小红书",
    "\u200b",
    "\x00",
    "a",
    "Z",
    "0",
    "-",
    "_",
    "~",
    "xsec_token=",
    "modal_id=",
    ":443",
    "..",
    "//",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), fragment_text)
# Text that can never be part of a URL: CJK, emoji, full-width punctuation and whitespace.
NOISE = st.text(alphabet="复制打开抖音看看作品今天的晚霞，。！【】（）：＂😆🎉 \n\t", max_size=40)

LINKS = [
    ("https://v.douyin.com/iRNBho5q/", "douyin", "short", None),
    ("https://www.douyin.com/video/7301234567890123456", "douyin", "video", "7301234567890123456"),
    ("https://www.tiktok.com/@someone/photo/7301234567890123456", "tiktok", "photo", "7301234567890123456"),
    ("https://youtu.be/dQw4w9WgXcQ", "youtube", "video", "dQw4w9WgXcQ"),
    ("https://x.com/jack/status/20", "twitter", "post", "20"),
    ("https://www.instagram.com/reel/C1a2B3c4D5e/", "instagram", "reel", "C1a2B3c4D5e"),
    ("http://xhslink.com/a/AbCdEf", "xiaohongshu", "short", None),
    ("https://www.bilibili.com/video/BV1xx411c7mD", "bilibili", "video", "BV1xx411c7mD"),
    ("https://v.kuaishou.com/AbCd12", "kuaishou", "short", None),
    ("https://weibo.com/1234567890/Lpv1eAZ8J", "weibo", "post", "Lpv1eAZ8J"),
]


def _check_invariants(result: Recognition, text: str) -> None:
    """Assert what must hold for every recognition, whatever the input."""
    assert isinstance(result, Recognition)
    assert result.input == text
    assert result.supported is (result.reason is None)
    keys = {"input", "supported", "platform", "kind", "id", "short", "url", "reason", "endpoint"}
    assert set(result.as_dict()) == keys
    if result.supported:
        assert result.platform in PLATFORMS and result.kind
    else:
        assert result.kind is None and result.id is None
    if result.short:
        assert result.id is None and result.kind == "short"
    if result.platform is not None:
        assert result.url is not None
        # The URL handed on to the worker is always on the recognised platform.
        assert platform_for_host(urlsplit(result.url).hostname or "") == result.platform
    if result.url is not None:
        assert result.url.isascii() and not any(ch.isspace() for ch in result.url)
        assert result.url.startswith(("http://", "https://"))


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_recognize_never_raises_and_keeps_its_invariants(text: str) -> None:
    _check_invariants(recognize(text), text)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_extract_url_never_raises_and_returns_part_of_the_text(text: str) -> None:
    url = extract_url(text)
    assert url is None or (url in text and url.isascii())


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(PLATFORMS), st.text(max_size=12)), any_text)
def test_recognize_expanded_never_accepts_short_links_or_other_platforms(platform: str, url: str) -> None:
    result = recognize_expanded(platform, url)
    _check_invariants(result, url)
    if result.supported:
        assert result.platform == platform and not result.short


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), fragment_text))
def test_platform_for_host_never_raises(host: str) -> None:
    assert platform_for_host(host) in (None, *PLATFORMS)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LINKS), NOISE, NOISE)
def test_a_link_is_found_whatever_share_text_surrounds_it(
    link: tuple[str, str, str, str | None], before: str, after: str
) -> None:
    url, platform, kind, media_id = link
    result = recognize(before + url + after)
    assert (result.supported, result.platform, result.kind, result.id) == (True, platform, kind, media_id)
    assert result.url == url


HUNDRED_KB = 100_000


@pytest.mark.parametrize(
    "text",
    [
        "http://a" * (HUNDRED_KB // 8),
        "tiktok.com/@" * (HUNDRED_KB // 12),
        "https://www.tiktok.com/@" + "a" * HUNDRED_KB,
        "https://" + "a." * (HUNDRED_KB // 2) + "com/",
        "a." * (HUNDRED_KB // 2),
        "a-" * (HUNDRED_KB // 2) + ".com/x",
        "(" * HUNDRED_KB,
        "https://youtu.be/dQw4w9WgXcQ" + ")" * HUNDRED_KB,
        "https://x.com/" + "." * HUNDRED_KB,
        "https://weibo.com/" + "/1234567890" * (HUNDRED_KB // 11),
        "https://www.bilibili.com/list/1?" + "bvid=BV1xx411c7mD&" * (HUNDRED_KB // 18),
        "https://" + "@" * HUNDRED_KB,
        "https://[" + ":" * HUNDRED_KB,
        "😆【" * (HUNDRED_KB // 2),
        "复制打开抖音 " * (HUNDRED_KB // 7) + "https://v.douyin.com/iRNBho5q/",
        "v.douyin.com/x " * (HUNDRED_KB // 15),
    ],
    ids=lambda text: text[:24],
)
def test_hundred_kilobyte_inputs_finish(text: str) -> None:
    _check_invariants(recognize(text), text)
    extract_url(text)
    _check_invariants(recognize_expanded("tiktok", text), text)


@settings(max_examples=25, deadline=None)
@given(fragment_text.filter(bool))
def test_hundred_kilobytes_of_any_repeated_fragments_finish(piece: str) -> None:
    text = (piece * (HUNDRED_KB // len(piece) + 1))[:HUNDRED_KB]
    _check_invariants(recognize(text), text)
    _check_invariants(recognize_expanded("douyin", text), text)


def test_a_link_near_the_start_of_a_long_paste_is_found() -> None:
    text = "https://youtu.be/dQw4w9WgXcQ " + "复制" * HUNDRED_KB
    assert recognize(text).id == "dQw4w9WgXcQ"
