"""Reading JSON that pages assign to globals, JavaScript ``undefined`` included."""

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.pagedata import (
    PageDataMalformed,
    PageDataMissing,
    as_int,
    check_status,
    dig,
    embedded_json,
    fetch,
    reason_from_text,
    short_side_quality,
)
from parsing.http import http_client


def test_plain_json_is_read_and_trailing_script_ignored():
    html = '<script>window.INIT_STATE = {"a": [1, {"b": "c"}]}; window.other = 1;</script>'
    assert embedded_json(html, "window.INIT_STATE") == {"a": [1, {"b": "c"}]}


def test_bare_undefined_becomes_null_but_not_inside_strings():
    html = ('<script>window.__INITIAL_STATE__={"x":undefined,"s":"} undefined ]","l":[undefined,1],'
            '"undefinedKey":{"y":undefined}}</script>')
    assert embedded_json(html, "window.__INITIAL_STATE__") == {
        "x": None, "s": "} undefined ]", "l": [None, 1], "undefinedKey": {"y": None}}


def test_escaped_slashes_and_quotes_are_decoded():
    html = r'<script>window._ROUTER_DATA = {"u":"https:\u002F\u002Fa.b\u002Fc","q":"say \"hi\" {"}</script>'
    assert embedded_json(html, "window._ROUTER_DATA") == {"u": "https://a.b/c", "q": 'say "hi" {'}


def test_a_similar_longer_name_is_not_taken_for_the_global():
    html = '<script>window.INIT_STATE_EXTRA = {"no": 1}; window.INIT_STATE = {"yes": 1}</script>'
    assert embedded_json(html, "window.INIT_STATE") == {"yes": 1}


def test_missing_global_is_reported_as_missing():
    with pytest.raises(PageDataMissing):
        embedded_json("<html><title>验证码中间页</title></html>", "window._ROUTER_DATA")


@pytest.mark.parametrize("html", [
    '<script>window.INIT_STATE = {"a": "unterminated</script><p>more</p>',
    '<script>window.INIT_STATE = {"a": 1,, "b": 2}</script>',
    '<script>window.INIT_STATE = {"a": undefined</script>',
    "<script>window.INIT_STATE = " + "[" * 100_000 + "]" * 100_000 + "</script>",
])
def test_unreadable_values_are_reported_as_malformed(html):
    with pytest.raises(PageDataMalformed):
        embedded_json(html, "window.INIT_STATE")


def test_dig_walks_dicts_and_lists_and_stops_quietly():
    data = {"a": [{"b": "c"}], "n": None}
    assert dig(data, "a", 0, "b") == "c"
    assert dig(data, "a", 5, "b") is None
    assert dig(data, "n", "x") is None
    assert dig(data, "a", "b") is None


def test_number_helpers():
    assert as_int("1080") == 1080 and as_int(720.0) == 720
    assert as_int(0) is None and as_int(True) is None and as_int("abc") is None
    assert as_int("²") is None and as_int("9" * 5000) is None and as_int(10**5000) is None
    assert as_int(float("inf")) is None and as_int(float("nan")) is None and as_int(0.5) is None
    assert short_side_quality(1080, 1920) == "1080p"
    assert short_side_quality(None, None) is None


@pytest.mark.parametrize("text, reason", [
    ("作者设置了私密，仅自己可见", "private"),
    ("作品已删除", "deleted"),
    ("status_deleted", "deleted"),
    ("请先登录", "login_required"),
    ("该地区暂不支持", "region_blocked"),
    ("", "unavailable"),
])
def test_reasons_from_platform_messages(text, reason):
    assert reason_from_text(text, "unavailable") == reason


def test_fetch_maps_timeouts_and_transport_errors():
    with respx.mock() as mock, http_client("douyin") as client:
        mock.get("https://www.iesdouyin.com/slow").mock(side_effect=httpx.ReadTimeout("slow"))
        mock.get("https://www.iesdouyin.com/down").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(UpstreamTimeout):
            fetch(client, "https://www.iesdouyin.com/slow")
        with pytest.raises(UpstreamFailure):
            fetch(client, "https://www.iesdouyin.com/down")


@pytest.mark.parametrize("status, error", [(404, ContentUnavailable), (403, UpstreamFailure),
                                           (429, UpstreamFailure), (502, UpstreamFailure)])
def test_error_statuses_become_typed_errors(status, error):
    with pytest.raises(error):
        check_status(httpx.Response(status, request=httpx.Request("GET", "https://www.kuaishou.com/")))
