#!/usr/bin/env bash
# Production API server: uvicorn workers serving the ASGI app (waiting parses cost a socket, not a
# thread). Put nginx (deploy/nginx.conf) in front; set EASYDOWN_CLIENT_IP_HEADER=HTTP_X_REAL_IP there.
set -euo pipefail
cd "$(dirname "$0")/.."
export DB_POOL_SIZE="${DB_POOL_SIZE:-20}"
# Only the worker's commits may skip waiting for the disk (run-worker.sh): the API's Idempotency-Key
# records must outlive a crash of PostgreSQL, so a shared environment file's setting is not passed on.
unset DB_SYNCHRONOUS_COMMIT
# Prometheus: every process on the box writes its metrics here and GET /metrics adds them up (clear it
# when the box boots; a tmpfs is a good place).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-var/metrics}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# Thousands of waiting parses need thousands of sockets: raise the soft open-file limit to the hard one.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
exec "${VENV:-.venv}/bin/uvicorn" easydown.asgi:application \
  --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" \
  --workers "${WEB_CONCURRENCY:-2}" --lifespan off --no-access-log --no-proxy-headers \
  --timeout-graceful-shutdown 35 --backlog 2048
