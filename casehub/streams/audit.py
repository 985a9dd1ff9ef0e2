"""The disclosure log: one ``hub.audit`` record per delivery, consent-gate or authorization refusal and case read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from casehub.schemas.models import CaseEvent
from casehub.streams.state import CaseState

AUDIT_CONTENT_TYPE = b"application/json"


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
        "at": now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


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
        "at": now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


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
        "at": now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
