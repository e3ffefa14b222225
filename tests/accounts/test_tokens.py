import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import tokens
from accounts.models import ApiKey
from accounts.services import api_key_authenticate, api_key_create, api_key_revoke, api_key_rotate, api_key_update
from easydown.exceptions import InvalidRequest, InvalidToken, MissingToken, TokenExpired
from tests.factories import make_key, make_user


def test_generated_tokens_are_well_formed_and_distinct():
    seen = {tokens.generate() for _ in range(200)}
    assert len(seen) == 200
    for token in seen:
        assert token.startswith("ed_live_") and len(token) == len("ed_live_") + 49
        assert tokens.is_well_formed(token)


def test_a_mistyped_character_breaks_the_checksum():
    token = tokens.generate()
    i = len(token) - 10
    typo = token[:i] + ("a" if token[i] != "a" else "b") + token[i + 1:]
    assert not tokens.is_well_formed(typo)
    assert not tokens.is_well_formed(token[:-1])
    assert not tokens.is_well_formed("ed_test_" + token[8:])


@pytest.mark.django_db
def test_malformed_token_is_refused_without_a_query():
    with CaptureQueriesContext(connection) as queries, pytest.raises(InvalidToken):
        api_key_authenticate(header="Bearer ed_live_notavalidtoken")
    assert len(queries) == 0


@pytest.mark.django_db
def test_plaintext_token_is_never_stored():
    key, token = make_key()
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert all(token not in str(value) for value in row.values())
    assert row["token_hash"] == tokens.digest(token)
    assert key.masked_token.startswith("ed_live_") and key.masked_token.endswith(token[-4:])


@pytest.mark.django_db
def test_authentication_is_one_indexed_query_when_recently_used():
    key, token = make_key()
    api_key_authenticate(header=f"Bearer {token}")  # writes last_used_at once
    with CaptureQueriesContext(connection) as queries:
        assert api_key_authenticate(header=f"Bearer {token}").pk == key.pk
    assert len(queries) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("header, error", [
    (None, MissingToken), ("", MissingToken), ("Basic abc", InvalidToken), ("Bearer ", InvalidToken),
])
def test_header_shapes(header, error):
    with pytest.raises(error):
        api_key_authenticate(header=header)


@pytest.mark.django_db
def test_unknown_well_formed_token_is_invalid():
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {tokens.generate()}")


@pytest.mark.django_db
def test_rotation_keeps_row_and_permissions_and_kills_old_token():
    key, old = make_key(platforms=["youtube", "tiktok"])
    same, new = api_key_rotate(key=key)
    assert same.pk == key.pk and new != old
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {old}")
    fresh = api_key_authenticate(header=f"Bearer {new}")
    assert fresh.pk == key.pk and fresh.platforms == ["tiktok", "youtube"]


@pytest.mark.django_db
def test_update_changes_settings_not_token():
    key, token = make_key()
    api_key_update(key=key, name="renamed", platforms=["weibo"], expires_on=None)
    fresh = api_key_authenticate(header=f"Bearer {token}")
    assert (fresh.name, fresh.platforms) == ("renamed", ["weibo"])


@pytest.mark.django_db
def test_update_rejects_unknown_platforms_and_empty_names():
    key, _ = make_key()
    with pytest.raises(InvalidRequest):
        api_key_update(key=key, name="x", platforms=["myspace"], expires_on=None)
    with pytest.raises(InvalidRequest):
        api_key_update(key=key, name="  ", platforms=None, expires_on=None)


@pytest.mark.django_db
def test_revoked_key_is_invalid():
    key, token = make_key()
    api_key_revoke(key=key)
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {token}")


@pytest.mark.django_db
def test_key_works_through_its_expiry_day_and_not_after():
    import datetime as dt

    from django.utils import timezone

    today = timezone.now().date()
    _, valid = api_key_create(user=make_user(), name="k", expires_on=today)
    _, expired = api_key_create(user=make_user(), name="k", expires_on=today - dt.timedelta(days=1))
    api_key_authenticate(header=f"Bearer {valid}")
    with pytest.raises(TokenExpired):
        api_key_authenticate(header=f"Bearer {expired}")


@pytest.mark.django_db
def test_all_platforms_selection_is_stored_as_all():
    from parsing.recognition import PLATFORMS

    key, _ = make_key(platforms=list(PLATFORMS))
    assert key.platforms == [] and key.all_platforms
