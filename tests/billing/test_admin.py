"""The admin's tools: balances, idempotent top-ups, a read-only ledger, keys without secrets, jobs, blocks."""

import re
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from billing.models import CreditAccount, LedgerEntry
from parsing.models import BlockRule, ParseJob
from tests.factories import make_key, make_user


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("admin@example.com", "admin password value")


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def topup_form(admin_client, user) -> tuple[str, str]:
    url = reverse("admin:billing_topup", args=[user.pk])
    page = admin_client.get(url).content.decode()
    return url, re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)


@pytest.mark.django_db
def test_user_list_shows_balances_and_a_top_up_link(admin_client):
    rich = make_user(email="rich@example.com", credits=250)
    make_user(email="new@example.com")
    body = admin_client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert re.search(r"rich@example.com.*?250", body, re.S)
    assert reverse("admin:billing_topup", args=[rich.pk]) in body
    change = admin_client.get(reverse("admin:accounts_user_change", args=[rich.pk])).content.decode()
    assert "250 available, 0 reserved" in change


@pytest.mark.django_db
def test_top_up_action_on_the_user_list_leads_to_the_form(admin_client):
    user = make_user()
    response = admin_client.post(reverse("admin:accounts_user_changelist"),
                                 {"action": "top_up", "_selected_action": [user.pk]})
    assert response.status_code == 302 and response["Location"] == reverse("admin:billing_topup", args=[user.pk])
    # The form's breadcrumb follows its place in the admin (billing › credit accounts), as the sidebar does.
    page = admin_client.get(response["Location"]).content.decode()
    assert reverse("admin:billing_creditaccount_changelist") in page.split('class="breadcrumbs"')[1].split("</div>")[0]
    two = admin_client.post(reverse("admin:accounts_user_changelist"),
                            {"action": "top_up", "_selected_action": [user.pk, make_user().pk]}, follow=True)
    assert "Select exactly one user" in two.content.decode()


@pytest.mark.django_db
def test_top_up_writes_a_ledger_entry_recording_the_admin(admin_client, admin_user):
    user = make_user()  # no credit account yet: the form creates it
    url, idem = topup_form(admin_client, user)
    response = admin_client.post(url, {"amount": 40, "note": "invoice 7", "idempotency_key": idem})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(account_id=user.pk)
    assert (entry.kind, entry.amount, entry.note, entry.created_by) == ("topup", 40, "invoice 7", admin_user)
    assert CreditAccount.objects.get(pk=user.pk).available == 40


