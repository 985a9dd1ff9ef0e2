"""The subject report's own audit entry: who asked about which person (by token), when, and what was found."""

from __future__ import annotations

from typing import Any

from casehub.core.settings import Settings
from casehub.ops import operator_audit
from casehub.ops.kafka_io import writer


def record_report(settings: Settings, document: dict[str, Any]) -> None:
    """Write the report's audit entry (acks=all) before the report is shown."""
    topic, key, value, headers = operator_audit.action_record(
        "subject_report", document["report_id"], operator=document["prepared_by"],
        subject_token=document["subject"]["token"], subject_kind=document["subject"]["kind"],
        cases=document["cases"], recipients=document["recipients"],
        counts={name: len(document[name]) for name in ("events", "disclosures", "withheld", "replays", "redrives",
                                                          "operator_reads")},
    )
    with writer(settings, client_id="casehub-subject-report") as producer:
        producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)
