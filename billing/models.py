from __future__ import annotations

from django.conf import settings
from django.db import models


class CreditAccount(models.Model):
    """A user's balance. Changed only by conditional updates in billing.services."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="credit_account")
    available = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(available__gte=0), name="credit_available_gte_0"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="credit_reserved_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.user} available={self.available} reserved={self.reserved}"


class AppendOnlyError(Exception):
    pass


class LedgerEntry(models.Model):
    """An append-only record of every change to available + reserved."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        CAPTURE = "capture", "Parse charge"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_kind_reference_unique"),
        ]
        verbose_name_plural = "ledger entries"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Ledger entries are never changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Ledger entries are never deleted")

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.reference})"


class CreditHold(models.Model):
    """One reserved credit, settled exactly once: captured or released."""

    class State(models.TextChoices):
        HELD = "held"
        CAPTURED = "captured"
        RELEASED = "released"

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="holds")
    reference = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="hold_state_created")]
