#!/usr/bin/env bash
# make test-e2e: start the platform with floe itself, run the suite, keep logs on failure, stop everything.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MANIFEST=${MANIFEST:-demo/manifest.yaml}
start=$(date +%s)
if ! $BIN/floe platform up --manifest "$MANIFEST"; then
  echo "e2e: floe platform up failed; logs in test-logs/" >&2
  mkdir -p test-logs && cp -r "${FLOE_HOME:-$HOME/.local/share/floe}/logs/." test-logs/ 2>/dev/null
  $BIN/floe platform down || true
  exit 1
fi
echo "e2e: platform up in $(( $(date +%s) - start ))s"
$BIN/pytest tests/e2e "$@"
status=$?
if [ $status -ne 0 ]; then
  mkdir -p test-logs && cp -r "${FLOE_HOME:-$HOME/.local/share/floe}/logs/." test-logs/ 2>/dev/null
  echo "e2e: failed; service logs copied to test-logs/" >&2
fi
$BIN/floe platform down
$BIN/python scripts/check_stopped.py || status=1
exit $status
