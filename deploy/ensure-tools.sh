#!/usr/bin/env bash
# The deploy tests (tests/test_deploy.py) check the nginx site with `nginx -t`, make a throwaway TLS
# certificate with openssl and check the systemd units with `systemd-analyze verify`. Install whatever of
# those is missing from Debian's packages (as root, with apt-get), quietly, and never leave nginx running:
# the package is only wanted for its syntax check.
set -euo pipefail

need=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v systemd-analyze >/dev/null || need+=(systemd)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "warning: ${need[*]} missing; the deploy tests that need them will be skipped (apt-get install ${need[*]})" >&2
  exit 0
fi

nginx_before=0
pgrep -x nginx >/dev/null 2>&1 && nginx_before=1

# Package scripts must not start services: a policy-rc.d that refuses them for the length of the install
# (only when the machine has none of its own; a container image usually has one already).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "Installing Debian's ${need[*]} for the deploy tests…"
# Quiet unless it fails: apt's chatter (debconf's notes included) is shown only then.
log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "error: could not install ${need[*]} for the deploy tests" >&2
  exit 1
fi
rm -f "$log"

# The nginx package is wanted for `nginx -t` only: no service from it, now or at the next boot. Only the
# package's own instance is stopped (its default pid file), and only if it was not running before.
if [[ " ${need[*]} " == *" nginx "* ]]; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    if [ "$nginx_before" = 0 ]; then systemctl disable --now nginx >/dev/null 2>&1 || true
    else systemctl disable nginx >/dev/null 2>&1 || true; fi
  fi
  if [ "$nginx_before" = 0 ] && [ -s /run/nginx.pid ]; then
    /usr/sbin/nginx -s stop >/dev/null 2>&1 || kill "$(cat /run/nginx.pid)" 2>/dev/null || true
  fi
fi
exit 0
