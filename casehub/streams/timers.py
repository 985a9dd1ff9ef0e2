"""SLA timers: a case not assigned by its deadline is escalated to the provincial office (``case.escalated``)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from casehub.schemas.models import CaseEscalated, LawfulBasis, Location
from casehub.streams.state import CaseState

ESCALATE_COMMAND = b"escalate"
COMMAND_HEADER = "hub.command"


def deadline_record(state: CaseState) -> bytes:
    """The ``deadlines`` table value of a case waiting for assignment."""
    return json.dumps({"assign_by": state.assign_by}).encode()


def is_overdue(raw_deadline: bytes, now: datetime) -> bool:
    """Whether a ``deadlines`` entry has passed."""
    assign_by = json.loads(raw_deadline).get("assign_by")
    return bool(assign_by) and datetime.fromisoformat(assign_by) <= now


def escalation(state: CaseState, *, now: datetime) -> CaseEscalated | None:
    """The ``case.escalated`` a missed assignment deadline raises, or None if the case is assigned, closed or on time."""
    deadline = state.assign_deadline()
    if deadline is None or deadline > now or not state.provincial_office:
        return None
    digest = hashlib.sha256(f"{state.case_id}|assignment|{state.assign_by}".encode()).hexdigest()[:24]
    return CaseEscalated.model_validate(
        {
            "id": f"esc-{digest}",
            "occurred_at": now,
            "case_id": state.case_id,
            "subject_token": state.subject_token,
            "issue_category": state.issue_category,
            "target_group": state.target_group,
            "location": Location(tambon_code=state.tambon_code),
            "risk_level": state.risk_level,
            "lawful_basis": LawfulBasis(basis="public_task", reference="SLA escalation by casehub"),
            "missed_action": "assignment",
            "deadline": deadline,
            "escalated_to": state.provincial_office,
            "overdue_minutes": int((now - deadline).total_seconds() // 60),
        }
    )
