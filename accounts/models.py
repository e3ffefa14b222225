from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from parsing.recognition import PLATFORMS


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A dashboard user; logs in with an email address."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


class ApiKey(models.Model):
    """A bearer API key. Only the HMAC of the token is stored; the plaintext is shown once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=16, editable=False)
    token_last4 = models.CharField(max_length=4, editable=False)
    # Empty list means every platform, present and future.
    platforms = models.JSONField(default=list, blank=True)
    expires_on = models.DateField(null=True, blank=True, help_text="Last day the key works (UTC).")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The creation form's one-time number: a reloaded or double-submitted form finds its key already made.
    creation_nonce = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "creation_nonce"], name="apikey_user_creation_nonce")]
        verbose_name, verbose_name_plural = "API key", "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_token})"

    @property
    def masked_token(self) -> str:
        return f"{self.token_prefix}…{self.token_last4}"

    @property
    def all_platforms(self) -> bool:
        return not self.platforms

    def allows(self, platform: str) -> bool:
        return self.all_platforms or platform in self.platforms

    def is_expired(self, now: timezone.datetime | None = None) -> bool:
        if self.expires_on is None:
            return False
        today = (now or timezone.now()).date()
        return today > self.expires_on

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    @property
    def platform_labels(self) -> list[str]:
        return list(self.platforms) if self.platforms else list(PLATFORMS)
