"""One chaos run: steady traffic through 2 supervised workers while workers are SIGKILLed and a broker is lost."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos_counts import (
    Baseline,
    DeliveryWatcher,
    Recovery,
    TopicTally,
    baseline,
    count_committed,
    dead_letters,
    delivered_at,
    expected_deliveries,
    output_topics,
    recovery,
    tally,
)
from bench.chaos_parts import Crash, Hub, Start, Supervisor, Traffic, start_hub


@dataclass(frozen=True)
class Plan:
    """What the run does: ``events`` at ``rate`` per second; ``kills`` worker SIGKILLs ``gap`` seconds apart, with one
    broker SIGKILL (down ``broker_down`` s, then restarted) in its own slot after ``broker_after`` of them."""

    events: int = 2000
    rate: float = 8.0
    kills: int = 5
    gap: tuple[float, float] = (20.0, 40.0)
    broker_after: int = 2
    broker_node: int = 2
    broker_down: float = 15.0
    warmup: float = 10.0
    drain: float = 180.0
    late_after: float = 5.0  # an event slower than this end to end was held up by the disturbance before it
    seed: int = 7

    @property
    def sending(self) -> float:
        return self.events / self.rate


@dataclass(frozen=True)
class Step:
    """One disturbance, ``offset`` seconds after the traffic started: a worker's SIGKILL or a broker's."""

    offset: float
    kind: str  # "worker" | "broker"
    target: str


def schedule(plan: Plan) -> list[Step]:
    """The disturbances, alternating between the workers; refuses a plan whose last one falls after the traffic."""
    rng = random.Random(plan.seed)
    steps: list[Step] = []
    offset = plan.warmup
    for index in range(plan.kills):
        if index == plan.broker_after:
            steps.append(Step(offset, "broker", str(plan.broker_node)))
            offset += plan.broker_down + rng.uniform(*plan.gap)
        steps.append(Step(offset, "worker", f"w{index % 2 + 1}"))
        offset += rng.uniform(*plan.gap)
    if plan.broker_after >= plan.kills:
        steps.append(Step(offset, "broker", str(plan.broker_node)))
        offset += plan.broker_down
    last = steps[-1].offset + (plan.broker_down if steps[-1].kind == "broker" else 0.0)
    if last > plan.sending - 5:
        raise ValueError(f"the disturbances need {last + 5:.0f} s of traffic; {plan.events} events at {plan.rate:g}/s "
                         f"last {plan.sending:.0f} s: send more events or lower the rate")
    return steps


@dataclass
class Disturbance:
    """What happened at one step: when, the restart, and (filled in at the end) the recovery it measured."""

    step: Step
    at: float
    restarted_at: float | None = None
    start: Start | None = None  # a worker's new process
    broker_back_at: float | None = None
    recovery: Recovery | None = None

    @property
    def ready_after(self) -> float | None:
        """Seconds from the restart to the worker's "worker ready" (None: it never said so)."""
        if self.start is None or self.start.ready_at is None:
            return None
        return self.start.ready_at - self.start.at

    @property
    def crashed_before_ready(self) -> bool:
        return self.start is not None and self.start.ready_at is None and self.start.exited_at is not None


@dataclass
class Outcome:
    """Everything a chaos run measured."""

    plan: Plan
    sent: int = 0
    acknowledged: int = 0
    resent: int = 0
    tallies: list[TopicTally] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)
    disturbances: list[Disturbance] = field(default_factory=list)
    baseline: Baseline | None = None
    worst_latency: float | None = None
    undelivered_events: int = 0
    undelivered_sent: tuple[float, float] | None = None  # when (t+ s) the undelivered events were sent: first, last
    dead_letters: dict[str, str] = field(default_factory=dict)  # event id -> stage: reason, from hub.dlq
    seconds: float = 0.0
    traffic_started: float = 0.0  # epoch seconds: the t+0 of the disturbances and crashes
    logs: list[Path] = field(default_factory=list)
    log_findings: dict[str, dict[str, int]] = field(default_factory=dict)


SIGNS_OF_TROUBLE = ("ConsistencyError", "ProducerFenced", "worker stopped after a failure", "stage failed",
                    "Unexpected error in coordinator routine", "Traceback", '"level": "error"')


def run(plan: Plan, home: Path, port: int, *, say: Callable[[str], None] = lambda _: None,
        purge: bool = True) -> Outcome:
    """Start the cluster in ``home`` at ``port``, run the plan, count what arrived, stop everything."""
    steps = schedule(plan)
    # the run loses a broker on purpose: the clients' reconnect errors are expected, not news
    clients = [logging.getLogger(name) for name in ("kafka", "aiokafka")]
    levels = [client.level for client in clients]
    for client in clients:
        client.setLevel(logging.CRITICAL)
    try:
        return _run(plan, steps, home, port, say, purge)
    finally:
        for client, level in zip(clients, levels, strict=True):
            client.setLevel(level)


