"""What the usage page shows: successful parses per day and platform, and how each attempt ended."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from .labels import PLATFORM_COLORS, platform_label
from .models import ParseJob

State = ParseJob.State

# The chart's SVG plot area is drawn in these units and stretched to the page width.
DAY_WIDTH = 10.0
BAR_WIDTH = 7.0
PLOT_HEIGHT = 100.0


@dataclass(frozen=True)
class Segment:
    platform: str
    label: str
    color: str
    count: int
    x: float
    y: float
    height: float


@dataclass
class Day:
    date: dt.date
    segments: list[Segment] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.count for s in self.segments)


@dataclass(frozen=True)
class Tick:
    value: int
    y: float
    percent: float


@dataclass
class DailyChart:
    days: list[Day]
    ticks: list[Tick]
    legend: list[tuple[str, str, int]]  # (label, colour, total)
    total: int
    width: float
    height: float = PLOT_HEIGHT

    @property
    def first(self) -> dt.date:
        return self.days[0].date

    @property
    def last(self) -> dt.date:
        return self.days[-1].date

    @property
    def middle(self) -> dt.date:
        return self.days[len(self.days) // 2].date


def chart_top(value: int) -> int:
    """The chart's top: four equal whole-number steps, each 1, 2, 3, 4, 5, 6 or 8 × 10^n, covering value."""
    raw = max(1, math.ceil(value / 4))
    power = 10 ** (len(str(raw)) - 1)
    step = next(m * power for m in (1, 2, 3, 4, 5, 6, 8, 10) if m * power >= raw)
    return 4 * step


def daily_successes(*, user_id: int, days: int = 30, today: dt.date | None = None) -> DailyChart:
    """Successful (charged) parses per UTC day for the last ``days`` days, stacked by platform."""
    today = today or timezone.now().date()
    start = today - dt.timedelta(days=days - 1)
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    rows = (
        ParseJob.objects.filter(user_id=user_id, state=State.SUCCEEDED, created_at__gte=start_at)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day", "platform")
        .annotate(n=Count("pk"))
    )
    counts: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["day"], {})[row["platform"]] = row["n"]
    per_day = [counts.get(start + dt.timedelta(days=i), {}) for i in range(days)]
    top = chart_top(max((sum(c.values()) for c in per_day), default=0))
    scale = PLOT_HEIGHT / top
    platform_totals: dict[str, int] = {}
    chart_days = []
    for i, day_counts in enumerate(per_day):
        day = Day(date=start + dt.timedelta(days=i))
        base = PLOT_HEIGHT
        for platform in sorted(day_counts, key=lambda p: (-day_counts[p], p)):
            n = day_counts[platform]
            platform_totals[platform] = platform_totals.get(platform, 0) + n
            height = n * scale
            base -= height
            day.segments.append(Segment(platform=platform, label=platform_label(platform),
                                        color=PLATFORM_COLORS.get(platform, "#888"), count=n,
                                        x=i * DAY_WIDTH + (DAY_WIDTH - BAR_WIDTH) / 2, y=base, height=height))
        chart_days.append(day)
    ticks = [Tick(value=top // 4 * k, y=PLOT_HEIGHT - PLOT_HEIGHT * k / 4, percent=25.0 * k) for k in range(5)]
    legend = [(platform_label(p), PLATFORM_COLORS.get(p, "#888"), n)
              for p, n in sorted(platform_totals.items(), key=lambda item: (-item[1], item[0]))]
    return DailyChart(days=chart_days, ticks=ticks, legend=legend, total=sum(platform_totals.values()),
                      width=days * DAY_WIDTH)


def failed_count(*, user_id: int, days: int = 30, today: dt.date | None = None) -> int:
    """Attempts in the last ``days`` days that ended without a result (and so cost nothing)."""
    today = today or timezone.now().date()
    start_at = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min, tzinfo=dt.UTC)
    return ParseJob.objects.filter(user_id=user_id, created_at__gte=start_at).exclude(
        state__in=[State.SUCCEEDED, *ParseJob.OPEN_STATES]).count()


@dataclass(frozen=True)
class Outcome:
    label: str
    tone: str  # "ok", "fail", "pending"
    charged: bool


_REASONS = {
    "client_gone": "client disconnected",
    "upstream_timeout": "platform too slow",
    "upstream_error": "platform error",
    "login_required": "login required",
    "region_blocked": "region blocked",
    "no_media": "no media",
    "worker_lost": "worker lost",
    "not_a_post": "not a single post",
    "queue_unavailable": "queue unavailable",
}


def job_outcome(job: ParseJob) -> Outcome:
    """How a parse attempt ended, in words, and whether it cost a credit (only a success does)."""
    if job.state == State.SUCCEEDED:
        return Outcome("Success", "ok", True)
    if job.state in ParseJob.OPEN_STATES:
        return Outcome("In progress", "pending", False)
    if job.state == State.TIMED_OUT:
        return Outcome("Timed out", "fail", False)
    if job.state == State.ABANDONED:
        return Outcome("Client disconnected", "fail", False)
    reason = job.error_reason or job.error_code or "failed"
    return Outcome(f"Failed: {_REASONS.get(reason, reason.replace('_', ' '))}", "fail", False)


def recent_attempts(*, user_id: int, limit: int = 20) -> list[tuple[ParseJob, Outcome]]:
    """The user's latest parse attempts, newest first, each with its outcome."""
    jobs = ParseJob.objects.filter(user_id=user_id).select_related("api_key").only(
        "id", "platform", "input", "url", "state", "error_code", "error_reason", "created_at", "finished_at",
        "cached_on", "api_key", "api_key__name",
    )[:limit]
    return [(job, job_outcome(job)) for job in jobs]