@pytest.mark.django_db
def test_a_double_submission_tops_up_once(admin_client):
    user = make_user()
    url, idem = topup_form(admin_client, user)
    for _ in range(2):
        assert admin_client.post(url, {"amount": 25, "note": "", "idempotency_key": idem}).status_code == 302
    second = admin_client.post(url, {"amount": 25, "note": "", "idempotency_key": idem}, follow=True)
    assert "already applied" in second.content.decode()
    assert CreditAccount.objects.get(pk=user.pk).available == 25
    assert LedgerEntry.objects.filter(account_id=user.pk).count() == 1
    # A fresh form is a new top-up.
    _, fresh = topup_form(admin_client, user)
    assert fresh != idem
    admin_client.post(url, {"amount": 25, "note": "", "idempotency_key": fresh})
    assert CreditAccount.objects.get(pk=user.pk).available == 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submissions_top_up_once(admin_user):
    user = make_user()
    client = Client()
    client.force_login(admin_user)
    url, idem = topup_form(client, user)
    barrier = threading.Barrier(4)
    statuses = []

    def submit():
        c = Client()
        c.force_login(admin_user)
        barrier.wait()
        try:
            statuses.append(c.post(url, {"amount": 9, "note": "", "idempotency_key": idem}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 4
    assert CreditAccount.objects.get(pk=user.pk).available == 9
    assert LedgerEntry.objects.filter(account_id=user.pk).count() == 1


@pytest.mark.django_db
def test_top_up_rejects_bad_amounts_and_reused_keys(admin_client):
    user = make_user()
    url, idem = topup_form(admin_client, user)
    assert admin_client.post(url, {"amount": 0, "idempotency_key": idem}).status_code == 200
    admin_client.post(url, {"amount": 5, "idempotency_key": idem})
    reused = admin_client.post(url, {"amount": 6, "idempotency_key": idem})
    assert reused.status_code == 200 and "already used" in reused.content.decode()
    assert CreditAccount.objects.get(pk=user.pk).available == 5


@pytest.mark.django_db
def test_only_staff_with_permission_may_top_up():
    user = make_user()
    staff = User.objects.create_user("staff@example.com", "staff password value", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.post(reverse("admin:billing_topup", args=[user.pk]),
                           {"amount": 5, "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 302
    assert not LedgerEntry.objects.exists()
    customer = Client()
    customer.force_login(user)
    assert customer.get(reverse("admin:billing_topup", args=[user.pk])).status_code == 302  # to the admin login


@pytest.mark.django_db
def test_the_ledger_is_read_only_in_the_admin(admin_client):
    user = make_user(credits=3)
    entry = LedgerEntry.objects.get(account_id=user.pk)
    assert admin_client.get(reverse("admin:billing_ledgerentry_changelist")).status_code == 200
    change = admin_client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk])).content.decode()
    assert 'name="_save"' not in change
    assert admin_client.post(reverse("admin:billing_ledgerentry_change", args=[entry.pk]),
                             {"amount": 1000}).status_code == 403
    assert admin_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:billing_ledgerentry_delete", args=[entry.pk]),
                             {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 3


@pytest.mark.django_db
def test_admin_key_pages_show_no_secret(admin_client):
    key, token = make_key(name="secretive")
    pages = [admin_client.get(reverse("admin:accounts_apikey_changelist")),
             admin_client.get(reverse("admin:accounts_apikey_change", args=[key.pk])),
             admin_client.get(reverse("admin:accounts_user_change", args=[key.user.pk])),
             admin_client.get(reverse("admin:accounts_apikey_changelist"), {"status": "active"})]
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200
        assert key.token_hash not in body and token not in body and token[8:24] not in body
    assert key.masked_token in pages[0].content.decode()
    assert admin_client.get(reverse("admin:accounts_apikey_add")).status_code == 403


@pytest.mark.django_db
def test_admin_can_revoke_keys(admin_client):
    key, _ = make_key()
    admin_client.post(reverse("admin:accounts_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.status == "revoked"


@pytest.mark.django_db
def test_parse_jobs_filter_by_platform_and_outcome(admin_client):
    user = make_user()
    ParseJob.objects.create(user=user, platform="youtube", input="a", url="https://y/1", state="succeeded")
    ParseJob.objects.create(user=user, platform="tiktok", input="b", url="https://t/2", state="failed",
                            error_code="304", error_reason="private")
    url = reverse("admin:parsing_parsejob_changelist")
    by_platform = admin_client.get(url, {"platform": "tiktok"}).content.decode()
    assert by_platform.count('class="field-platform"') == 1 and "tiktok" in by_platform
    failed = admin_client.get(url, {"outcome": "failed"}).content.decode()
    assert failed.count('class="field-platform"') == 1 and "private" in failed
    succeeded = admin_client.get(url, {"outcome": "succeeded"}).content.decode()
    assert succeeded.count('class="field-platform"') == 1 and "youtube" in succeeded


@pytest.mark.django_db
def test_admin_adds_a_block_rule_with_a_platform_choice(admin_client, admin_user):
    response = admin_client.post(reverse("admin:parsing_blockrule_add"), {
        "platform": "youtube", "pattern": "abcdefghijk", "reason": "court order", "is_active": "on"})
    assert response.status_code == 302
    rule = BlockRule.objects.get()
    assert (rule.platform, rule.created_by) == ("youtube", admin_user)
    bad = admin_client.post(reverse("admin:parsing_blockrule_add"), {
        "platform": "myspace", "pattern": "x", "reason": "r", "is_active": "on"})
    assert bad.status_code == 200 and BlockRule.objects.count() == 1
