#!/usr/bin/env bash
# Start a secured broker for the tests (TLS, SCRAM, ACLs), provision topics and access, run the whole suite, stop the broker.
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
if ! { $BIN/casehub topics apply >/dev/null && $BIN/casehub access apply | tail -n 1; }; then
  echo "make test: could not provision topics and access on the test broker" >&2
  exit 1
fi
$BIN/python -m pytest "$@"
