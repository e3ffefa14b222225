"""Start-up checks of the operator's parsing settings.

A cookies file (``EASYDOWN_COOKIES``) that is missing, unreadable or not in the Netscape cookies.txt format
would fail every parse of its platform, one customer request at a time. It is checked when a process starts
instead: ``manage.py check`` reports it (easydown.E001), and the API and the worker refuse to start, naming
the platform and the file.
"""

from __future__ import annotations

import http.cookiejar

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def cookie_file_problems() -> list[str]:
    """One line per configured cookies file that cannot be loaded, saying which and why."""
    problems = []
    for platform, path in sorted(settings.EASYDOWN_COOKIES.items()):
        if not path:
            continue
        jar = http.cookiejar.MozillaCookieJar(path)
        try:
            jar.load(ignore_discard=True, ignore_expires=True)
        except (OSError, http.cookiejar.LoadError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"EASYDOWN_COOKIES[{platform!r}] = {path!r} cannot be loaded as a Netscape cookies.txt "
                            f"file: {exc}")
    return problems


@checks.register(checks.Tags.compatibility)
def check_cookie_files(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [checks.Error(problem, hint="Export the platform's cookies in the Netscape format, or remove the entry.",
                         id="easydown.E001") for problem in cookie_file_problems()]


def require_valid_settings() -> None:
    """Called as the API and the worker start: refuse to start with a setting that would fail every parse."""
    problems = cookie_file_problems()
    if problems:
        raise ImproperlyConfigured("; ".join(problems))
