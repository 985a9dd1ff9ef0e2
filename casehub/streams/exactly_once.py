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
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from faust.streams import current_event
from faust.transport.consumer import TransactionManager
from faust.types import TP, AppT
from faust.types.tuples import RecordMetadata

from casehub.core.logging import get_logger

log = get_logger(__name__)


class CommitGate:
    """Mutual exclusion between processing one event and committing: a transaction never splits an event."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:  # created on first use, inside the worker's event loop
            self._lock = asyncio.Lock()
        return self._lock

    @asynccontextmanager
    async def processing(self, event: Any) -> AsyncIterator[None]:
        """Hold the gate while ``event`` is processed; ack it (its offset joins the same transaction) on the way out."""
        async with self.lock:
            yield
            event.ack()


class SourcePartitionTransactions(TransactionManager):
    """faust's TransactionManager with Kafka Streams' rule: outputs join the transaction of their input."""

    commit_gate: CommitGate = CommitGate()

    async def on_start(self) -> None:
        await super().on_start()
        force_commit = self.consumer.force_commit  # type: ignore[attr-defined]
        gate = self.commit_gate

        async def gated_force_commit(*args: Any, **kwargs: Any) -> bool:
            async with gate.lock:
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

    def _changelog_transaction(self, topic: str, key: bytes | None, partition: int | None) -> str | None:
        if topic not in self._changelog_topics():
            return None  # a timer's command: sent outside transactions, its consumer makes it idempotent
        group = self.app.assignor.group_for_topic(topic)
        p = self.consumer.key_partition(topic, key, partition)
        return None if p is None else f"{self.app.conf.id}-{group}-{p}"

    def _changelog_topics(self) -> set[str]:
        return {table.changelog_topic.get_topic_name() for table in self.app.tables.values()}

    async def commit(self, offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
        await self._drain_changelog_buffer()
        return await super().commit(offsets, start_new_transaction=start_new_transaction)

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
