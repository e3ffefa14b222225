from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from billing.services import credit_account_for, credit_topup
from easydown.exceptions import ApiError


class Command(BaseCommand):
    help = "Add credits to a user's account, once per --reference."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--amount", type=int, required=True)
        parser.add_argument("--reference", required=True, help="idempotency key, e.g. an invoice number")
        parser.add_argument("--note", default="")

    def handle(self, *args, email, amount, reference, note, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with email {email}")
        try:
            _, created = credit_topup(user_id=user.pk, amount=amount, reference=reference, note=note)
        except ApiError as exc:
            raise CommandError(exc.msg) from None
        account = credit_account_for(user_id=user.pk)
        verb = "Added" if created else "Already applied:"
        self.stdout.write(f"{verb} {amount} credits ({reference}); available={account.available}")
