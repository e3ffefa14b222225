#!/usr/bin/env bash
# Production Celery worker: ONE process whose parses are threads (Celery's threads pool).
#
# A parse spends almost all its time waiting on a platform, so a slot is a thread (~0.1 MiB), not a
# process (~97 MiB): WORKER_CONCURRENCY threads hold that many parses in flight. Each parse carries its
# own deadline (parsing/deadline.py; Celery's time limits do not apply to threads), leases its own
# YoutubeDL, holds a database connection only to claim and to record (a pool of DB_POOL_SIZE serves all
# threads), and the CPU-heavy JavaScript solver is bounded by EASYDOWN_JS_SOLVERS.
#
# One process uses one core for Python: on a box with several cores that serves only workers, run one
# process per core (systemd: easydown-worker@1, @2, …), each with its own -n name.
set -euo pipefail
cd "$(dirname "$0")/.."
export DB_POOL_SIZE="${DB_POOL_SIZE:-10}"
# The worker's writes do not wait for the disk (easydown/settings.py, DB_SYNCHRONOUS_COMMIT: a crash of
# PostgreSQL leaves the jobs whose writes it forgot open, for the sweeper to settle without a charge).
export DB_SYNCHRONOUS_COMMIT="${DB_SYNCHRONOUS_COMMIT:-off}"
# A claim or a result waits at most this long for a pooled connection: a database that is away fails the
# parse over to a 503 for its client within a second or two, instead of after the pool's default.
export DB_POOL_TIMEOUT="${DB_POOL_TIMEOUT:-1}"
POOL="${WORKER_POOL:-threads}"
# Threads: a slot is a thread. Prefork (the old model, with Celery's own time limits): a slot is a process.
if [ "$POOL" = threads ]; then SLOTS="${WORKER_CONCURRENCY:-1000}"; else SLOTS="${WORKER_CONCURRENCY:-4}"; fi
# Prometheus: every process on the box writes its metrics here and GET /metrics adds them up (clear it
# when the box boots; a tmpfs is a good place).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-var/metrics}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# Thousands of waiting parses need thousands of sockets: raise the soft open-file limit to the hard one.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
# The worker logs through settings.LOGGING (JSON lines): LOG_LEVEL sets its level (WORKER_LOG_LEVEL still works).
export LOG_LEVEL="${LOG_LEVEL:-${WORKER_LOG_LEVEL:-INFO}}"
exec "${VENV:-.venv}/bin/celery" -A easydown worker --loglevel="$LOG_LEVEL" \
  --pool="$POOL" --concurrency="$SLOTS" -Q "${CELERY_QUEUE:-easydown}" \
  -n "${WORKER_NAME:-worker}@%h" --without-gossip --without-mingle
