"""Idempotency-Key on the parse endpoint, end to end against the live stack (uvicorn, a real worker)."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from parsing.models import IdempotencyRecord, ParseJob
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_envelope, balance, captures, vid
from tests.support import extractors as scripted

pytestmark = pytest.mark.django_db(transaction=True)


def post(stack, token: str, body: dict | str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, content=content, timeout=30)


def test_a_replay_returns_the_first_answer_and_charges_once(stack):
    key, token = make_key(credits=5)
    media = vid("idem1")
    first = post(stack, token, {"url": YT.format(media)}, "order-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    # The same request again, its JSON written differently: the same answer, nothing run, nothing charged.
    again = post(stack, token, f'{{ "url" :  "{YT.format(media)}" }}', "order-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again.headers["Easydown-Job"] == first.headers["Easydown-Job"]
    assert scripted.calls(media) == 1 and ParseJob.objects.count() == 1
    assert balance(key.user) == (4, 0) and captures(key.user) == 1
    # Without the header, the same body is a new request: a result cache hit this time, charged like any parse.
    fresh = post(stack, token, {"url": YT.format(media)}, None)
    assert fresh.status_code == 200 and "Cached-On" in fresh.headers and "Idempotent-Replayed" not in fresh.headers
    assert scripted.calls(media) == 1 and balance(key.user) == (3, 0) and captures(key.user) == 2


def test_a_stored_304_is_replayed_too(stack):
    key, token = make_key(credits=2)
    media = vid("idem304")
    scripted.script(media, "private")
    first = post(stack, token, {"url": YT.format(media)}, "k304")
    assert_envelope(first, 200, 304)
    again = post(stack, token, {"url": YT.format(media)}, "k304")
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    assert scripted.calls(media) == 1 and balance(key.user) == (2, 0)


def test_the_same_key_with_another_body_is_422_and_changes_nothing(stack):
    key, token = make_key(credits=3)
    assert post(stack, token, {"url": YT.format(vid("idemA"))}, "k-1").status_code == 200
    other = post(stack, token, {"url": YT.format(vid("idemB"))}, "k-1")
    assert_envelope(other, 422, "idempotency_key_reused")
    assert scripted.calls(vid("idemB")) == 0 and balance(key.user) == (2, 0)


def test_the_same_key_while_the_first_runs_is_409(stack):
    key, token = make_key(credits=3)
    media = vid("idemslow")
    scripted.script(media, "sleep", seconds=2)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, stack, token, {"url": YT.format(media)}, "slow-1")
        deadline = time.monotonic() + 10
        while scripted.calls(media) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        busy = post(stack, token, {"url": YT.format(media)}, "slow-1")
        assert_envelope(busy, 409, "idempotency_key_in_use")
        assert first.result().status_code == 200
    assert scripted.calls(media) == 1 and balance(key.user) == (2, 0)
    assert post(stack, token, {"url": YT.format(media)}, "slow-1").headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(("action", "status", "code"), [("upstream_timeout", 504, "upstream_timeout")])
def test_an_answer_without_a_result_is_not_stored(stack, action, status, code):
    key, token = make_key(credits=2)
    media = vid(f"idem{action}")
    scripted.script(media, action)
    assert_envelope(post(stack, token, {"url": YT.format(media)}, "retry-me"), status, code)
    scripted.script(media, "ok")
    retried = post(stack, token, {"url": YT.format(media)}, "retry-me")
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert scripted.calls(media) == 2 and balance(key.user) == (1, 0)


def test_answers_that_did_no_work_are_not_stored(stack):
    key, token = make_key(credits=2, platforms=["tiktok"])
    refused = post(stack, token, {"url": YT.format(vid("idem403"))}, "k403")
    assert_envelope(refused, 403, "platform_not_allowed")
    bad = post(stack, token, {"url": "not a link"}, "k400")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert_envelope(post(stack, "ed_live_" + "x" * 40, {"url": YT.format(vid("x"))}, "k401"), 401, "invalid_token")
    assert balance(key.user) == (2, 0)


def test_keys_are_scoped_to_the_account(stack):
    first_key, first_token = make_key(credits=2)
    second_key, second_token = make_key(credits=2)
    assert post(stack, first_token, {"url": YT.format(vid("idemS1"))}, "shared").status_code == 200
    mine = post(stack, second_token, {"url": YT.format(vid("idemS2"))}, "shared")
    assert mine.status_code == 200 and "Idempotent-Replayed" not in mine.headers
    assert balance(first_key.user) == (1, 0) and balance(second_key.user) == (1, 0)


def test_a_key_is_kept_24_hours(stack, settings):
    key, token = make_key(credits=3)
    media = vid("idemday")
    assert post(stack, token, {"url": YT.format(media)}, "daily").status_code == 200
    record = IdempotencyRecord.objects.get()
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=record.created_at - dt.timedelta(hours=23))
    assert post(stack, token, {"url": YT.format(media)}, "daily").headers["Idempotent-Replayed"] == "true"
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=record.created_at - dt.timedelta(hours=25))
    fresh = post(stack, token, {"url": YT.format(media)}, "daily")
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers
    # It ran as a new request (a new job, charged; its result came from the result cache).
    assert ParseJob.objects.count() == 2 and balance(key.user) == (1, 0)


@pytest.mark.parametrize("value", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_400(stack, value):
    _, token = make_key(credits=1)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": value.encode("utf-8")}
    answer = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers,
                        json={"url": YT.format(vid("idembad"))}, timeout=30)
    assert_envelope(answer, 400, "invalid_request")
