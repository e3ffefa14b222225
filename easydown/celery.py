"""The Celery application; configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "easydown.settings")

app = Celery("easydown")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**_: object) -> None:
    """The worker and beat log as the API does (settings.LOGGING: JSON lines by default), instead of Celery's
    own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
