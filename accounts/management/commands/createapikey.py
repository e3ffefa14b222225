import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_key_create
from easydown.exceptions import ApiError


class Command(BaseCommand):
    help = "Create an API key for a user and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--platforms", default="", help="comma-separated; empty means all platforms")
        parser.add_argument("--expires", default=None, help="YYYY-MM-DD, last day the key works")
        parser.add_argument("--rate-limit", type=int, default=None, help="requests a minute")

    def handle(self, *args, email, name, platforms, expires, rate_limit, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with email {email}")
        try:
            expires_on = dt.date.fromisoformat(expires) if expires else None
        except ValueError:
            raise CommandError("--expires must be YYYY-MM-DD") from None
        try:
            key, token = api_key_create(user=user, name=name, platforms=[p for p in platforms.split(",") if p],
                                        expires_on=expires_on, rate_limit_per_minute=rate_limit)
        except ApiError as exc:
            raise CommandError(exc.msg) from None
        self.stderr.write(f"Created key {key.name!r} ({key.masked_token}); the token is shown only now:")
        self.stdout.write(token)
