import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from billing.models import AppendOnlyError, CreditAccount, CreditHold, LedgerEntry
from billing.services import credit_adjust, credit_capture, credit_release, credit_reserve, credit_topup
from easydown.exceptions import InsufficientCredits, InvalidRequest
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def assert_invariant(user_id: int) -> None:
    account = CreditAccount.objects.get(pk=user_id)
    ledger = LedgerEntry.objects.filter(account_id=user_id).aggregate(s=Sum("amount"))["s"] or 0
    assert account.available + account.reserved == ledger


def test_topup_is_idempotent_on_reference():
    user = make_user()
    _, first = credit_topup(user_id=user.pk, amount=5, reference="inv-1")
    _, second = credit_topup(user_id=user.pk, amount=5, reference="inv-1")
    assert (first, second) == (True, False)
    assert CreditAccount.objects.get(pk=user.pk).available == 5
    assert_invariant(user.pk)


def test_topup_reference_reused_with_other_amount_is_refused():
    user = make_user()
    credit_topup(user_id=user.pk, amount=5, reference="inv-2")
    with pytest.raises(InvalidRequest):
        credit_topup(user_id=user.pk, amount=7, reference="inv-2")
    assert CreditAccount.objects.get(pk=user.pk).available == 5


@pytest.mark.parametrize("amount", [0, -3])
def test_topup_rejects_non_positive_amounts(amount):
    user = make_user()
    with pytest.raises(InvalidRequest):
        credit_topup(user_id=user.pk, amount=amount, reference="x")


def test_reserve_capture_moves_one_credit_to_the_ledger():
    user = make_user(credits=3)
    credit_reserve(user_id=user.pk, reference="job:a")
    account = CreditAccount.objects.get(pk=user.pk)
    assert (account.available, account.reserved) == (2, 1)
    assert credit_capture(user_id=user.pk, reference="job:a") is True
    assert credit_capture(user_id=user.pk, reference="job:a") is False  # settled once
    assert credit_release(user_id=user.pk, reference="job:a") is False
    account.refresh_from_db()
    assert (account.available, account.reserved) == (2, 0)
    assert LedgerEntry.objects.filter(kind="capture", reference="job:a").count() == 1
    assert_invariant(user.pk)


def test_release_returns_the_credit_once():
    user = make_user(credits=1)
    credit_reserve(user_id=user.pk, reference="job:b")
    assert credit_release(user_id=user.pk, reference="job:b") is True
    assert credit_release(user_id=user.pk, reference="job:b") is False
    account = CreditAccount.objects.get(pk=user.pk)
    assert (account.available, account.reserved) == (1, 0)
    assert CreditHold.objects.get(reference="job:b").state == "released"
    assert_invariant(user.pk)


def test_reserve_without_credit_raises_and_changes_nothing():
    user = make_user(credits=0)
    CreditAccount.objects.get_or_create(user_id=user.pk)
    with pytest.raises(InsufficientCredits):
        credit_reserve(user_id=user.pk, reference="job:c")
    assert not CreditHold.objects.exists()


def test_database_refuses_negative_balances():
    user = make_user(credits=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(pk=user.pk).update(available=-1)


def test_ledger_is_append_only():
    user = make_user(credits=2)
    entry = LedgerEntry.objects.get(account_id=user.pk)
    entry.amount = 1000
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_negative_adjustment_cannot_overdraw():
    user = make_user(credits=2)
    with pytest.raises(InsufficientCredits):
        credit_adjust(user_id=user.pk, amount=-3, reference="adj-1", note="refund")
    credit_adjust(user_id=user.pk, amount=-2, reference="adj-2", note="refund")
    assert CreditAccount.objects.get(pk=user.pk).available == 0
    assert_invariant(user.pk)


@pytest.mark.django_db(transaction=True)
def test_two_requests_cannot_spend_one_credit():
    user = make_user(credits=1)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            credit_reserve(user_id=user.pk, reference=f"job:race-{n}")
            results.append("ok")
        except InsufficientCredits:
            results.append("402")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["402"] * 7 + ["ok"]
    account = CreditAccount.objects.get(pk=user.pk)
    assert (account.available, account.reserved) == (0, 1)
