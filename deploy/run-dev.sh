#!/usr/bin/env bash
# `make run`: migrate, create the demo account, start the API (and a Celery worker when REDIS_URL is
# set; without it tasks run in-process), print a ready curl. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
PY=.venv/bin/python

# What this run uses, for the README's manage.py commands afterwards (manage.py reads var/local.env; nothing
# in production does).
mkdir -p var
{
  echo "# Written by \`make run\` for manage.py on this checkout; never used in production."
  echo "DJANGO_DEBUG=$DJANGO_DEBUG"
  for name in DATABASE_URL REDIS_URL CELERY_BROKER_URL; do
    if [ -n "${!name:-}" ]; then echo "$name=${!name}"; fi
  done
} > var/local.env

$PY manage.py migrate --noinput >/dev/null
$PY manage.py seeddemo --base-url "http://$HOST:$PORT"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ]; then
  echo "Using REDIS_URL for the queue: starting a Celery worker and beat."
  # The production worker's model (deploy/run-worker.sh): parses as threads of one process.
  mkdir -p var && DB_POOL_SIZE="${DB_POOL_SIZE:-${DATABASE_URL:+10}}" .venv/bin/celery -A easydown worker --beat \
    --schedule=var/celerybeat-schedule --loglevel=INFO --pool=threads --concurrency="${WORKER_CONCURRENCY:-100}" \
    -Q "${CELERY_QUEUE:-easydown}" &
  pids+=($!)
else
  echo "No REDIS_URL: SQLite database and in-process tasks (set DATABASE_URL and REDIS_URL for the real stack)."
fi
[ -n "${DATABASE_URL:-}" ] && export DB_POOL_SIZE="${DB_POOL_SIZE:-10}"
echo "API listening on http://$HOST:$PORT/"
.venv/bin/uvicorn easydown.asgi:application --host "$HOST" --port "$PORT" --lifespan off --no-proxy-headers &
pids+=($!)
wait -n "${pids[@]}"
