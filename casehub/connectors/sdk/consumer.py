"""The partner SDK's Consumer: typed events from ``partner.<org>.outbound``, committed only after the handler returns."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from casehub.connectors.sdk.credentials import PartnerCredentials, partner_connection
from casehub.connectors.sdk.exceptions import ConsumerFailed, HandlerFailed, UndecodableRecord
from casehub.core import topics
from casehub.core.errors import ConfigError
from casehub.core.kafka_connection import ConnectFailureWatch
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import DecodeError
from casehub.schemas.models import CaseEvent

log = get_logger(__name__)
DISCLOSURE_ATTRIBUTE = "casehubdisclosure"
"""CloudEvents extension attribute (header ``ce_casehubdisclosure``): the level the event was projected to."""


@dataclass(frozen=True, slots=True)
class Received:
    """One delivered event: the typed model, its CloudEvents attributes and where it was read."""

    event: CaseEvent
    attributes: dict[str, str]
    topic: str
    partition: int
    offset: int

    @property
    def disclosure(self) -> str | None:
        """``full`` or ``pseudonymised``: how much personal detail the hub let through to this partner."""
        return self.attributes.get(DISCLOSURE_ATTRIBUTE)

    @property
    def source(self) -> str:
        """The CloudEvents source: the partner (``/partners/<org>``) or the hub that wrote the event."""
        return self.attributes["source"]


Handler = Callable[[Received], Awaitable[None] | None]


class Consumer:
    """Reads partner ``org``'s outbound topic in a consumer group (``read_committed``).

    ``async with Consumer(settings, "pso-84", group_id="pso-84.cms") as consumer: await consumer.run(handler)``.
    Each event's offset is committed after ``handler`` returns; if it raises, nothing is committed, ``run``
    raises HandlerFailed and the group receives the event again (this consumer too, if ``run`` is called again).
    """

    def __init__(
        self,
        settings: Settings,
        org: str,
        *,
        group_id: str | None = None,
        from_beginning: bool = True,
        skip_undecodable: bool = False,
        client_id: str | None = None,
        credentials: PartnerCredentials | None = None,
    ) -> None:
        if not topics.ORG_ID.match(org):
            raise ConfigError(f"{org!r} is not an organisation id", hint="e.g. pso-84, msdhs-hq, ngo-childline")
        self.org = org
        self.topic = topics.outbound(org)
        self.group_id = group_id or f"{org}.sdk"
        if not self.group_id.startswith(f"{org}."):
            raise ConfigError(f"consumer group {self.group_id!r} is not {org}'s",
                              hint=f"a partner's groups start with its org id and a dot, e.g. {org}.cms")
        self.skip_undecodable = skip_undecodable
        self._connection = partner_connection(settings, org, credentials)
        self._consumer = AIOKafkaConsumer(
            self.topic,
            **self._connection.aiokafka(),
            client_id=client_id or f"casehub-sdk-{org}",
            group_id=self.group_id,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest" if from_beginning else "latest",
        )
        self._log = log.bind(partner=org, topic=self.topic)

    async def start(self) -> None:
        """Connect and join the group."""
        watch = ConnectFailureWatch(self._connection)
        try:
            with watch:
                await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            why = watch.reason() or f"{type(exc).__name__}: {exc}"
            raise ConsumerFailed(f"cannot connect the consumer of {self.org}: {why}",
                                 hint="check the bootstrap address and credentials") from exc

    async def stop(self) -> None:
        """Leave the group and disconnect (uncommitted events go to the next member)."""
        await self._consumer.stop()

    async def __aenter__(self) -> Consumer:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def run(self, handler: Handler, *, max_events: int | None = None, idle_timeout: float | None = None) -> int:
        """Hand every event to ``handler`` in partition order; return how many were handled and committed.

        Stops after ``max_events`` events, or when nothing arrived for ``idle_timeout`` seconds (None = never).
        """
        handled = 0
        last_seen = time.monotonic()
        while max_events is None or handled < max_events:
            if idle_timeout is not None and time.monotonic() - last_seen > idle_timeout:
                break
            try:
                batches = await self._consumer.getmany(timeout_ms=200)
            except KafkaError as exc:
                raise ConsumerFailed(f"reading {self.topic} failed: {type(exc).__name__}: {exc}") from exc
            pending = {tp: list(records) for tp, records in batches.items() if records}
            if pending:
                last_seen = time.monotonic()
            try:
                for records in pending.values():
                    while records and (max_events is None or handled < max_events):
                        await self._handle(records[0], handler)
                        del records[0]
                        handled += 1
            finally:
                # whatever was fetched but not handled is read again: by this consumer or the next member
                for tp, records in pending.items():
                    if records:
                        self._consumer.seek(tp, records[0].offset)
        return handled

    async def _handle(self, record: ConsumerRecord[Any, Any], handler: Handler) -> None:
        where = {"partition": record.partition, "offset": record.offset}
        try:
            decoded = decode(record.value, record.headers)
        except DecodeError as exc:
            if not self.skip_undecodable:
                raise UndecodableRecord(f"{record.topic}[{record.partition}]@{record.offset}: {exc.message}",
                                        topic=record.topic, partition=record.partition, offset=record.offset) from exc
            self._log.error("undecodable record skipped", reason=exc.message, **where)
        else:
            received = Received(decoded.event, decoded.attributes, record.topic, record.partition, record.offset)
            try:
                outcome = handler(received)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:
                self._log.warning("handler failed; offset not committed", event_id=decoded.event.id,
                                  exception=type(exc).__name__, **where)
                raise HandlerFailed(f"the handler raised {type(exc).__name__} on event {decoded.event.id}: {exc}",
                                    topic=record.topic, partition=record.partition, offset=record.offset,
                                    event_id=decoded.event.id) from exc
        await self._commit(TopicPartition(record.topic, record.partition), record.offset + 1)

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        try:
            await self._consumer.commit({tp: offset})
        except KafkaError as exc:
            raise ConsumerFailed(f"committing {tp.topic}[{tp.partition}]@{offset} failed: {type(exc).__name__}: {exc}",
                                 hint="the event may be delivered again; handle repeats by event id") from exc
