"""End to end through uvicorn, real PostgreSQL, real Redis and a real Celery worker process."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time

import httpx
import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.services import api_key_create, api_key_revoke, api_key_rotate
from billing.models import CreditAccount, CreditHold, LedgerEntry
from parsing.models import BlockRule, ParseJob
from tests.factories import make_key, make_user
from tests.support import extractors as scripted

pytestmark = pytest.mark.django_db(transaction=True)

YT = "https://www.youtube.com/watch?v={}"


def vid(n: int | str) -> str:
    """An 11-character YouTube id unique to the test."""
    return f"v{n}".ljust(11, "x")[:11]


def post(
    stack,
    token: str | None,
    body=None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    method: str = "POST",
    timeout: float = 30,
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else (None if body is None else __import__("json").dumps(body))
    return httpx.request(method, f"{stack.base_url}/api/v1/parse", headers=headers, content=content, timeout=timeout)


def balance(user) -> tuple[int, int]:
    account = CreditAccount.objects.get(pk=user.pk)
    return account.available, account.reserved


def captures(user) -> int:
    return LedgerEntry.objects.filter(account_id=user.pk, kind="capture").count()


def assert_envelope(response: httpx.Response, status: int, code) -> dict:
    body = response.json()
    assert response.status_code == status
    assert body["status"] == status and body["data"] is None and body["code"] == code, body
    assert "Traceback" not in response.text
    return body


def assert_ledger_balanced(user) -> None:
    account = CreditAccount.objects.get(pk=user.pk)
    total = LedgerEntry.objects.filter(account_id=user.pk).aggregate(s=Sum("amount"))["s"] or 0
    assert account.available + account.reserved == total


def test_success_returns_unified_shape_and_costs_exactly_one_credit(stack):
    key, token = make_key(credits=5)
    response = post(stack, token, {"url": YT.format(vid(1)), "extra": "ignored"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == 200 and body["msg"] == "success"
    data = body["data"]
    assert data["platform"] == "youtube"
    assert set(data) >= {"platform", "title", "thumbnail", "duration", "images", "videos", "audios"}
    assert data["videos"][0] == {
        **data["videos"][0],
        "url": f"https://cdn.example/{vid(1)}.mp4",
        "mimeType": "video/mp4",
        "hasAudio": True,
        "source": "direct",
    }
    assert balance(key.user) == (4, 0) and captures(key.user) == 1
    assert all(h in response.headers for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))
    job = ParseJob.objects.get(user=key.user)
    assert job.state == "succeeded" and job.platform == "youtube" and job.finished_at
    assert_ledger_balanced(key.user)


def test_readyz_reports_database_redis_and_a_live_worker(stack):
    ready = httpx.get(f"{stack.base_url}/readyz")
    assert ready.status_code == 200
    data = ready.json()["data"]
    assert data["database"] is True and data["redis"] is True
    assert data["workers"] and all(data["workers"].values())
    assert httpx.get(f"{stack.base_url}/healthz").status_code == 200


def test_share_text_is_accepted(stack):
    key, token = make_key(credits=1)
    response = post(stack, token, {"url": f"看看这个视频 😀 https://youtu.be/{vid(2)}?si=abc 复制链接"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["platform"] == "youtube"


@pytest.mark.parametrize("header, code", [(None, "missing_token"), ("ed_live_bogus", "invalid_token")])
def test_authentication_failures_cost_nothing(stack, header, code):
    key, _ = make_key(credits=3)
    assert_envelope(post(stack, header, {"url": YT.format(vid(3))}), 401, code)
    assert balance(key.user) == (3, 0) and not ParseJob.objects.exists()


def test_revoked_rotated_and_expired_keys(stack):
    user = make_user(credits=5)
    key, token = api_key_create(user=user, name="a")
    api_key_revoke(key=key)
    assert_envelope(post(stack, token, {"url": YT.format(vid(4))}), 401, "invalid_token")

    key2, old = api_key_create(user=user, name="b")
    _, new = api_key_rotate(key=key2)
    assert_envelope(post(stack, old, {"url": YT.format(vid(5))}), 401, "invalid_token")
    assert post(stack, new, {"url": YT.format(vid(5))}).status_code == 200

    yesterday = timezone.now().date() - dt.timedelta(days=1)
    _, expired = api_key_create(user=user, name="c", expires_on=yesterday)
    assert_envelope(post(stack, expired, {"url": YT.format(vid(6))}), 401, "token_expired")
    assert balance(user) == (4, 0)


def test_platform_scope(stack):
    key, token = make_key(credits=3, platforms=["tiktok"])
    assert_envelope(post(stack, token, {"url": YT.format(vid(7))}), 403, "platform_not_allowed")
    assert balance(key.user) == (3, 0)


def test_insufficient_credits(stack):
    key, token = make_key(credits=0)
    assert_envelope(post(stack, token, {"url": YT.format(vid(8))}), 402, "insufficient_credits")
    assert not ParseJob.objects.exists()


def test_unsupported_link_is_400_302_and_free(stack):
    key, token = make_key(credits=2)
    body = assert_envelope(post(stack, token, {"url": "https://www.youtube.com/playlist?list=PL123"}), 400, 302)
    assert body["reason"]
    assert_envelope(post(stack, token, {"url": "https://example.com/video/1"}), 400, 302)
    assert balance(key.user) == (2, 0)


@pytest.mark.parametrize(
    "action, status, code, reason",
    [
        ("private", 200, 304, "private"),
        ("empty", 200, 304, "no_media"),
        ("blocked", 200, 304, "upstream_error"),
        ("crash", 200, 304, "upstream_error"),
        ("unsupported", 400, 302, "not_a_post"),
        ("upstream_timeout", 504, "upstream_timeout", None),
    ],
)
def test_extractor_failures_map_to_the_contract_and_cost_nothing(stack, action, status, code, reason):
    key, token = make_key(credits=2)
    media = vid(f"f{action[:5]}")
    scripted.script(media, action)
    body = assert_envelope(post(stack, token, {"url": YT.format(media)}), status, code)
    if reason:
        assert body["reason"] == reason
    assert "secret stack trace" not in str(body)
    assert balance(key.user) == (2, 0) and captures(key.user) == 0
    assert CreditHold.objects.get().state == "released"


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        ({"raw": b"{not json"}, 400, "invalid_request"),
        ({"body": {}}, 400, "invalid_request"),
        ({"body": {"url": 42}}, 400, "invalid_request"),
        ({"body": {"url": ["x"]}}, 400, "invalid_request"),
        ({"body": {"url": "   "}}, 400, "invalid_request"),
        ({"body": ["https://youtu.be/abcdefghijk"]}, 400, "invalid_request"),
        ({"body": {"url": "https://youtu.be/" + "a" * 4100}}, 400, "invalid_request"),
        ({"raw": b'{"url": "' + b"a" * 17000 + b'"}'}, 413, "payload_too_large"),
        (
            {"raw": b"url=https://youtu.be/abcdefghijk", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"body": None, "method": "GET"}, 405, "method_not_allowed"),
        ({"body": None, "method": "PUT"}, 405, "method_not_allowed"),
        # Hostile bodies: deep nesting (RecursionError in the JSON parser), and text PostgreSQL cannot store.
        ({"raw": b"[" * 5000 + b"]" * 5000}, 400, "invalid_request"),
        ({"raw": b'{"url": "https://youtu.be/abcdefghijk\\u0000"}'}, 400, "invalid_request"),
        ({"raw": b'{"url": "https://youtu.be/abcdefghijk?x=\\ud800"}'}, 400, "invalid_request"),
    ],
)
def test_bad_input_gets_the_envelope_and_changes_nothing(stack, kwargs, status, code):
    key, token = make_key(credits=2)
    assert_envelope(post(stack, token, **kwargs), status, code)
    assert balance(key.user) == (2, 0) and not ParseJob.objects.exists()


def test_a_body_shorter_than_its_content_length_gets_408_not_a_hang(stack):
    import socket

    key, token = make_key(credits=2)
    host, port = stack.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"url\": ")
        answer = b""
        while chunk := sock.recv(4096):  # the server answers, then closes
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    envelope = __import__("json").loads(body)
    assert envelope.pop("requestId") == re.search(rb"(?i)x-request-id: (\S+)", head).group(1).decode()
    assert envelope == {"status": 408, "data": None, "code": "request_timeout",
                        "msg": "The request body did not arrive in time"}
    assert balance(key.user) == (2, 0) and not ParseJob.objects.exists()


def test_a_huge_chunked_body_without_length_is_413(stack):
    key, token = make_key(credits=2)

    def chunks():
        yield b'{"url": "'
        for _ in range(48):
            yield b"a" * 65536  # 3 MiB in all, past Django's own upload limit, with no Content-Length
        yield b'"}'

    response = httpx.post(f"{stack.base_url}/api/v1/parse", content=chunks(), timeout=30,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "payload_too_large")
    assert balance(key.user) == (2, 0) and not ParseJob.objects.exists()


def test_block_list_answers_451_and_costs_nothing(stack):
    key, token = make_key(credits=2)
    BlockRule.objects.create(platform="youtube", pattern=vid("blk"), reason="court order")
    body = assert_envelope(post(stack, token, {"url": YT.format(vid("blk"))}), 451, "content_restricted")
    assert body["reason"] == "court order"
    assert balance(key.user) == (2, 0)


def test_block_list_changes_hold_from_the_next_request(stack):
    """The API keeps each platform's rules between requests (parsing.blocklist): a rule saved, switched off or
    deleted, and a version Redis forgot, all take effect on the very next request."""
    import redis
    from django.conf import settings

    from parsing import blocklist

    key, token = make_key(credits=10)
    link = YT.format(vid("blk2"))
    assert post(stack, token, {"url": link, "nocache": True}).status_code == 200  # both processes read the list
    assert post(stack, token, {"url": link, "nocache": True}).status_code == 200
    rule = BlockRule.objects.create(platform="youtube", pattern=vid("blk2"), reason="takedown")
    assert assert_envelope(post(stack, token, {"url": link}), 451, "content_restricted")["reason"] == "takedown"
    rule.is_active = False
    rule.save()
    assert post(stack, token, {"url": link, "nocache": True}).status_code == 200
    rule.is_active = True
    rule.save()
    assert post(stack, token, {"url": link}).status_code == 451
    rule.delete()
    assert post(stack, token, {"url": link, "nocache": True}).status_code == 200
    # Redis restarted and forgot the version: the rules are read again, not served from an old copy.
    redis.Redis.from_url(settings.REDIS_URL).delete(blocklist.version_key())
    BlockRule.objects.bulk_create([BlockRule(platform="youtube", pattern=vid("blk3"), reason="no signal")])
    redis.Redis.from_url(settings.REDIS_URL).delete(blocklist.version_key())  # bulk_create sends no signal
    assert post(stack, token, {"url": YT.format(vid("blk3"))}).status_code == 451
    assert balance(key.user) == (6, 0)  # the four 200s only


def test_rate_limit_per_key_with_retry_after(stack):
    user = make_user(credits=0)
    _, token = api_key_create(user=user, name="limited", rate_limit_per_minute=3)
    statuses = [post(stack, token, {"url": YT.format(vid(9))})]
    if int(statuses[0].headers["RateLimit-Reset"]) < 15:  # fixed windows: do not straddle a window edge
        time.sleep(int(statuses[0].headers["RateLimit-Reset"]) + 1)
        _, token = api_key_create(user=user, name="limited again", rate_limit_per_minute=3)
        statuses = [post(stack, token, {"url": YT.format(vid(9))})]
    statuses += [post(stack, token, {"url": YT.format(vid(9))}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [402, 402, 402, 429]
    assert [r.headers["RateLimit-Remaining"] for r in statuses] == ["2", "1", "0", "0"]
    limited = assert_envelope(statuses[-1], 429, "rate_limited")
    assert limited["msg"] and int(statuses[-1].headers["Retry-After"]) >= 1


def test_failed_authentication_is_limited_per_ip_not_per_key(stack):
    from django.conf import settings

    key, token = make_key(credits=1)
    first = post(stack, "ed_live_wrong", {"url": YT.format(vid(10))})
    if int(first.headers["RateLimit-Reset"]) < 15:  # fixed windows: do not straddle a window edge
        time.sleep(int(first.headers["RateLimit-Reset"]) + 1)
        first = post(stack, "ed_live_wrong", {"url": YT.format(vid(10))})
    assert first.status_code == 401 and first.headers["RateLimit-Remaining"] == str(
        settings.RATE_LIMIT_AUTH_FAILURES_PER_IP - 1)
    for _ in range(settings.RATE_LIMIT_AUTH_FAILURES_PER_IP - 1):
        assert post(stack, "ed_live_wrong", {"url": YT.format(vid(10))}).status_code == 401
    limited = post(stack, "ed_live_wrong", {"url": YT.format(vid(10))})
    assert_envelope(limited, 429, "rate_limited")
    assert "Retry-After" in limited.headers
    assert_envelope(post(stack, None, {"url": YT.format(vid(10))}), 429, "rate_limited")
    # A client cannot pick another address to count against with its own proxy headers.
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        spoofed = httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": YT.format(vid(10))}, timeout=30,
                             headers={"Authorization": "Bearer ed_live_wrong", header: "203.0.113.9"})
        assert_envelope(spoofed, 429, "rate_limited")
    # The account endpoint authenticates keys too: it is limited by the same count.
    account = httpx.get(f"{stack.base_url}/api/v1/account", headers={"Authorization": "Bearer ed_live_wrong"})
    assert_envelope(account, 429, "rate_limited")
    # The failures were counted against the address, not a key: a valid key still works from it.
    ok = post(stack, token, {"url": YT.format(vid(10))})
    assert ok.status_code == 200 and ok.headers["RateLimit-Remaining"] == str(settings.RATE_LIMIT_PER_KEY - 1)


def test_failed_authentications_on_the_account_endpoint_count_against_the_ip(stack):
    from django.conf import settings

    _, token = make_key(credits=1)
    wrong = {"Authorization": "Bearer ed_live_wrong"}
    first = httpx.get(f"{stack.base_url}/api/v1/account", headers=wrong)
    if int(first.headers["RateLimit-Reset"]) < 15:  # fixed windows: do not straddle a window edge
        time.sleep(int(first.headers["RateLimit-Reset"]) + 1)
        first = httpx.get(f"{stack.base_url}/api/v1/account", headers=wrong)
    assert_envelope(first, 401, "invalid_token")
    for _ in range(settings.RATE_LIMIT_AUTH_FAILURES_PER_IP - 1):
        assert httpx.get(f"{stack.base_url}/api/v1/account", headers=wrong).status_code == 401
    limited = httpx.get(f"{stack.base_url}/api/v1/account", headers=wrong)
    assert_envelope(limited, 429, "rate_limited")
    assert "Retry-After" in limited.headers
    assert_envelope(post(stack, "ed_live_wrong", {"url": YT.format(vid(11))}), 429, "rate_limited")
    ok = httpx.get(f"{stack.base_url}/api/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["data"]["available"] == 1


def test_fifty_parallel_requests_meet_a_balance_of_ten(stack):
    user = make_user(credits=10)
    _, token = api_key_create(user=user, name="race")

    async def fire() -> list[int]:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
            calls = [
                client.post(
                    "/api/v1/parse", json={"url": YT.format(vid(f"p{n}"))}, headers={"Authorization": f"Bearer {token}"}
                )
                for n in range(50)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(fire())
    assert statuses.count(200) == 10 and statuses.count(402) == 40, statuses
    assert balance(user) == (0, 0) and captures(user) == 10
    assert ParseJob.objects.filter(state="succeeded").count() == 10
    assert_ledger_balanced(user)


def test_late_success_after_timeout_charges_nothing(stack):
    key, token = make_key(credits=2)
    media = vid("late")
    scripted.script(media, "sleep", seconds=8)  # the API waits 6 s in the test stack
    started = time.monotonic()
    assert_envelope(post(stack, token, {"url": YT.format(media)}), 504, "upstream_timeout")
    assert time.monotonic() - started < 8
    assert balance(key.user) == (2, 0)
    job = ParseJob.objects.get()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not job.ready_at and job.attempts < 1:
        time.sleep(0.2)
        job.refresh_from_db()
    time.sleep(3)  # the worker finishes its sleep and tries to record the result
    job.refresh_from_db()
    assert job.state == "timed_out" and job.result is None
    assert balance(key.user) == (2, 0) and captures(key.user) == 0
    assert CreditHold.objects.get().state == "released"


def test_a_client_that_leaves_is_not_charged_even_when_the_result_arrives(stack):
    key, token = make_key(credits=2)
    media = vid("gone")
    scripted.script(media, "sleep", seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        post(stack, token, {"url": YT.format(media)}, timeout=0.8)  # the client hangs up mid-wait
    deadline = time.monotonic() + 15
    job = None
    while time.monotonic() < deadline:
        job = ParseJob.objects.filter().first()
        if job and job.state not in ("pending", "running"):
            break
        time.sleep(0.2)
    time.sleep(2.5)  # the worker finishes and records its (now unwanted) result
    job.refresh_from_db()
    assert job.state == "abandoned"
    assert balance(key.user) == (2, 0) and captures(key.user) == 0
    assert CreditHold.objects.get().state == "released"
