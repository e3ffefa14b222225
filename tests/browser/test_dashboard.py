"""The dashboard and the admin's tools in a real Chromium, against uvicorn and a real Celery worker.

Every page visited is saved at 390 px and 1280 px under artifacts/screenshots/ (token fields masked).
"""

from __future__ import annotations

import datetime as dt
import random
import re

import httpx
import pytest
from django.utils import timezone

from accounts.models import ApiKey, User
from billing.models import CreditAccount, LedgerEntry
from parsing.models import BlockRule, ParseJob
from parsing.recognition import PLATFORMS
from tests.factories import make_key, make_user
from tests.support import extractors as scripted

from .conftest import Session, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "admin password for tests"
TOKEN_RE = re.compile(r"^ed_live_[0-9A-Za-z]{49}$")


def parse(stack, token: str, media_id: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": f"https://www.youtube.com/watch?v={media_id}"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


def sign_up(s: Session, email: str, *, screenshot: bool = False) -> None:
    page = s.go("/signup/")
    if screenshot:
        shoot(page, "signup")
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/keys/")


def log_in(s: Session, email: str, password: str = PASSWORD) -> None:
    page = s.go("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/keys/")


def admin_log_in(s: Session) -> User:
    admin = User.objects.create_superuser("admin@example.com", ADMIN_PASSWORD)
    page = s.go("/admin/login/?next=/admin/")
    page.fill("#id_username", admin.email)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    return admin


def submit_for_token(s: Session, button: str, name: str) -> str:
    """Press the button whose POST answers with the token page; return the token, copied with the Copy
    button. The token page is never stored by the browser."""
    page = s.page
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button).click()
    assert "no-store" in answer.value.headers["cache-control"]
    assert answer.value.request.url.endswith(("/keys/new/", "/reset/"))
    expect_text(page, "It will not be shown again")
    token = page.locator("#token").inner_text().strip()
    assert TOKEN_RE.match(token)
    page.locator("#copy-token").click()
    page.locator("#copy-status", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    shoot(page, name, mask=[page.locator("#token")])
    return token


def expect_text(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for()


def balance(user: User) -> int:
    return CreditAccount.objects.get(pk=user.pk).available


def test_customer_journey_from_sign_up_to_revoke(stack, session_factory):
    customer = session_factory()
    sign_up(customer, "journey@example.com", screenshot=True)
    page = customer.page
    user = User.objects.get(email="journey@example.com")
    expect_text(page, "No keys yet")
    shoot(page, "keys-empty")

    # An admin tops up; the customer sees the new balance.
    admin = session_factory()
    admin_user = admin_log_in(admin)
    users = admin.go("/admin/accounts/user/")
    row = users.locator("tr", has_text="journey@example.com")
    row.get_by_role("link", name="Top up").click()
    admin.page.fill("#id_amount", "100")
    admin.page.fill("#id_note", "welcome credits")
    shoot(admin.page, "admin-topup")
    admin.page.locator("input[type=submit][value='Top up']").click()
    expect_text(admin.page, "Added 100 credits")
    entry = LedgerEntry.objects.get(account_id=user.pk)
    assert (entry.amount, entry.note, entry.created_by) == (100, "welcome credits", admin_user)
    customer.go("/credits/")
    assert page.locator("#available").inner_text() == "100"

    # Create a key; its token is shown once, copied with the button.
    customer.go("/keys/")
    page.get_by_role("link", name="Create a key").click()
    page.fill("#id_name", "production server")
    page.get_by_label("Only these platforms").check()
    shoot(page, "key-create-subset")
    page.get_by_label("All platforms").check()
    token = submit_for_token(customer, "Create key", "key-token")
    key = ApiKey.objects.get(user=user)
    assert key.platforms == [] and key.expires_on is None

    # The keys page never shows it again: only the mask.
    customer.go("/keys/")
    html = page.content()
    assert token not in html and key.masked_token in html
    assert page.locator(f"tr[data-key='{key.public_id}'] .badge").inner_text() == "Active"

    # Call the API with the copied token: one success (charged) and one failure (free).
    ok = parse(stack, token, "abcdefghijk")
    assert ok.status_code == 200 and ok.json()["data"]["platform"] == "youtube"
    scripted.script("privatevid1", "private")
    failed = parse(stack, token, "privatevid1")
    assert failed.status_code == 200 and failed.json()["code"] == 304
    assert balance(user) == 99

    customer.go("/credits/")
    assert page.locator("#available").inner_text() == "99"
    attempts = page.locator("#attempts")
    expect_text(page, "Failed: private")
    assert attempts.locator("tbody tr").count() == 2
    assert "Success" in attempts.locator("tbody tr").nth(1).inner_text()
    assert page.locator(".chart-plot rect[data-platform='youtube']").count() == 1
    assert "Parse charge" in page.locator("#ledger-table").inner_text()
    shoot(page, "credits")

    customer.go("/keys/")
    assert page.locator(f"tr[data-key='{key.public_id}'] td[data-label='Last used']").inner_text() == "just now"
    shoot(page, "keys")

    # Edit: a subset of platforms and an expiry; the token keeps working.
    page.locator(f"tr[data-key='{key.public_id}']").get_by_role("link", name="Edit").click()
    page.fill("#id_name", "production (YouTube only)")
    page.get_by_label("Only these platforms").check()
    page.get_by_label("YouTube").check()
    page.fill("#id_expires_on", (timezone.now().date() + dt.timedelta(days=90)).isoformat())
    shoot(page, "key-edit")
    page.get_by_role("button", name="Save changes").click()
    expect_text(page, "Its token did not change")
    key.refresh_from_db()
    assert key.platforms == ["youtube"] and key.name == "production (YouTube only)"
    assert parse(stack, token, "abcdefghij2").status_code == 200

    # Reset after a confirmation: the old token is refused, the new one works, same permissions.
    page.locator(f"tr[data-key='{key.public_id}']").get_by_role("link", name="Reset").click()
    expect_text(page, "stops working immediately")
    shoot(page, "key-reset-confirm")
    new_token = submit_for_token(customer, "Reset and show the new token", "key-token-reset")
    assert new_token != token
    old = parse(stack, token, "abcdefghij3")
    assert old.status_code == 401 and old.json()["code"] == "invalid_token"
    assert parse(stack, new_token, "abcdefghij4").status_code == 200
    key.refresh_from_db()
    assert key.platforms == ["youtube"]

    # Revoke after a confirmation: the token is refused from then on.
    customer.go("/keys/")
    page.locator(f"tr[data-key='{key.public_id}']").get_by_role("link", name="Revoke").click()
    expect_text(page, "cannot be undone")
    shoot(page, "key-revoke-confirm")
    page.get_by_role("button", name="Revoke the key").click()
    expect_text(page, "Requests with its token are now refused")
    assert page.locator(f"tr[data-key='{key.public_id}'] .badge").inner_text() == "Revoked"
    shoot(page, "keys-revoked")
    revoked = parse(stack, new_token, "abcdefghij5")
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_token"

    # Three successes were charged, nothing else.
    assert balance(user) == 97
    customer.go("/credits/")
    assert page.locator("#available").inner_text() == "97"

    customer.go("/start/")
    expect_text(page, "Authorization: Bearer $EASYDOWN_TOKEN")
    assert f"{stack.base_url}/api/v1/parse" in page.locator("#curl-snippet").inner_text()
    shoot(page, "start")

    assert customer.foreign_requests() == [] and admin.foreign_requests() == []
    assert token not in (stack.logs["web"].read_text() + stack.logs["worker"].read_text())
    assert new_token not in (stack.logs["web"].read_text() + stack.logs["worker"].read_text())


def test_a_second_user_cannot_reach_the_first_users_key(stack, session_factory):
    owner = make_user(email="owner@example.com", credits=5)
    key, token = make_key(owner, name="owner's key")
    intruder = session_factory()
    sign_up(intruder, "intruder@example.com")
    page = intruder.page
    for action in ("edit", "reset", "revoke"):
        response = page.goto(f"{stack.base_url}/keys/{key.public_id}/{action}/")
        assert response.status == 404, action
        assert "owner's key" not in page.content()
    shoot(page, "not-found")
    # Forged POSTs with a valid CSRF token of the intruder's own session are 404s too.
    csrf = next(c["value"] for c in intruder.context.cookies() if c["name"] == "csrftoken")
    for action in ("reset", "revoke"):
        response = page.request.post(f"{stack.base_url}/keys/{key.public_id}/{action}/",
                                     headers={"X-CSRFToken": csrf, "Referer": stack.base_url + "/keys/"})
        assert response.status == 404, action
    response = page.request.post(f"{stack.base_url}/keys/{key.public_id}/edit/",
                                 form={"name": "pwned", "scope": "all", "csrfmiddlewaretoken": csrf},
                                 headers={"Referer": stack.base_url + "/keys/"})
    assert response.status == 404
    intruder.go("/keys/")
    assert "owner's key" not in page.content()
    key.refresh_from_db()
    assert key.name == "owner's key" and key.status == "active"
    assert parse(stack, token, "abcdefghijk").status_code == 200


def test_admin_blocks_content_and_sees_jobs_ledger_and_keys(stack, session_factory):
    customer = make_user(email="customer@example.com", credits=5)
    key, token = make_key(customer, name="customer key")
    assert parse(stack, token, "goodvideo01").status_code == 200
    admin = session_factory()
    admin_log_in(admin)
    page = admin.page
    shoot(page, "admin-index")

    admin.go("/admin/parsing/blockrule/add/")
    page.select_option("#id_platform", "youtube")
    page.fill("#id_pattern", "blockedvid1")
    page.fill("#id_reason", "court order 42")
    shoot(page, "admin-blockrule-add")
    page.locator("input[name=_save]").click()
    expect_text(page, "was added successfully")
    shoot(page, "admin-blockrules")
    assert BlockRule.objects.get().reason == "court order 42"

    blocked = parse(stack, token, "blockedvid1")
    assert blocked.status_code == 451
    assert blocked.json()["code"] == "content_restricted" and blocked.json()["reason"] == "court order 42"
    assert balance(customer) == 4 and ParseJob.objects.count() == 1

    admin.go("/admin/accounts/user/")
    assert re.search(r"customer@example.com\s+4\s+0", page.locator("#result_list").inner_text())
    shoot(page, "admin-users")
    page.get_by_role("link", name="customer@example.com").click()
    expect_text(page, "4 available, 0 reserved")
    shoot(page, "admin-user-change")

    admin.go("/admin/billing/ledgerentry/")
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.locator(".object-tools .addlink").count() == 0
    shoot(page, "admin-ledger")

    admin.go("/admin/accounts/apikey/")
    assert key.masked_token in page.content() and key.token_hash not in page.content()
    shoot(page, "admin-keys")
    page.get_by_role("link", name="customer key").click()
    assert key.token_hash not in page.content() and token not in page.content()

    admin.go("/admin/parsing/parsejob/?platform=youtube&outcome=succeeded")
    assert page.locator("#result_list tbody tr").count() == 1
    shoot(page, "admin-parse-jobs")
    admin.go("/admin/parsing/parsejob/?outcome=failed")
    expect_text(page, "0 parse jobs")
    assert admin.foreign_requests() == []


def test_usage_page_with_a_month_of_history(stack, session_factory):
    user = make_user(email="busy@example.com", credits=500, password=PASSWORD)
    key, _ = make_key(user, name="batch worker")
    rng = random.Random(4)
    today = timezone.now()
    expected = set()
    for days_ago in range(30):
        for platform in rng.sample(PLATFORMS, rng.randint(0, 4)):
            for _ in range(rng.randint(1, 5)):
                job = ParseJob.objects.create(user=user, api_key=key, platform=platform, input="x", state="succeeded",
                                              url=f"https://example.com/{platform}/{days_ago}")
                ParseJob.objects.filter(pk=job.pk).update(created_at=today - dt.timedelta(days=days_ago))
            expected.add((days_ago, platform))
    ParseJob.objects.create(user=user, api_key=key, platform="tiktok", input="x", state="failed",
                            error_code="304", error_reason="login_required",
                            url="https://www.tiktok.com/@someone/video/7234567890123456789?a_rather_long_query=1")
    for i in range(25):
        LedgerEntry.objects.create(account_id=user.pk, kind="adjustment", amount=1,
                                   reference=f"adj-{i}", note=f"goodwill credit {i}")
    CreditAccount.objects.filter(pk=user.pk).update(available=525)
    s = session_factory()
    log_in(s, "busy@example.com")
    page = s.go("/credits/")
    assert page.locator(".chart-plot svg rect").count() == len(expected)
    expect_text(page, "Failed: login required")
    assert "Page 1 of 2" in page.locator("#ledger").inner_text()
    shoot(page, "credits-history")
    page.get_by_role("link", name="Older →").click()
    assert "Page 2 of 2" in page.locator("#ledger").inner_text()


def test_public_pages_and_the_interactive_docs(stack, session_factory):
    s = session_factory()
    page = s.go("/")
    expect_text(page, "One API call")
    shoot(page, "landing")
    s.go("/login/")
    shoot(page, "login")
    page.fill("#id_username", "nobody@example.com")
    page.fill("#id_password", "wrong password")
    page.get_by_role("button", name="Log in").click()
    expect_text(page, "Please enter a correct")
    shoot(page, "login-error")
    s.go("/password-reset/")
    shoot(page, "password-reset")
    page.fill("#id_email", "nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url("**/password-reset/sent/")
    shoot(page, "password-reset-sent")
    s.go("/api/docs/")
    page.locator(".swagger-ui .opblock-summary-path", has_text="/api/v1/parse").first.wait_for()
    page.locator(".opblock-summary-path", has_text="/api/v1/parse").first.click()
    page.locator(".responses-table").first.wait_for()
    expect_text(page, "content_restricted")
    shoot(page, "api-docs")
    assert s.foreign_requests() == []
