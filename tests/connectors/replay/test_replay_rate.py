"""--rate: the replay waits so that no more than N records a second go out (clock and sleep observed, not timed)."""

from __future__ import annotations

import pytest

from casehub.connectors.replay import replay


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(replay.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(replay.time, "sleep", fake.sleep)
    return fake


def test_records_are_paced_to_the_rate(clock: Clock) -> None:
    pacer = replay.Pacer(50.0)
    for sent in range(1, 101):
        pacer.wait(sent)
    assert clock.now - 100.0 == pytest.approx(2.0)  # 100 records at 50/s take two seconds, however fast they came


def test_no_rate_never_waits(clock: Clock) -> None:
    pacer = replay.Pacer(None)
    for sent in range(1, 1001):
        pacer.wait(sent)
    assert clock.slept == []
