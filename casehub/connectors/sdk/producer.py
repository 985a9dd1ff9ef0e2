"""The partner SDK's Producer: validated case events onto ``partner.<org>.inbound`` as Avro binary CloudEvents."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from casehub.connectors.sdk.credentials import PartnerCredentials, partner_connection
from casehub.connectors.sdk.exceptions import ProducerFailed
from casehub.core import topics
from casehub.core.errors import ConfigError
from casehub.core.kafka_connection import ConnectFailureWatch
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import WireRecord, encode_binary
from casehub.schemas.exceptions import EventInvalid, FieldError
from casehub.schemas.loader import HUB_WRITTEN
from casehub.schemas.models import CaseEvent
from casehub.schemas.validation import validate_data, validate_event

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """Where the cluster stored one event (acknowledged by every in-sync replica)."""

    event_id: str
    case_id: str | None
    topic: str
    partition: int
    offset: int


def check(event: CaseEvent | Mapping[str, Any]) -> CaseEvent:
    """The event as the hub will see it, or EventInvalid listing every field at fault (no network involved)."""
    parsed = validate_data(dict(event)) if isinstance(event, Mapping) else validate_event(event)
    if parsed.type in HUB_WRITTEN:
        raise EventInvalid([FieldError("type", f"{parsed.type} is written by the hub only; partners cannot send it")])
    return parsed


class Producer:
    """Publishes partner ``org``'s case events: validated locally, idempotent, ``acks=all``.

    ``async with Producer(settings, "lao-840502") as producer: sent = await producer.send(event)``.
    A retried send of the same event id is harmless: the hub drops repeats of the same (source, id).
    """

    def __init__(self, settings: Settings, org: str, *, credentials: PartnerCredentials | None = None,
                 client_id: str | None = None, linger_ms: int = 5) -> None:
        if not topics.ORG_ID.match(org):
            raise ConfigError(f"{org!r} is not an organisation id", hint="e.g. lao-840502, ngo-childline, hotline-1300")
        self.org = org
        self.topic = topics.inbound(org)
        self.source = topics.event_source(org)
        # ce_dataschema names the hub's published schema: CASEHUB_PUBLIC_URL, the address the hub gave the partner
        self.schema_base = settings.public_base_url()
        self._connection = partner_connection(settings, org, credentials)
        self._producer = AIOKafkaProducer(
            **self._connection.aiokafka(),
            client_id=client_id or f"casehub-sdk-{org}",
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
        )
        self._log = log.bind(partner=org, topic=self.topic)

    async def start(self) -> None:
        """Connect to the cluster."""
        watch = ConnectFailureWatch(self._connection)
        try:
            with watch:
                await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            why = watch.reason() or f"{type(exc).__name__}: {exc}"
            raise ProducerFailed(f"cannot connect the producer of {self.org}: {why}",
                                 hint="check the bootstrap address and credentials") from exc

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        await self._producer.stop()

    async def __aenter__(self) -> Producer:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    def encode(self, event: CaseEvent | Mapping[str, Any]) -> WireRecord:
        """Validate and encode one event as this partner's binary-mode record (raises EventInvalid)."""
        return encode_binary(check(event), source=self.source, schema_base=self.schema_base)

    async def send(self, event: CaseEvent | Mapping[str, Any]) -> Sent:
        """Validate, then write one event and wait for the cluster's acknowledgement."""
        return (await self.send_many([event]))[0]

    async def send_many(self, events: Iterable[CaseEvent | Mapping[str, Any]]) -> list[Sent]:
        """Validate every event first (one invalid event writes nothing), then write them all and wait for the acks.

        EventInvalid names the event's position in ``field`` (``[2].subject.citizen_id``) when there are several.
        """
        chosen = list(events)
        records: list[WireRecord] = []
        problems: list[FieldError] = []
        for position, event in enumerate(chosen):
            try:
                records.append(self.encode(event))
            except EventInvalid as exc:
                prefix = f"[{position}]" if len(chosen) > 1 else ""
                problems.extend(FieldError(_joined(prefix, e.field), e.message) for e in exc.errors)
        if problems:
            raise EventInvalid(problems)
        try:
            futures = [
                await self._producer.send(self.topic, key=r.key, value=r.value, headers=r.headers) for r in records
            ]
            metadata = await asyncio.gather(*futures)
        except KafkaError as exc:
            raise ProducerFailed(f"{self.topic} did not acknowledge: {type(exc).__name__}: {exc}",
                                 hint="sending again is safe: the hub drops repeated event ids") from exc
        sent = []
        for record, meta in zip(records, metadata, strict=True):
            event_id = record.header("ce_id") or b""
            case_id = record.key.decode() if record.key else None
            sent.append(Sent(event_id.decode(), case_id, meta.topic, meta.partition, meta.offset))
            self._log.debug("event sent", event_id=event_id.decode(), case_id=case_id, partition=meta.partition,
                            offset=meta.offset)
        return sent


def _joined(prefix: str, field: str) -> str:
    if not prefix:
        return field
    return f"{prefix}.{field}" if field else prefix
