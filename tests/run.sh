#!/usr/bin/env bash
# Installs what the tests need (Python packages; Debian's Chromium for the browser tests,
# nginx and redis-server for the several-process tests, docker-compose for the compose
# test) and runs every test, then the linter. Safe to run again: installed things are
# skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in chromium:chromium nginx:nginx redis-server:redis-server docker-compose:docker-compose; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  apt-get update -qq
  # Install the services without starting them (the tests start their own on free ports).
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$policy" ] || rm -f "$policy"
fi
python3 -m pip install -q -r requirements-dev.txt

python3 -m pytest -q "$@"
python3 -m ruff check .
