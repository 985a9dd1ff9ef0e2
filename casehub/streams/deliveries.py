"""Records the cluster will not take (topic missing, refused) are dead-lettered in their transaction, not lost.

An output goes to a topic the worker checked at start-up, but topics can be deleted while it runs, and a
broker can refuse a record for good (an invalid record, a policy). aiokafka then fails the record's future
and still commits its transaction without it, or, for a deleted topic, retries adding it to the transaction
forever. So every record sent in a transaction is remembered until that transaction commits:

- before it is sent, its topic must be in the producer's metadata (one metadata request when it is not yet);
  a record for a topic that does not exist goes to ``hub.dlq`` instead;
- before the commit, every record must be acknowledged; one the cluster refused (or queued for a topic deleted
  since) goes to ``hub.dlq`` in the same transaction, with ``hub.error.*`` headers naming the topic and reason.

The dead letter is the output record itself (key, value, its headers): a re-drive writes it to the topic it
was meant for once that topic is back. A table changelog record or a dead letter the cluster refuses cannot be
dead-lettered: the worker stops (:class:`OutputRefused`) rather than commit without it.

A fenced producer is no refusal: another worker took the partition over and re-reads it from the committed
offset. Its records are never dead-lettered; :meth:`Deliveries.settle` raises ``ProducerFenced`` instead.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka.errors import (
    IllegalOperation,
    InvalidProducerEpoch,
    InvalidTxnState,
    ProducerFenced,
    TransactionCoordinatorFenced,
    UnknownTopicOrPartitionError,
)

from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.streams.dlq import Origin, dead_letter_headers
from casehub.streams.exceptions import OutputRefused
from casehub.streams.faust_compat import producer as compat
from casehub.streams.faust_compat.producer import TopicState, TransactionalProducer

log = get_logger(__name__)
STAGE = "deliver"
STUCK_AFTER_SECONDS = 2.0
"""A record not acknowledged by then has its topic looked up again (it may have been deleted since it was sent)."""
MISSING_RECHECK_SECONDS = 10.0
"""A topic found missing is looked up again after this long (it may have been created meanwhile)."""
METADATA_RETRY_SECONDS = 1.0
FENCING_ERRORS: tuple[type[BaseException], ...] = (
    ProducerFenced, InvalidProducerEpoch, TransactionCoordinatorFenced, InvalidTxnState, IllegalOperation,
)
"""Errors of a transaction that is dead (its producer fenced, or no longer in a transaction), not of a record."""


def is_fencing(error: BaseException | None) -> bool:
    """Whether ``error`` says the transaction is dead rather than that the cluster refused the record."""
    return isinstance(error, FENCING_ERRORS)


class Record(Protocol):
    """A record to produce (``exactly_once.Outgoing``)."""

    @property
    def topic(self) -> str: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...

    @property
    def partition(self) -> int | None: ...

    @property
    def on_sent(self) -> Callable[[Any], None] | None: ...


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter for a record that could not be produced."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    partition: int | None = None
    on_sent: Callable[[Any], None] | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    record: Record
    future: asyncio.Future[Any]


def dead_letter(record: Record, reason: str, exception: str) -> Letter:
    """``record`` as a dead letter: unchanged, with ``hub.error.*`` headers naming where it was going and why."""
    origin = Origin(record.topic, -1 if record.partition is None else record.partition, -1, record.key, record.value,
                    tuple(record.headers))
    headers = dead_letter_headers(origin, stage=STAGE, reason=reason, exception=exception)
    return Letter(topics.HUB_DLQ, record.key, record.value, headers)


def _must_arrive(record: Record) -> bool:
    """Table changelogs (they carry ``on_sent``) and dead letters have no dead-letter topic of their own."""
    return record.on_sent is not None or record.topic == topics.HUB_DLQ


class Deliveries:
    """The records sent in each open transaction, settled before it commits."""

    def __init__(self) -> None:
        self._sent: dict[str, list[Sent]] = defaultdict(list)
        self._missing: dict[str, float] = {}
        self.on_dead_letter: Callable[[str, str], None] = lambda stage, exception: None
        """Told of each dead letter (stage, exception): the pipeline's metrics."""

    async def checked(self, transaction: TransactionalProducer, record: Record) -> Record:
        """``record``, or its dead letter when its topic does not exist (or may not be written)."""
        if _must_arrive(record):
            return record
        state = await self._topic_state(transaction, record.topic)
        if state is TopicState.KNOWN:
            return record
        reason = (f"the topic {record.topic} does not exist" if state is TopicState.MISSING
                  else f"the worker may not write to {record.topic}")
        exception = "UnknownTopicOrPartitionError" if state is TopicState.MISSING else "TopicAuthorizationFailedError"
        return self._dead_lettered(record, reason, exception)

    def track(self, transactional_id: str, record: Record, future: asyncio.Future[Any]) -> None:
        """Remember a record sent in ``transactional_id``'s open transaction."""
        self._sent[transactional_id].append(Sent(record, future))

    def forget(self, transactional_id: str) -> None:
        """The transaction ended without a commit of ours (its partition revoked, its producer stopped)."""
        self._sent.pop(transactional_id, None)

    async def settle(self, transactional_id: str, transaction: TransactionalProducer) -> bool:
        """Before the commit: wait for every record of the transaction; dead-letter, in it, those refused.

        Returns whether any was refused: the producer's sequence numbers then run ahead of the broker's for
        that partition (a refused batch is not appended), so it needs a fresh producer id after this commit.
        """
        sent = self._sent.pop(transactional_id, [])
        if not sent:
            return False
        compat.send_lingering(transaction)
        await self._acknowledged(transaction, sent)
        if compat.is_fenced(transaction):
            raise ProducerFenced(f"the producer of {transactional_id} was fenced")
        refused = [(s.record, _failure(s.future)) for s in sent if _failure(s.future) is not None]
        fencing = next((error for _, error in refused if is_fencing(error)), None)
        if fencing is not None:
            raise ProducerFenced(f"the transaction of {transactional_id} was fenced: {fencing!r}")
        if not refused:
            return False
        letters = []
        for record, error in refused:
            if _must_arrive(record):
                raise OutputRefused(f"the cluster refused a record for {record.topic}: {error!r}",
                                    hint="see the broker's log; the worker restarts from its last commit")
            letters.append(self._dead_lettered(record, f"could not be written to {record.topic}: {error}",
                                               type(error).__name__))
        dlq_sent = [Sent(letter, await transaction.send(letter.topic, letter.value, key=letter.key,
                                                        headers=list(letter.headers)))
                    for letter in letters]
        await self._acknowledged(transaction, dlq_sent)
        failed = [_failure(s.future) for s in dlq_sent if _failure(s.future) is not None]
        if failed:
            raise OutputRefused(f"the cluster refused {len(failed)} dead letter(s) for {topics.HUB_DLQ}: {failed[0]!r}",
                                hint=f"check that {topics.HUB_DLQ} exists and the worker may write it")
        return True

    def _dead_lettered(self, record: Record, reason: str, exception: str) -> Letter:
        self.on_dead_letter(STAGE, exception)
        log.warning("dead letter", stage=STAGE, reason=reason[:300], exception=exception, topic=record.topic)
        return dead_letter(record, reason, exception)

    async def _topic_state(self, transaction: TransactionalProducer, topic: str) -> TopicState:
        missing_since = self._missing.get(topic)
        if missing_since is None:
            known = compat.topic_state(transaction, topic)
            if known is not None:
                return known
        elif time.monotonic() - missing_since < MISSING_RECHECK_SECONDS:
            return TopicState.MISSING
        # not asked for yet, or found missing a while ago: this producer's metadata may be older than the deletion
        return await self._fresh_state(transaction, topic)

    async def _fresh_state(self, transaction: TransactionalProducer, topic: str) -> TopicState:
        """One metadata answer about ``topic``; waits while no broker answers (nothing can be produced then)."""
        waited = 0.0
        while (state := await compat.fresh_topic_state(transaction, topic)) is None:
            if waited % 30 == 0:
                log.warning("no broker answers a metadata request; waiting", topic=topic, waited_seconds=waited)
            await asyncio.sleep(METADATA_RETRY_SECONDS)
            waited += METADATA_RETRY_SECONDS
        if state is TopicState.MISSING:
            self._missing[topic] = time.monotonic()
        else:
            self._missing.pop(topic, None)
        return state

    async def _acknowledged(self, transaction: TransactionalProducer, sent: list[Sent]) -> None:
        """Wait until every record is acknowledged or refused; fail those queued for a topic deleted meanwhile.

        A record the cluster cannot take right now (a broker down, a leader moving) is retried by aiokafka
        until it is written: only a topic that no longer exists ends the wait for it.
        """
        pending = {s.future for s in sent if not s.future.done()}
        while pending:
            _, pending = await asyncio.wait(pending, timeout=STUCK_AFTER_SECONDS)
            if not pending or compat.is_fenced(transaction):
                return  # a fenced transaction never commits: its records need not arrive
            stuck = {s.record.topic for s in sent if not s.future.done()}
            gone = {topic for topic in stuck if await self._fresh_state(transaction, topic) is not TopicState.KNOWN}
            if gone:
                failed = compat.abandon_queued(
                    transaction, gone, lambda topic: UnknownTopicOrPartitionError(f"{topic} no longer exists"))
                log.warning("records for deleted topics abandoned", topics=sorted(gone), batches=failed)


def _failure(future: asyncio.Future[Any]) -> BaseException | None:
    if future.cancelled():
        return asyncio.CancelledError("the send was cancelled")
    return future.exception()
