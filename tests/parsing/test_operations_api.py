"""POST /api/v1/live and /api/v1/collection: the same metered pipeline as /parse (one credit per success,
per page; nothing for a failure), under the same keys, scopes, limits, block list and envelope; against the
real stack (uvicorn + a Celery worker) with the scripted extractor at the network edge."""

from __future__ import annotations

import json

import httpx
import pytest

from accounts.services import api_key_create
from billing.models import LedgerEntry
from parsing.models import BlockRule, ParseJob
from tests.factories import make_key, make_user
from tests.parsing.test_parse_api import assert_envelope, assert_ledger_balanced, balance, captures
from tests.support import extractors as scripted

pytestmark = pytest.mark.django_db(transaction=True)

ROOM = "https://live.bilibili.com/{}"
PLAYLIST = "https://www.youtube.com/playlist?list={}"


def call(stack, operation: str, token: str | None, body=None, *, raw: bytes | None = None,
         headers: dict | None = None, method: str = "POST") -> httpx.Response:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else (None if body is None else json.dumps(body))
    return httpx.request(method, f"{stack.base_url}/api/v1/{operation}", headers=sent, content=content, timeout=30)


def room(n: int | str) -> str:
    return str(9000000 + abs(hash(str(n))) % 1000000)


def plist(n: int | str) -> str:
    return f"PL{n}".ljust(34, "x")


# --- /live -----------------------------------------------------------------------------------------------


