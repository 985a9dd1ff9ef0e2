"""Consumer lag per group and partition: committed offset, end offset (high watermark) and the difference."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError

from casehub.core.errors import wrap_kafka_error
from casehub.core.settings import Settings
from casehub.ops.kafka_io import REQUEST_TIMEOUT_MS, reader
from casehub.ops.topics import admin_client


@dataclass(frozen=True)
class PartitionLag:
    """How far one group is behind on one partition (a transactional topic's end includes its commit marker)."""

    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lag": self.lag}


@dataclass(frozen=True)
class GroupInfo:
    """A consumer group: its state, protocol (``faust`` for casehub workers) and members' client ids and hosts."""

    group: str
    state: str
    protocol: str
    members: tuple[tuple[str, str], ...]


def groups(settings: Settings, names: Sequence[str] = ()) -> list[GroupInfo]:
    """The consumer groups of the cluster (or just ``names``), described."""
    # kafka-python warns with the whole raw metadata of groups using another assignor (faust's): noise for operators
    quiet = logging.getLogger("kafka.admin")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with admin_client(settings, "operator") as admin:
        try:
            wanted = list(names) or sorted(g["group_id"] for g in admin.list_groups())
            described = admin.describe_groups(wanted) if wanted else {}
        except KafkaError as exc:
            raise wrap_kafka_error(exc, "describe groups") from exc
        finally:
            quiet.setLevel(level)
    found = []
    for name in wanted:
        info = described.get(name) or {}
        members = tuple((m.get("client_id", ""), m.get("client_host", "")) for m in info.get("members", []))
        found.append(GroupInfo(name, str(info.get("group_state", "?")), str(info.get("protocol_data") or ""), members))
    return found


def lag(settings: Settings, names: Sequence[str] = ()) -> list[PartitionLag]:
    """Committed offset, end offset and lag for every partition each group (or each of ``names``) committed."""
    with admin_client(settings, "operator") as admin:
        try:
            wanted = list(names) or sorted(g["group_id"] for g in admin.list_groups())
            committed = admin.list_group_offsets({name: None for name in wanted}) if wanted else {}
        except KafkaError as exc:
            raise wrap_kafka_error(exc, "fetch committed offsets") from exc
    partitions = {tp for offsets in committed.values() for tp in offsets}
    with reader(settings, client_id="casehub-lag", isolation="read_uncommitted") as consumer:
        ends: dict[TopicPartition, int] = consumer.end_offsets(sorted(partitions), timeout_ms=REQUEST_TIMEOUT_MS) if partitions else {}
    rows = [
        PartitionLag(group, tp.topic, tp.partition, meta.offset, ends.get(tp, meta.offset))
        for group, offsets in committed.items()
        for tp, meta in offsets.items()
        if meta.offset is not None and meta.offset >= 0
    ]
    return sorted(rows, key=lambda r: (r.group, r.topic, r.partition))
