"""Every balance change. Conditional updates only; no read-modify-write; ledger writes idempotent.

Invariant: ``available + reserved`` of an account equals the sum of its ledger amounts. Reserving and
releasing move credit between the two columns (no ledger row); capture and top-up write one.
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from easydown.exceptions import InsufficientCredits, InvalidRequest

from .models import CreditAccount, CreditHold, LedgerEntry


def durable() -> None:
    """This transaction's commit waits for the disk, whatever the connection's synchronous_commit (the worker
    runs with it off: settings.SYNCHRONOUS_COMMIT). Every ledger row commits this way: a charge, a refund or a
    top-up that PostgreSQL forgot in a crash could not be found again by anything (a lost hold or release
    leaves an open job, which the sweeper settles). Call inside the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', 'on', true)")


def credit_account_for(*, user_id: int) -> CreditAccount:
    account, _ = CreditAccount.objects.get_or_create(user_id=user_id)
    return account


def credit_reserve(*, user_id: int, reference: str) -> CreditHold:
    """Move one credit from available to reserved under a hold; raises InsufficientCredits."""
    # No savepoint: callers open the transaction, and nothing in here raises a database error.
    with transaction.atomic(savepoint=False):
        moved = CreditAccount.objects.filter(user_id=user_id, available__gte=1).update(
            available=F("available") - 1, reserved=F("reserved") + 1, updated_at=timezone.now()
        )
        if moved:
            return CreditHold.objects.create(account_id=user_id, reference=reference)
    raise InsufficientCredits()


def credit_capture(*, user_id: int, reference: str, note: str = "parse") -> bool:
    """Charge the held credit: hold → captured, reserved − 1, one ledger row. False if not held.

    Callers run this inside the transaction that records the success, so both happen or neither.
    """
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        if not CreditHold.objects.filter(reference=reference, state=CreditHold.State.HELD).update(
            state=CreditHold.State.CAPTURED, settled_at=now
        ):
            return False
        CreditAccount.objects.filter(user_id=user_id, reserved__gte=1).update(
            reserved=F("reserved") - 1, updated_at=now
        )
        durable()
        LedgerEntry.objects.create(account_id=user_id, kind=LedgerEntry.Kind.CAPTURE, amount=-1,
                                   reference=reference, note=note)
        return True


def credit_release(*, user_id: int, reference: str) -> bool:
    """Give the held credit back: hold → released, reserved − 1, available + 1. False if not held."""
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        if not CreditHold.objects.filter(reference=reference, state=CreditHold.State.HELD).update(
            state=CreditHold.State.RELEASED, settled_at=now
        ):
            return False
        CreditAccount.objects.filter(user_id=user_id, reserved__gte=1).update(
            reserved=F("reserved") - 1, available=F("available") + 1, updated_at=now
        )
        return True


def credit_topup(*, user_id: int, amount: int, reference: str, note: str = "",
                 created_by_id: int | None = None) -> tuple[LedgerEntry, bool]:
    """Add credits once per reference; returns (entry, created). A repeat with the same reference
    changes nothing; the same reference with a different amount is an error."""
    if amount <= 0:
        raise InvalidRequest("A top-up amount must be positive")
    reference = reference.strip()
    if not reference:
        raise InvalidRequest("A top-up needs a reference")
    credit_account_for(user_id=user_id)
    try:
        with transaction.atomic():
            durable()
            entry = LedgerEntry.objects.create(account_id=user_id, kind=LedgerEntry.Kind.TOPUP, amount=amount,
                                               reference=reference, note=note[:500], created_by_id=created_by_id)
            CreditAccount.objects.filter(user_id=user_id).update(
                available=F("available") + amount, updated_at=timezone.now()
            )
            return entry, True
    except IntegrityError:
        existing = LedgerEntry.objects.get(kind=LedgerEntry.Kind.TOPUP, reference=reference)
        if existing.account_id != user_id or existing.amount != amount:
            raise InvalidRequest(f"Reference {reference!r} was already used for another top-up") from None
        return existing, False


def credit_adjust(*, user_id: int, amount: int, reference: str, note: str,
                  created_by_id: int | None = None) -> LedgerEntry:
    """A signed correction by an admin; a negative one never takes available below zero."""
    if amount == 0:
        raise InvalidRequest("An adjustment must not be zero")
    credit_account_for(user_id=user_id)
    with transaction.atomic():
        moved = CreditAccount.objects.filter(user_id=user_id, available__gte=max(0, -amount)).update(
            available=F("available") + amount, updated_at=timezone.now()
        )
        if moved:
            durable()
            return LedgerEntry.objects.create(account_id=user_id, kind=LedgerEntry.Kind.ADJUSTMENT, amount=amount,
                                              reference=reference, note=note[:500], created_by_id=created_by_id)
    raise InsufficientCredits("Not enough available credits for this adjustment")
