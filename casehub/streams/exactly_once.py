"""Kafka transactions that make faust's ``exactly_once`` hold for fan-out: one transaction per source partition.

faust 0.15 picks a transactional producer by the *destination* topic and partition of each send (``{app}-{group of
destination}-{destination partition}``), while it commits the consumed offsets on the producer of the *source*
partition. An output to a topic the app does not consume raises ``KeyError`` and an output to another partition
lands in a different transaction from its input's offset, so a crash can duplicate or lose it (faust-streaming
issues #177, #440, #517).

casehub follows Kafka Streams instead: every record produced while an event is processed goes into the transaction
of that event's source partition, the same transaction that commits the event's offset. Table changelog writes
(buffered by faust, always to the source partition) are flushed into the transaction before its commit, and the
table writes themselves reach RocksDB only once it committed (``table_transactions``). A send made
outside any event (the SLA timer) is not transactional; the records it sends are idempotent commands.

faust also commits from a timer task while agents are halfway through an event: the first outputs of an event would
commit in one transaction and the rest in the next, and a crash in between loses the rest (its table writes already
say "done"). The :class:`CommitGate` keeps commits between events: an agent holds it from the moment it starts an
event until it has sent every output and acked the event; a commit (offsets computed, changelogs flushed,
transaction committed) holds it too.

Before each commit every record of the transaction must be acknowledged; one the cluster will not take is
dead-lettered in it (``deliveries``); a fenced transaction is abandoned to the partition's new owner. faust's
private parts are reached through ``faust_compat`` only.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from aiokafka.errors import ProducerFenced
from faust.streams import current_event
from faust.types import TP, AppT
from faust.types.tuples import RecordMetadata

from casehub.core.logging import get_logger
from casehub.streams.deliveries import Deliveries, is_fencing
from casehub.streams.faust_compat import consumer as consumer_compat
from casehub.streams.faust_compat import producer as producer_compat
from casehub.streams.table_transactions import Outgoing as Outgoing
from casehub.streams.table_transactions import TransactionalTable as TransactionalTable
from casehub.streams.table_transactions import commit_tables, drop_tables, tables_of

log = get_logger(__name__)
FENCED_GRACE_SECONDS = 60.0  # a fenced partition's revocation (the rebalance that moved it) comes long before


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
        self._ended = False
        self._commit_started = self._commit_ended = 0.0
        self.clock: Callable[[], float] = time.monotonic
        self.first_offsets: dict[TP, int] = {}
        """The first offset processed per partition since the last assignment (see ``_fill_head_gap``)."""
        self.already_processed: Callable[[TP, int], bool] = lambda tp, offset: False
        """Whether this process already processed (or committed) that offset; set by the transaction manager."""
        self.on_commit: Callable[[float], None] = lambda seconds: None
        """Told how long each commit held events back (the worker's metrics observe it)."""

    @property
    def condition(self) -> asyncio.Condition:
        if self._condition is None:  # created on first use, inside the worker's event loop
            self._condition = asyncio.Condition()
        return self._condition

    @asynccontextmanager
    async def processing(self, event: Any) -> AsyncIterator[bool]:
        """Hold the gate while ``event`` is processed; ack it (its offset joins the same transaction) on the way out.

        Yields whether the event is new. A record comes twice when a seek (rebalance, recovery) fetches again what
        the stream queue already holds; the second copy must not be processed: its outputs are already in this
        partition's transaction, and the aggregate cells would count it twice.
        """
        async with self.condition:
            await self.condition.wait_for(lambda: not self._committing and not self._ended)
            self._active += 1
        tp, offset = event.message.tp, event.message.offset
        fresh = not self.already_processed(tp, offset)
        if fresh:
            self.first_offsets.setdefault(tp, offset)
        try:
            yield fresh
            if fresh:
                event.ack()
        finally:
            async with self.condition:
                self._active -= 1
                self.condition.notify_all()

    def transactions_ended(self) -> None:
        """The final commit ended every transaction (worker stopping, or partitions revoked): no event may start.

        An event processed now would send into no transaction (aiokafka refuses: the agent, then the worker,
        crashes) and its offset would wait for a commit that cannot come.
        """
        self._ended = True

    async def transactions_begun(self) -> None:
        """Transactions are open again (partitions assigned): events may start."""
        async with self.condition:
            self._ended = False
            self.condition.notify_all()

    @asynccontextmanager
    async def committing(self) -> AsyncIterator[None]:
        """Hold the gate alone: wait for the events in progress, keep new ones out."""
        async with self.condition:
            await self.condition.wait_for(lambda: not self._committing)
            self._committing = True
            await self.condition.wait_for(lambda: self._active == 0)
        self._commit_started = self.clock()
        try:
            yield
        finally:
            self._commit_ended = self.clock()
            async with self.condition:
                self._committing = False
                self.condition.notify_all()

    @property
    def last_commit_seconds(self) -> float:
        return self._commit_ended - self._commit_started

    def window_passed(self, interval: float) -> bool:
        """Whether events had ``interval`` seconds (or, if longer, as long as the last commit took) since it ended.

        faust's commit timer starts a commit every interval from the start of the one before; a commit slower than
        the interval (a busy broker) started the next one as soon as it ended, and the gate left events no time
        at all between them. Now events always get at least half of the time.
        """
        since = self.clock() - self._commit_ended
        return since >= max(interval, self._commit_ended - self._commit_started)


class SourcePartitionTransactions(producer_compat.TransactionManagerHooks):  # type: ignore[misc]
    """faust's TransactionManager with Kafka Streams' rule: outputs join the transaction of their input."""

    commit_gate: CommitGate = CommitGate()
    deliveries: Deliveries = Deliveries()
    fenced_since: dict[str, float] = {}  # one per app: install
    output_topics: frozenset[str] = frozenset()
    """Every topic the pipeline writes (the topology sets it): each new producer fetches their metadata at once."""

    async def on_start(self) -> None:
        await super().on_start()
        gate = self.commit_gate

        def gated(force_commit: consumer_compat.ForceCommit) -> consumer_compat.ForceCommit:
            async def gated_force_commit(*args: Any, **kwargs: Any) -> bool:
                final = kwargs.get("start_new_transaction") is False  # stopping, or partitions revoked
                if not final and not gate.window_passed(self.app.conf.broker_commit_interval):
                    return False  # the next timer tick commits what this one would have
                async with gate.committing():
                    committed = bool(await force_commit(*args, **kwargs))
                gate.on_commit(gate.last_commit_seconds)
                return committed

            return gated_force_commit

        consumer: Any = self.consumer
        consumer_compat.around_force_commit(consumer, gated)
        consumer_compat.around_perform_seek(consumer, lambda perform_seek: partial(self._perform_seek, perform_seek))
        gate.already_processed = self._already_processed
        consumer_compat.before_new_offset(consumer, self._fill_head_gap)

    def _already_processed(self, tp: TP, offset: int) -> bool:
        committed = consumer_compat.committed_offset(self.consumer, tp)
        return (committed is not None and offset < committed) or consumer_compat.is_acked(self.consumer, tp, offset)

    async def _perform_seek(self, perform_seek: Callable[[], Awaitable[None]]) -> None:
        """faust's seek to the committed offsets, made safe to run while records are processed.

        faust seeks after table recovery and whenever a fetch returns while flow is stopped, with agents still
        working through queued records. It reads the committed offsets from the broker and then overwrites its own
        record of them; when a commit completed in between (or the broker still reports the offset of a transaction
        whose markers are being written), the record moves back behind offsets already taken off the ack list, and
        ``_new_offset`` never commits that partition again: every later output waits in a transaction the broker
        finally aborts (the worker stalls after a crash and restart). Under the gate no commit or event runs
        meanwhile, and a partition is never moved back behind what this process has committed itself.
        """
        consumer: Any = self.consumer
        async with self.commit_gate.committing():
            ours = consumer_compat.committed_offsets(consumer)
            await perform_seek()
            assigned = consumer.assignment()
            for tp, offset in ours.items():
                found = consumer_compat.committed_offset(consumer, tp)
                if tp in assigned and (found is None or found < offset):
                    await consumer.seek(tp, offset)
                    consumer_compat.keep_committed_offset(consumer, tp, offset)

    def _fill_head_gap(self, tp: TP) -> None:
        """Count the offsets read_committed skipped right after an assignment as done.

        After a restart a partition often begins with records of transactions the crashed worker left open, now
        aborted, and with transaction markers; the consumer never delivers them. faust records such gaps only
        between two delivered records, so the head gap stays and ``_new_offset`` refuses to commit that partition
        ever again: its outputs wait in a transaction that never commits. Every offset from the committed position
        up to the first record processed since the assignment was skipped by the consumer, never delivered, so it is
        safe to treat as acknowledged.
        """
        consumer = self.consumer
        committed = consumer_compat.committed_offset(consumer, tp)
        first = self.commit_gate.first_offsets.get(tp)
        acked = consumer_compat.acked_offsets(consumer, tp)
        if committed is None or first is None or not acked or first <= committed:
            return
        if min(acked) == first:
            consumer_compat.count_as_acked(consumer, tp, committed, first)

    async def on_rebalance(self, assigned: Any, revoked: Any, newly_assigned: Any) -> None:
        self.commit_gate.first_offsets.clear()  # positions are sought again: the next record is the new head
        # ``revoked`` here is what this worker really lost (faust revokes everything first and may give the same
        # partitions back; those keep their open transactions, which commit later, so their writes must stay)
        for tp in revoked:  # their producers stop, their transactions never commit
            if not self.app.assignor.is_standby(tp):
                self.deliveries.forget(tid := self.transactional_id_for(tp))
                self.fenced_since.pop(tid, None)
                self._discard_tables(tp)
        await super().on_rebalance(assigned, revoked, newly_assigned)

    def _discard_tables(self, tp: TP) -> None:
        """Table writes of a transaction that will never commit: forget them (RocksDB holds committed writes only;
        the partition's next owner restores the changelog's tail from the offset stored with them)."""
        tid = self.transactional_id_for(tp)
        dropped = drop_tables(tables_of(self.app, tid, [tp.partition], self.transactional_id_for))
        if dropped:
            log.warning("uncommitted table writes of a revoked partition dropped", partition=str(tp),
                        transactional_id=tid, writes=dropped)

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

    async def send_all(self, records: Iterable[Outgoing]) -> None:
        """Append records, in order, to the transaction of the event being processed.

        Straight to the transactional aiokafka producer: faust's per-record publishing path costs more
        than the record itself, and this runs for every output of every event.
        """
        event = current_event()
        if event is None:
            raise RuntimeError("send_all is for outputs of the event being processed")
        transactional_id = self.transactional_id_for(event.message.tp)
        async with producer_compat.transaction_of(self.producer, transactional_id) as transaction:
            if producer_compat.is_fenced(transaction):
                return  # another worker owns the partition now and processes this event again: see commit
            for outgoing in records:
                record = await self.deliveries.checked(transaction, outgoing)
                future = await transaction.send(
                    record.topic, record.value, key=record.key, headers=list(record.headers), partition=record.partition
                )
                self.deliveries.track(transactional_id, record, future)
                if record.on_sent is not None:
                    future.add_done_callback(record.on_sent)

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

        faust commits them one after another; each is several round trips to the transaction coordinator, and no
        event is processed meanwhile (the gate), so they run concurrently here.
        """
        await self._drain_changelog_buffer()
        by_transaction: dict[str, dict[TP, int]] = defaultdict(dict)
        for tp, offset in offsets.items():
            by_transaction[self.transactional_id_for(tp)][tp] = offset
        outcomes = await asyncio.gather(
            *(self._commit_one(tid, tp_offsets, start_new_transaction) for tid, tp_offsets in by_transaction.items()),
            return_exceptions=True,
        )
        fenced: list[TP] = []
        for (tid, tp_offsets), outcome in zip(by_transaction.items(), outcomes, strict=True):
            if isinstance(outcome, BaseException) and not is_fencing(outcome):
                raise outcome
            if outcome is not None:
                await self._abandon(tid, list(tp_offsets), outcome)
                fenced += tp_offsets
        committed_any = len(fenced) < len(offsets)
        producer_compat.withdraw_from_commit(offsets, fenced)
        if not start_new_transaction:
            self.commit_gate.transactions_ended()
        return committed_any

    async def _abandon(self, transactional_id: str, partitions: list[TP], error: BaseException) -> None:
        """Fenced: the partitions' new owner re-reads them from the committed offsets; their work here is dropped.

        The rebalance that moved them revokes them here soon; still assigned after FENCED_GRACE_SECONDS, they are
        stuck (the producer never sends again): the worker stops, to restart from its last commit."""
        self.deliveries.forget(transactional_id)
        drop_tables(tables_of(self.app, transactional_id, [tp.partition for tp in partitions], self.transactional_id_for))
        first = self.fenced_since.setdefault(transactional_id, time.monotonic())
        log.warning("transaction fenced; its partitions' uncommitted work is left to their new owner",
                    transactional_id=transactional_id, partitions=[str(tp) for tp in partitions], error=repr(error))
        if time.monotonic() - first > FENCED_GRACE_SECONDS:
            await self.app.crash(ProducerFenced(f"{transactional_id} fenced, its partitions still assigned here"))

    async def on_transactions_started(self, transactional_ids: list[str]) -> None:
        await asyncio.gather(*(producer_compat.know_topics(self.producer, tid, self.output_topics)
                               for tid in transactional_ids if self.output_topics))
        await self.commit_gate.transactions_begun()

    async def _commit_one(self, transactional_id: str, offsets: dict[TP, int], start_new: bool) -> None:
        async with producer_compat.transaction_of(self.producer, transactional_id) as transaction:
            if producer_compat.is_fenced(transaction):
                raise ProducerFenced(f"the producer of {transactional_id} was fenced")
            if not producer_compat.in_transaction(transaction):
                # ended by the final commit of a stop or a revocation; the gate has held events back since,
                # so only offsets moved (skipped transaction markers): commit them in a transaction of their own
                await transaction.begin_transaction()
            # the offsets travel while the last records are acknowledged (a round trip of the commit's four fewer);
            # a refused record is dead-lettered into the transaction before it commits either way
            refused, _ = await asyncio.gather(self.deliveries.settle(transactional_id, transaction),
                                              transaction.send_offsets_to_transaction(offsets, self.app.conf.id))
            await transaction.commit_transaction()
            commit_tables(tables_of(self.app, transactional_id, [tp.partition for tp in offsets],
                                    self.transactional_id_for))
            if start_new and not refused:
                await transaction.begin_transaction()
        if start_new and refused:
            # a fresh producer id and epoch: its sequence numbers start again where the broker's are
            await self.producer.stop_transaction(transactional_id)
            await self.producer.maybe_begin_transaction(transactional_id)

    async def _drain_changelog_buffer(self) -> None:
        # table writes wait in faust's producer buffer; they belong to the transaction about to commit
        await producer_compat.drain_buffer(self.producer)


# After a commit the coordinator still writes the transaction's markers for a few milliseconds; a request of
# the next transaction meanwhile is refused with CONCURRENT_TRANSACTIONS and retried after the producer's
# retry backoff, 100 ms by default in aiokafka (KAFKA-5477; the Java client retries these after 20 ms). A
# commit holds every event back, so about 1 % of commits took 100-130 ms and set the pipeline's p99;
# with 10 ms the slowest commit measured 35 ms.
TRANSACTION_RETRY_BACKOFF_MS = 10


def install(app: AppT) -> CommitGate:
    """Make ``app`` use :class:`SourcePartitionTransactions` (before its consumer is created); returns its gate."""
    gate = CommitGate()
    own = {"commit_gate": gate, "deliveries": Deliveries(), "fenced_since": {}, "output_topics": frozenset()}
    manager = type("AppTransactions", (SourcePartitionTransactions,), own)
    app.transport.TransactionManager = manager  # type: ignore[misc]
    producer_compat.add_producer_settings(app, lambda: _transactional_settings(app))
    return gate


def _transactional_settings(app: AppT) -> dict[str, Any]:
    """Transactional producers retry after TRANSACTION_RETRY_BACKOFF_MS instead of aiokafka's 100 ms."""
    return {"retry_backoff_ms": TRANSACTION_RETRY_BACKOFF_MS} if app.in_transaction else {}
