from __future__ import annotations

import fnmatch
import uuid

from django.conf import settings
from django.db import models


class ParseJob(models.Model):
    """One paid parse attempt. Its terminal state is decided once, by compare-and-set.

    pending → running → ready (worker has a result) → succeeded (client given it; credit captured)
    Any non-terminal state → failed | timed_out | abandoned | expired (credit released).
    """

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        READY = "ready"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        TIMED_OUT = "timed_out"
        ABANDONED = "abandoned"
        EXPIRED = "expired"

    OPEN_STATES = (State.PENDING, State.RUNNING, State.READY)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Every parse writes its job row four times (open, claim, ready, settle), and each write adds an entry to
    # every index the row is in: only the indexes a query needs. The user's jobs are found through
    # job_user_created (user first), so the foreign key needs none of its own.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="parse_jobs",
                             db_index=False)
    api_key = models.ForeignKey("accounts.ApiKey", null=True, on_delete=models.SET_NULL, related_name="jobs")
    platform = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, blank=True)
    # Which endpoint asked (extractors.base.OPERATIONS: parse, live, collection) and, for a collection, which
    # page: the one metered pipeline serves them all.
    operation = models.CharField(max_length=12, default="parse", db_default="parse")
    page = models.PositiveIntegerField(default=1, db_default=1)
    media_id = models.CharField(max_length=200, blank=True)
    input = models.TextField()
    url = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_reason = models.CharField(max_length=40, blank=True)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the result was made, if it came from the result cache (parsing/resultcache.py); null when fresh.
    cached_on = models.DateTimeField(null=True, blank=True)
    # The X-Request-Id of the request that opened it (shown beside its ledger charge).
    request_id = models.CharField(max_length=128, blank=True, default="", db_default="")
    # The API process waiting on the job (parsing.owners): when its lease lapses, the sweeper releases the hold.
    owner = models.CharField(max_length=80, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="job_user_created"),
            # The sweeper's lookup: holds only the open jobs, so it stays a few pages however many jobs exist.
            models.Index(fields=["created_at"], name="job_open_created",
                         condition=models.Q(state__in=["pending", "running", "ready"])),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.state} {self.id}"

    @property
    def reference(self) -> str:
        """The credit-hold and ledger reference of this job."""
        return f"job:{self.id}"

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.created_at).total_seconds() * 1000)

    @property
    def charged(self) -> bool:
        return self.state == self.State.SUCCEEDED


class BlockRule(models.Model):
    """Content that must not be served: requests matching it get 451 and cost nothing.

    ``pattern`` matches the recognised media id exactly, or the normalised URL as a shell-style
    pattern (``*`` wildcards), case-insensitively.
    """

    platform = models.CharField(max_length=20, db_index=True)
    pattern = models.CharField(max_length=500)
    reason = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "pattern"]

    def __str__(self) -> str:
        return f"{self.platform}: {self.pattern}"

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        if self.is_active:  # the rule wins over the cache anyway (it is checked first); drop what it blocks
            from .resultcache import forget_matching

            forget_matching(self.platform, lambda media_id, url: self.matches(media_id=media_id, url=url))

    def matches(self, *, media_id: str | None, url: str | None) -> bool:
        pattern = self.pattern.strip().lower()
        if media_id and pattern == media_id.lower():
            return True
        return bool(url) and fnmatch.fnmatchcase(url.lower(), pattern)


class IdempotencyRecord(models.Model):
    """An ``Idempotency-Key`` claimed by an account, and the answer to replay for it (parsing.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # null while the first request runs
    body = models.BinaryField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


class ApiRequest(models.Model):
    """One call to the API with a recognisable key, refused or not: the customer's request log
    (parsing.requestlog writes them in batches; beat prunes them after EASYDOWN_REQUEST_LOG_DAYS)."""

    # No foreign-key constraints in the database: the log is written in the background a second after the
    # call, and must neither fail on a key deleted meanwhile nor lock the users' and keys' tables to check
    # (Django still deletes a user's entries with the user).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False,
                             db_constraint=False)
    api_key = models.ForeignKey("accounts.ApiKey", null=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False, db_constraint=False)
    key_name = models.CharField(max_length=100, blank=True)
    endpoint = models.CharField(max_length=40)
    link = models.TextField(blank=True)
    platform = models.CharField(max_length=20, blank=True)
    status = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=60, blank=True)
    credits = models.SmallIntegerField(default=0)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apirequest_user_created"),
                   models.Index(fields=["created_at"], name="apirequest_created")]

    @property
    def outcome(self) -> str:
        """ok: a result (charged); failed: the platform gave none (free); refused: we did not run it (free)."""
        if self.status == 200 and self.code in ("", "200"):
            return "ok"
        if self.status == 200 or self.status == 504:
            return "failed"
        return "refused"


class AuthFailure(models.Model):
    """Calls with no or an unknown token, counted per client IP and day: they belong to no customer, so only
    admins see them."""

    ip = models.GenericIPAddressField()
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "-count"]
        constraints = [models.UniqueConstraint(fields=["ip", "day"], name="authfailure_ip_day")]
