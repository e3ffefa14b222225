from django.apps import AppConfig


class ParsingConfig(AppConfig):
    name = "parsing"

    def ready(self) -> None:
        from . import blocklist, checks  # noqa: F401 - registers the start-up checks and the block list's signals
