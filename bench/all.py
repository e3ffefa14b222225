"""`make bench`: every benchmark in turn, each printing its own report, then one table of their ratios.

Each bench measures its baseline in the same run (bench/README in the module docstrings); this collects the
lines that carry a ratio or a goal verdict and lists them together, bench by bench, so one look says where
the service stands. A bench that fails is listed as failed; the others still run.

    .venv/bin/python bench/all.py [--only parse_path,cache,...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "parse_path": ["bench/parse_path.py"],
    "cache": ["bench/cache.py"],
    "tunnel": ["bench/tunnel.py"],
    "extract": ["bench/extract.py"],
    "capacity": ["bench/capacity.py"],
}
# Lines worth a row: a ratio, a goal verdict (PASS/MISS), or the extractor table's cold/warm ratios.
_ROW = re.compile(r"ratio|goal|^(PASS|MISS|N/A)\b|fetches per 1,000|RSS at rest", re.I)


def rows_of(name: str, output: str) -> list[str]:
    rows = []
    for line in output.splitlines():
        line = line.strip()
        if line and not line.startswith(("INFO", "WARNING", "{")) and _ROW.search(line):
            rows.append(line)
    if name == "capacity":  # its summary repeats every verdict: keep only the summary when there is one
        summary = output.split("=== summary", 1)
        if len(summary) == 2:
            rows = [line.strip() for line in summary[1].splitlines() if line.strip()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated bench names: " + ", ".join(BENCHES))
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(BENCHES)
    table: list[tuple[str, str, float]] = []
    for name in chosen:
        print(f"\n##### {name}", flush=True)
        started = time.monotonic()
        run = subprocess.run([sys.executable, *BENCHES[name]], cwd=ROOT, capture_output=True, text=True)
        output = run.stdout + ("" if run.returncode == 0 else run.stderr[-3000:])
        print(run.stdout, flush=True)
        if run.returncode != 0:
            print(run.stderr[-3000:], flush=True)
            table.append((name, f"FAILED (exit {run.returncode})", time.monotonic() - started))
            continue
        for row in rows_of(name, output) or ["(no ratio printed)"]:
            table.append((name, row, time.monotonic() - started))
    print("\n===== every benchmark's ratios (baselines measured in the same run)")
    width = max(len(name) for name, _, _ in table) if table else 8
    for name, row, _ in table:
        print(f"{name:<{width}}  {row}")


if __name__ == "__main__":
    main()
