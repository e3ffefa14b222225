from django.core.management.base import BaseCommand

from accounts.models import ApiKey, User
from accounts.services import api_key_create, api_key_rotate
from billing.services import credit_topup


class Command(BaseCommand):
    help = ("For `make run`: create (once) a demo user with 100 credits and an admin login; print the demo key's "
            "fresh token (the one demo key is rotated on every run, so old demo tokens stop working) and a ready curl.")

    def add_arguments(self, parser):
        parser.add_argument("--email", default="demo@easydown.local")
        parser.add_argument("--password", default="demo-password")
        parser.add_argument("--admin-email", default="admin@easydown.local")
        parser.add_argument("--admin-password", default="admin-password")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, email, password, admin_email, admin_password, base_url, **options):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password)
        credit_topup(user_id=user.pk, amount=100, reference="demo-initial-credits", note="demo account")
        if not User.objects.filter(email=admin_email).exists():
            User.objects.create_superuser(admin_email, admin_password)
        key = ApiKey.objects.filter(user=user, name="demo", revoked_at__isnull=True).order_by("created_at").first()
        if key is None:
            _, token = api_key_create(user=user, name="demo")
        else:
            _, token = api_key_rotate(key=key)
        self.stdout.write(
            f"\nDemo account: {email} / {password} (dashboard: {base_url}/)\n"
            f"Admin login: {admin_email} / {admin_password} ({base_url}/admin/: top-ups, ledger, block list)\n"
            f"Demo API token (shown once; a new one on every `make run`): {token}\n\n"
            f"curl -X POST {base_url}/api/v1/parse \\\n"
            f'  -H "Authorization: Bearer {token}" \\\n'
            f'  -H "Content-Type: application/json" \\\n'
            f"  -d '{{\"url\":\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\"}}'\n"
        )
