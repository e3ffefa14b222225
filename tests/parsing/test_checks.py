"""A cookies file that cannot be loaded is reported when a process starts, naming the file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from parsing.checks import cookie_file_problems, require_valid_settings
from parsing.tasks import _check_settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD = "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t2147483647\tsessionid\tabc\n"


@pytest.fixture
def files(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(GOOD)
    bad.write_text('{"cookies": "exported as JSON, not cookies.txt"}')
    return good, bad, tmp_path / "missing.txt"


def test_good_files_pass_and_bad_ones_are_named(settings, files):
    good, bad, missing = files
    settings.EASYDOWN_COOKIES = {"tiktok": str(good)}
    assert cookie_file_problems() == []
    require_valid_settings()
    settings.EASYDOWN_COOKIES = {"tiktok": str(good), "instagram": str(bad), "weibo": str(missing)}
    problems = cookie_file_problems()
    assert len(problems) == 2
    assert "'instagram'" in problems[0] and str(bad) in problems[0]
    assert "'weibo'" in problems[1] and str(missing) in problems[1]
    with pytest.raises(ImproperlyConfigured, match="bad.txt"):
        require_valid_settings()
    with pytest.raises(ImproperlyConfigured, match="missing.txt"):
        _check_settings()  # what the worker runs at worker_init
    with pytest.raises(SystemCheckError, match="easydown.E001"):
        call_command("check")


def test_the_api_refuses_to_start_with_a_bad_file(files):
    _, bad, _ = files
    env = {**os.environ, "DJANGO_DEBUG": "1", "EASYDOWN_COOKIES": f'{{"instagram": "{bad}"}}', "PYTHONPATH": ROOT}
    started = subprocess.run([sys.executable, "-c", "import easydown.asgi"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode != 0 and "ImproperlyConfigured" in started.stderr and str(bad) in started.stderr
