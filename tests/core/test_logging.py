"""Log lines an operator reads: a Kafka client repeating one error while a broker is down is said once per window."""

from __future__ import annotations

import logging

from casehub.core.logging import RepeatedClientErrors


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_clients_repeated_error_passes_once_per_window_then_says_how_many_were_held_back() -> None:
    clock = _Clock()
    repeats = RepeatedClientErrors(window=30.0, clock=clock)
    passed = [r for i in range(50) if repeats.filter(r := _record("aiokafka.conn", "Unable connect to %r: %s", i, "refused"))]
    assert len(passed) == 1 and passed[0].getMessage() == "Unable connect to 0: refused"

    clock.now += 31
    later = _record("aiokafka.conn", "Unable connect to %r: %s", 3, "refused")
    assert repeats.filter(later)
    assert later.getMessage() == "Unable connect to 3: refused (and 49 more like it in the last 30 s)"


def test_other_messages_and_the_hubs_own_logs_are_never_held_back() -> None:
    repeats = RepeatedClientErrors(window=30.0, clock=_Clock())
    assert repeats.filter(_record("aiokafka.conn", "Unable connect to %r", 1))
    assert repeats.filter(_record("aiokafka.consumer", "Heartbeat failed"))
    assert all(repeats.filter(_record("casehub.streams.core", "dead-lettered")) for _ in range(5))


def test_the_commit_timers_overlap_warning_is_said_once_per_window() -> None:
    repeats = RepeatedClientErrors(window=30.0, clock=_Clock())
    overlaps = [_record("mode.timers", "Timer %s is overlapping (interval=%r runtime=%r)", "commit", 0.05, 0.05 + i / 100)
                for i in range(20)]
    assert [r for r in overlaps if repeats.filter(r)] == overlaps[:1]
