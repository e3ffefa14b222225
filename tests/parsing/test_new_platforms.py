"""The four platforms of issue 11 (AcFun, NetEase Cloud Music, Kugou, Migu) through the real stack: uvicorn,
PostgreSQL, Redis and a Celery worker whose extractors are scripted (tests/support/extractors.py). Each
parse is recognised, authorised against the key's platforms and charged one credit like the old nine."""

from __future__ import annotations

import httpx
import pytest

from accounts.models import ApiKey
from billing.models import CreditAccount, LedgerEntry
from parsing.models import ParseJob
from parsing.recognition import PLATFORMS
from tests.factories import make_key

pytestmark = pytest.mark.django_db(transaction=True)

LINKS = {
    "acfun": ("https://www.acfun.cn/v/ac35457073", "ac35457073"),
    "netease": ("分享阿梨粤的单曲《晚风心里吹》: https://music.163.com/#/song?id=1901371647 (来自@网易云音乐)",
                "1901371647"),
    "kugou": ("https://www.kugou.com/song/#hash=C76E9235868169CABE26D02D521ED90A&album_id=960399",
              "C76E9235868169CABE26D02D521ED90A"),
    "migu": ("https://music.migu.cn/v3/music/song/6005661F31N", "6005661F31N"),
}


def post(stack, token: str, url: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": url},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


def balance(key: ApiKey) -> tuple[int, int]:
    account = CreditAccount.objects.get(pk=key.user_id)
    return account.available, account.reserved


@pytest.mark.parametrize("platform", list(LINKS))
def test_a_parse_on_a_new_platform_succeeds_and_costs_one_credit(stack, platform):
    link, media_id = LINKS[platform]
    key, token = make_key(credits=3)
    response = post(stack, token, link)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == 200 and body["data"]["platform"] == platform and body["data"]["id"] == media_id
    assert balance(key) == (2, 0)
    assert LedgerEntry.objects.filter(account_id=key.user_id, kind="capture").count() == 1
    job = ParseJob.objects.get(user=key.user)
    assert (job.state, job.platform, job.media_id) == ("succeeded", platform, media_id)


def test_a_key_for_all_platforms_covers_the_new_ones(stack):
    key, token = make_key(credits=len(LINKS))
    key.refresh_from_db()
    assert key.platforms == []  # "all platforms" is stored as an empty list, so it grows with PLATFORMS
    assert key.platform_labels == list(PLATFORMS) and set(LINKS) <= set(key.platform_labels)
    for platform, (link, _) in LINKS.items():
        response = post(stack, token, link)
        assert response.status_code == 200, (platform, response.text)
    assert balance(key) == (0, 0)


@pytest.mark.parametrize("platform", list(LINKS))
def test_a_key_without_the_platform_is_refused_for_free(stack, platform):
    others = [p for p in PLATFORMS if p != platform]
    key, token = make_key(credits=2, platforms=others)
    response = post(stack, token, LINKS[platform][0])
    body = response.json()
    assert response.status_code == 403 and body["code"] == "platform_not_allowed" and body["data"] is None
    assert balance(key) == (2, 0) and not ParseJob.objects.filter(user=key.user).exists()
    # The same key parses what it is allowed.
    allowed = next(p for p in LINKS if p != platform)
    assert post(stack, token, LINKS[allowed][0]).status_code == 200 and balance(key) == (1, 0)


def test_a_refused_page_of_a_new_platform_is_400_302_and_free(stack):
    key, token = make_key(credits=1)
    response = post(stack, token, "https://music.163.com/#/artist?id=10559")
    body = response.json()
    assert response.status_code == 400 and body["code"] == 302
    assert balance(key) == (1, 0)
