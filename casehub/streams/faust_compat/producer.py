"""faust's producers (one aiokafka producer per transactional id) and the aiokafka internals of a stuck transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from enum import Enum
from typing import Any, Protocol, cast

from aiokafka.errors import ProducerFenced
from faust.transport.consumer import TransactionManager
from faust.types import TP

USES: tuple[tuple[str, str], ...] = (
    ("faust.transport.drivers.aiokafka:Producer", "_settings_extra"),
    ("faust.transport.drivers.aiokafka:Producer", "_trn_locks"),
    ("faust.transport.drivers.aiokafka:Producer", "_transaction_producers"),
    ("faust.transport.producer:ProducerBuffer", "pending"),
    ("faust.transport.producer:ProducerBuffer", "_send_pending"),
    ("faust.transport.consumer:TransactionManager", "_start_transactions"),
    ("faust.transport.consumer:TransactionManager", "commit"),
    ("faust.transport.consumer:Consumer", "_commit_offsets"),
    ("aiokafka.producer.producer:AIOKafkaProducer", "_txn_manager"),
    ("aiokafka.producer.producer:AIOKafkaProducer", "_message_accumulator"),
    ("aiokafka.producer.message_accumulator:MessageAccumulator", "_batches"),
    ("aiokafka.producer.message_accumulator:MessageBatch", "_drain_waiter"),
    ("aiokafka.producer.message_accumulator:MessageBatch", "_builder"),
    ("aiokafka.producer.message_accumulator:MessageAccumulator", "_waiter_future"),
    ("aiokafka.producer.transaction_manager:TransactionManager", "_pending_txn_partitions"),
)
"""(where, name) of everything this module touches that faust or aiokafka do not promise to keep."""


class ClusterMetadata(Protocol):
    """aiokafka's view of the cluster (``client.cluster``)."""

    unauthorized_topics: set[str]

    def partitions_for_topic(self, topic: str) -> set[int] | None: ...

    def topics(self) -> set[str]: ...


class KafkaClient(Protocol):
    """aiokafka's client of one producer (``producer.client``)."""

    cluster: ClusterMetadata

    def add_topic(self, topic: str) -> Any: ...

    def force_metadata_update(self) -> asyncio.Future[bool]: ...

    def set_topics(self, topics: list[str]) -> asyncio.Future[bool]: ...


class TransactionalProducer(Protocol):
    """The aiokafka producer that holds the transaction of one transactional id."""

    client: KafkaClient

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   partition: int | None = None, timestamp_ms: int | None = None,
                   headers: list[tuple[str, bytes]] | None = None) -> asyncio.Future[Any]: ...

    async def begin_transaction(self) -> None: ...

    async def commit_transaction(self) -> None: ...

    async def send_offsets_to_transaction(self, offsets: Mapping[TP, int], group_id: str) -> None: ...


class _TxnManager(Protocol):
    _pending_txn_partitions: set[Any]

    def is_in_transaction(self) -> bool: ...

    def is_fatal_error(self) -> bool: ...


class _Batch(Protocol):
    _drain_waiter: asyncio.Future[None]

    def failure(self, exception: BaseException) -> None: ...


class _Accumulator(Protocol):
    _batches: dict[Any, Any]


class _ProducerInternals(Protocol):
    _txn_manager: _TxnManager
    _message_accumulator: _Accumulator


@asynccontextmanager
async def transaction_of(producer: object, transactional_id: str) -> AsyncIterator[TransactionalProducer]:
    """The transactional producer of ``transactional_id``, held under faust's lock for it.

    Raises ProducerFenced when faust has none (stopped after a revocation, or dropped when it was fenced).
    """
    faust_producer: Any = producer
    lock = faust_producer._trn_locks.get(transactional_id)
    if lock is None:
        raise ProducerFenced(f"no transactional producer {transactional_id} (fenced or stopped)")
    async with lock:
        found = faust_producer._transaction_producers.get(transactional_id)
        if found is None:
            raise ProducerFenced(f"no transactional producer {transactional_id} (fenced or stopped)")
        yield cast(TransactionalProducer, found)


def in_transaction(transaction: TransactionalProducer) -> bool:
    """Whether the producer's transaction is open (not ended by a final commit, not failed)."""
    return cast(_ProducerInternals, transaction)._txn_manager.is_in_transaction()


def is_fenced(transaction: TransactionalProducer) -> bool:
    """Whether the producer hit a fatal error (fenced: another producer took its transactional id): it never sends
    again."""
    return cast(_ProducerInternals, transaction)._txn_manager.is_fatal_error()


def withdraw_from_commit(offsets: Mapping[TP, int], partitions: Iterable[TP]) -> None:
    """Take ``partitions`` out of the offsets faust's consumer asked the transaction manager to commit.

    After ``commit`` returns, faust records every partition of that same mapping as committed and persists
    its tables' changelog offsets; a partition whose transaction was fenced committed nothing.
    """
    mutable = cast(dict[TP, int], offsets)
    for tp in partitions:
        mutable.pop(tp, None)


