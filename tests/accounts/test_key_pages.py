"""The API keys pages: create, list, edit, reset, revoke; ownership; the token shown exactly once."""

import datetime as dt
import logging
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiKey
from accounts.services import api_key_authenticate
from easydown.exceptions import InvalidToken
from tests.factories import make_key, make_user

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"ed_live_[0-9A-Za-z]{49}")


@pytest.fixture
def user():
    return make_user(credits=5)


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def create(client: Client, **data) -> tuple[ApiKey, str, object]:
    payload = {"name": "backend", "scope": "all", "expires_on": "", **data}
    response = client.post(reverse("key_create"), payload)
    assert response.status_code == 200, response.content.decode()[:2000]
    found = TOKEN_RE.findall(response.content.decode())
    assert len(set(found)) == 1, "the page shows exactly one token"
    return ApiKey.objects.latest("created_at"), found[0], response


def test_creating_a_key_shows_its_token_once_and_never_again(logged_in, user):
    key, token, response = create(logged_in, name="production")
    assert tokens.is_well_formed(token) and key.user == user and key.name == "production"
    assert api_key_authenticate(header=f"Bearer {token}") == key
    body = response.content.decode()
    assert "will not be shown again" in body
    assert "no-store" in response["Cache-Control"]
    assert token not in response.get("Location", "")
    # No later page of the dashboard carries it.
    for name in ("keys", "credits", "start", "home", "dashboard"):
        page = logged_in.get(reverse(name), follow=True)
        assert token not in page.content.decode(), name
        assert key.masked_token in logged_in.get(reverse("keys")).content.decode()
    assert token not in str(logged_in.session.items())


def test_keys_list_shows_name_mask_platforms_expiry_and_status(logged_in, user):
    make_key(user, name="everything")
    limited, _ = make_key(user, name="limited", platforms=["youtube", "tiktok"],
                          expires_on=timezone.now().date() + dt.timedelta(days=30))
    expired, _ = make_key(user, name="old", expires_on=timezone.now().date() - dt.timedelta(days=1))
    revoked, _ = make_key(user, name="gone")
    revoked.revoked_at = timezone.now()
    revoked.save()
    body = logged_in.get(reverse("keys")).content.decode()
    for text in ("everything", "All platforms", "limited", "YouTube", "TikTok", limited.masked_token, "Never",
                 "Active", "Expired", "Revoked", expired.masked_token):
        assert text in body, text
    assert re.search(r"ed_live_\w{4}…\w{4}", body)


def test_create_with_a_platform_subset_and_an_expiry(logged_in):
    expires = timezone.now().date() + dt.timedelta(days=7)
    key, _, _ = create(logged_in, scope="some", platforms=["weibo", "bilibili"], expires_on=expires.isoformat())
    assert key.platforms == ["bilibili", "weibo"] and key.expires_on == expires


@pytest.mark.parametrize("data, error", [
    ({"name": ""}, "This field is required"),
    ({"scope": "some"}, "Choose at least one platform"),
    ({"scope": "some", "platforms": ["myspace"]}, "Select a valid choice"),
    ({"expires_on": "2001-01-01"}, "Choose today or a later date"),
])
def test_create_validates_the_form(logged_in, data, error):
    response = logged_in.post(reverse("key_create"), {"name": "k", "scope": "all", "expires_on": "", **data})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ApiKey.objects.exists()


def test_editing_changes_name_expiry_and_platforms_but_not_the_token(logged_in, user):
    key, token = make_key(user, name="before")
    url = reverse("key_edit", args=[key.public_id])
    page = logged_in.get(url).content.decode()
    assert 'value="before"' in page and token not in page
    expires = timezone.now().date() + dt.timedelta(days=3)
    response = logged_in.post(url, {"name": "after", "scope": "some", "platforms": ["youtube", "douyin"],
                                    "expires_on": expires.isoformat()})
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.platforms, key.expires_on) == ("after", ["douyin", "youtube"], expires)
    assert api_key_authenticate(header=f"Bearer {token}") == key
    # Back to all platforms and no expiry.
    logged_in.post(url, {"name": "after", "scope": "all", "platforms": ["youtube"], "expires_on": ""})
    key.refresh_from_db()
    assert key.platforms == [] and key.expires_on is None


def test_edit_form_shows_the_current_subset(logged_in, user):
    key, _ = make_key(user, platforms=["kuaishou"])
    page = logged_in.get(reverse("key_edit", args=[key.public_id])).content.decode()
    assert re.search(r'value="some"[^>]*checked', page)
    assert re.search(r'value="kuaishou"[^>]*checked', page)
    assert not re.search(r'value="youtube"[^>]*checked', page)


