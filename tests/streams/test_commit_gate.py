"""The commit gate's bookkeeping around seeks (unit level; the SIGKILL test drives it against the broker).

A worker restarted after a crash seeks to the committed offsets while its agents already process the
records fetched first. These tests pin the two rules that keep that safe: a record fetched twice is
processed once, and a seek never moves a partition back behind what the worker committed itself.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from casehub.streams.exactly_once import CommitGate, SourcePartitionTransactions

INBOUND = TP("partner.lao-t1.inbound", 0)


class FakeConsumer:
    """faust's consumer bookkeeping, with a broker that still reports an older committed offset."""

    def __init__(self, broker_committed: int) -> None:
        self._committed_offset: dict[TP, int | None] = defaultdict(lambda: None)
        self._acked_index: dict[TP, set[int]] = defaultdict(set)
        self.broker_committed = broker_committed
        self.sought: list[tuple[TP, int]] = []

    def assignment(self) -> set[TP]:
        return {INBOUND}

    async def perform_seek(self) -> None:
        await asyncio.sleep(0)
        self._committed_offset[INBOUND] = self.broker_committed

    async def seek(self, tp: TP, offset: int) -> None:
        self.sought.append((tp, offset))


def manager(consumer: FakeConsumer) -> tuple[SourcePartitionTransactions, CommitGate]:
    gate = CommitGate()
    found = SourcePartitionTransactions.__new__(SourcePartitionTransactions)
    found.__dict__.update(consumer=consumer, commit_gate=gate)
    gate.already_processed = found._already_processed
    return found, gate


def event(offset: int) -> Any:
    acks: list[int] = []
    return SimpleNamespace(message=SimpleNamespace(tp=INBOUND, offset=offset), ack=lambda: acks.append(offset), acks=acks)


def test_a_record_fetched_again_after_a_seek_is_not_processed_twice() -> None:
    consumer = FakeConsumer(broker_committed=80)
    _, gate = manager(consumer)
    consumer._committed_offset[INBOUND] = 100
    consumer._acked_index[INBOUND] = {100, 101}

    async def run() -> list[tuple[int, bool, list[int]]]:
        seen = []
        for offset in (99, 100, 101, 102):
            e = event(offset)
            async with gate.processing(e) as fresh:
                pass
            seen.append((offset, fresh, e.acks))
        return seen

    assert asyncio.run(run()) == [
        (99, False, []),  # committed already
        (100, False, []),  # processed and acked, in the open transaction
        (101, False, []),
        (102, True, [102]),
    ]


def test_a_seek_never_moves_a_partition_back_behind_its_own_commits() -> None:
    consumer = FakeConsumer(broker_committed=80)  # the commit of 318 is not visible to the fetch yet
    transactions, _ = manager(consumer)
    consumer._committed_offset[INBOUND] = 318
    asyncio.run(transactions._perform_seek(consumer.perform_seek))
    assert consumer._committed_offset[INBOUND] == 318
    assert consumer.sought == [(INBOUND, 318)]


def test_a_seek_takes_the_brokers_offset_when_it_is_ahead() -> None:
    consumer = FakeConsumer(broker_committed=400)  # e.g. a partition this worker just got assigned
    transactions, _ = manager(consumer)
    consumer._committed_offset[INBOUND] = 318
    asyncio.run(transactions._perform_seek(consumer.perform_seek))
    assert consumer._committed_offset[INBOUND] == 400
    assert consumer.sought == []


def test_a_seek_waits_for_the_event_in_progress_and_holds_new_ones_back() -> None:
    consumer = FakeConsumer(broker_committed=80)
    transactions, gate = manager(consumer)
    order: list[str] = []

    async def run() -> None:
        release = asyncio.Event()

        async def process(offset: int, hold: bool) -> None:
            async with gate.processing(event(offset)):
                order.append(f"start {offset}")
                if hold:
                    await release.wait()
                order.append(f"end {offset}")

        async def seek() -> None:
            await transactions._perform_seek(consumer.perform_seek)
            order.append("seek done")

        first = asyncio.create_task(process(81, hold=True))
        await asyncio.sleep(0.01)
        seeking = asyncio.create_task(seek())
        await asyncio.sleep(0.01)
        second = asyncio.create_task(process(82, hold=False))
        await asyncio.sleep(0.01)
        assert order == ["start 81"]  # the seek waits for 81; 82 waits for the seek
        release.set()
        await asyncio.gather(first, seeking, second)

    asyncio.run(run())
    assert order == ["start 81", "end 81", "seek done", "start 82", "end 82"]


def test_no_event_starts_between_the_final_commit_and_the_next_transactions() -> None:
    gate = CommitGate()
    started: list[int] = []

    async def run() -> None:
        async def process(offset: int) -> None:
            async with gate.processing(event(offset)):
                started.append(offset)

        gate.transactions_ended()  # a stop or a revocation committed and ended every transaction
        waiting = asyncio.create_task(process(5))
        await asyncio.sleep(0.02)
        assert started == []  # it would send into no transaction
        await gate.transactions_begun()  # partitions assigned again
        await asyncio.wait_for(waiting, timeout=1.0)

    asyncio.run(run())
    assert started == [5]


def test_events_get_the_commit_interval_between_commits_or_as_long_as_the_last_commit_took() -> None:
    """faust's commit timer ticks from the start of the last commit: commits slower than the interval (a busy
    broker) followed each other back to back, and the gate let no event run between them."""
    gate = CommitGate()
    now = [100.0]
    gate.clock = lambda: now[0]

    async def run() -> None:
        assert gate.window_passed(0.05)  # no commit yet
        async with gate.committing():
            now[0] += 0.5  # a slow commit
        assert gate.last_commit_seconds == 0.5  # what casehub_commit_seconds observes
        now[0] += 0.3
        assert not gate.window_passed(0.05)  # events get the next 0.5 s, not the 0.05 s the timer asks
        now[0] += 0.2
        assert gate.window_passed(0.05)

    asyncio.run(run())
