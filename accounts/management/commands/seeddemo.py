from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import api_key_create
from billing.services import credit_topup


class Command(BaseCommand):
    help = "Create (once) a demo user with 100 credits and print a fresh demo key and a ready curl."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="demo@easydown.local")
        parser.add_argument("--password", default="demo-password")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, email, password, base_url, **options):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password)
        credit_topup(user_id=user.pk, amount=100, reference="demo-initial-credits", note="demo account")
        _, token = api_key_create(user=user, name="demo")
        self.stdout.write(
            f"\nDemo account: {email} / {password} (dashboard: {base_url}/)\n"
            f"Demo API token (shown once): {token}\n\n"
            f"curl -X POST {base_url}/api/v1/parse \\\n"
            f'  -H "Authorization: Bearer {token}" \\\n'
            f'  -H "Content-Type: application/json" \\\n'
            f"  -d '{{\"url\":\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\"}}'\n"
        )
