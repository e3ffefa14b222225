"""Check every credit account against its ledger and its holds (for cron or a systemd timer).

Two invariants (billing.services):
  available + reserved == the sum of the account's ledger amounts
  reserved             == the number of the account's holds still in state ``held``
One line per account that breaks either, then a summary; exit status 1 when any does, 0 otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import BigIntegerField, Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import CreditAccount, CreditHold, LedgerEntry


def audited_accounts():
    """Accounts with their ledger sum and held-hold count, computed by the database in the same statement as
    the account row is read: one snapshot, so a parse settling while the audit runs never shows up as a drift."""
    ledger_sum = (LedgerEntry.objects.filter(account_id=OuterRef("pk")).order_by()
                  .values("account_id").annotate(total=Sum("amount")).values("total"))
    held = (CreditHold.objects.filter(account_id=OuterRef("pk"), state=CreditHold.State.HELD).order_by()
            .values("account_id").annotate(n=Count("pk")).values("n"))
    zero = Value(0, output_field=BigIntegerField())
    return CreditAccount.objects.annotate(
        ledger_total=Coalesce(Subquery(ledger_sum, output_field=BigIntegerField()), zero),
        held_count=Coalesce(Subquery(held, output_field=BigIntegerField()), zero),
        balance=F("available") + F("reserved"),
    )


def drifting(queryset):
    return queryset.filter(~Q(balance=F("ledger_total")) | ~Q(reserved=F("held_count")))


class Command(BaseCommand):
    help = ("Check that every credit account's available + reserved equals the sum of its ledger entries and "
            "that reserved equals its held holds. Prints each account that drifts; exits 1 if any does.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000,
                            help="accounts checked per statement (each stays well inside the statement timeout)")

    def handle(self, *args, batch_size: int, **options):
        verbosity = options["verbosity"]
        total = drifted = 0
        last = None
        while True:
            # Keyset pages of account ids; each page is checked by one statement (one snapshot per account).
            page = CreditAccount.objects.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            ids = list(page.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            total += len(ids)
            last = ids[-1]
            rows = (drifting(audited_accounts().filter(pk__gte=ids[0], pk__lte=last)).select_related("user")
                    .order_by("pk").only("pk", "available", "reserved", "user__email"))
            for account in rows:
                drifted += 1
                self.stdout.write(self.describe(account))
        if drifted:
            raise CommandError(f"ledger audit: {drifted} of {total} credit accounts drift", returncode=1)
        if verbosity >= 1:
            self.stdout.write(f"ledger audit: {total} credit accounts checked, no drift")

    @staticmethod
    def describe(account) -> str:
        problems = []
        if account.balance != account.ledger_total:
            problems.append(
                f"available+reserved expected {account.ledger_total} (ledger sum) found {account.balance} "
                f"(available={account.available} reserved={account.reserved}, "
                f"drift {account.balance - account.ledger_total:+d})")
        if account.reserved != account.held_count:
            problems.append(f"reserved expected {account.held_count} (held holds) found {account.reserved}")
        return f"DRIFT account={account.pk} email={account.user.email}: " + "; ".join(problems)
