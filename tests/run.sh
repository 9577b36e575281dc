#!/usr/bin/env bash
# Installs what the tests need (Python packages, Debian's Chromium for the browser
# tests) and runs every test, then the linter. Safe to run again: installed things
# are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q -r requirements-dev.txt

python3 -m pytest -q "$@"
python3 -m ruff check .
