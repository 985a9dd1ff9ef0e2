"""The webhook dispatcher: outbound events POSTed to partners' URLs, signed, per-case in order, retried, dead-lettered."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from casehub.connectors.webhooks import records
from casehub.connectors.webhooks.attempt import post
from casehub.connectors.webhooks.backoff import retry_delay
from casehub.connectors.webhooks.lanes import Lanes, Record
from casehub.connectors.webhooks.metrics import WebhookMetrics
from casehub.connectors.webhooks.signing import message_id, signed_headers
from casehub.connectors.webhooks.targets import Target
from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import DecodeError

log = get_logger(__name__)
POLL_MS = 200


class Dispatcher:
    """Consumes the targets' outbound topics in one consumer group and delivers every event.

    Offsets are committed only up to the first event not yet delivered or dead-lettered, so a restart
    (or another member taking a partition) resumes there; receivers drop repeats by ``webhook-id``.
    """

    def __init__(self, settings: Settings, targets: list[Target], *, refresh: Callable[[], list[Target]] | None = None,
                 rng: random.Random | None = None, metrics: WebhookMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or WebhookMetrics()
        self.targets: dict[str, Target] = {}
        self._initial = targets
        self._refresh = refresh
        self._next_refresh = 0.0
        self._subscribed: list[str] = []
        self._rng = rng or random.Random()
        hub_connection = connection(settings, "webhooks")
        self._consumer = AIOKafkaConsumer(
            **hub_connection.aiokafka(),
            client_id="casehub-webhooks",
            group_id=settings.webhook_group_id,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )
        self._producer = AIOKafkaProducer(
            **hub_connection.aiokafka(), client_id="casehub-webhooks", acks="all", enable_idempotence=True
        )
        self._http = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self._lanes = Lanes(self._deliver, self._fail)
        self.metrics.follow_in_flight(lambda: self._lanes.in_flight)
        self._failure: BaseException | None = None
        self._stopping = asyncio.Event()
        self._paused = False

    async def start(self) -> None:
        """Connect, join the group and subscribe to the targets' outbound topics."""
        try:
            await self._producer.start()
            await self._consumer.start()
        except KafkaError as exc:
            await self._close()
            raise wrap_kafka_error(exc, "start of the webhook dispatcher") from exc
        self._retarget(self._initial)
        if not self._subscribed:
            log.warning("no webhook partner yet: waiting for a webhook_url and `casehub webhooks secret ORG`")
        self._next_refresh = time.monotonic() + self.settings.webhook_refresh_seconds

    def _retarget(self, targets: list[Target]) -> None:
        """Deliver to ``targets`` from now on; a changed set of topics re-subscribes (a rebalance follows)."""
        current = {t.topic: t for t in targets}
        self.targets.update(current)  # a dropped partner's lanes may still finish a record until its revocation
        wanted = sorted(current)
        if wanted == self._subscribed:
            return
        if wanted:
            self._consumer.subscribe(wanted, listener=_Rebalance(self))
        else:
            self._consumer.unsubscribe()
        self._subscribed = wanted
        log.info("webhook partners", partners=sorted(t.org for t in targets))

    def assigned(self) -> list[str]:
        """The partitions this member delivers now, as ``topic[partition]``."""
        return sorted(f"{tp.topic}[{tp.partition}]" for tp in self._consumer.assignment())

    def stop(self) -> None:
        """Ask ``run`` to finish: lanes are cancelled and what is finished is committed."""
        self._stopping.set()

    async def run(self) -> None:
        """Read, dispatch and commit until ``stop()``; a Kafka failure writing audit or dead letters ends it with TransportError."""
        try:
            while not self._stopping.is_set():
                if self._refresh is not None and time.monotonic() >= self._next_refresh:
                    self._retarget(self._refresh())
                    self._next_refresh = time.monotonic() + self.settings.webhook_refresh_seconds
                if not self._subscribed:
                    await asyncio.sleep(POLL_MS / 1000)
                    continue
                if self._paused or self._full():
                    await self._lanes.wait_for_progress(POLL_MS / 1000)
                self._apply_backpressure()
                room = self.settings.webhook_max_in_flight - self._lanes.in_flight
                try:  # still polled while paused: a member that stops polling is dropped from the group
                    batches = await self._consumer.getmany(timeout_ms=0 if self._paused else POLL_MS,
                                                           max_records=max(1, room))
                except KafkaError as exc:
                    raise wrap_kafka_error(exc, "read of the outbound topics") from exc
                self._submit(batches)
                await self._commit()
            if self._failure is not None:  # a lane could not write audit / dead letter: stop, leaving it uncommitted
                raise self._failure
        finally:
            await self._lanes.cancel()
            await self._commit(quiet=True)
            await self._close()

    async def _close(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()
        await self._http.aclose()

    def _fail(self, error: BaseException) -> None:
        self._failure = error
        self._stopping.set()

    def _submit(self, batches: dict[TopicPartition, list[Record]]) -> None:
        """Hand records to their lanes (``getmany``'s max_records kept them within ``webhook_max_in_flight``)."""
        owned = self._consumer.assignment()
        for tp, batch in batches.items():
            if tp not in owned:  # revoked while this batch was fetched: the new owner reads it
                continue
            for record in batch:
                self._lanes.submit(record)

    def _full(self) -> bool:
        return self._lanes.in_flight >= self.settings.webhook_max_in_flight

    def _apply_backpressure(self) -> None:
        """Pause fetching while full (e.g. a receiver failing); resume at half, as pausing drops prefetched records."""
        if self._full() or (self._paused and self._lanes.in_flight > self.settings.webhook_max_in_flight // 2):
            self._consumer.pause(*self._consumer.assignment())  # every pass: partitions may have been reassigned
            self._paused = True
        elif self._paused:
            self._consumer.resume(*self._consumer.assignment())
            self._paused = False

    async def _commit(self, partitions: set[TopicPartition] | None = None, *, quiet: bool = False) -> None:
        owned = self._consumer.assignment()
        points = {tp: offset for tp, offset in self._lanes.commit_points(partitions).items() if tp in owned}
        if not points:
            return
        try:
            await self._consumer.commit(points)
        except KafkaError as exc:
            if quiet or isinstance(exc, CommitFailedError | IllegalStateError):
                # a rebalance took the partition: its next owner re-delivers from the last commit
                log.warning("webhook commit failed", exception=type(exc).__name__, error=str(exc))
                return
            raise wrap_kafka_error(exc, "commit of webhook progress") from exc
        self._lanes.committed(points)

    async def revoke(self, partitions: set[TopicPartition]) -> None:
        """Partitions leave this member: stop their lanes, commit what finished, forget them."""
        await self._lanes.cancel(partitions)
        await self._commit(partitions, quiet=True)
        self._lanes.forget(partitions)

    async def _deliver(self, record: Record) -> None:
        """Deliver one record (all attempts), or dead-letter it; returns once it is one or the other."""
        target = self.targets[record.topic]
        bound = log.bind(partner=target.org, topic=record.topic, partition=record.partition, offset=record.offset)
        try:
            decoded = decode(record.value, record.headers)
        except DecodeError as exc:
            await self._dead_letter(record, reason=exc.message, exception=type(exc).__name__, attempts=0)
            bound.error("undecodable outbound record dead-lettered", reason=exc.message)
            return
        body = records.body(decoded, schema_base=self.settings.public_base_url())
        webhook_id = message_id(decoded.source, decoded.event.id)
        bound = bound.bind(event_id=decoded.event.id, case_id=decoded.event.case_id)
        limit = self.settings.webhook_max_attempts
        for number in range(1, limit + 1):
            signed = signed_headers(target.secret.get_secret_value(), webhook_id, int(time.time()), body)
            attempt = await post(self._http, target.url, body, signed)
            self.metrics.attempted(attempt.verdict, attempt.latency_ms)
            retry_in = None
            if attempt.verdict == "retry" and number < limit:
                retry_in = retry_delay(number, initial=self.settings.webhook_backoff_initial_seconds,
                                       cap=self.settings.webhook_backoff_max_seconds,
                                       retry_after=attempt.retry_after, rng=self._rng)
            audit = records.attempt_record(
                decoded, recipient=target.org, topic=record.topic, url=target.url, message_id=webhook_id,
                number=number, max_attempts=limit, attempt=attempt, retry_in=retry_in, now=datetime.now(UTC),
            )
            await self._send(records.AUDIT_TOPIC, (decoded.event.case_id or "").encode(), audit, records.AUDIT_HEADERS)
            if attempt.verdict == "delivered":
                bound.info("webhook delivered", attempt=number, status=attempt.status, latency_ms=attempt.latency_ms)
                return
            if retry_in is None:
                reason = f"{attempt.error} after {number} attempt(s) to {records.safe_url(target.url)}"
                exception = "WebhookRejected" if attempt.verdict == "permanent" else "WebhookRetriesExhausted"
                await self._dead_letter(record, reason=reason, exception=exception, attempts=number)
                bound.warning("webhook dead-lettered", attempt=number, status=attempt.status, reason=attempt.error)
                return
            bound.info("webhook attempt failed; retrying", attempt=number, status=attempt.status,
                       error=attempt.error, retry_in_s=round(retry_in, 3))
            await asyncio.sleep(retry_in)

    async def _dead_letter(self, record: Record, *, reason: str, exception: str, attempts: int) -> None:
        key, value, headers = records.dead_letter(record, reason=reason, exception=exception, attempts=attempts)
        await self._send(records.DLQ_TOPIC, key, value, headers)
        self.metrics.dead_lettered(exception)

    async def _send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        try:
            await self._producer.send_and_wait(topic, key=key, value=value, headers=headers)
        except KafkaError as exc:
            raise wrap_kafka_error(exc, f"write to {topic}") from exc


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits finished work of partitions before another member takes them."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.dispatcher.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("webhook partitions assigned", partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))
