"""Follow a topic as an operator: decoded records, filtered by event type, case or partner, without a consumer group."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from kafka import TopicPartition

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.kafka_io import partitions_of, reader
from casehub.ops.records import View, view
from casehub.streams.route import addressee
from casehub.vault.feed import reading_store


@dataclass(frozen=True)
class TailFilter:
    """A record is shown when it matches every given filter (each: any of its values)."""

    event_types: frozenset[str] = field(default_factory=frozenset)
    case_ids: frozenset[str] = field(default_factory=frozenset)
    partners: frozenset[str] = field(default_factory=frozenset)

    def matches(self, seen: View) -> bool:
        if self.event_types and seen.event_type not in self.event_types:
            return False
        if self.case_ids and seen.case_id not in self.case_ids:
            return False
        return not self.partners or bool(self.partners & partners_of(seen))


def partners_of(seen: View) -> set[str]:
    """The organisations a record concerns: its topic's, its source, the audit recipient, the event's addressee
    and responsible units."""
    found: set[str] = set()
    parts = seen.topic.split(".")
    if len(parts) == 3 and parts[0] == "partner":
        found.add(parts[1])
    if seen.source and seen.source.startswith(topics.event_source("")):
        found.add(seen.source.removeprefix(topics.event_source("")))
    if isinstance(seen.document, dict):
        found |= {str(seen.document[k]) for k in ("recipient", "sender", "owner", "provincial_office") if seen.document.get(k)}
    if seen.event is not None:
        named = addressee(seen.event)
        if named:
            found.add(named)
        enrichment = seen.event.enrichment
        if enrichment is not None:
            found |= {u for u in (enrichment.tambon_centre, enrichment.provincial_office) if u}
            found |= set(enrichment.laos or ())
    return found


def follow(settings: Settings, topic: str, *, from_beginning: bool = False, max_records: int | None = None,
           idle_timeout: float | None = None, where: TailFilter | None = None) -> Iterator[View]:
    """Decoded records of ``topic`` that pass ``where``: from now on (or from the beginning), until ``max_records``
    were shown or nothing arrived for ``idle_timeout`` seconds (None: follow until interrupted)."""
    for batch in follow_batches(settings, topic, from_beginning=from_beginning, max_records=max_records,
                                idle_timeout=idle_timeout, where=where):
        yield from batch


def follow_batches(settings: Settings, topic: str, *, from_beginning: bool = False, max_records: int | None = None,
                   idle_timeout: float | None = None, where: TailFilter | None = None) -> Iterator[list[View]]:
    """:func:`follow`, one list per fetch: what an audited display records before it shows."""
    where = where or TailFilter()
    shown = 0
    with reader(settings, client_id="casehub-tail") as consumer, reading_store(settings) as store:
        tps = partitions_of(consumer, topic)
        consumer.assign(tps)
        if from_beginning:
            consumer.seek_to_beginning(*tps)
        else:
            consumer.seek_to_end(*tps)
            for tp in tps:
                consumer.position(tp)  # resolve "end" now, so records produced from here on are seen
        last = time.monotonic()
        while max_records is None or shown < max_records:
            batches: dict[TopicPartition, list] = consumer.poll(timeout_ms=300)
            if batches:
                last = time.monotonic()
            elif idle_timeout is not None and time.monotonic() - last > idle_timeout:
                return
            matching = [seen for records in batches.values() for seen in (view(r, store) for r in records)
                        if where.matches(seen)]
            if max_records is not None:
                matching = matching[: max_records - shown]
            if matching:
                shown += len(matching)
                yield matching
