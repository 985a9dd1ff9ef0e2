"""Operator reads in the disclosure log: what ``tail`` and ``dlq show`` displayed, recorded before it is shown.

One ``read`` entry per batch of displayed records: the tool, the operator's principal, and per record its
coordinates, case id and subject token where it has them (what ``casehub subject report`` matches a person by).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from kafka import KafkaProducer

from casehub.core.settings import Settings
from casehub.ops import operator_audit
from casehub.ops.kafka_io import writer
from casehub.ops.records import View


def shown(seen: View, *, dlq: bool = False) -> dict[str, Any]:
    """What the audit keeps of one displayed record: where it is and whom it concerns (never its content)."""
    entry: dict[str, Any] = {"topic": seen.topic, "partition": seen.partition, "offset": seen.offset,
                             "case_id": seen.case_id}
    if dlq:
        entry["dlq"] = f"{seen.partition}:{seen.offset}"
    token = seen.event.subject_token if seen.event is not None else None
    if token is None and isinstance(seen.document, dict):
        token = seen.document.get("subject_token")
    if token:
        entry["subject_token"] = token
    return entry


class ReadAudit:
    """Writes one ``read`` entry per batch, each acknowledged (acks=all) before the batch is displayed."""

    def __init__(self, settings: Settings, producer: KafkaProducer, tool: str, **context: Any) -> None:
        self.operator = operator_audit.operator_principal(settings)
        self.producer = producer
        self.tool = tool
        self.context = context
        self.id = operator_audit.new_id("rd")
        self.batches = 0

    def record(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        self.batches += 1
        topic, key, value, headers = operator_audit.action_record(
            "read", f"{self.id}.{self.batches}", operator=self.operator, tool=self.tool, records=list(records),
            count=len(records), **self.context)
        self.producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)


@contextlib.contextmanager
def read_audit(settings: Settings, tool: str, **context: Any) -> Iterator[ReadAudit]:
    with writer(settings, client_id=f"casehub-{tool.replace(' ', '-')}-audit") as producer:
        yield ReadAudit(settings, producer, tool, **context)
