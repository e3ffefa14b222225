#!/usr/bin/env bash
# Production Celery worker (prefork). One warm extractor set per child process.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/celery" -A easydown worker --loglevel=INFO \
  --concurrency="${WORKER_CONCURRENCY:-4}" -Q "${CELERY_QUEUE:-easydown}" --without-gossip --without-mingle
