"""No token, cookie or password in any log line: the scan that runs over the logs of a test run."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

PATTERNS = {
    "an API token": re.compile(r"ed_(?:live|test)_[A-Za-z0-9_-]{12,}"),
    "a bearer credential": re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/-]{12,}"),
    "a password": re.compile(
        r"(?i)(?:demo-password|admin-password|\bpass(?:word)?[\"']?\s*[:=]\s*[\"']?[^\s\"',}]{3,})"),
    "a cookie": re.compile(r"(?i)(?:set-cookie|\bcookie\s*:|session=secret|sessionid=\w|csrftoken=\w)"),
}


def scan(paths: Iterable[Path]) -> list[str]:
    """One line per finding: which file, which line, what was found (the secret itself is not repeated)."""
    findings = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in PATTERNS.items():
                if pattern.search(line):
                    findings.append(f"{path}:{number}: {what}")
    return findings


def logs_since(root: Path, started: float) -> list[Path]:
    return [p for p in root.rglob("*.log") if p.is_file() and p.stat().st_mtime >= started] if root.is_dir() else []
