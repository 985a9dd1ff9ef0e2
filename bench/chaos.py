"""Exactly-once and availability under faults: 3 brokers, 2 workers, worker SIGKILLs and a broker's loss, counted.

    .venv/bin/python bench/chaos.py                                  # 2,000 events at 8/s, 5 worker kills
    .venv/bin/python bench/chaos.py --events 3000 --rate 10 --kills 8 --json
    .venv/bin/python bench/chaos.py --home /tmp/chaos --port 21200   # a home and first port of your choosing

It starts its own secured 3-node cluster (TLS, SCRAM, ACLs) in its own home (a new temporary folder unless
--home) on ports below the ephemeral range, provisions a registry of its own (one sending LAO, three
recipients: a hospital, the police and another LAO), and runs two `casehub worker` processes of one
group under a supervisor that restarts any that exits, at once. While the sender publishes valid reports at a
steady rate it SIGKILLs a worker every 20-40 s (alternating; restarted at once) and, once, a broker (restarted
after --broker-down s). Then it reads every output topic (cases.events, cases.state, hub.audit.entries, the three
outbound topics) read_committed from the beginning, with a consumer of its own, and prints per topic:
expected, delivered, duplicates, lost; unplanned crashes (a worker that exited without being killed);
per disturbance: the worker's ready time after its restart ("worker ready" in its log: tables recovered,
partitions assigned), the end-to-end recovery (until every event held up since the kill was delivered)
and the worst end-to-end latency (sent -> visible on its last output topic, read_committed).

Targets (printed PASS/FAIL, not asserted): 0 lost, 0 duplicated, 0 unplanned crashes, ready <= 15 s after
each restart, worst end-to-end latency after a kill <= 20 s. --json adds a last line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.chaos_parts import free_port_block  # noqa: E402
from bench.chaos_scenario import Outcome, Plan, run, schedule  # noqa: E402
from casehub.core.logging import configure_logging  # noqa: E402

READY_TARGET = 15.0
LATENCY_TARGET = 20.0


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def worst_after_kills(outcome: Outcome) -> float | None:
    """The worst end-to-end latency of events sent after a disturbance; None if any of them was never delivered."""
    after = [d.recovery.worst_latency if d.recovery and d.recovery.recovered_after is not None else None
             for d in outcome.disturbances]
    return None if any(a is None for a in after) else max((a for a in after if a is not None), default=0.0)


def against_baseline(outcome: Outcome) -> float | None:
    """That worst latency as a multiple of the p99 measured before the first disturbance, in the same run."""
    worst, base = worst_after_kills(outcome), outcome.baseline
    if worst is None or base is None or not base.p99 > 0:
        return None
    return worst / base.p99


def targets(outcome: Outcome) -> list[tuple[str, bool, str]]:
    """(target, met, figure) for each target of the issue."""
    lost = sum(t.lost for t in outcome.tallies)
    duplicated = sum(t.duplicates for t in outcome.tallies)
    kills = [d for d in outcome.disturbances if d.step.kind == "worker"]
    readies = [d.ready_after for d in kills]
    worst_ready = None if any(r is None for r in readies) else max((r for r in readies if r is not None), default=0.0)
    worst_after = worst_after_kills(outcome)
    return [
        ("0 lost", lost == 0, str(lost)),
        ("0 duplicated", duplicated == 0, str(duplicated)),
        ("0 unplanned crashes", not outcome.crashes, str(len(outcome.crashes))),
        (f"ready <= {READY_TARGET:g} s after each restart", worst_ready is not None and worst_ready <= READY_TARGET,
         f"worst {_seconds(worst_ready)}"),
        (f"worst e2e latency after a kill <= {LATENCY_TARGET:g} s",
         worst_after is not None and worst_after <= LATENCY_TARGET, f"worst {_seconds(worst_after)}"),
    ]


def report(outcome: Outcome) -> None:
    plan = outcome.plan
    print(f"\nchaos: {plan.events} events at {plan.rate:g}/s, {plan.kills} worker SIGKILLs, 1 broker SIGKILL "
          f"(node {plan.broker_node}, down {plan.broker_down:g} s), 3 nodes, 2 workers; {outcome.seconds:.0f} s in all")
    print(f"sent {outcome.sent}, acknowledged {outcome.acknowledged} (expected on every topic below), "
          f"resent after a failed send {outcome.resent}")
    print(f"\n{'topic':<34} {'expected':>8} {'delivered':>9} {'dupes':>6} {'lost':>5} {'extra':>6}")
    for t in outcome.tallies:
        print(f"{t.topic:<34} {t.expected:>8} {t.delivered:>9} {t.duplicates:>6} {t.lost:>5} {t.unexpected:>6}")
    for t in outcome.tallies:
        if t.lost_keys or t.duplicated_keys:
            print(f"  {t.topic}: lost {', '.join(t.lost_keys) or '-'}; duplicated {', '.join(t.duplicated_keys) or '-'}")
    reasons = Counter(outcome.dead_letters.values())
    print(f"dead-lettered (hub.dlq) of this run's events: {len(outcome.dead_letters)}"
          + "".join(f"\n  {n} x {reason}" for reason, n in reasons.most_common(5)))
    base = outcome.baseline
    if base is not None:
        print(f"\nbefore the first kill: e2e latency p50 {base.p50 * 1000:.0f} ms, p99 {base.p99 * 1000:.0f} ms "
              f"({base.events} events delivered before it); an event counts as held up above {base.late_after:.1f} s")
    window = outcome.undelivered_sent
    print(f"worst e2e latency of the run {_seconds(outcome.worst_latency)}; events never delivered everywhere "
          f"{outcome.undelivered_events}" + (f" (sent from t+{window[0]:.1f} s to t+{window[1]:.1f} s)" if window else ""))
    print(f"\n{'t+':>6}  {'disturbance':<16} {'ready':>8} {'recovered':>10} {'worst e2e':>10} {'held up':>12}")
    first = outcome.traffic_started
    for d in outcome.disturbances:
        what = f"kill worker {d.step.target}" if d.step.kind == "worker" else f"kill broker {d.step.target}"
        ready = ("crashed" if d.crashed_before_ready else _seconds(d.ready_after)) if d.step.kind == "worker" else (
            f"{d.broker_back_at - d.at:.1f} s*" if d.broker_back_at else "never")
        r = d.recovery
        held = f"{r.held_up}/{r.events}" if r else "-"
        print(f"{d.at - first:6.1f}  {what:<16} {ready:>8} {_seconds(r.recovered_after) if r else '-':>10} "
              f"{_seconds(r.worst_latency) if r else '-':>10} {held:>12}")
    print("  ready: the restarted worker's \"worker ready\" after its start (crashed: it exited first); * for the "
          "broker: its kill to all 3 nodes answering\n  held up: of the events it caught (in flight when it struck, or "
          "sent before the next one), those slower than the threshold\n  recovered: from the kill until every one "
          "held up was visible on all its topics; worst e2e: the slowest event it caught")
    ratio = against_baseline(outcome)
    if ratio is not None:
        print(f"worst e2e latency after a disturbance: {ratio:.1f}x the p99 before the first one")
    print(f"\nunplanned crashes: {len(outcome.crashes)}")
    for crash in outcome.crashes:
        lines = [line for line in crash.log_tail.splitlines() if "error" in line.lower()] or crash.log_tail.splitlines()
        print(f"  t+{crash.at - first:.1f} s worker {crash.worker} exited with {crash.exit_code}: "
              f"{(lines[-1] if lines else '(empty log)')[:400]}")
    for worker, found in outcome.log_findings.items():
        signs = ", ".join(f"{sign} x{n}" for sign, n in found.items() if n)
        print(f"worker {worker} log: {signs or 'no sign of trouble'}")
    print("logs: " + ", ".join(str(p) for p in outcome.logs))
    print("\ntargets:")
    for name, met, figure in targets(outcome):
        print(f"  {'PASS' if met else 'FAIL'}  {name:<42} {figure}")


def summary(outcome: Outcome) -> dict[str, Any]:
    first = outcome.traffic_started
    return {
        "events": outcome.plan.events, "rate": outcome.plan.rate, "sent": outcome.sent,
        "acknowledged": outcome.acknowledged, "seconds": round(outcome.seconds, 1),
        "topics": {t.topic: {"expected": t.expected, "delivered": t.delivered, "duplicates": t.duplicates,
                             "lost": t.lost, "unexpected": t.unexpected, "lost_sample": list(t.lost_keys),
                             "duplicated_sample": list(t.duplicated_keys)} for t in outcome.tallies},
        "unplanned_crashes": [{"worker": c.worker, "at": round(c.at - first, 1), "exit_code": c.exit_code}
                              for c in outcome.crashes],
        "disturbances": [
            {"at": round(d.at - first, 1), "kind": d.step.kind, "target": d.step.target,
             "ready_seconds": d.ready_after,
             "broker_back_seconds": (d.broker_back_at - d.at) if d.broker_back_at else None,
             "recovered_seconds": d.recovery.recovered_after if d.recovery else None,
             "worst_latency_seconds": d.recovery.worst_latency if d.recovery else None,
             "held_up": d.recovery.held_up if d.recovery else None}
            for d in outcome.disturbances
        ],
        "dead_lettered": len(outcome.dead_letters),
        "baseline_p99_seconds": outcome.baseline.p99 if outcome.baseline and outcome.baseline.events else None,
        "worst_latency_seconds": outcome.worst_latency,
        "worst_after_kill_over_baseline_p99": against_baseline(outcome),
        "targets": {name: met for name, met, _ in targets(outcome)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events to send (N)")
    parser.add_argument("--rate", type=float, default=8.0, help="events per second, steady")
    parser.add_argument("--duration", type=float, help="seconds of traffic: sets the rate to events / duration")
    parser.add_argument("--kills", type=int, default=5, help="worker SIGKILLs (alternating between the two)")
    parser.add_argument("--min-gap", type=float, default=20.0, help="least seconds between disturbances")
    parser.add_argument("--max-gap", type=float, default=40.0, help="most seconds between disturbances")
    parser.add_argument("--broker-after", type=int, default=2, help="the broker is lost after this many worker kills")
    parser.add_argument("--broker-node", type=int, default=2, choices=(1, 2, 3), help="which node is SIGKILLed")
    parser.add_argument("--broker-down", type=float, default=15.0, help="seconds the broker stays down")
    parser.add_argument("--late-after", type=float, default=5.0, help="seconds end to end above which an event "
                        "counts as held up by a disturbance")
    parser.add_argument("--seed", type=int, default=7, help="seeds the gaps and the traffic mix")
    parser.add_argument("--home", type=Path, help="the cluster's home (default: a new temporary folder)")
    parser.add_argument("--port", type=int, help="first of 9 ports (default: free ones below 32768)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's data (its logs are always kept)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()
    rate = args.events / args.duration if args.duration else args.rate
    plan = Plan(events=args.events, rate=rate, kills=args.kills, gap=(args.min_gap, args.max_gap),
                broker_after=args.broker_after, broker_node=args.broker_node, broker_down=args.broker_down,
                late_after=args.late_after, seed=args.seed)
    try:
        schedule(plan)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    home = args.home or Path(tempfile.mkdtemp(prefix="casehub-chaos-"))
    port = args.port or free_port_block(9)
    configure_logging("WARNING")

    def say(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    outcome = run(plan, home, port, say=say, purge=not args.keep)
    report(outcome)
    if args.json:
        print(json.dumps(summary(outcome)))


if __name__ == "__main__":
    main()
