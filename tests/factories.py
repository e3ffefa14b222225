"""Small factories built on the real services."""

from __future__ import annotations

import itertools

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from billing.services import credit_topup

_seq = itertools.count(1)


def make_user(*, credits: int = 0, email: str | None = None, password: str = "correct horse battery") -> User:
    user = User.objects.create_user(email or f"user{next(_seq)}@example.com", password)
    if credits:
        credit_topup(user_id=user.pk, amount=credits, reference=f"test-{user.pk}-initial")
    return user


def make_key(user: User | None = None, *, credits: int = 10, **kwargs) -> tuple[ApiKey, str]:
    user = user or make_user(credits=credits)
    return api_key_create(user=user, name=kwargs.pop("name", "test key"), **kwargs)
