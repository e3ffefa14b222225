from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from . import keycache  # noqa: F401 - registers the signals that retire kept API keys
