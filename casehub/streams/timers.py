"""SLA timers: a case not assigned by its deadline is escalated to the provincial office (``case.escalated``)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from casehub.schemas.models import CaseEscalated, LawfulBasis, Location
from casehub.streams.state import CaseState


def deadline_key(state: CaseState) -> bytes | None:
    """The ``deadlines`` table key of a case: ``<deadline, epoch ms, 13 digits>|<case id>``, None without one.

    Keys sort by deadline, so the timer reads each partition's overdue entries and stops at the first
    one still in the future instead of scanning every open case.
    """
    if not state.assign_by:
        return None
    return f"{moment_key(datetime.fromisoformat(state.assign_by))}|{state.case_id}".encode()


def moment_key(moment: datetime) -> str:
    """A time as the 13-digit epoch-milliseconds prefix of deadline keys."""
    return f"{int(moment.timestamp() * 1000):013d}"


def case_of(key: bytes) -> str:
    """The case id in a ``deadlines`` key."""
    return key.decode().split("|", 1)[1]


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
