"""parsing.blocklist: the version token that tells API processes to read the rules again."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.db import transaction

from parsing import blocklist, resultcache
from parsing.models import BlockRule

pytestmark = pytest.mark.django_db(transaction=True)


def token() -> bytes | None:
    return redis.Redis.from_url(settings.REDIS_URL).get(blocklist.version_key())


def test_a_rule_saved_in_a_transaction_changes_the_version_only_once_committed():
    before = token()
    with transaction.atomic():
        rule = BlockRule.objects.create(platform="youtube", pattern="x" * 11, reason="order")
        # Not yet: a request reading the rules now would still see the old ones and keep them under a new token.
        assert token() == before
    after = token()
    assert after is not None and after != before
    with transaction.atomic():
        rule.delete()
        assert token() == after
    assert token() not in (after, None)


def test_a_rolled_back_rule_changes_nothing():
    before = token()
    with pytest.raises(RuntimeError), transaction.atomic():
        BlockRule.objects.create(platform="youtube", pattern="y" * 11, reason="order")
        raise RuntimeError
    assert token() == before


def test_rules_are_read_again_when_the_version_changes():
    rule = BlockRule.objects.create(platform="weibo", pattern="abc", reason="one")
    first = token()
    assert blocklist.rules("weibo", first) == [("abc", "one")]
    BlockRule.objects.filter(pk=rule.pk).update(reason="two")  # past the model: no new token
    assert blocklist.rules("weibo", first) == [("abc", "one")]  # the copy (at most MAX_AGE old)
    rule.refresh_from_db()
    rule.save()  # a new token
    assert blocklist.rules("weibo", token()) == [("abc", "two")]
    assert blocklist.rules("weibo", None) == [("abc", "two")]  # no token: always the database


def test_result_entries_are_read_with_the_counter_only_from_the_same_redis(settings):
    assert resultcache.on_cache_redis()  # the tests' configuration: one Redis
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": "redis://elsewhere:6379/0"}}
    assert not resultcache.on_cache_redis()
