#!/usr/bin/env bash
# Start a broker for the tests, run the whole suite, stop the broker; exit with pytest's status.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
unset CASEHUB_KAFKA_BOOTSTRAP
$BIN/casehub broker down >/dev/null 2>&1 || true
if ! $BIN/casehub broker up --nodes 1; then
  echo "make test: could not start the test broker; logs under ${CASEHUB_HOME}/broker/logs" >&2
  exit 1
fi
trap '$BIN/casehub broker down' EXIT
$BIN/python -m pytest "$@"
