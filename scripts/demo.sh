#!/usr/bin/env bash
# `make demo`: start Kafka, provision topics, run the hub and simulated partner traffic, then say where to look.
# `make demo-down` (this script with "down") stops exactly what it started, by process id.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
RUN=.casehub/demo
mkdir -p "$RUN"
export CASEHUB_GATEWAY_PORT=${CASEHUB_GATEWAY_PORT:-8080}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_bg() {
  local name=$1; shift
  if alive "$name"; then echo "$name already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  nohup "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
  echo "$name started (pid $!, log $RUN/$name.log)"
}

stop_all() {
  for name in webhooks receiver gateway sealer worker; do
    if alive "$name"; then kill "$(cat "$RUN/$name.pid")" && echo "stopped $name"; fi
    rm -f "$RUN/$name.pid"
  done
  $BIN/casehub broker down
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq "$seconds"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "gave up waiting for $what after ${seconds}s (see $RUN/*.log)" >&2; return 1
}

worker_ready() {  # the faust worker has joined its consumer group
  $BIN/casehub status --json --no-dlq 2>/dev/null | $BIN/python -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["workers"] else 1)'
}

caught_up() {  # every partition of the worker's group is within one commit marker of its end
  $BIN/casehub lag --json 2>/dev/null | $BIN/python -c '
import json, sys
rows = json.load(sys.stdin)
rows = rows.get("partitions", rows) if isinstance(rows, dict) else rows
mine = [r for r in rows if str(r.get("group", "")).startswith("casehub")]
sys.exit(0 if mine and all((r.get("lag") or 0) <= 1 for r in mine) else 1)'
}

if [ "${1:-up}" = "down" ]; then stop_all; exit 0; fi

step "1/6 Kafka (Apache Kafka's own jars from Maven Central, KRaft, loopback)"
$BIN/casehub broker up

step "2/6 topics, users and ACLs for every partner in the registry"
$BIN/casehub topics apply 2>/dev/null | tail -n 4
$BIN/casehub access apply 2>/dev/null | tail -n 1

step "3/6 the hub: stream worker, audit sealer, HTTP gateway, webhook dispatcher (+ a local receiver for partners' webhooks)"
start_bg worker $BIN/casehub worker
start_bg sealer $BIN/casehub audit seal
start_bg gateway $BIN/casehub gateway
start_bg receiver $BIN/python scripts/demo_receiver.py
start_bg webhooks $BIN/casehub webhooks run
wait_for 180 "the worker to join its group" worker_ready
wait_for 60 "the gateway" curl -fsS "http://127.0.0.1:${CASEHUB_GATEWAY_PORT}/healthz"

step "4/6 simulated partner traffic: hotline 1300, tambon centres, LAOs, provincial offices, hospitals, NGOs"
# --follow-hub: later events of a case carry the case id the hub assigned to its report, as real partners do
$BIN/casehub simulate --count 40 --seed "$(date +%s)" --duplicates 0.1 --retries 0.05 --malformed 0.02 --until now --follow-hub

step "5/6 what came out"
wait_for 180 "the pipeline to catch up" caught_up
echo "-- the canonical stream (cases.events), first 3:"
$BIN/casehub tail cases.events --from-beginning --max 3
echo "-- dead letters, by stage and reason:"
$BIN/casehub dlq list
echo "-- status:"
$BIN/casehub status
echo "-- the disclosure log's chain (hash-linked, Ed25519-signed by the sealer):"
wait_for 60 "the sealer to seal what the pipeline wrote" $BIN/casehub audit verify
$BIN/casehub audit verify | tail -n 1

step "6/6 where to look"
cat <<EOT
  gateway API docs     http://127.0.0.1:${CASEHUB_GATEWAY_PORT}/docs   (key: .venv/bin/casehub partners key <org>)
  follow a partner     .venv/bin/casehub tail partner.pso-50.outbound --from-beginning
  an NGO's view        .venv/bin/casehub tail partner.ngo-childline.outbound --from-beginning   (pseudonymised)
  disclosure log       .venv/bin/casehub tail hub.audit --from-beginning --max 5
  verify its chain     .venv/bin/casehub audit verify
  a person's report    .venv/bin/casehub subject report --citizen-id <13 digits> --html report.html
  erase a person       .venv/bin/casehub subject erase --citizen-id <13 digits> --reason "<the request>"
  consumer lag         .venv/bin/casehub lag
  webhooks received    $RUN/receiver.log
  logs                 $RUN/*.log, broker: .casehub/broker/logs
  stop everything      make demo-down
EOT
