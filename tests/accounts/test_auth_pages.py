"""Sign-up, log-in, log-out and password reset through the dashboard pages."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from billing.models import CreditAccount
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"


def test_signup_creates_a_user_with_an_empty_account_and_logs_it_in(client):
    response = client.post(reverse("signup"), {"email": "New.Person@Example.com", "password1": PASSWORD,
                                               "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("keys")
    user = User.objects.get()
    assert user.email == "new.person@example.com" and user.check_password(PASSWORD)
    assert CreditAccount.objects.get(pk=user.pk).available == 0
    assert client.get(reverse("keys")).status_code == 200


def test_signup_credits_are_granted_once_through_the_ledger(client, settings):
    from billing.models import LedgerEntry
    from billing.services import credit_topup

    settings.EASYDOWN_SIGNUP_CREDITS = 25
    client.post(reverse("signup"), {"email": "gift@example.com", "password1": PASSWORD, "password2": PASSWORD})
    user = User.objects.get(email="gift@example.com")
    entry = LedgerEntry.objects.get(account_id=user.pk)
    assert (entry.kind, entry.amount, entry.reference) == ("topup", 25, f"signup:{user.pk}")
    assert CreditAccount.objects.get(pk=user.pk).available == 25
    # Granting the same account's signup credits again changes nothing.
    assert credit_topup(user_id=user.pk, amount=25, reference=f"signup:{user.pk}")[1] is False
    assert CreditAccount.objects.get(pk=user.pk).available == 25


def test_the_favicon_the_admin_asks_for_exists(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")


def test_signup_refuses_a_taken_email_whatever_its_case(client):
    make_user(email="taken@example.com")
    response = client.post(reverse("signup"), {"email": "TAKEN@example.com", "password1": PASSWORD,
                                               "password2": PASSWORD})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_signup_applies_the_password_validators(client):
    response = client.post(reverse("signup"), {"email": "a@example.com", "password1": "12345678",
                                               "password2": "12345678"})
    assert response.status_code == 200 and not User.objects.exists()
    assert "too common" in response.content.decode()
    form = response.context["form"]
    assert any("too common" in e for e in form.errors["password1"]) and "password2" not in form.errors


def test_login_takes_the_email_in_any_case_and_logout_needs_a_post(client):
    make_user(email="me@example.com", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "ME@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard"), follow=True).redirect_chain[-1][0] == reverse("keys")
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("keys")).status_code == 302


def test_wrong_password_is_refused(client):
    make_user(email="me@example.com", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "me@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode().lower()


@override_settings(RATE_LIMIT_LOGIN="3/m")
def test_login_is_rate_limited_per_ip(client):
    make_user(email="me@example.com", password=PASSWORD)
    for _ in range(3):
        assert client.post(reverse("login"), {"username": "me@example.com", "password": "wrong"}).status_code == 200
    # Even the right password is refused once the IP is over the limit...
    limited = client.post(reverse("login"), {"username": "me@example.com", "password": PASSWORD})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert "_auth_user_id" not in client.session
    # ...but another address is not affected.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post(reverse("login"), {"username": "me@example.com", "password": PASSWORD}).status_code == 302


@override_settings(RATE_LIMIT_SIGNUP="2/h")
def test_signup_is_rate_limited_per_ip(client):
    for i in range(2):
        Client().post(reverse("signup"), {"email": f"u{i}@example.com", "password1": PASSWORD, "password2": PASSWORD})
    response = client.post(reverse("signup"), {"email": "u9@example.com", "password1": PASSWORD,
                                               "password2": PASSWORD})
    assert response.status_code == 429
    assert not User.objects.filter(email="u9@example.com").exists()
    assert User.objects.count() == 2


def test_password_reset_by_email(client, mailoutbox):
    user = make_user(email="me@example.com", password="old password value")
    response = client.post(reverse("password_reset"), {"email": "Me@Example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["me@example.com"] and "Reset your Easydown password" in message.subject
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # The link works once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_reveal_whether_an_account_exists(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


@override_settings(RATE_LIMIT_PASSWORD_RESET="1/h")
def test_password_reset_requests_are_rate_limited(client, mailoutbox):
    make_user(email="me@example.com")
    client.post(reverse("password_reset"), {"email": "me@example.com"})
    assert client.post(reverse("password_reset"), {"email": "me@example.com"}).status_code == 429
    assert len(mailoutbox) == 1


def test_forms_refuse_posts_without_a_csrf_token():
    make_user(email="me@example.com", password=PASSWORD)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("login"), {"username": "me@example.com", "password": PASSWORD}).status_code == 403
    assert strict.post(reverse("signup"), {"email": "x@example.com", "password1": PASSWORD,
                                           "password2": PASSWORD}).status_code == 403
    assert strict.post(reverse("password_reset"), {"email": "me@example.com"}).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