def test_live_room_answers_its_streams_and_costs_one_credit(stack):
    key, token = make_key(credits=3)
    response = call(stack, "live", token, {"url": f"watch this {ROOM.format(room('a'))} now"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 200 and body["msg"] == "success"
    data = body["data"]
    assert data["platform"] == "bilibili" and data["id"] == room("a") and data["title"] == f"room {room('a')}"
    assert data["author"]["name"] == "streamer" and data["thumbnail"]
    assert [(s["format"], s["url"].rsplit(".", 1)[1]) for s in data["streams"]] == [("hls", "m3u8"), ("flv", "flv")]
    assert all(set(s) == {"url", "format", "quality", "headers"} for s in data["streams"])
    assert "videos" not in data and "tunnel" not in json.dumps(data)  # a live answer is not a post
    assert balance(key.user) == (2, 0) and captures(key.user) == 1
    job = ParseJob.objects.get()
    assert (job.operation, job.state, job.platform) == ("live", "succeeded", "bilibili")
    assert LedgerEntry.objects.get(account_id=key.user.pk, kind="capture").note == "live"
    assert_ledger_balanced(key.user)


def test_live_room_offline_is_304_and_free(stack):
    key, token = make_key(credits=1)
    scripted.script(room("off"), "offline")
    body = call(stack, "live", token, {"url": ROOM.format(room("off"))}).json()
    assert (body["status"], body["code"], body["reason"], body["data"]) == (200, 304, "offline", None)
    assert balance(key.user) == (1, 0) and captures(key.user) == 0


def test_live_is_never_answered_from_the_cache(stack):
    key, token = make_key(credits=3)
    link = ROOM.format(room("twice"))
    first, second = call(stack, "live", token, {"url": link}), call(stack, "live", token, {"url": link})
    assert first.status_code == second.status_code == 200 and "Cached-On" not in second.headers
    assert scripted.calls(room("twice")) == 2 and balance(key.user) == (1, 0)


def test_live_refuses_a_post_and_parse_refuses_a_room(stack):
    key, token = make_key(credits=2)
    post_link = "https://www.bilibili.com/video/BV1xx411c7XW"
    refused = assert_envelope(call(stack, "live", token, {"url": post_link}), 400, 302)
    assert refused["reason"] == "not_live"
    # /parse keeps its contract for live pages (not a post), and costs nothing either.
    assert assert_envelope(call(stack, "parse", token, {"url": ROOM.format(room("p"))}), 400, 302)["reason"] == "live"
    assert balance(key.user) == (2, 0) and not ParseJob.objects.exists()


def test_a_douyin_app_share_page_is_a_room_for_live_and_a_live_page_for_parse(stack):
    key, token = make_key(credits=2)
    room_id = "7318296342189919011"
    link = f"https://webcast.amemv.com/douyin/webcast/reflow/{room_id}?liveId={room_id}&from=share&style=share"
    response = call(stack, "live", token, {"url": f"9- 长按复制此条消息，打开抖音搜索，查看TA的直播。 {link}"})
    assert response.status_code == 200, response.text
    assert (response.json()["data"]["platform"], response.json()["data"]["id"]) == ("douyin", room_id)
    job = ParseJob.objects.get()
    assert (job.operation, job.platform, job.kind, job.media_id) == ("live", "douyin", "room", room_id)
    # /parse answers it as it answers live.douyin.com (not a post), for nothing.
    assert assert_envelope(call(stack, "parse", token, {"url": link}), 400, 302)["reason"] == "live"
    assert balance(key.user) == (1, 0) and captures(key.user) == 1


def test_live_on_a_platform_without_rooms_is_302(stack):
    key, token = make_key(credits=1)
    body = assert_envelope(call(stack, "live", token, {"url": "https://x.com/someone/status/1234567890"}), 400, 302)
    assert body["reason"] == "operation_not_supported"
    assert balance(key.user) == (1, 0)


# --- /collection -----------------------------------------------------------------------------------------


def test_collection_pages_cost_one_credit_each(stack):
    key, token = make_key(credits=5)
    link = PLAYLIST.format(plist("pages"))
    pages = []
    for page in (1, 2, 3):
        response = call(stack, "collection", token, {"url": link, "page": page})
        assert response.status_code == 200, response.text
        pages.append(response.json()["data"])
    assert [(p["page"], p["nextPage"], len(p["items"]), p["total"]) for p in pages] == [
        (1, 2, 50, 120), (2, 3, 50, 120), (3, None, 20, 120)]
    assert [p["items"][0]["index"] for p in pages] == [1, 51, 101]
    first = pages[0]["items"][0]
    assert set(first) == {"index", "id", "title", "url", "duration", "thumbnail"}
    assert first["url"].startswith("https://www.youtube.com/watch?v=")
    assert pages[0]["platform"] == "youtube" and pages[0]["title"] == f"list {plist('pages')}"
    assert balance(key.user) == (2, 0) and captures(key.user) == 3
    assert {j.page for j in ParseJob.objects.filter(operation="collection")} == {1, 2, 3}
    # An item's url is a link /parse takes.
    parsed = call(stack, "parse", token, {"url": first["url"]})
    assert parsed.status_code == 200 and balance(key.user) == (1, 0)
    assert_ledger_balanced(key.user)


def test_collection_page_defaults_to_1_and_a_page_past_the_end_is_free(stack):
    key, token = make_key(credits=2)
    link = PLAYLIST.format(plist("end"))
    scripted.script(plist("end"), "ok", total=7)
    data = call(stack, "collection", token, {"url": link}).json()["data"]
    assert (data["page"], data["nextPage"], data["total"], len(data["items"])) == (1, None, 7, 7)
    past = call(stack, "collection", token, {"url": link, "page": 2}).json()
    assert (past["status"], past["code"], past["reason"]) == (200, 304, "no_such_page")
    assert balance(key.user) == (1, 0)


def test_collection_page_is_cached_per_page(stack):
    key, token = make_key(credits=4)
    link = PLAYLIST.format(plist("cache"))
    first = call(stack, "collection", token, {"url": link, "page": 1})
    again = call(stack, "collection", token, {"url": link, "page": 1})
    other = call(stack, "collection", token, {"url": link, "page": 2})
    assert "Cached-On" not in first.headers and "Cached-On" in again.headers and "Cached-On" not in other.headers
    assert again.json()["data"] == first.json()["data"]
    assert scripted.calls(plist("cache")) == 2 and balance(key.user) == (1, 0)  # a cached page is a page too


@pytest.mark.parametrize("page", [0, -1, "2", 1.5, True, None, 10**9])
def test_collection_bad_page_is_400_and_free(stack, page):
    key, token = make_key(credits=1)
    body = assert_envelope(call(stack, "collection", token, {"url": PLAYLIST.format(plist("bad")), "page": page}),
                           400, "invalid_request")
    assert "page" in body["msg"]
    assert balance(key.user) == (1, 0) and not ParseJob.objects.exists()


def test_collection_refuses_a_single_post_that_is_no_collection(stack):
    key, token = make_key(credits=1)
    refused = call(stack, "collection", token, {"url": "https://www.tiktok.com/@a/video/7300000000000000001"})
    assert assert_envelope(refused, 400, 302)["reason"] in ("not_a_collection", "operation_not_supported")
    assert balance(key.user) == (1, 0)


def test_collection_private_list_is_304_and_free(stack):
    key, token = make_key(credits=1)
    scripted.script(plist("priv"), "private")
    body = call(stack, "collection", token, {"url": PLAYLIST.format(plist("priv"))}).json()
    assert (body["code"], body["reason"]) == (304, "private") and balance(key.user) == (1, 0)


# --- the pipeline they share -----------------------------------------------------------------------------


@pytest.mark.parametrize("operation,link", [("live", ROOM.format(room("s"))),
                                            ("collection", PLAYLIST.format(plist("s")))])
def test_scopes_tokens_and_credits_hold_for_every_operation(stack, operation, link):
    user = make_user(credits=0)
    _, only_tiktok = api_key_create(user=user, name="tiktok only", platforms=["tiktok"])
    assert_envelope(call(stack, operation, only_tiktok, {"url": link}), 403, "platform_not_allowed")
    assert_envelope(call(stack, operation, None, {"url": link}), 401, "missing_token")
    assert_envelope(call(stack, operation, "ed_live_wrong", {"url": link}), 401, "invalid_token")
    _, everything = api_key_create(user=user, name="all")
    assert_envelope(call(stack, operation, everything, {"url": link}), 402, "insufficient_credits")
    assert_envelope(call(stack, operation, everything, raw=b"{nope"), 400, "invalid_request")
    assert_envelope(call(stack, operation, everything, {"url": link}, method="GET"), 405, "method_not_allowed")
    assert not ParseJob.objects.exists() and captures(user) == 0


@pytest.mark.parametrize("operation,link,media", [("live", ROOM.format(room("b")), room("b")),
                                                  ("collection", PLAYLIST.format(plist("b")), plist("b"))])
def test_block_list_and_rate_limit_hold_for_every_operation(stack, operation, link, media):
    user = make_user(credits=5)
    BlockRule.objects.create(platform="bilibili" if operation == "live" else "youtube", pattern=media, reason="order")
    _, token = api_key_create(user=user, name="limited", rate_limit_per_minute=2)
    blocked = call(stack, operation, token, {"url": link})
    assert assert_envelope(blocked, 451, "content_restricted")["reason"] == "order"
    second = call(stack, operation, token, {"url": link})
    third = call(stack, operation, token, {"url": link})
    assert second.status_code == 451 and third.status_code == 429 and third.headers["Retry-After"]
    assert balance(user) == (5, 0) and scripted.calls(media) == 0


def test_idempotency_key_is_per_endpoint(stack):
    key, token = make_key(credits=3)
    body = {"url": PLAYLIST.format(plist("idem"))}
    first = call(stack, "collection", token, body, headers={"Idempotency-Key": "same-key-1"})
    replay = call(stack, "collection", token, body, headers={"Idempotency-Key": "same-key-1"})
    assert first.status_code == replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    # The same key and body on another endpoint is another request: 422 (key reused with another request).
    other = call(stack, "live", token, body, headers={"Idempotency-Key": "same-key-1"})
    assert_envelope(other, 422, "idempotency_key_reused")
    assert balance(key.user) == (2, 0)


def test_request_log_names_the_endpoint(stack):
    import time

    from parsing.models import ApiRequest

    key, token = make_key(credits=2)
    call(stack, "live", token, {"url": ROOM.format(room("log"))})
    call(stack, "collection", token, {"url": PLAYLIST.format(plist("log"))})
    for _ in range(50):  # the API writes its log in the background, about once a second
        if ApiRequest.objects.filter(api_key=key).count() >= 2:
            break
        time.sleep(0.1)
    assert sorted(ApiRequest.objects.filter(api_key=key).values_list("endpoint", "credits")) == [
        ("/api/v1/collection", 1), ("/api/v1/live", 1)]


def test_an_extractor_that_is_no_subclass_still_serves_parse_only():
    from parsing.services import _serves

    class Plain:  # plugged in through EASYDOWN_EXTRACTORS without subclassing extractors.base.Extractor
        def extract(self, target):
            return None

    assert _serves(Plain, "parse") and not _serves(Plain, "live") and not _serves(Plain, "collection")
    from tests.support.extractors import ScriptedExtractor

    assert all(_serves(ScriptedExtractor, op) for op in ("parse", "live", "collection"))
