"""The API keys pages. Every lookup is scoped to the logged-in user, so another user's key is a 404.

A plaintext token appears in exactly one response: the one answering the POST that created or reset the
key. It is rendered straight from that POST (never redirected through a URL, the session or a message)
and marked ``no-store`` so no cache keeps it.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from easydown.exceptions import ApiError

from ..forms import ApiKeyForm
from ..models import ApiKey
from ..services import KeyAlreadyCreated, api_key_create, api_key_revoke, api_key_rotate, api_key_update


def _own_key(request: HttpRequest, public_id: uuid.UUID) -> ApiKey:
    return get_object_or_404(ApiKey, public_id=public_id, user=request.user)


def _token_once(request: HttpRequest, key: ApiKey, token: str, *, reset: bool) -> HttpResponse:
    response = render(request, "accounts/key_token.html", {"key": key, "token": token, "reset": reset, "nav": "keys"})
    add_never_cache_headers(response)  # includes no-store: neither the browser nor a proxy keeps the token
    return response


@login_required
@require_GET
def key_list(request: HttpRequest) -> HttpResponse:
    keys = ApiKey.objects.filter(user=request.user).order_by(F("revoked_at").asc(nulls_first=True),
                                                                 "-created_at")
    return render(request, "accounts/keys.html", {"keys": keys, "nav": "keys"})


@login_required
@require_http_methods(["GET", "POST"])
def key_create(request: HttpRequest) -> HttpResponse:
    """The token page answers the POST itself (the token never travels through a URL or the session). The
    form carries a one-time number, so reloading that page, or a second click, makes no second key: it
    lands on the keys list saying the key exists and its token was shown once."""
    form = ApiKeyForm(request.POST or None, initial={"nonce": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, token = api_key_create(user=request.user, name=data["name"], platforms=data["platforms"],
                                        expires_on=data["expires_on"], creation_nonce=data["nonce"])
        except KeyAlreadyCreated as exc:
            messages.info(request, f"“{exc.key.name}” was already created, and its token shown once. If you did "
                                   "not copy it, reset the key to get a new one.")
            return redirect("keys")
        except ApiError as exc:
            form.add_error(None, exc.msg)
        else:
            return _token_once(request, key, token, reset=False)
    return render(request, "accounts/key_form.html", {"form": form, "nav": "keys"})


@login_required
@require_http_methods(["GET", "POST"])
def key_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    key = _own_key(request, public_id)
    if key.revoked_at:
        messages.error(request, f"“{key.name}” is revoked and can no longer be changed.")
        return redirect("keys")
    form = ApiKeyForm.for_key(key, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            api_key_update(key=key, name=data["name"], platforms=data["platforms"], expires_on=data["expires_on"])
        except ApiError as exc:
            form.add_error(None, exc.msg)
        else:
            messages.success(request, f"Saved “{key.name}”. Its token did not change.")
            return redirect("keys")
    return render(request, "accounts/key_form.html", {"form": form, "key": key, "nav": "keys"})


@login_required
@require_http_methods(["GET", "POST"])
def key_reset(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """GET asks for confirmation; POST rotates the token (same permissions) and shows the new one once."""
    key = _own_key(request, public_id)
    if request.method == "POST":
        try:
            key, token = api_key_rotate(key=key)
        except ApiError as exc:
            messages.error(request, exc.msg)
            return redirect("keys")
        return _token_once(request, key, token, reset=True)
    if key.revoked_at:
        messages.error(request, f"“{key.name}” is revoked and cannot be reset.")
        return redirect("keys")
    return render(request, "accounts/key_confirm.html", {"key": key, "action": "reset", "nav": "keys"})


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """GET asks for confirmation; POST revokes the key for good."""
    key = _own_key(request, public_id)
    if request.method == "POST":
        api_key_revoke(key=key)
        messages.success(request, f"Revoked “{key.name}”. Requests with its token are now refused.")
        return redirect("keys")
    if key.revoked_at:
        messages.info(request, f"“{key.name}” is already revoked.")
        return redirect("keys")
    return render(request, "accounts/key_confirm.html", {"key": key, "action": "revoke", "nav": "keys"})
