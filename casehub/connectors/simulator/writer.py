"""Writes simulated records: to partners' inbound topics (idempotent producer, acks=all), or as JSON lines."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from casehub.connectors.simulator.exceptions import SimulatorSendError
from casehub.connectors.simulator.linker import CaseLinker
from casehub.connectors.simulator.traffic import SimulatedRecord
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import WireRecord

log = get_logger(__name__)
_ACK_TIMEOUT_SECONDS = 60.0
_BOOTSTRAP_TIMEOUT_MS = 10_000


@dataclass
class Summary:
    """What was written: records per topic, per intent, per malformed reason and per wire mode."""

    records: int = 0
    per_topic: Counter[str] = field(default_factory=Counter)
    per_intent: Counter[str] = field(default_factory=Counter)
    malformed_reasons: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    cases: set[str] = field(default_factory=set)
    linked_to_hub: int = 0
    unlinked: int = 0
    seconds: float = 0.0

    def add(self, item: SimulatedRecord) -> None:
        """Count one written record."""
        self.records += 1
        self.per_topic[item.topic] += 1
        self.per_intent[item.intent.kind] += 1
        self.modes[item.mode] += 1
        if item.intent.reason:
            self.malformed_reasons[item.intent.reason] += 1
        if item.case_ref:
            self.cases.add(item.case_ref)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "records": self.records,
            "cases": len(self.cases),
            "valid": self.per_intent["valid"],
            "duplicates": self.per_intent["duplicate"],
            "retries": self.per_intent["retry"],
            "malformed": self.per_intent["malformed"],
            "malformed_reasons": dict(sorted(self.malformed_reasons.items())),
            "modes": dict(sorted(self.modes.items())),
            "per_topic": dict(sorted(self.per_topic.items())),
            "linked_to_hub": self.linked_to_hub,
            "unlinked": self.unlinked,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds, 1) if self.seconds > 0 else None,
        }


def manifest_line(item: SimulatedRecord) -> str:
    """What one written record is meant to be, without its bytes: the ``--manifest`` format."""
    return json.dumps(
        {"topic": item.topic, "event_id": item.event_id, "event_type": item.event_type, "case_ref": item.case_ref,
         "mode": item.mode, "intent": item.intent.as_dict()},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def json_line(item: SimulatedRecord) -> str:
    """One record as a JSON line: topic, key, headers as text, the value in base64, and what it is meant to be."""
    return json.dumps(
        {
            "topic": item.topic,
            "key": item.record.key.decode("utf-8") if item.record.key is not None else None,
            "headers": [[name, value.decode("utf-8", "replace")] for name, value in item.record.headers],
            "value_base64": base64.b64encode(item.record.value).decode("ascii"),
            "event_id": item.event_id,
            "event_type": item.event_type,
            "case_ref": item.case_ref,
            "mode": item.mode,
            "intent": item.intent.as_dict(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class Pacer:
    """Keeps the writing rate at ``rate`` records per second (0: as fast as possible)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.rate, self._clock, self._sleep = rate, clock, sleep
        self._start: float | None = None
        self._sent = 0

    def wait(self) -> None:
        """Sleep until the next record is due."""
        if self.rate <= 0:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._sent / self.rate
        if due > now:
            self._sleep(due - now)
        self._sent += 1


def write_lines(items: Iterable[SimulatedRecord], out: IO[str], *, rate: float = 0.0,
                on_written: Callable[[SimulatedRecord], None] | None = None) -> Summary:
    """JSON lines instead of Kafka (``--out``, ``--dry-run``)."""
    summary, pacer, started = Summary(), Pacer(rate), time.monotonic()
    for item in items:
        pacer.wait()
        out.write(json_line(item) + "\n")
        summary.add(item)
        if on_written:
            on_written(item)
    summary.seconds = time.monotonic() - started
    return summary


def producer_for(settings: Settings) -> KafkaProducer:
    """An idempotent producer that waits for every in-sync replica (acks=all)."""
    try:
        return KafkaProducer(
            **connection(settings, "simulator").kafka_python(),
            client_id="casehub-simulator",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            bootstrap_timeout_ms=_BOOTSTRAP_TIMEOUT_MS,
        )
    except KafkaError as exc:
        raise SimulatorSendError(f"cannot reach the cluster at {settings.bootstrap_servers()}: {exc}",
                                 hint="check that the cluster is up (`casehub broker status`)") from exc


def write_kafka(items: Iterable[SimulatedRecord], settings: Settings, *, rate: float = 0.0,
                linker: CaseLinker | None = None, on_written: Callable[[SimulatedRecord], None] | None = None) -> Summary:
    """Write every record to its inbound topic and wait for the acknowledgements.

    With a ``linker``, follow-up events carry the case id the hub assigned to their case's report (read back from
    ``cases.events``) instead of the simulator's stand-in, so the running pipeline accepts the whole lifecycle.
    """
    summary, pacer, started = Summary(), Pacer(rate), time.monotonic()
    producer = producer_for(settings)
    pending = []
    try:
        for item in items:
            record = item.record
            if linker is not None:
                linked = _linked(item, linker, summary, producer.flush)
                if linked is None:
                    continue
                record = linked
            pacer.wait()
            pending.append(producer.send(item.topic, key=record.key, value=record.value, headers=record.headers))
            summary.add(item)
            if on_written:
                on_written(item)
            if len(pending) >= 10_000:
                _settle(producer, pending)
        _settle(producer, pending)
    except KafkaError as exc:
        raise SimulatorSendError(f"writing simulated records failed: {type(exc).__name__}: {exc}",
                                 hint="sending again is safe: the hub drops repeated event ids") from exc
    finally:
        producer.close(timeout=10)
    summary.seconds = time.monotonic() - started
    log.info("simulated traffic written", **{k: v for k, v in summary.as_dict().items() if k != "per_topic"})
    return summary


def _settle(producer: KafkaProducer, pending: list[Any]) -> None:
    producer.flush(timeout=_ACK_TIMEOUT_SECONDS)
    for future in pending:
        future.get(timeout=_ACK_TIMEOUT_SECONDS)
    pending.clear()


def _linked(item: SimulatedRecord, linker: CaseLinker, summary: Summary, flush: Callable[[], None]) -> WireRecord | None:
    """The record with the hub's case id, or None when the hub never opened the case (counted as unlinked)."""
    event = item.event
    if event is None or item.case_ref is None:
        return item.record
    if event.type == "case.reported":
        if item.intent.kind == "valid":
            linker.expect(item.case_ref, item.topic, event.id)
        elif item.intent.kind == "duplicate":
            # the first report must reach the hub first: through another partner's topic it could be overtaken
            linker.case_id(item.case_ref, before_waiting=flush)
            linker.expect_second_report(item.case_ref, item.topic, event.id)
        return item.record
    case_id = linker.case_id(item.case_ref, before_waiting=flush)
    if case_id is None:
        summary.unlinked += 1
        return None
    if item.intent.kind == "valid":
        linker.hand_off(item.case_ref, item.topic, event.id, before_waiting=flush)
    summary.linked_to_hub += 1
    return item.with_case_id(case_id)
