"""The credits and usage page: balance, ledger pages, the 30-day chart and recent attempts."""

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services import credit_capture, credit_reserve, credit_topup
from parsing.models import ParseJob
from parsing.usage import chart_top, daily_successes
from tests.factories import make_key, make_user

pytestmark = pytest.mark.django_db


def job(user, *, state="succeeded", platform="youtube", days_ago=0, **fields) -> ParseJob:
    created = timezone.now() - dt.timedelta(days=days_ago)
    row = ParseJob.objects.create(user=user, platform=platform, input="https://example.com/x", state=state,
                                  url=f"https://www.{platform}.com/{uuid.uuid4().hex[:8]}", **fields)
    ParseJob.objects.filter(pk=row.pk).update(created_at=created, finished_at=created)
    return row


@pytest.fixture
def user():
    return make_user()


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_shows_available_and_reserved(logged_in, user):
    credit_topup(user_id=user.pk, amount=12, reference="r1")
    credit_reserve(user_id=user.pk, reference="job:held")
    body = logged_in.get(reverse("credits")).content.decode()
    assert re.search(r'id="available">11<', body) and re.search(r'id="reserved">1<', body)


def test_a_new_user_sees_a_zero_balance_and_empty_states(logged_in):
    response = logged_in.get(reverse("credits"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="available">0<' in body
    assert "No successful parses in the last 30 days" in body and "No parse attempts yet" in body


def test_ledger_is_paginated_newest_first(logged_in, user):
    for i in range(1, 46):
        credit_topup(user_id=user.pk, amount=i, reference=f"t{i}", note=f"note-{i:02d}")
    first = logged_in.get(reverse("credits")).content.decode()
    notes = re.findall(r"note-(\d\d)", first)
    assert notes == [f"{i:02d}" for i in range(45, 25, -1)]
    assert "Page 1 of 3" in first and "?page=2" in first
    last = logged_in.get(reverse("credits"), {"page": 3}).content.decode()
    assert re.findall(r"note-(\d\d)", last) == ["05", "04", "03", "02", "01"]
    assert "+1<" in last
    # Out-of-range and junk page numbers fall back instead of failing.
    assert logged_in.get(reverse("credits"), {"page": 99}).status_code == 200
    assert logged_in.get(reverse("credits"), {"page": "x"}).status_code == 200


def test_only_the_users_own_ledger_and_attempts_are_shown(logged_in, user):
    other = make_user()
    credit_topup(user_id=other.pk, amount=7, reference="other", note="someone else's top-up")
    job(other, platform="weibo")
    credit_topup(user_id=user.pk, amount=3, reference="mine", note="my own top-up")
    body = logged_in.get(reverse("credits")).content.decode()
    assert "my own top-up" in body and "someone else" not in body
    assert "weibo.com" not in body


def test_attempts_show_their_outcome_and_cost(logged_in, user):
    key, _ = make_key(user, name="server-a")
    job(user, api_key=key)
    job(user, state="failed", error_code="304", error_reason="private", api_key=key)
    job(user, state="timed_out", error_code="upstream_timeout")
    body = logged_in.get(reverse("credits")).content.decode()
    assert "Success" in body and "Failed: private" in body and "Timed out" in body
    assert body.count("0 · free") == 2 and "server-a" in body
    assert re.search(r'id="failed-30">2<', body) and re.search(r'id="charged-30">1<', body)


def test_chart_counts_successes_per_day_and_platform_for_30_days(user):
    for _ in range(3):
        job(user, platform="youtube")
    job(user, platform="tiktok")
    job(user, platform="tiktok", days_ago=2)
    job(user, platform="tiktok", days_ago=29)
    job(user, platform="tiktok", days_ago=30)  # outside the window
    job(user, platform="youtube", state="failed")  # failures are not successes
    job(make_user(), platform="youtube")  # someone else's
    chart = daily_successes(user_id=user.pk)
    assert len(chart.days) == 30 and chart.last == timezone.now().date()
    today = {s.platform: s.count for s in chart.days[-1].segments}
    assert today == {"youtube": 3, "tiktok": 1}
    assert chart.days[-3].total == 1 and chart.days[0].total == 1
    assert chart.total == 6
    assert [(label, total) for label, _, total in chart.legend] == [("TikTok", 3), ("YouTube", 3)]
    # Stacked bars stay inside the plot and the tallest reaches at most the top tick.
    top = chart.ticks[-1].value
    assert top >= 4 and chart.days[-1].segments[-1].y >= 0
    heights = sum(s.height for s in chart.days[-1].segments)
    assert heights == pytest.approx(100 * 4 / top)


def test_chart_is_drawn_on_the_page(logged_in, user):
    job(user, platform="bilibili")
    body = logged_in.get(reverse("credits")).content.decode()
    assert re.search(r'<rect [^>]*data-platform="bilibili" data-count="1"', body)
    assert "Bilibili" in body


def test_a_capture_appears_as_a_parse_charge(logged_in, user):
    credit_topup(user_id=user.pk, amount=2, reference="start")
    credit_reserve(user_id=user.pk, reference="job:x")
    credit_capture(user_id=user.pk, reference="job:x")
    body = logged_in.get(reverse("credits")).content.decode()
    assert "Parse charge" in body and "−1" in body


@pytest.mark.parametrize("most, top", [(0, 4), (3, 4), (4, 4), (5, 8), (9, 12), (14, 16), (33, 40), (100, 120),
                                       (1000, 1200)])
def test_chart_scale_has_four_whole_steps(most, top):
    assert chart_top(most) == top and top % 4 == 0 and top >= most
