"""manage.py auditledger: finds accounts whose balance or reservations disagree with the ledger and holds."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from billing.models import CreditAccount, CreditHold
from billing.services import credit_adjust, credit_capture, credit_release, credit_reserve, credit_topup
from tests.factories import make_key, make_user

ROOT = Path(__file__).resolve().parents[2]


def audit(*args: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit status, stdout, the error message if it failed)."""
    out = StringIO()
    try:
        call_command("auditledger", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def busy_accounts():
    """Accounts that went through every kind of balance change, so a clean audit means something."""
    a = make_user(credits=5, email="alpha@example.com")
    credit_reserve(user_id=a.pk, reference="job:a1")
    credit_reserve(user_id=a.pk, reference="job:a2")
    credit_reserve(user_id=a.pk, reference="job:a3")
    credit_capture(user_id=a.pk, reference="job:a1")
    credit_release(user_id=a.pk, reference="job:a2")  # job:a3 stays held
    credit_adjust(user_id=a.pk, amount=-1, reference="adj-a", note="refund reversed")
    key, _ = make_key(credits=3)
    credit_topup(user_id=key.user_id, amount=4, reference="inv-b")
    empty = make_user()
    CreditAccount.objects.get_or_create(user=empty)  # an account with no ledger rows at all
    return a, key.user, empty


@pytest.mark.django_db
def test_clean_ledger_exits_zero():
    a, _, _ = busy_accounts()
    account = CreditAccount.objects.get(pk=a.pk)
    assert (account.available, account.reserved) == (2, 1)  # the fixture really has a hold open
    status, out, err = audit()
    assert status == 0, (out, err)
    assert "DRIFT" not in out
    assert "3 credit accounts checked, no drift" in out


@pytest.mark.django_db
def test_balance_changed_behind_the_ledger_is_reported():
    a, b, _ = busy_accounts()
    # A write that bypasses billing.services: two credits appear with no ledger row.
    CreditAccount.objects.filter(pk=b.pk).update(available=F("available") + 2)
    status, out, err = audit()
    assert status == 1
    lines = [line for line in out.splitlines() if line.startswith("DRIFT")]
    assert len(lines) == 1, out
    assert f"account={b.pk} email={b.email}" in lines[0]
    assert "available+reserved expected 7 (ledger sum) found 9" in lines[0]
    assert "drift +2" in lines[0]
    assert "held holds" not in lines[0]  # its reservations are fine
    assert a.email not in out
    assert "1 of 3 credit accounts drift" in err


@pytest.mark.django_db
def test_held_hold_without_a_reservation_is_reported():
    a, _, _ = busy_accounts()
    # A hold left in state held although its credit went back to available (a release that half happened):
    # the balance still matches the ledger, only the reservation count is wrong.
    CreditAccount.objects.filter(pk=a.pk).update(reserved=F("reserved") - 1, available=F("available") + 1)
    assert CreditHold.objects.filter(account_id=a.pk, state=CreditHold.State.HELD).count() == 1
    status, out, err = audit()
    assert status == 1
    (line,) = [line for line in out.splitlines() if line.startswith("DRIFT")]
    assert f"account={a.pk} email={a.email}" in line
    assert "reserved expected 1 (held holds) found 0" in line
    assert "available+reserved expected" not in line


@pytest.mark.django_db
def test_reservation_without_a_held_hold_is_reported():
    a, _, _ = busy_accounts()
    CreditHold.objects.filter(account_id=a.pk, reference="job:a3").update(state=CreditHold.State.RELEASED)
    status, out, _ = audit()
    assert status == 1
    assert f"account={a.pk} email={a.email}: reserved expected 0 (held holds) found 1" in out


@pytest.mark.django_db
@pytest.mark.parametrize("batch", ["1000", "2", "1"])
def test_every_drifting_account_gets_its_own_line(batch):
    users = [make_user(credits=2) for _ in range(5)]
    drifted = [users[0], users[2], users[4]]  # the first and the last of the pages too
    CreditAccount.objects.filter(pk__in=[u.pk for u in drifted]).update(available=0)
    status, out, err = audit("--batch-size", batch)
    assert status == 1
    lines = [line for line in out.splitlines() if line.startswith("DRIFT")]
    assert len(lines) == 3, out
    for user, line in zip(drifted, lines, strict=True):
        assert line.startswith(f"DRIFT account={user.pk} email={user.email}: ")
    assert "3 of 5 credit accounts drift" in err


@pytest.mark.django_db
def test_quiet_when_clean():
    busy_accounts()
    out = StringIO()
    call_command("auditledger", verbosity=0, stdout=out)
    assert out.getvalue() == ""  # cron mails nothing on a clean night


@pytest.mark.django_db(transaction=True)
def test_exit_status_of_the_real_command():
    """What cron sees: the process's exit status (0, then 1 once an account drifts) and the message."""
    user = make_user(credits=3, email="cron@example.com")
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))}
    connection.close()  # the child needs no competition for the test database

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", "auditledger"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    clean = run()
    assert clean.returncode == 0, clean.stderr
    assert "no drift" in clean.stdout
    CreditAccount.objects.filter(pk=user.pk).update(available=1)
    drift = run()
    assert drift.returncode == 1, (drift.stdout, drift.stderr)
    assert f"DRIFT account={user.pk} email=cron@example.com" in drift.stdout
    assert "1 of 1 credit accounts drift" in drift.stderr
