"""Kafka transactions that make faust's ``exactly_once`` hold for fan-out: one transaction per source partition.

faust 0.15 picks a transactional producer by the *destination* topic and
partition of each send (``{app}-{group of destination}-{destination partition}``),
while it commits the consumed offsets on the producer of the *source* partition.
An output to a topic the app does not consume raises ``KeyError`` and an output to
another partition lands in a different transaction from its input's offset, so a
crash can duplicate or lose it (faust-streaming issues #177, #440, #517).

casehub follows Kafka Streams instead: every record produced while an event is
processed goes into the transaction of that event's source partition, the same
transaction that commits the event's offset. Table changelog writes (buffered by
faust, always to the source partition) are flushed into the transaction before
its commit. A send made outside any event (the SLA timer) is not transactional;
the records it sends are idempotent commands.

faust also commits from a timer task while agents are halfway through an event:
the first outputs of an event would commit in one transaction and the rest in
the next, and a crash in between loses the rest (its table writes already say
"done"). The :class:`CommitGate` keeps commits between events: an agent holds it
from the moment it starts an event until it has sent every output and acked the
event; a commit (offsets computed, changelogs flushed, transaction committed)
holds it too.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.errors import ProducerFenced
from faust.streams import current_event
from faust.transport.consumer import TransactionManager
from faust.types import TP, AppT
from faust.types.tuples import RecordMetadata

from casehub.core.logging import get_logger

log = get_logger(__name__)


class CommitGate:
    """Events are processed side by side, but never while a commit runs: a transaction never splits an event.

    Agents hold it shared, one event each, until every output is sent and the event acked; a commit
    (offsets computed, changelogs flushed, transactions committed) holds it alone, and once it waits no
    new event starts, so commits are never starved.
    """

    def __init__(self) -> None:
        self._condition: asyncio.Condition | None = None
        self._active = 0
        self._committing = False

    @property
    def condition(self) -> asyncio.Condition:
        if self._condition is None:  # created on first use, inside the worker's event loop
            self._condition = asyncio.Condition()
        return self._condition

    @asynccontextmanager
    async def processing(self, event: Any) -> AsyncIterator[None]:
        """Hold the gate while ``event`` is processed; ack it (its offset joins the same transaction) on the way out."""
        async with self.condition:
            await self.condition.wait_for(lambda: not self._committing)
            self._active += 1
        try:
            yield
            event.ack()
        finally:
            async with self.condition:
                self._active -= 1
                self.condition.notify_all()

    @asynccontextmanager
    async def committing(self) -> AsyncIterator[None]:
        """Hold the gate alone: wait for the events in progress, keep new ones out."""
        async with self.condition:
            await self.condition.wait_for(lambda: not self._committing)
            self._committing = True
            await self.condition.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            async with self.condition:
                self._committing = False
                self.condition.notify_all()


class SourcePartitionTransactions(TransactionManager):
    """faust's TransactionManager with Kafka Streams' rule: outputs join the transaction of their input."""

    commit_gate: CommitGate = CommitGate()

    async def on_start(self) -> None:
        await super().on_start()
        force_commit = self.consumer.force_commit  # type: ignore[attr-defined]
        gate = self.commit_gate

        async def gated_force_commit(*args: Any, **kwargs: Any) -> bool:
            async with gate.committing():
                return bool(await force_commit(*args, **kwargs))

        self.consumer.force_commit = gated_force_commit  # type: ignore[method-assign,attr-defined]

    def transactional_id_for(self, tp: TP) -> str:
        """The transactional id that owns source partition ``tp`` (the one faust commits its offset with)."""
        group = self.app.assignor.group_for_topic(tp.topic)
        return f"{self.app.conf.id}-{group}-{tp.partition}"

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
        *,
        transactional_id: str | None = None,
    ) -> Awaitable[RecordMetadata]:
        event = current_event()
        if event is not None:
            transactional_id = self.transactional_id_for(event.message.tp)
        else:
            # buffered table changelog writes: faust sends them to the source partition of the same group
            transactional_id = self._changelog_transaction(topic, key, partition)
        return await self.producer.send(
            topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
        )

    async def send_all(self, records: Iterable[tuple[str, bytes | None, bytes | None, Any]]) -> None:
        """Append ``(topic, key, value, headers)`` records, in order, to the transaction of the current event.

        Straight to the transactional aiokafka producer: faust's per-record publishing path costs more
        than the record itself, and this runs for every output of every event.
        """
        event = current_event()
        if event is None:
            raise RuntimeError("send_all is for outputs of the event being processed")
        transactional_id = self.transactional_id_for(event.message.tp)
        producer: Any = self.producer
        async with producer._trn_locks[transactional_id]:
            transaction = producer._transaction_producers.get(transactional_id)
            if transaction is None:
                raise ProducerFenced(f"no transactional producer {transactional_id} (fenced or stopped)")
            for topic, key, value, headers in records:
                await transaction.send(topic, value, key=key, headers=headers)

    def _changelog_transaction(self, topic: str, key: bytes | None, partition: int | None) -> str | None:
        if topic not in self._changelog_topics():
            return None  # a timer's command: sent outside transactions, its consumer makes it idempotent
        group = self.app.assignor.group_for_topic(topic)
        p = self.consumer.key_partition(topic, key, partition)
        return None if p is None else f"{self.app.conf.id}-{group}-{p}"

    def _changelog_topics(self) -> set[str]:
        return {table.changelog_topic.get_topic_name() for table in self.app.tables.values()}

    async def commit(self, offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
        """Commit every source partition's transaction with its offsets, all partitions at once.

        faust commits them one after another; each is several round trips to the transaction
        coordinator, and no event is processed meanwhile (the gate), so they run concurrently here.
        """
        await self._drain_changelog_buffer()
        by_transaction: dict[str, dict[TP, int]] = defaultdict(dict)
        for tp, offset in offsets.items():
            by_transaction[self.transactional_id_for(tp)][tp] = offset
        try:
            await asyncio.gather(
                *(self._commit_one(tid, tp_offsets, start_new_transaction) for tid, tp_offsets in by_transaction.items())
            )
        except ProducerFenced as exc:  # another worker took these partitions over: stop, do not write twice
            log.warning("producer fenced", error=str(exc))
            await self.app.crash(exc)
        return True

    async def _commit_one(self, transactional_id: str, offsets: dict[TP, int], start_new: bool) -> None:
        producer: Any = self.producer
        async with producer._trn_locks[transactional_id]:
            transaction = producer._transaction_producers.get(transactional_id)
            if transaction is None:
                raise ProducerFenced(f"no transactional producer {transactional_id} (fenced or stopped)")
            await transaction.send_offsets_to_transaction(offsets, self.app.conf.id)
            await transaction.commit_transaction()
            if start_new:
                await transaction.begin_transaction()

    async def _drain_changelog_buffer(self) -> None:
        # table writes wait in faust's producer buffer; they belong to the transaction about to commit.
        # (ProducerBuffer.flush() gives up after 0.1 s without a send, so drain the queue directly.)
        buffer: Any = self.producer.buffer
        while not buffer.pending.empty():
            await buffer._send_pending(buffer.pending.get_nowait())


def install(app: AppT) -> CommitGate:
    """Make ``app`` use :class:`SourcePartitionTransactions` (before its consumer is created); returns its gate."""
    gate = CommitGate()
    manager = type("AppTransactions", (SourcePartitionTransactions,), {"commit_gate": gate})
    app.transport.TransactionManager = manager  # type: ignore[misc]
    return gate