def send_lingering(transaction: TransactionalProducer) -> None:
    """Close every batch the producer holds back for its linger time and wake its sender: they go out now.

    What aiokafka's own commit does first (``flush_for_commit``), done before casehub waits for the records'
    acknowledgements ahead of the commit; the linger time then costs a transaction nothing.
    """
    accumulator: Any = cast(Any, transaction)._message_accumulator
    for batches in accumulator._batches.values():
        for batch in batches:
            batch._builder.close()
    if not accumulator._waiter_future.done():
        accumulator._waiter_future.set_result(None)


async def drain_buffer(producer: object) -> None:
    """Send every record waiting in faust's producer buffer now (table changelog writes queue there).

    ``ProducerBuffer.flush()`` gives up after 0.1 s without a send, so the queue is drained directly.
    """
    buffer: Any = cast(Any, producer).buffer
    while not buffer.pending.empty():
        await buffer._send_pending(buffer.pending.get_nowait())


def add_producer_settings(app: Any, extra: Callable[[], Mapping[str, Any]]) -> None:
    """Every aiokafka producer faust creates from now on also gets ``extra()`` (over faust's own settings)."""
    producer: Any = app.producer
    settings_extra = producer._settings_extra

    def with_extra() -> dict[str, Any]:
        return {**settings_extra(), **extra()}

    producer._settings_extra = with_extra


class TransactionManagerHooks(TransactionManager):  # type: ignore[misc]
    """faust's TransactionManager with a public hook after its private step that opens transactions."""

    async def _start_transactions(self, tids: Iterable[str]) -> None:
        tids = list(tids)
        await super()._start_transactions(tids)
        await self.on_transactions_started(tids)

    async def on_transactions_started(self, transactional_ids: list[str]) -> None:
        """Called once faust has begun the transactions of newly assigned partitions (their transactional ids)."""


async def know_topics(producer: object, transactional_id: str, topics: Iterable[str]) -> bool:
    """Fetch the metadata of ``topics`` for the producer of ``transactional_id`` in one request; whether it did.

    aiokafka asks for a topic's metadata on the first send to it, one request (naming every topic the producer
    knows so far) per topic, and the send, with the event that makes it, waits for the answer: a worker writing to
    ~1,400 partners' topics made hundreds of such requests per transactional producer after each assignment.
    """
    try:
        async with transaction_of(producer, transactional_id) as transaction:
            client = transaction.client
            # its start-up metadata named every topic: a topic missing (or not ours to write) stays out of the
            # list, where aiokafka would log an error at each refresh; a send to it is dead-lettered as before
            existing = client.cluster.topics()
            wanted = sorted(set(topics) & existing if existing else set(topics))
            return bool(await client.set_topics(wanted))
    except ProducerFenced:
        return False  # stopped meanwhile (revoked): its next owner asks


class TopicState(Enum):
    """What a producer's metadata says of a topic."""

    KNOWN = "known"
    MISSING = "missing"
    UNAUTHORIZED = "unauthorized"


def topic_state(transaction: TransactionalProducer, topic: str) -> TopicState | None:
    """The topic as the producer's cached metadata has it; None when the producer has not asked for it yet."""
    cluster = transaction.client.cluster
    if topic in cluster.unauthorized_topics:
        return TopicState.UNAUTHORIZED
    if cluster.partitions_for_topic(topic) is not None:
        return TopicState.KNOWN
    return None


async def fresh_topic_state(transaction: TransactionalProducer, topic: str) -> TopicState | None:
    """The topic after one metadata request for it; None when no broker answered."""
    client = transaction.client
    client.add_topic(topic)
    if not await client.force_metadata_update():
        return None
    return topic_state(transaction, topic) or TopicState.MISSING


def abandon_queued(transaction: TransactionalProducer, topics: set[str], error: Callable[[str], BaseException]) -> int:
    """Fail the batches still queued for ``topics`` with ``error(topic)``, and take their partitions off the
    transaction's list of partitions to add; returns how many batches failed.

    aiokafka retries adding a partition of a deleted topic to a transaction forever (UNKNOWN_TOPIC_OR_PARTITION is
    retriable) and its batch, muted meanwhile, never expires: the transaction could never commit again.
    """
    internals = cast(_ProducerInternals, transaction)
    batches = internals._message_accumulator._batches
    pending = internals._txn_manager._pending_txn_partitions
    failed = 0
    for tp in [tp for tp in list(batches) if tp.topic in topics]:
        for batch in cast(Iterable[_Batch], batches.pop(tp, ())):
            batch.failure(error(tp.topic))
            batch._drain_waiter.exception()  # nobody waits for a queued batch to drain: retrieved, not logged
            failed += 1
        pending.discard(tp)
    for tp in [tp for tp in pending if tp.topic in topics]:
        pending.discard(tp)
    return failed