def test_reset_asks_first_then_rotates_and_shows_the_new_token_once(logged_in, user):
    key, old = make_key(user, name="rotating", platforms=["youtube"])
    url = reverse("key_reset", args=[key.public_id])
    confirm = logged_in.get(url)
    assert "stops working immediately" in confirm.content.decode()
    assert api_key_authenticate(header=f"Bearer {old}") == key  # a GET changes nothing
    response = logged_in.post(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = TOKEN_RE.findall(response.content.decode())
    assert len(set(new)) == 1 and new[0] != old
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {old}")
    key.refresh_from_db()
    assert api_key_authenticate(header=f"Bearer {new[0]}") == key and key.platforms == ["youtube"]
    assert new[0] not in logged_in.get(reverse("keys")).content.decode()
    # The token page is under the keys tab, and after a reset offers no "first call" (the key has made some).
    page = response.content.decode()
    assert 'href="/keys/" aria-current="page"' in page and "Make a first call" not in page


def test_the_new_key_page_offers_a_first_call_under_the_keys_tab(logged_in):
    page = logged_in.post(reverse("key_create"), {"name": "first", "scope": "all"}).content.decode()
    assert "Make a first call" in page and 'href="/keys/" aria-current="page"' in page


def test_revoke_asks_first_then_revokes(logged_in, user):
    key, token = make_key(user)
    url = reverse("key_revoke", args=[key.public_id])
    assert "cannot be undone" in logged_in.get(url).content.decode()
    assert logged_in.post(url).status_code == 302
    key.refresh_from_db()
    assert key.status == "revoked"
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {token}")
    # A revoked key can be neither reset nor edited.
    assert logged_in.post(reverse("key_reset", args=[key.public_id])).status_code == 302
    assert logged_in.post(reverse("key_edit", args=[key.public_id]), {"name": "x", "scope": "all"}).status_code == 302
    key.refresh_from_db()
    assert key.name == "test key" and key.status == "revoked"


@pytest.mark.parametrize("view", ["key_edit", "key_reset", "key_revoke"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_users_key_is_not_found(logged_in, view, method):
    victim_key, victim_token = make_key(make_user(), name="victim")
    url = reverse(view, args=[victim_key.public_id])
    data = {"name": "pwned", "scope": "all", "expires_on": ""} if method == "post" else None
    response = getattr(logged_in, method)(url, data)
    assert response.status_code == 404
    assert "victim" not in response.content.decode()
    victim_key.refresh_from_db()
    assert victim_key.name == "victim" and victim_key.revoked_at is None
    assert api_key_authenticate(header=f"Bearer {victim_token}") == victim_key


def test_an_unknown_key_id_is_not_found(logged_in):
    assert logged_in.get(reverse("key_edit", args=[uuid.uuid4()])).status_code == 404


def test_another_users_keys_are_not_listed(logged_in):
    make_key(make_user(), name="someone-elses")
    assert "someone-elses" not in logged_in.get(reverse("keys")).content.decode()


def test_key_forms_refuse_posts_without_a_csrf_token(user):
    key, token = make_key(user, name="kept")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("key_create"), {"name": "x", "scope": "all"}).status_code == 403
    assert strict.post(reverse("key_edit", args=[key.public_id]), {"name": "x", "scope": "all"}).status_code == 403
    assert strict.post(reverse("key_reset", args=[key.public_id])).status_code == 403
    assert strict.post(reverse("key_revoke", args=[key.public_id])).status_code == 403
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.name == "kept" and key.status == "active"
    assert api_key_authenticate(header=f"Bearer {token}") == key


def test_every_form_on_the_key_pages_carries_a_csrf_token(logged_in, user):
    key, _ = make_key(user)
    for url in (reverse("keys"), reverse("key_create"), reverse("key_edit", args=[key.public_id]),
                reverse("key_reset", args=[key.public_id]), reverse("key_revoke", args=[key.public_id])):
        body = logged_in.get(url).content.decode()
        assert body.count("<form") == body.count('name="csrfmiddlewaretoken"'), url


def test_tokens_never_reach_a_log_line(logged_in, caplog):
    caplog.set_level(logging.DEBUG)
    key, token, _ = create(logged_in)
    response = logged_in.post(reverse("key_reset", args=[key.public_id]))
    new = TOKEN_RE.findall(response.content.decode())[0]
    logged_in.post(reverse("key_revoke", args=[key.public_id]))
    Client().post("/api/v1/parse", {"url": "x"}, content_type="application/json",
                  headers={"Authorization": f"Bearer {new}"})
    text = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert token not in text and new not in text
    assert token[8:20] not in text and new[8:20] not in text
