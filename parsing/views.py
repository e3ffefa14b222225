"""The customer's request log page: every call its keys made, refused or not."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import ApiKey
from parsing.recognition import PLATFORMS

from .models import ApiRequest

PAGE_SIZE = 50
OUTCOMES = {
    "ok": ("Success", Q(status=200, code__in=["", "200"])),
    "failed": ("Failed (free)", (Q(status=200) & ~Q(code__in=["", "200"])) | Q(status=504)),
    "refused": ("Refused (free)", ~Q(status__in=[200, 504])),
}


@login_required
@require_GET
def request_log(request: HttpRequest) -> HttpResponse:
    """Newest first, filtered by key, outcome and platform; only the logged-in customer's own calls."""
    calls = ApiRequest.objects.filter(user=request.user)
    keys = list(ApiKey.objects.filter(user=request.user).order_by("name").values_list("public_id", "name"))
    chosen = {"key": request.GET.get("key", ""), "outcome": request.GET.get("outcome", ""),
              "platform": request.GET.get("platform", "")}
    if chosen["key"]:
        own = {str(public_id): name for public_id, name in keys}
        calls = calls.filter(api_key__public_id=chosen["key"]) if chosen["key"] in own else calls.none()
    if chosen["outcome"] in OUTCOMES:
        calls = calls.filter(OUTCOMES[chosen["outcome"]][1])
    if chosen["platform"] in PLATFORMS:
        calls = calls.filter(platform=chosen["platform"])
    page = Paginator(calls.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    return render(request, "parsing/requests.html", {
        "page": page, "keys": keys, "chosen": chosen, "query": query, "platforms": PLATFORMS,
        "outcomes": [(name, label) for name, (label, _) in OUTCOMES.items()], "nav": "requests",
    })
