"""The disclosure log: one ``hub.audit`` record per routed event (naming every recipient), refusal and case read.

Readers expand any record with :func:`entries` into one entry per recipient (the shape of a delivery's record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from casehub.schemas.models import CaseEvent
from casehub.streams.state import CaseState

AUDIT_CONTENT_TYPE = b"application/json"
ROUTED = "routed"
"""The decision of a per-event record: the event was routed; each recipient says delivered or withheld."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One partner an event was routed to: delivered (at a level, on a topic, fields withheld) or withheld (why)."""

    recipient: str
    decision: str
    disclosure: str
    topic: str | None
    withheld_fields: tuple[str, ...] = ()
    reason: str | None = None


def _dumps(record: dict[str, Any]) -> bytes:
    """Compact JSON, Thai text as is (what ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` writes)."""
    return orjson.dumps(record)


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds")


def disclosure_record(event: CaseEvent, *, source: str, recipients: Iterable[Recipient], now: datetime,
                      extra: dict[str, Any] | None = None) -> bytes:
    """JSON: one event, every partner it was routed to (level, topic, withheld fields; or why it was withheld), when.

    One record per event instead of one per recipient: :func:`entries` gives the per-recipient view back.
    """
    basis = event.lawful_basis
    record: dict[str, Any] = {
        "decision": ROUTED,
        "event_id": event.id,
        "event_type": event.type,
        "event_source": source,
        "case_id": event.case_id,
        "subject_token": event.subject_token,
        "lawful_basis": basis.basis,
        "sensitive_basis": basis.sensitive_basis,
        "lawful_reference": basis.reference,
        "sensitivity": list(event.sensitivity),
        "recipients": [
            {"recipient": r.recipient, "decision": r.decision, "disclosure": r.disclosure, "topic": r.topic,
             "withheld_fields": list(r.withheld_fields), "reason": r.reason}
            for r in recipients
        ],
        "at": _stamp(now),
    }
    if extra:
        record.update(extra)
    return _dumps(record)


def entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """An audit record as per-recipient entries: a routed event's record gives one entry per recipient, with the
    keys a delivery's record has (``decision``, ``recipient``, ``disclosure``, ``topic``, ``withheld_fields``,
    ``reason`` and the event's fields); any other record (refusal, read, operator action) is its own one entry."""
    recipients = document.get("recipients")
    if document.get("decision") != ROUTED or not isinstance(recipients, list):
        return [document]
    common = {name: value for name, value in document.items() if name != "recipients"}
    return [{**common, **recipient} for recipient in recipients]


def audit_record(
    event: CaseEvent,
    *,
    recipient: str,
    disclosure: str,
    source: str,
    topic: str | None,
    withheld_fields: tuple[str, ...] = (),
    decision: str = "delivered",
    reason: str | None = None,
    now: datetime,
) -> bytes:
    """JSON: who received which event of which case, at which level, on which lawful basis, when."""
    record = {
        "decision": decision,
        "recipient": recipient,
        "event_id": event.id,
        "event_type": event.type,
        "event_source": source,
        "case_id": event.case_id,
        "subject_token": event.subject_token,
        "disclosure": disclosure,
        "lawful_basis": event.lawful_basis.basis,
        "sensitive_basis": event.lawful_basis.sensitive_basis,
        "lawful_reference": event.lawful_basis.reference,
        "sensitivity": list(event.sensitivity),
        "withheld_fields": list(withheld_fields),
        "topic": topic,
        "reason": reason,
        "at": _stamp(now),
    }
    return _dumps(record)


def refusal_record(event: CaseEvent, *, sender: str, source: str, rule: str, reason: str, now: datetime) -> bytes:
    """JSON: an event about an existing case that the authorize stage refused; nobody received it.

    The fields of a delivery's record (recipient and disclosure null), plus the ``sender`` and the ``rule``.
    """
    record = {
        "decision": "refused",
        "recipient": None,
        "event_id": event.id,
        "event_type": event.type,
        "event_source": source,
        "case_id": event.case_id,
        "subject_token": event.subject_token,
        "disclosure": None,
        "lawful_basis": event.lawful_basis.basis,
        "sensitive_basis": event.lawful_basis.sensitive_basis,
        "lawful_reference": event.lawful_basis.reference,
        "sensitivity": list(event.sensitivity),
        "withheld_fields": [],
        "topic": None,
        "reason": reason,
        "sender": sender,
        "rule": rule,
        "at": _stamp(now),
    }
    return _dumps(record)


def case_read_record(
    case: CaseState, *, recipient: str, disclosure: str, withheld_fields: list[str], channel: str, now: datetime
) -> bytes:
    """JSON: a partner read a case's current state (the gateway's GET /v1/cases/{id}), at which level, when.

    Shaped like a delivery's record; no single event was disclosed, so the event fields are null.
    """
    record = {
        "decision": "read",
        "recipient": recipient,
        "event_id": None,
        "event_type": None,
        "event_source": None,
        "case_id": case.case_id,
        "subject_token": case.subject_token,
        "disclosure": disclosure,
        "lawful_basis": None,
        "sensitive_basis": None,
        "lawful_reference": None,
        "sensitivity": [],
        "withheld_fields": list(withheld_fields),
        "topic": None,
        "reason": None,
        "channel": channel,
        "at": _stamp(now),
    }
    return _dumps(record)


def stream_record(*, recipient: str, disclosure: str, channel: str, records: list[dict[str, Any]],
                  now: datetime) -> bytes:
    """JSON: deliveries that left the hub over a channel (the gateway's SSE stream) to ``recipient``, when.

    ``records``: per record its outbound coordinates, event id as sent and the hub's case id; the pipeline's routed
    record already holds the disclosure itself (level, lawful basis, withheld fields).
    """
    return _dumps({"decision": "streamed", "recipient": recipient, "disclosure": disclosure, "channel": channel,
                   "records": records, "count": len(records), "at": _stamp(now)})
