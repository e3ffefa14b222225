#!/usr/bin/env bash
# The PgBouncer test (tests/test_pgbouncer.py) runs Debian's pgbouncer binary itself; install it when missing
# (as root with apt-get), and leave no pgbouncer service of the package's running.
set -euo pipefail
if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's pgbouncer for the PgBouncer test…"
  apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  pkill -x pgbouncer 2>/dev/null || true
else
  echo "warning: pgbouncer missing; tests/test_pgbouncer.py will be skipped (apt-get install pgbouncer)" >&2
fi
