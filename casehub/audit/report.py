"""`casehub audit verify`: every partition of the audit topic checked from its start (or a time) to its end now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from casehub.audit.keys import verify_keys
from casehub.audit.reader import partition_records
from casehub.audit.verify import PartitionVerdict, verify_partition
from casehub.connectors.replay.ranges import resolve_spans
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.kafka_io import reader


@dataclass(frozen=True)
class AuditVerification:
    """The verdict of every partition of one audit topic."""

    topic: str
    since: datetime | None
    partitions: list[PartitionVerdict]

    @property
    def ok(self) -> bool:
        return all(verdict.ok for verdict in self.partitions)

    @property
    def checked(self) -> int:
        return sum(verdict.checked for verdict in self.partitions)

    def first_break(self) -> str | None:
        broken = [v.broken for v in self.partitions if v.broken is not None]
        return min(broken, key=lambda b: (b.partition, b.offset)).describe() if broken else None

    def as_dict(self) -> dict[str, object]:
        return {"topic": self.topic, "since": None if self.since is None else self.since.isoformat(), "ok": self.ok,
                "checked": self.checked, "partitions": [v.as_dict() for v in self.partitions]}


def verify_topic(settings: Settings, *, topic: str = topics.HUB_AUDIT, since: datetime | None = None,
                 extra_keys: tuple[Path, ...] = ()) -> AuditVerification:
    """Check every partition's chain; from ``since`` on, the first record read anchors its partition's chain."""
    keys = verify_keys(settings, extra_keys)
    verdicts = []
    with reader(settings, client_id="casehub-audit-verify") as consumer:
        for partition, span in sorted(resolve_spans(consumer, topic, since=since).items()):
            records = partition_records(consumer, topic, span)
            verdicts.append(verify_partition(partition, records, keys, anchored_at_start=since is None))
    return AuditVerification(topic, since, verdicts)
