import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey
from accounts.services import api_key_authenticate
from billing.models import CreditAccount, LedgerEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_createapikey_prints_a_working_token_once():
    user = make_user()
    out, err = run("createapikey", "--email", user.email, "--name", "ci", "--platforms", "tiktok,youtube",
                   "--expires", "2099-01-31")
    token = out.strip()
    key = api_key_authenticate(header=f"Bearer {token}")
    assert key.user == user and key.platforms == ["tiktok", "youtube"] and str(key.expires_on) == "2099-01-31"
    assert token not in err and key.masked_token in err


@pytest.mark.parametrize("args", [
    ["--email", "nobody@example.com", "--name", "x"],
    ["--name", "x", "--platforms", "myspace"],
    ["--name", "x", "--expires", "31/01/2099"],
])
def test_createapikey_errors(args):
    user = make_user()
    if "--email" not in args:
        args = ["--email", user.email, *args]
    with pytest.raises(CommandError):
        run("createapikey", *args)
    assert not ApiKey.objects.exists()


def test_topup_is_idempotent_and_balance_reports_it():
    user = make_user()
    first, _ = run("topup", "--email", user.email, "--amount", "25", "--reference", "INV-7", "--note", "invoice 7")
    again, _ = run("topup", "--email", user.email, "--amount", "25", "--reference", "INV-7")
    assert "Added 25" in first and "Already applied" in again
    assert CreditAccount.objects.get(pk=user.pk).available == 25
    assert LedgerEntry.objects.get(reference="INV-7").note == "invoice 7"
    out, _ = run("balance", "--email", user.email)
    assert "available=25" in out and "reserved=0" in out


def test_topup_rejects_bad_amounts():
    user = make_user()
    with pytest.raises(CommandError):
        run("topup", "--email", user.email, "--amount", "0", "--reference", "r")
    assert not LedgerEntry.objects.exists()
