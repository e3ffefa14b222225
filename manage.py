#!/usr/bin/env python
import os
import sys
from pathlib import Path

# `make run` writes this file (DJANGO_DEBUG=1 and the database and Redis it ran with), so that the README's
# manage.py commands work after it exactly as printed. Variables already set win. Production never has it:
# its scripts and units set the environment themselves, and only manage.py reads this file.
LOCAL_ENV = Path(os.environ.get("EASYDOWN_LOCAL_ENV") or Path(__file__).resolve().parent / "var" / "local.env")


def load_local_env(path: Path = LOCAL_ENV) -> None:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            os.environ.setdefault(name.strip(), value.strip())


def main() -> None:
    load_local_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "easydown.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
