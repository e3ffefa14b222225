"""Site-wide pages: the landing page, "Get started", and the error pages (JSON under /api/)."""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import defaults
from django.views.decorators.http import require_GET

from accounts.models import ApiKey
from parsing.labels import PLATFORM_LABELS
from parsing.openapi import ERRORS, EXAMPLE_RESULT

from .exceptions import InternalError, NotFound, error_response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public landing page; a logged-in user goes straight to the dashboard."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "landing.html", {"platforms": PLATFORM_LABELS.values()})


@login_required
@require_GET
def get_started(request: HttpRequest) -> HttpResponse:
    """A ready-to-run curl for this deployment (token placeholder), the response shape and the errors."""
    keys = ApiKey.objects.filter(user=request.user, revoked_at__isnull=True).order_by("-created_at")
    return render(request, "start.html", {
        "api_url": request.build_absolute_uri(reverse("api-parse")),
        "account_url": request.build_absolute_uri(reverse("api-account")),
        "keys": [k for k in keys if k.status == "active"][:5],
        "success_example": json.dumps({"status": 200, "data": EXAMPLE_RESULT, "msg": "success"}, indent=2,
                                      ensure_ascii=False),
        "error_example": json.dumps({"status": 402, "data": None, "msg": "The account does not have enough "
                                     "credits", "code": "insufficient_credits"}, indent=2),
        "errors": ERRORS,
        "nav": "start",
    })


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(NotFound())
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(InternalError())
    return defaults.server_error(request)
