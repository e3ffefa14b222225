from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from billing.services import credit_account_for


class Command(BaseCommand):
    help = "Print a user's available and reserved credits."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)

    def handle(self, *args, email, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with email {email}")
        account = credit_account_for(user_id=user.pk)
        self.stdout.write(f"{user.email} available={account.available} reserved={account.reserved}")
