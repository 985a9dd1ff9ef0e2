"""Exactly-once under faults: 3 brokers, 2 supervised workers, 3 worker SIGKILLs and a broker's loss; every event
reaches every topic it should, once, and no worker dies unbidden (bench/chaos.py is the longer, timed run)."""

from __future__ import annotations

import shutil

import pytest

from bench.chaos_parts import free_port_block
from bench.chaos_scenario import Plan, run
from casehub.core.settings import Settings

PLAN = Plan(events=280, rate=4.0, kills=3, gap=(10.0, 14.0), broker_after=1, broker_down=8.0, warmup=8.0, drain=120.0)


@pytest.mark.cluster
@pytest.mark.timeout(600)
def test_worker_kills_and_a_lost_broker_lose_nothing_and_repeat_nothing(settings: Settings, unique: str) -> None:
    # its own home and ports (below the ephemeral range): never the shared test broker's
    home = (settings.home / "chaos-tests" / unique).resolve()
    outcome = run(PLAN, home, free_port_block(9))

    assert outcome.acknowledged == outcome.sent == PLAN.events
    assert [d.step.kind for d in outcome.disturbances] == ["worker", "broker", "worker", "worker"]
    assert len(outcome.tallies) == 6, outcome.tallies  # cases.events, cases.state, audit entries, 3 outbound topics
    # every shortfall at once: which topics lost or repeated what, and which workers died unbidden
    problems = [f"{t.topic}: {t.lost} lost (e.g. {', '.join(t.lost_keys)}), {t.duplicates} duplicated "
                f"(e.g. {', '.join(t.duplicated_keys)}), {t.unexpected} unasked for"
                for t in outcome.tallies if t.lost or t.duplicates or t.unexpected]
    problems += [f"{len(outcome.dead_letters)} event(s) dead-lettered, e.g. {next(iter(outcome.dead_letters.values()))}"
                 ] if outcome.dead_letters else []
    problems += [f"worker {c.worker} exited ({c.exit_code}) without being killed: {c.log_tail[-600:]}"
                 for c in outcome.crashes]
    assert not problems, "\n".join([*problems, f"worker logs: {', '.join(str(p) for p in outcome.logs)}"])
    shutil.rmtree(home, ignore_errors=True)  # kept when an assertion failed: its broker and worker logs


def test_the_schedule_fits_the_traffic_or_says_what_to_change() -> None:
    from bench.chaos_scenario import schedule

    steps = schedule(PLAN)
    assert [s.kind for s in steps] == ["worker", "broker", "worker", "worker"]
    assert [s.target for s in steps if s.kind == "worker"] == ["w1", "w2", "w1"]
    with pytest.raises(ValueError, match="send more events or lower the rate"):
        schedule(Plan(events=100, rate=10.0, kills=5))


def test_tally_counts_lost_duplicated_and_unasked_records_per_topic() -> None:
    from collections import Counter

    from bench.chaos_counts import tally

    expected = {"e1": [("cases.events", "e1"), ("hub.audit", "e1>hosp-x")],
                "e2": [("cases.events", "e2"), ("hub.audit", "e2>hosp-x")]}
    counts = {"cases.events": Counter({"e1": 2, "e2": 1}), "hub.audit": Counter({"e1>hosp-x": 1, "e2>ngo-x": 1})}
    found = {t.topic: (t.expected, t.delivered, t.duplicates, t.lost, t.unexpected) for t in tally(expected, counts)}
    assert found == {"cases.events": (2, 2, 1, 0, 0), "hub.audit": (2, 1, 0, 1, 1)}


def test_ports_are_chosen_below_the_ephemeral_range() -> None:
    base = free_port_block(9)
    assert base >= 20000 and base + 8 < 32768
