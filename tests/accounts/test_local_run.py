"""What `make run` leaves behind for an operator: manage.py works as the README prints it, one demo key whose
token changes on every run, and an admin login."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate
from easydown.exceptions import InvalidToken

ROOT = Path(__file__).resolve().parents[2]


def _token(output: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("Demo API token"))


@pytest.mark.django_db
def test_seeddemo_keeps_one_demo_key_and_creates_the_admin_once():
    first, second = io.StringIO(), io.StringIO()
    call_command("seeddemo", stdout=first)
    call_command("seeddemo", stdout=second)
    old, new = _token(first.getvalue()), _token(second.getvalue())
    assert old != new
    demo = User.objects.get(email="demo@easydown.local")
    assert ApiKey.objects.filter(user=demo, name="demo", revoked_at__isnull=True).count() == 1
    assert api_key_authenticate(header=f"Bearer {new}").user_id == demo.pk
    with pytest.raises(InvalidToken):
        api_key_authenticate(header=f"Bearer {old}")
    admin = User.objects.get(email="admin@easydown.local")
    assert admin.is_superuser and admin.check_password("admin-password")
    assert "Admin login: admin@easydown.local / admin-password" in second.getvalue()
    assert demo.credit_account.available == 100  # the demo credits are granted once


def test_manage_py_reads_the_file_make_run_writes(tmp_path):
    local = tmp_path / "local.env"
    env = {name: value for name, value in os.environ.items() if name not in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY")}
    env["EASYDOWN_LOCAL_ENV"] = str(local)
    command = [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"]
    without = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert without.returncode != 0 and "DJANGO_SECRET_KEY must be set" in without.stderr
    local.write_text("# written by make run\nDJANGO_DEBUG=1\n")
    with_file = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert with_file.returncode == 0, with_file.stderr
    assert with_file.stdout.strip().splitlines()[-1] == "True"
    # A variable already set wins over the file.
    env["DJANGO_DEBUG"] = "0"
    assert subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60).returncode != 0
