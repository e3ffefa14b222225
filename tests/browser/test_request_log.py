"""The request log in Chromium: a customer sees its paid and refused calls with their codes, filters them,
and never sees another customer's."""

from __future__ import annotations

import time

import httpx
import pytest

from accounts.models import User
from parsing.models import ApiRequest
from tests.factories import make_key
from tests.support import extractors as scripted

from .conftest import shoot
from .test_dashboard import expect_text, sign_up, submit_for_token

pytestmark = pytest.mark.django_db(transaction=True)


def parse(stack, token: str, url: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/api/v1/parse", headers={"Authorization": f"Bearer {token}"},
                      json={"url": url}, timeout=30)


def test_the_request_log_shows_paid_and_refused_calls_and_nobody_elses(stack, session_factory):
    customer = session_factory()
    sign_up(customer, "log@example.com")
    page = customer.page
    user = User.objects.get(email="log@example.com")
    customer.go("/keys/new/")
    page.fill("#id_name", "log key")
    page.get_by_label("Only these platforms").check()
    page.get_by_label("YouTube").check()
    token = submit_for_token(customer, "Create key", "key-token-log")
    other_key, other_token = make_key(credits=5, name="someone else's")
    assert parse(stack, other_token, "https://youtu.be/logother001").status_code == 200

    # No credits yet: 402; a platform the key may not use: 403; then, topped up, a paid parse.
    assert parse(stack, token, "https://youtu.be/logpoor0001").status_code == 402
    assert parse(stack, token, "https://www.tiktok.com/@a/video/7234567890123456799").status_code == 403
    from billing.services import credit_topup

    credit_topup(user_id=user.pk, amount=3, reference="log-test")
    scripted.script("logdead0001", "private")
    paid = parse(stack, token, "https://youtu.be/logpaid0001")
    dead = parse(stack, token, "https://youtu.be/logdead0001")
    assert paid.status_code == 200 and dead.json()["code"] == 304
    for _ in range(100):  # written in batches, once a second
        if ApiRequest.objects.filter(user=user).count() >= 4:
            break
        time.sleep(0.1)

    customer.go("/requests/")
    rows = page.locator("#requests tbody tr")
    assert rows.count() == 4
    text = page.locator("#requests").inner_text()
    for expected in ("insufficient_credits", "platform_not_allowed", "304", "private", "log key",
                     paid.headers["x-request-id"], "https://youtu.be/logpaid0001"):
        assert expected in text, expected
    assert "someone else's" not in text and "logother001" not in text
    shoot(page, "request-log")

    page.select_option("select[name=outcome]", "refused")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/requests/?*outcome=refused*")
    assert page.locator("#requests tbody tr").count() == 2
    page.select_option("select[name=outcome]", "ok")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/requests/?*outcome=ok*")
    assert page.locator("#requests tbody tr").count() == 1
    expect_text(page, "Request log")
    assert page.locator("nav.main-nav a[aria-current=page]").inner_text() == "Requests"
