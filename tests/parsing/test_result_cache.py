"""The result cache (parsing/resultcache.py): end to end against the live stack (uvicorn, a real worker,
real Redis and PostgreSQL; only the platform is scripted), plus its rules on their own."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

import httpx
import pytest
from django.test import override_settings

from billing.models import CreditHold, LedgerEntry
from parsing import blocklist, resultcache
from parsing.extractors.base import ContentUnavailable, UpstreamTimeout
from parsing.models import BlockRule, ParseJob
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_envelope, assert_ledger_balanced, balance, captures, vid
from tests.support import extractors as scripted


def post(stack, token: str, body: dict | str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, content=content, timeout=30)


def without_tunnels(data: dict) -> dict:
    """The result as the platform gave it: tunnel links are issued per answer (to its key, with its expiry)."""
    out = {k: v for k, v in data.items() if k != "thumbnailTunnel"}
    for group in ("videos", "images", "audios"):
        out[group] = [{k: v for k, v in item.items() if k not in ("tunnel", "mergedTunnel")} for item in data[group]]
    return out


# --- end to end --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_repeat_is_answered_from_the_cache_with_cached_on_and_costs_one_credit(stack):
    key, token = make_key(credits=5)
    other, other_token = make_key(credits=5)  # another customer, the same popular link
    media = vid("rc1")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = post(stack, token, {"url": YT.format(media)})
    assert first.status_code == 200 and "Cached-On" not in first.headers
    again = post(stack, token, {"url": YT.format(media)})
    theirs = post(stack, other_token, {"url": f"https://youtu.be/{media}"})  # the same media, another link form
    for response in (again, theirs):
        assert response.status_code == 200, response.text
        made = parsedate_to_datetime(response.headers["Cached-On"])
        assert before <= made <= dt.datetime.now(dt.UTC)
        assert without_tunnels(response.json()["data"]) == without_tunnels(first.json()["data"])
        assert response.headers["Easydown-Job"] != first.headers["Easydown-Job"]
    assert scripted.calls(media) == 1  # one platform fetch for three answers
    # Each answer is a successful parse: one credit each, through the ledger, with nothing left held.
    assert balance(key.user) == (3, 0) and captures(key.user) == 2
    assert balance(other.user) == (4, 0) and captures(other.user) == 1
    assert_ledger_balanced(key.user)
    assert_ledger_balanced(other.user)
    cached_job = ParseJob.objects.get(pk=again.headers["Easydown-Job"])
    assert cached_job.state == ParseJob.State.SUCCEEDED and cached_job.cached_on is not None
    assert ParseJob.objects.get(pk=first.headers["Easydown-Job"]).cached_on is None
    hold = CreditHold.objects.get(reference=f"job:{cached_job.pk}")
    assert hold.state == CreditHold.State.CAPTURED
    assert LedgerEntry.objects.get(reference=f"job:{cached_job.pk}").amount == -1


@pytest.mark.django_db(transaction=True)
def test_a_cache_hit_without_credits_is_402_and_writes_nothing(stack):
    _, token = make_key(credits=1)
    poor, poor_token = make_key(credits=0)
    media = vid("rc402")
    assert post(stack, token, {"url": YT.format(media)}).status_code == 200
    assert_envelope(post(stack, poor_token, {"url": YT.format(media)}), 402, "insufficient_credits")
    assert not ParseJob.objects.filter(user=poor.user).exists()
    assert not CreditHold.objects.filter(account_id=poor.user.pk).exists()
    assert not LedgerEntry.objects.filter(account_id=poor.user.pk, kind="capture").exists()


@pytest.mark.django_db(transaction=True)
def test_nocache_fetches_afresh_and_refreshes_the_entry(stack):
    key, token = make_key(credits=5)
    media = vid("rcfresh")
    assert post(stack, token, {"url": YT.format(media)}).status_code == 200
    old = resultcache.lookup(resultcache.media_key("youtube", media, None))
    time.sleep(1.1)  # HTTP dates count whole seconds: let the refreshed entry's be later
    fresh = post(stack, token, {"url": YT.format(media), "nocache": True})
    assert fresh.status_code == 200 and "Cached-On" not in fresh.headers
    assert scripted.calls(media) == 2
    refreshed = resultcache.lookup(resultcache.media_key("youtube", media, None))
    assert refreshed.made > old.made
    hit = post(stack, token, {"url": YT.format(media), "nocache": False})
    assert parsedate_to_datetime(hit.headers["Cached-On"]).timestamp() == int(refreshed.made)
    assert scripted.calls(media) == 2 and balance(key.user) == (2, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_nocache_must_be_a_boolean(stack, value):
    key, token = make_key(credits=1)
    response = post(stack, token, {"url": YT.format(vid("rcbad")), "nocache": value})
    assert assert_envelope(response, 400, "invalid_request")["msg"] == "Field 'nocache' must be true or false"
    assert balance(key.user) == (1, 0) and scripted.calls(vid("rcbad")) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_media_share_one_fetch(stack):
    key, token = make_key(credits=20)
    media = vid("rcflight")
    scripted.script(media, "sleep", seconds=1.5)
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: post(stack, token, {"url": YT.format(media)}), range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert scripted.calls(media) == 1
    # One request fetched; the other seven waited for its result and got it from the cache.
    assert sum("Cached-On" not in r.headers for r in responses) == 1
    assert len({r.headers["Easydown-Job"] for r in responses}) == 8
    assert balance(key.user) == (12, 0) and captures(key.user) == 8
    assert_ledger_balanced(key.user)


@pytest.mark.django_db(transaction=True)
def test_a_dead_link_is_remembered_briefly_and_stays_free(stack):
    key, token = make_key(credits=3)
    media = vid("rcdead")
    scripted.script(media, "private")
    for _ in range(3):
        assert assert_envelope(post(stack, token, {"url": YT.format(media)}), 200, 304)["reason"] == "private"
    assert scripted.calls(media) == 1
    assert balance(key.user) == (3, 0) and captures(key.user) == 0
    entry_key = resultcache.entry_key(resultcache.media_key("youtube", media, None))
    assert 0 < resultcache._client().ttl(entry_key) <= 60
    # nocache asks the platform again, dead link or not.
    assert post(stack, token, {"url": YT.format(media), "nocache": True}).json()["code"] == 304
    assert scripted.calls(media) == 2


@pytest.mark.django_db(transaction=True)
def test_a_block_rule_wins_over_the_cache_and_removes_its_entries(stack):
    key, token = make_key(credits=5)
    kept, blocked = vid("rckeep"), vid("rcblock")
    for media in (kept, blocked):
        assert post(stack, token, {"url": YT.format(media)}).status_code == 200
    # A rule written past the model (no cleanup ran, and no new block list version: here Redis also forgot the
    # old one, so the API reads the rules again): the block list is still checked before the cache.
    rule = BlockRule.objects.bulk_create([BlockRule(platform="youtube", pattern=blocked, reason="court order")])[0]
    resultcache._client().delete(blocklist.version_key())
    assert resultcache.lookup(resultcache.media_key("youtube", blocked, None)) is not None
    assert_envelope(post(stack, token, {"url": YT.format(blocked)}), 451, "content_restricted")
    # Saving a rule (as the admin does) removes the entries it matches, and only those.
    rule.save()
    assert resultcache.lookup(resultcache.media_key("youtube", blocked, None)) is None
    assert resultcache.lookup(resultcache.media_key("youtube", kept, None)) is not None
    # A URL pattern matches too.
    BlockRule.objects.create(platform="youtube", pattern=f"https://www.youtube.com/watch?v={kept[:6]}*", reason="x")
    assert resultcache.lookup(resultcache.media_key("youtube", kept, None)) is None
    assert balance(key.user) == (3, 0) and scripted.calls(blocked) == 1


@pytest.mark.django_db(transaction=True)
def test_a_replayed_cache_hit_keeps_its_cached_on(stack):
    _, token = make_key(credits=5)
    media = vid("rcidem")
    assert post(stack, token, {"url": YT.format(media)}).status_code == 200
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": "rc-1"}
    body = json.dumps({"url": YT.format(media)})
    first = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, content=body, timeout=30)
    again = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, content=body, timeout=30)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Cached-On"] == first.headers["Cached-On"] and again.content == first.content


@pytest.mark.django_db
def test_the_credits_page_marks_answers_from_the_cache(client):
    key, _ = make_key(credits=1)
    made = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    ParseJob.objects.create(user=key.user, api_key=key, platform="youtube", input="a", url="https://a",
                            state=ParseJob.State.SUCCEEDED, cached_on=made)
    ParseJob.objects.create(user=key.user, api_key=key, platform="youtube", input="b", url="https://b",
                            state=ParseJob.State.SUCCEEDED)
    client.force_login(key.user)
    page = client.get("/credits/").content.decode()
    assert page.count("from cache") == 1 and "made Nov 30, 2026 07:00:00 UTC" in page


# --- the rules on their own --------------------------------------------------------------------------


def test_the_key_is_the_platform_and_media_id_and_a_bilibili_part():
    assert resultcache.media_key("youtube", "abc", "https://www.youtube.com/watch?v=abc") == "youtube:abc"
    one = resultcache.media_key("bilibili", "BV1x", "https://www.bilibili.com/video/BV1x")
    assert one == resultcache.media_key("bilibili", "BV1x", "https://www.bilibili.com/video/BV1x?p=1")
    assert resultcache.media_key("bilibili", "BV1x", "https://www.bilibili.com/video/BV1x?p=2") == "bilibili:BV1x:p=2"
    assert resultcache.media_key("douyin", None, "https://v.douyin.com/x/") is None  # a short link, unresolved
    with override_settings(EASYDOWN_RESULT_CACHE_TTL={"youtube": 0}):
        assert resultcache.media_key("youtube", "abc", None) is None  # turned off for that platform


def test_an_entry_never_outlives_half_of_what_its_urls_have_left():
    made = 1_800_000_000.0
    result = {"videos": [{"url": f"https://rr1.googlevideo.com/videoplayback?expire={int(made) + 1200}&x=1"}]}
    with override_settings(EASYDOWN_RESULT_CACHE_TTL={"youtube": 3600, "instagram": 3600, "bilibili": 60}):
        assert resultcache.lifetime("youtube", result, made) == 600
        assert resultcache.lifetime("youtube", {"videos": [{"url": "https://cdn/x.mp4"}]}, made) == 3600
        oe = format(int(made) + 4000, "X")
        assert resultcache.lifetime("instagram", {"thumbnail": f"https://scontent/x.jpg?oe={oe}"}, made) == 2000
        # The platform's own lifetime when that is shorter; nothing when the URLs are already past.
        far = {"videos": [{"url": f"https://upos/x.m4s?deadline={int(made) + 7200}"}]}
        assert resultcache.lifetime("bilibili", far, made) == 60
        gone = {"audios": [{"url": f"https://upos/x.m4s?deadline={int(made) - 10}"}]}
        assert resultcache.lifetime("bilibili", gone, made) < 0


@pytest.mark.django_db
def test_a_result_past_its_lifetime_is_not_stored():
    key = "youtube:rcgone"
    resultcache.store(key, platform="youtube", media_id="rcgone", url="", made=time.time(),
                      result={"videos": [{"url": f"https://x/v.mp4?expire={int(time.time()) + 1}"}]})
    assert resultcache.lookup(key) is None


def test_without_redis_every_parse_fetches():
    calls = []

    def fetch():
        calls.append(1)
        return {"videos": []}

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        resultcache._clients.clear()
        try:
            assert resultcache.lookup("youtube:x") is None
            for _ in range(2):
                assert resultcache.fetch_shared("youtube:x", platform="youtube", media_id="x", url="",
                                                fetch=fetch, seconds=1) == ({"videos": []}, None)
        finally:
            resultcache._clients.clear()
    assert len(calls) == 2


def test_a_follower_gives_up_when_the_fetch_it_waits_for_outlasts_its_time():
    key = f"youtube:{vid('rcwait')}"
    client = resultcache._client()
    client.set(resultcache._flight_key(key), "someone else", px=5000)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        resultcache.fetch_shared(key, platform="youtube", media_id="x", url="", seconds=0.5,
                                 fetch=lambda: pytest.fail("a follower must not fetch"))
    assert time.monotonic() - started < 2


def test_a_remembered_dead_link_raises_its_reason():
    key = f"youtube:{vid('rcgone2')}"
    resultcache.store_none(key, media_id="x", url="", reason="deleted", made=time.time())
    with pytest.raises(ContentUnavailable) as caught:
        resultcache.fetch_shared(key, platform="youtube", media_id="x", url="", seconds=1,
                                 fetch=lambda: pytest.fail("a dead link must not be fetched again"))
    assert caught.value.reason == "deleted"
