#!/usr/bin/env bash
# Celery beat: runs the stale-hold sweeper every minute. Exactly one per deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/celery" -A easydown beat --loglevel=INFO --schedule=/tmp/easydown-beat-schedule
