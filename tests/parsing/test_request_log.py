"""The customers' request log: every call with a recognisable key, refused or not, reaches its owner's log
(and no one else's); calls with no or an unknown token are counted per IP for admins; old entries are pruned."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from django.utils import timezone

from accounts.models import ApiKey
from parsing import requestlog
from parsing.models import ApiRequest, AuthFailure
from tests.factories import make_key, make_user
from tests.parsing.test_parse_api import YT, vid
from tests.support import extractors as scripted

pytestmark = pytest.mark.django_db(transaction=True)


def call(stack, token: str | None, body: dict | None = None, path: str = "/api/v1/parse") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if path.endswith("account"):
        return httpx.get(f"{stack.base_url}{path}", headers=headers, timeout=30)
    return httpx.post(f"{stack.base_url}{path}", headers=headers, json=body or {}, timeout=30)


def logged(user, count: int) -> list[ApiRequest]:
    """The user's log once it holds ``count`` entries (the API writes it in batches, once a second)."""
    for _ in range(100):
        entries = list(ApiRequest.objects.filter(user=user).order_by("created_at", "id"))
        if len(entries) >= count:
            return entries
        time.sleep(0.1)
    return entries


def test_paid_failed_and_refused_calls_reach_their_owners_log(stack):
    key, token = make_key(credits=1, platforms=["youtube", "tiktok"])
    scripted.script(vid("rl-dead"), "private")
    answers = [
        call(stack, token, {"url": YT.format(vid("rl-dead"))}),                        # 200 + code 304, free
        call(stack, token, {"url": YT.format(vid("rl-ok"))}),                          # 200, the one credit
        call(stack, token, {"url": YT.format(vid("rl-poor"))}),                        # 402: the credit is spent
        call(stack, token, {"url": "https://www.instagram.com/p/C1a2B3c4D5e/"}),       # 403 platform
        call(stack, token, {"link": "no url"}),                                        # 400
        call(stack, token, path="/api/v1/account"),                                    # 200
    ]
    assert [a.status_code for a in answers] == [200, 200, 402, 403, 400, 200]
    entries = logged(key.user, 6)
    got = [(e.endpoint, e.status, e.code, e.credits) for e in entries]
    assert got == [("/api/v1/parse", 200, "304", 0), ("/api/v1/parse", 200, "", 1),
                   ("/api/v1/parse", 402, "insufficient_credits", 0), ("/api/v1/parse", 403, "platform_not_allowed", 0),
                   ("/api/v1/parse", 400, "invalid_request", 0), ("/api/v1/account", 200, "", 0)]
    assert [e.request_id for e in entries] == [a.headers["x-request-id"] for a in answers]
    assert entries[1].link == YT.format(vid("rl-ok")) and entries[1].platform == "youtube"
    assert entries[0].reason == "private" and entries[3].platform == "instagram"
    assert {e.key_name for e in entries} == {"test key"} and {e.api_key_id for e in entries} == {key.pk}
    assert [e.outcome for e in entries] == ["failed", "ok", "refused", "refused", "refused", "ok"]


def test_a_rate_limited_call_is_logged(stack):
    key, token = make_key(credits=0, rate_limit_per_minute=1)
    # Three calls within a second: at most one window edge falls between them, so at least one is over 1.
    statuses = [call(stack, token, {"url": "not a link"}).status_code for _ in range(3)]
    assert 429 in statuses
    entries = logged(key.user, 3)
    assert [e.status for e in entries] == statuses
    assert {e.code for e in entries if e.status == 429} == {"rate_limited"}


def test_an_expired_or_revoked_key_is_still_its_owners(stack):
    key, token = make_key(credits=3)
    ApiKey.objects.filter(pk=key.pk).update(expires_on=timezone.now().date() - dt.timedelta(days=1))
    assert call(stack, token, {"url": YT.format(vid("rl-exp"))}).json()["code"] == "token_expired"
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert call(stack, token, path="/api/v1/account").status_code == 401
    entries = logged(key.user, 2)
    assert [(e.endpoint, e.status, e.code) for e in entries] == [
        ("/api/v1/parse", 401, "token_expired"), ("/api/v1/account", 401, "invalid_token")]


def test_calls_without_a_known_key_are_counted_per_ip_for_admins_only(stack):
    bystander = make_user()
    before = sum(AuthFailure.objects.filter(ip="127.0.0.1").values_list("count", flat=True))
    call(stack, "ed_live_not_a_real_token", {"url": YT.format(vid("rl-anon"))})
    call(stack, None, {"url": YT.format(vid("rl-anon"))})
    assert call(stack, "garbage", path="/api/v1/account").status_code in (401, 429)
    for _ in range(100):
        after = sum(AuthFailure.objects.filter(ip="127.0.0.1").values_list("count", flat=True))
        if after >= before + 3:
            break
        time.sleep(0.1)
    assert after == before + 3
    assert not ApiRequest.objects.filter(user=bystander).exists()


def test_old_entries_are_pruned(settings):
    user = make_user()
    now = timezone.now()
    for age in (1, 29, 31, 90):
        ApiRequest.objects.create(user=user, endpoint="/api/v1/parse", status=200,
                                  created_at=now - dt.timedelta(days=age))
    AuthFailure.objects.create(ip="203.0.113.9", day=(now - dt.timedelta(days=40)).date(), count=3, last_at=now)
    settings.EASYDOWN_REQUEST_LOG_DAYS = 30
    assert requestlog.prune() == 2
    assert sorted((now - e.created_at).days for e in ApiRequest.objects.all()) == [1, 29]
    assert not AuthFailure.objects.exists()


def test_the_request_log_page_filters_and_shows_only_the_customers_own(client):
    key, _ = make_key(credits=1, name="backend")
    other_key, _ = make_key(credits=1, name="theirs")
    now = timezone.now()
    rows = [(key, 200, "", "youtube", 1), (key, 403, "platform_not_allowed", "tiktok", 0),
            (key, 200, "304", "youtube", 0), (other_key, 200, "", "youtube", 1)]
    for owner, status, code, platform, credits in rows:
        ApiRequest.objects.create(user=owner.user, api_key=owner, key_name=owner.name, endpoint="/api/v1/parse",
                                  status=status, code=code, platform=platform, credits=credits,
                                  link=f"https://x/{owner.name}/{status}/{code}", request_id=f"rid-{owner.name}-{code}",
                                  created_at=now)
    client.force_login(key.user)
    page = client.get("/requests/").content.decode()
    assert page.count("<tr data-outcome") == 3 and "theirs" not in page and "rid-theirs" not in page
    assert 'data-outcome="refused"' in page and "platform_not_allowed" in page
    assert client.get("/requests/?outcome=ok").content.decode().count("<tr data-outcome") == 1
    assert client.get("/requests/?outcome=failed").content.decode().count("<tr data-outcome") == 1
    assert client.get("/requests/?platform=tiktok").content.decode().count("<tr data-outcome") == 1
    assert client.get(f"/requests/?key={key.public_id}").content.decode().count("<tr data-outcome") == 3
    # Another customer's key as a filter shows nothing of theirs.
    assert client.get(f"/requests/?key={other_key.public_id}").content.decode().count("<tr data-outcome") == 0
