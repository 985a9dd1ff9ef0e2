"""The disclosure log: one ``hub.audit`` record per delivery (or consent-gate refusal), keyed by case id."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from casehub.schemas.models import CaseEvent

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
