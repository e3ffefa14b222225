"""`manage.py recognize` prints one JSON recognition per input, from arguments or stdin."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

KEYS = ["input", "supported", "platform", "kind", "id", "short", "url", "reason", "endpoint"]
SHARE = "7.43 复制打开抖音，看看【某某的作品】今天的晚霞 # 日落 https://v.douyin.com/iRNBho5q/ a@A.Gv 02/19 yTm:/"


def _run(*args: str) -> tuple[list[dict[str, object]], str]:
    """Run the command; return the parsed JSON lines and the raw output."""
    out = io.StringIO()
    call_command("recognize", *args, stdout=out)
    raw = out.getvalue()
    return [json.loads(line) for line in raw.splitlines()], raw


def test_it_prints_one_json_object_per_argument() -> None:
    lines, raw = _run("https://youtu.be/dQw4w9WgXcQ", SHARE, "no link here")
    assert [list(line) for line in lines] == [KEYS, KEYS, KEYS]
    assert lines[0] == {
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
    assert lines[1]["platform"] == "douyin" and lines[1]["short"] is True
    assert lines[1]["endpoint"] == "parse"  # a share link is /parse's until the worker expands it
    assert lines[1]["url"] == "https://v.douyin.com/iRNBho5q/"
    assert (lines[2]["supported"], lines[2]["reason"], lines[2]["endpoint"]) == (False, "no_url", None)
    assert "复制打开抖音" in raw  # not \u-escaped


def test_it_reads_one_input_per_line_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = f"https://x.com/jack/status/20\n\n{SHARE}\r\nhttps://www.tiktok.com/@someone\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    lines, _ = _run("-")
    assert [(line["platform"], line["supported"], line["reason"]) for line in lines] == [
        ("twitter", True, None),
        ("douyin", True, None),
        ("tiktok", False, "profile"),
    ]
    assert lines[1]["input"] == SHARE


def test_it_mixes_arguments_and_stdin_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("https://b23.tv/AbCdEf1\n"))
    lines, _ = _run("https://youtu.be/dQw4w9WgXcQ", "-", "https://weibo.com/u/1234567890")
    assert [line["platform"] for line in lines] == ["youtube", "bilibili", "weibo"]


def test_it_prints_nothing_without_inputs() -> None:
    assert _run() == ([], "")


def test_it_names_the_endpoint_serving_links_parse_refuses() -> None:
    lines, _ = _run(
        "https://live.bilibili.com/21495945",
        "https://www.youtube.com/playlist?list=PLBCF2DAC6FFB574DE",
        "主播正在直播 https://live.douyin.com/745964462470 快来看",
        "https://www.bilibili.com/video/BV1xx411c7mD",
        "https://www.tiktok.com/@someone",
    )
    assert [(line["supported"], line["reason"], line["endpoint"]) for line in lines] == [
        (False, "live", "live"),
        (False, "playlist", "collection"),
        (False, "live", "live"),
        (True, None, "parse"),  # also a /collection link (its parts); /parse is the primary endpoint
        (False, "profile", None),
    ]
    # supported keeps its meaning (/parse accepts it): kind and id stay empty for a link /parse refuses.
    assert (lines[0]["kind"], lines[0]["id"]) == (None, None)


def test_it_recognises_for_the_operation_it_is_given() -> None:
    links = ("https://live.bilibili.com/21495945", "https://www.youtube.com/playlist?list=PLBCF2DAC6FFB574DE",
             "https://www.bilibili.com/video/BV1xx411c7mD")
    live, _ = _run("--operation", "live", *links)
    assert [(line["supported"], line["kind"], line["id"], line["reason"]) for line in live] == [
        (True, "live", "21495945", None),
        (False, None, None, "not_live"),  # /live serves YouTube streams, not playlists
        (False, None, None, "not_live"),
    ]
    collection, _ = _run("--operation", "collection", *links)
    assert [(line["supported"], line["kind"], line["id"], line["reason"]) for line in collection] == [
        (False, None, None, "not_a_collection"),
        (True, "playlist", "PLBCF2DAC6FFB574DE", None),
        (True, "parts", "BV1xx411c7mD", None),
    ]
    # endpoint keeps naming the endpoint that serves the link, whatever the operation asked.
    assert [line["endpoint"] for line in live] == [line["endpoint"] for line in collection] == [
        "live", "collection", "parse"]


def test_the_operation_defaults_to_parse_and_refuses_unknown_ones() -> None:
    assert _run("https://live.bilibili.com/21495945") == _run("--operation", "parse", "https://live.bilibili.com/21495945")
    with pytest.raises(CommandError, match="invalid choice"):
        _run("--operation", "download", "https://youtu.be/dQw4w9WgXcQ")
