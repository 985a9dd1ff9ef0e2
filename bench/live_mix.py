"""Drives the simulator mix through running workers as partners would: each case's next record waits for the last.

A partner acts on what the hub delivered (a case id, a triage, a referral), so a case's records go one
step at a time: its next record is sent once the hub processed the one before it (it shows on
``cases.events``, or on ``hub.dlq``). Retries and broken copies go with the step they follow. Many cases
run side by side, so the workers always have work. Follow-ups carry the case id the hub gave the case's
report (read from ``cases.events``), swapped in byte for byte (``MixRecord.linked``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from simulator_mix import MixRecord, by_case

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings

Key = tuple[str, str]
"""(CloudEvents source, event id)"""


@dataclass
class LiveRun:
    """What one drive did: records sent, from the first send to the last step processed, per-step latencies."""

    sent: int = 0
    seconds: float = float("nan")
    latencies_ms: list[float] = field(default_factory=list)
    dead_lettered: int = 0
    stalled_cases: int = 0

    @property
    def events_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class _Case:
    records: list[MixRecord]
    cursor: int = 0

    @property
    def done(self) -> bool:
        return self.cursor >= len(self.records)

    def next_step(self) -> list[MixRecord]:
        """The records up to and including the next one the hub must process before the case goes on."""
        step: list[MixRecord] = []
        while not self.done:
            record = self.records[self.cursor]
            self.cursor += 1
            step.append(record)
            if record.gates:
                break
        return step


class Driver:
    """Sends ``records`` (as fast as they become ready, or at ``rate`` records/s) and watches the hub process them."""

    def __init__(self, settings: Settings, records: list[MixRecord], *, on_poll: Callable[[], None] | None = None):
        self.settings = settings
        self.cases = {ref: _Case(items) for ref, items in by_case(records).items()}
        self.case_ids: dict[str, str] = {}
        self.waiting: dict[Key, tuple[str, float]] = {}  # a sent step's last record -> (case, when sent)
        self.offsets: dict[tuple[str, int, int], Key] = {}  # where a gating record landed (to find its dead letter)
        self.ready: deque[MixRecord] = deque()
        self.run = LiveRun()
        self.on_poll = on_poll
        self._started = 0.0
        self._last_seen = 0.0

    async def drive(self, *, rate: float | None, timeout: float) -> LiveRun:
        conn = connection(self.settings, "admin").aiokafka()
        watcher = AIOKafkaConsumer(**conn, group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                                   fetch_max_wait_ms=20)
        producer = AIOKafkaProducer(**conn, acks="all", linger_ms=2, max_batch_size=512 * 1024)
        await watcher.start()
        await producer.start()
        try:
            cluster = await watcher._client.fetch_all_metadata()
            watched = [TopicPartition(t, p) for t in (topics.CASES_EVENTS, topics.HUB_DLQ)
                       for p in sorted(cluster.partitions_for_topic(t) or ())]
            watcher.assign(watched)
            await watcher.seek_to_end(*watched)
            for tp in watched:
                await watcher.position(tp)  # resolve the end now, before anything is sent
            for ref in self.cases:
                self._queue(ref)
            self._started = time.time()
            deadline = time.monotonic() + timeout
            sender = asyncio.create_task(self._send(producer, rate))
            while not self._finished() and time.monotonic() < deadline:
                batches = await watcher.getmany(timeout_ms=50, max_records=5000)
                now = time.time()
                for tp, records in batches.items():
                    for record in records:
                        self._seen(tp.topic, record, now)
                if self.on_poll is not None:
                    self.on_poll()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        finally:
            await producer.stop()
            await watcher.stop()
        self.run.seconds = self._last_seen - self._started
        self.run.stalled_cases = sum(1 for case in self.cases.values() if not case.done) + len(self.waiting)
        return self.run

    def _finished(self) -> bool:
        return not self.waiting and not self.ready and all(case.done for case in self.cases.values())

    def _queue(self, ref: str) -> None:
        self.ready.extend(self.cases[ref].next_step())

    async def _send(self, producer: AIOKafkaProducer, rate: float | None) -> None:
        started = time.perf_counter()
        while True:
            if not self.ready:
                await asyncio.sleep(0.002)
                continue
            record = self.ready.popleft()
            if rate:
                delay = started + self.run.sent / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            key, value, headers = record.linked(self.case_ids.get(record.case_ref or ""))
            future = await producer.send(record.topic, value, key=key, headers=headers)
            self.run.sent += 1
            if record.gates:
                ident = (record.source, record.event_id)
                self.waiting[ident] = (record.case_ref or "", time.time())
                future.add_done_callback(lambda f, ident=ident, topic=record.topic: self._landed(f, topic, ident))

    def _landed(self, future: Any, topic: str, ident: Key) -> None:
        if not future.cancelled() and future.exception() is None:
            meta = future.result()
            self.offsets[(topic, meta.partition, meta.offset)] = ident

    def _seen(self, topic: str, record: Any, now: float) -> None:
        headers = {name: value for name, value in record.headers or ()}
        if topic == topics.CASES_EVENTS:
            ident = (headers.get("ce_source", b"").decode(), headers.get("ce_id", b"").decode())
            dead = False
        else:
            where = (headers.get("hub.error.topic", b"").decode(), int(headers.get("hub.error.partition", b"-1")),
                     int(headers.get("hub.error.offset", b"-1")))
            found = self.offsets.pop(where, None)
            if found is None:
                return
            ident, dead = found, True
        waiting = self.waiting.pop(ident, None)
        if waiting is None:
            return
        ref, sent_at = waiting
        self._last_seen = now
        if dead:
            self.run.dead_lettered += 1
        else:
            self.run.latencies_ms.append((now - sent_at) * 1000)
            subject = headers.get("ce_subject")
            if subject and headers.get("ce_type") == b"case.reported" and ref not in self.case_ids:
                self.case_ids[ref] = subject.decode()
        if ref in self.cases:
            self._queue(ref)


async def drive(settings: Settings, records: list[MixRecord], *, rate: float | None = None, timeout: float,
                on_poll: Callable[[], None] | None = None) -> LiveRun:
    """Run ``records`` through the workers listening now; see :class:`Driver`."""
    return await Driver(settings, records, on_poll=on_poll).drive(rate=rate, timeout=timeout)