def _run(plan: Plan, steps: list[Step], home: Path, port: int, say: Callable[[str], None], purge: bool) -> Outcome:
    began = time.time()
    outcome = Outcome(plan)
    say(f"starting a 3-node cluster in {home} at port {port}")
    hub = start_hub(home, port)
    supervisor: Supervisor | None = None
    try:
        say(f"cluster up at {hub.cluster.bootstrap} ({time.time() - began:.0f} s); starting 2 workers")
        supervisor = Supervisor(hub)
        outcome.logs = [w.log_path for w in supervisor.workers]
        supervisor.start()
        names = output_topics(hub.registry)
        watcher = DeliveryWatcher(hub.settings, names)
        watcher.start()
        traffic = Traffic(hub, plan.events, plan.rate, seed=plan.seed)
        say(f"workers ready ({time.time() - began:.0f} s); sending {plan.events} events at {plan.rate:g}/s "
            f"for {plan.sending:.0f} s, {len(steps)} disturbances")
        traffic.start()
        outcome.traffic_started = t0 = time.time()
        settled = t0
        for step in steps:
            # a slow broker restart delays what follows: never two disturbances at once
            time.sleep(max(0.0, t0 + step.offset - time.time(), settled + plan.gap[0] / 2 - time.time()))
            if time.time() > t0 + plan.sending:
                say(f"  t+{time.time() - t0:5.1f} s  the traffic has ended: this disturbance's recovery cannot be timed")
            outcome.disturbances.append(_disturb(hub, supervisor, step, plan, say, t0))
            settled = time.time()
        traffic.wait(plan.sending + 300)
        outcome.sent, outcome.acknowledged, outcome.resent = len(traffic.sent_at), len(traffic.acked), traffic.resent
        expected = expected_deliveries(hub.registry, [e for e in traffic.events if e["id"] in traffic.acked])
        wanted = [d for deliveries in expected.values() for d in deliveries]
        say(f"traffic done: {outcome.acknowledged}/{outcome.sent} acknowledged ({outcome.resent} resent); "
            f"waiting for {watcher.missing(wanted)} of {len(wanted)} records")
        deadline = time.monotonic() + plan.drain
        while watcher.missing(wanted) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # a late duplicate has a moment to show
        behind = watcher.behind()
        if watcher.error is not None:
            say(f"the live watcher failed ({watcher.error!r}): the timings below are incomplete")
        if behind:
            say(f"the live watcher ({watcher.polls} polls) is behind on {len(behind)} partition(s): "
                + ", ".join(f"{tp.topic}[{tp.partition}] at {pos} of {end}" for tp, (pos, end) in sorted(behind.items())[:8]))
        watcher.stop()
        supervisor.wait_ready(timeout=120)  # the last restart's ready time too
        outcome.tallies = tally(expected, count_committed(hub.settings, names), traffic.sent_at)
        outcome.dead_letters = dead_letters(hub.settings, set(traffic.sent_at))
        _timings(outcome, expected, watcher.first_seen, traffic.sent_at, t0)
        outcome.crashes = list(supervisor.crashes)
        outcome.log_findings = {w.name: {sign: w.log_text().count(sign) for sign in SIGNS_OF_TROUBLE}
                                for w in supervisor.workers}
    finally:
        if supervisor is not None:
            supervisor.stop()
        hub.down(purge=purge)
    outcome.seconds = time.time() - began
    return outcome


def _disturb(hub: Hub, supervisor: Supervisor, step: Step, plan: Plan, say: Callable[[str], None],
             t0: float) -> Disturbance:
    if step.kind == "worker":
        killed_at, start = supervisor.kill(step.target)
        say(f"  t+{killed_at - t0:5.1f} s  SIGKILL worker {step.target}; restarted")
        return Disturbance(step, at=killed_at, restarted_at=start.at, start=start)
    at = time.time()
    hub.cluster.kill_node(int(step.target))
    say(f"  t+{at - t0:5.1f} s  SIGKILL broker node {step.target}; down for {plan.broker_down:g} s")
    time.sleep(max(0.0, at + plan.broker_down - time.time()))
    restarted = time.time()
    hub.cluster.restart_node(int(step.target), timeout=180)
    back = time.time()
    say(f"  t+{back - t0:5.1f} s  broker node {step.target} back ({back - restarted:.1f} s after its restart)")
    return Disturbance(step, at=at, restarted_at=restarted, broker_back_at=back)


def _timings(outcome: Outcome, expected: dict[str, list[tuple[str, str]]], seen: dict[tuple[str, str], float],
             sent_at: dict[str, float], t0: float) -> None:
    sending_ended = t0 + outcome.plan.sending
    arrived = delivered_at(expected, seen)
    acked_sent = {e: sent_at[e] for e in expected}
    first = outcome.disturbances[0].at if outcome.disturbances else sending_ended
    outcome.baseline = base = baseline(acked_sent, arrived, until=first, late_after=outcome.plan.late_after)
    latencies = [t - acked_sent[e] for e, t in arrived.items() if t is not None]
    outcome.worst_latency = max(latencies, default=None)
    undelivered = sorted(acked_sent[e] - t0 for e, t in arrived.items() if t is None)
    outcome.undelivered_events = len(undelivered)
    outcome.undelivered_sent = (undelivered[0], undelivered[-1]) if undelivered else None
    starts = [0.0] + [d.at for d in outcome.disturbances[:-1]]
    ends = [d.at for d in outcome.disturbances[1:]] + [sending_ended]
    for disturbance, since, until in zip(outcome.disturbances, starts, ends, strict=True):
        disturbance.recovery = recovery(disturbance.at, since, until, acked_sent, arrived, base.late_after)
