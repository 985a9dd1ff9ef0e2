"""Which offsets a replay reads: a time range (offsets_for_times) or offset ranges, per partition or for all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition

from casehub.ops.exceptions import BadSelection
from casehub.ops.kafka_io import REQUEST_TIMEOUT_MS, Span, partitions_of


@dataclass(frozen=True, slots=True)
class OffsetSpec:
    """``--start-offset``/``--end-offset`` values: one for every partition and/or ``P:OFFSET`` per partition."""

    default: int | None
    per_partition: dict[int, int]

    @classmethod
    def parse(cls, values: Sequence[str], option: str) -> OffsetSpec:
        default: int | None = None
        per: dict[int, int] = {}
        for value in values:
            try:
                if ":" in value:
                    partition, offset = (int(part) for part in value.split(":", 1))
                    per[partition] = offset
                else:
                    default = int(value)
            except ValueError:
                raise BadSelection(f"{option} {value!r}: expected OFFSET or PARTITION:OFFSET (integers)") from None
            if (default is not None and default < 0) or any(v < 0 for v in per.values()):
                raise BadSelection(f"{option} {value!r}: offsets are not negative")
        return cls(default, per)

    @property
    def given(self) -> bool:
        return self.default is not None or bool(self.per_partition)

    def for_partition(self, partition: int) -> int | None:
        return self.per_partition.get(partition, self.default)


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time; one without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadSelection(f"{option} {text!r}: expected an ISO 8601 time such as 2026-11-28T09:00:00+07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _by_time(consumer: KafkaConsumer, tps: list[TopicPartition], moment: datetime, fallback: dict[TopicPartition, int]
             ) -> dict[TopicPartition, int]:
    """The first offset at or after ``moment`` per partition; ``fallback`` (the end) where no record is that late."""
    found = consumer.offsets_for_times({tp: int(moment.timestamp() * 1000) for tp in tps}, timeout_ms=REQUEST_TIMEOUT_MS)
    return {tp: (found[tp].offset if found.get(tp) is not None else fallback[tp]) for tp in tps}


def resolve_spans(
    consumer: KafkaConsumer,
    topic: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    start: OffsetSpec | None = None,
    end: OffsetSpec | None = None,
    partitions: Sequence[int] = (),
) -> dict[int, Span]:
    """The ``[start, end)`` span per partition. ``end`` offsets are inclusive as operators give them; the end is
    never past the topic's end when the replay starts, so a live topic's new records are not chased."""
    start = start or OffsetSpec(None, {})
    end = end or OffsetSpec(None, {})
    if (since or until) and (start.given or end.given):
        raise BadSelection("give a time range (--since/--until) or an offset range (--start-offset/--end-offset), not both")
    if since and until and until <= since:
        raise BadSelection(f"--until {until.isoformat()} is not after --since {since.isoformat()}")
    tps = partitions_of(consumer, topic)
    known = {tp.partition for tp in tps}
    wanted = set(partitions)
    for spec in (start, end):
        if spec.per_partition and spec.default is None:
            wanted |= set(spec.per_partition)
    unknown = wanted - known
    if unknown:
        raise BadSelection(f"{topic} has no partition {sorted(unknown)} (it has {len(known)}: 0..{len(known) - 1})")
    if wanted:
        tps = [tp for tp in tps if tp.partition in wanted]
    first = consumer.beginning_offsets(tps, timeout_ms=REQUEST_TIMEOUT_MS)
    last = consumer.end_offsets(tps, timeout_ms=REQUEST_TIMEOUT_MS)
    begin = _by_time(consumer, tps, since, last) if since else dict(first)
    stop = _by_time(consumer, tps, until, last) if until else dict(last)
    spans: dict[int, Span] = {}
    for tp in tps:
        lo = start.for_partition(tp.partition)
        hi = end.for_partition(tp.partition)
        a = max(first[tp], lo if lo is not None else begin[tp])
        b = min(last[tp], hi + 1 if hi is not None else stop[tp])
        spans[tp.partition] = Span(tp.partition, a, max(a, b))
    return spans
