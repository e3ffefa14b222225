"""The customer's credits and usage page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parsing.usage import daily_successes, failed_count, recent_attempts

from .models import LedgerEntry
from .services import credit_account_for

LEDGER_PAGE_SIZE = 20


@login_required
@require_GET
def credits(request: HttpRequest) -> HttpResponse:
    """Balance, the ledger (paginated, newest first), a 30-day chart and the latest parse attempts."""
    ledger = Paginator(LedgerEntry.objects.filter(account_id=request.user.pk), LEDGER_PAGE_SIZE)
    return render(request, "billing/credits.html", {
        "account": credit_account_for(user_id=request.user.pk),
        "ledger": ledger.get_page(request.GET.get("page")),
        "chart": daily_successes(user_id=request.user.pk),
        "attempts": recent_attempts(user_id=request.user.pk),
        "failed": failed_count(user_id=request.user.pk),
        "nav": "credits",
    })
