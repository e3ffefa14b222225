"""API keys kept by the API processes (accounts.keycache): a kept key answers without a database read, and
every change made through the models or services (revoke, rotate, edit, a deactivated owner) holds from the
very next request, in the live stack's API process."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from accounts import keycache
from accounts import services as account_services
from accounts.models import ApiKey
from accounts.services import api_key_authenticate, api_key_revoke, api_key_rotate, api_key_update
from easydown import versions
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, assert_envelope, post, vid

pytestmark = pytest.mark.django_db(transaction=True)


def warm(stack, token: str, name: str) -> None:
    """Two paid calls: the first reads the key and keeps it, the second finds the copy vouched for."""
    for n in range(2):
        assert post(stack, token, {"url": YT.format(vid(f"{name}{n}"))}).status_code == 200


def test_a_kept_key_is_used_until_a_change_is_recorded(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-a")
    # A change behind the models' back (no signal, no new version): the kept copy still answers, which shows
    # the paid path did not read the key from the database ...
    ApiKey.objects.filter(pk=key.pk).update(platforms=["tiktok"])
    assert post(stack, token, {"url": YT.format(vid("kc-a2"))}).status_code == 200
    # ... until a change is recorded: then the next request reads the key again.
    keycache.changed()
    assert_envelope(post(stack, token, {"url": YT.format(vid("kc-a3"))}), 403, "platform_not_allowed")


def test_a_copy_is_read_again_when_older_than_max_age(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-age")
    ApiKey.objects.filter(pk=key.pk).update(platforms=["tiktok"])  # no version written
    deadline = time.monotonic() + keycache.MAX_AGE + 5
    while time.monotonic() < deadline:
        answer = post(stack, token, {"url": YT.format(vid("kc-age2"))})
        if answer.status_code == 403:
            break
        time.sleep(0.5)
    assert_envelope(answer, 403, "platform_not_allowed")


def test_revoking_a_kept_key_holds_at_once(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-r")
    api_key_revoke(key=key)
    assert_envelope(post(stack, token, {"url": YT.format(vid("kc-r2"))}), 401, "invalid_token")


def test_rotating_a_kept_key_retires_the_old_token_at_once(stack):
    key, old = make_key(credits=10)
    warm(stack, old, "kc-o")
    _, new = api_key_rotate(key=key)
    assert_envelope(post(stack, old, {"url": YT.format(vid("kc-o2"))}), 401, "invalid_token")
    assert post(stack, new, {"url": YT.format(vid("kc-o3"))}).status_code == 200


def test_editing_a_kept_key_holds_at_once(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-e")
    api_key_update(key=key, name="narrowed", platforms=["tiktok"], expires_on=None)
    assert_envelope(post(stack, token, {"url": YT.format(vid("kc-e2"))}), 403, "platform_not_allowed")


def test_a_lowered_rate_limit_holds_at_once(stack):
    key, token = make_key(credits=10, rate_limit_per_minute=100)
    warm(stack, token, "kc-l")  # two requests counted in this minute's window (a third may fall in the next)
    key.rate_limit_per_minute = 1
    key.save(update_fields=["rate_limit_per_minute"])
    answer = post(stack, token, {"url": YT.format(vid("kc-l2"))})
    # Judged by the limit read again, from the same count: the third request is over it (unless the minute's
    # window ended just before it and it was counted first in the next one).
    assert answer.headers["RateLimit-Limit"] == "1"
    if answer.status_code == 200:
        assert int(answer.headers["RateLimit-Reset"]) >= 55, answer.headers
    else:
        assert_envelope(answer, 429, "rate_limited")


def test_deactivating_the_owner_of_a_kept_key_holds_at_once(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-u")
    key.user.is_active = False
    key.user.save()
    assert_envelope(post(stack, token, {"url": YT.format(vid("kc-u2"))}), 401, "invalid_token")


def test_without_a_version_in_redis_keys_are_read_every_time(stack):
    key, token = make_key(credits=10)
    warm(stack, token, "kc-v")
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(versions.version_key(keycache.NAME))  # Redis restarted, or the key was evicted
    ApiKey.objects.filter(pk=key.pk).update(platforms=["tiktok"])  # and a change without a signal
    assert_envelope(post(stack, token, {"url": YT.format(vid("kc-v2"))}), 403, "platform_not_allowed")
    assert client.get(versions.version_key(keycache.NAME)) is not None  # a new version was started


@pytest.fixture
def lookups(monkeypatch):
    """How many times this process read a key from the database (the real query, counted)."""
    counted = []
    real = account_services._key_by_hash

    def counting(token_hash):
        counted.append(token_hash)
        return real(token_hash)

    monkeypatch.setattr(account_services, "_key_by_hash", counting)
    monkeypatch.setattr(keycache, "_copies", {})
    monkeypatch.setattr(keycache, "_seen", None)
    return counted


def test_copies_are_kept_only_for_keys_that_authenticate(lookups):
    key, token = make_key()
    header = f"Bearer {token}"
    assert api_key_authenticate(header=header, copies=True).pk == key.pk
    assert api_key_authenticate(header=header, copies=True).pk == key.pk
    assert len(lookups) == 1  # the second came from the copy
    assert api_key_authenticate(header=header).pk == key.pk and len(lookups) == 2  # without copies: read

    api_key_revoke(key=key)
    assert api_key_authenticate(header=header, copies=True).pk == key.pk  # the copy, until confirmed again
    with pytest.raises(account_services.InvalidToken):
        api_key_authenticate(header=header, copies=True, fresh=True)  # what a failed confirm does
    assert len(lookups) == 3
    for _ in range(2):
        with pytest.raises(account_services.InvalidToken):
            api_key_authenticate(header=header, copies=True)
    assert len(lookups) == 5  # a refused key is not kept: read every time


def test_confirm_needs_a_version_seen_before_the_copy_was_read(lookups):
    key, token = make_key()
    header = f"Bearer {token}"
    keycache.confirm(key, b"v1")  # the process has seen v1
    kept = api_key_authenticate(header=header, copies=True)  # read after v1 was seen: vouched by v1
    assert keycache.confirm(kept, b"v1")
    assert not keycache.confirm(kept, b"v2")  # a change was recorded since
    assert not keycache.confirm(kept, None)  # no version at all: trust nothing
    other = ApiKey.objects.get(pk=key.pk)
    assert not keycache.confirm(other, b"v1")  # not the kept copy


def test_a_failed_confirm_reads_the_database_even_when_a_stale_copy_was_kept_meanwhile(lookups):
    """The race: request A finds its copy outdated; meanwhile request B, which read the key just before the change
    committed, keeps that stale copy. A's second look must come from the database, not from B's copy."""
    key, token = make_key()
    header = f"Bearer {token}"
    keycache.confirm(key, b"v1")
    stale = api_key_authenticate(header=header, copies=True)  # B's read, before the change
    api_key_update(key=ApiKey.objects.get(pk=key.pk), name="narrowed", platforms=["tiktok"], expires_on=None)
    assert not keycache.confirm(stale, b"v2")  # A: the change's new version
    keycache.keep(stale, b"v1")  # B keeps its stale copy after A's confirm failed
    again = api_key_authenticate(header=header, copies=True, fresh=True)
    assert again is not stale and again.platforms == ["tiktok"] and len(lookups) == 2
    assert keycache.copy(key.token_hash) is again  # the fresh read replaced the stale copy
