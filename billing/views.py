"""The customer's credits and usage page."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parsing.models import ParseJob
from parsing.usage import daily_successes, failed_count, recent_attempts

from .models import LedgerEntry
from .services import credit_account_for

LEDGER_PAGE_SIZE = 20


@login_required
@require_GET
def credits(request: HttpRequest) -> HttpResponse:
    """Balance, the ledger (paginated, newest first), a 30-day chart and the latest parse attempts."""
    ledger = Paginator(LedgerEntry.objects.filter(account_id=request.user.pk), LEDGER_PAGE_SIZE)
    page = ledger.get_page(request.GET.get("page"))
    return render(request, "billing/credits.html", {
        "account": credit_account_for(user_id=request.user.pk),
        "ledger": page,
        "charges": _charged_jobs(page.object_list, user_id=request.user.pk),
        "chart": daily_successes(user_id=request.user.pk),
        "attempts": recent_attempts(user_id=request.user.pk),
        "failed": failed_count(user_id=request.user.pk),
        "nav": "credits",
    })


def _charged_jobs(entries, *, user_id: int) -> dict[int, ParseJob]:
    """The parse behind each charge (or refund) on the page, by ledger entry id: its key, link and request id."""
    ids = {}
    for entry in entries:
        reference = entry.reference.removeprefix("refund:")
        if reference.startswith("job:"):
            try:
                ids[entry.pk] = uuid.UUID(reference[4:])
            except ValueError:
                continue
    jobs = ParseJob.objects.filter(user_id=user_id, pk__in=ids.values()).select_related("api_key").only(
        "id", "url", "request_id", "platform", "cached_on", "api_key__name")
    by_id = {job.pk: job for job in jobs}
    return {entry_id: by_id[job_id] for entry_id, job_id in ids.items() if job_id in by_id}
