"""The hub's record of one case (what ``cases.state`` holds) and how each event type changes it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from casehub.schemas.models import CaseEvent


def _ts(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


def _parse_ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class CaseState:
    """The current state of a case. No direct identifiers: the subject appears only as its keyed token."""

    case_id: str
    status: str  # open | closed
    opened_at: str
    updated_at: str
    last_event_id: str
    last_event_type: str
    events: int
    issue_category: str
    target_group: str
    tambon_code: str | None
    subject_token: str | None = None
    risk_level: str | None = None
    owner: str | None = None  # the unit holding the case: triage's assigned unit, an assignment's or transfer's to_unit
    assigned: bool = False
    assign_by: str | None = None
    provincial_office: str | None = None
    disclosure_consents: tuple[str, ...] = field(default_factory=tuple)
    linked_reports: int = 0
    escalated_at: str | None = None
    # fields added later keep defaults, so a state written before them still loads
    assignee: str | None = None  # the unit the case was last assigned or transferred to
    referred_to: tuple[str, ...] = field(default_factory=tuple)  # recipients of referrals not rejected or revoked
    # exact dedupe of the case's follow-ups: (digest of (source, event id), first seen epoch seconds) within the
    # dedupe retention (see dedupe.seen_in_case); kept here, every follow-up writes no record of its own for it
    recent_events: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        """Whether the case is open (reported or reopened and not closed since)."""
        return self.status == "open"

    def to_bytes(self) -> bytes:
        """JSON, the value of ``cases.state`` and of the worker's ``cases`` table (encode once, use for both)."""
        # flat fields only: a plain dict beats dataclasses.asdict's recursive deep copy, once per event
        return orjson.dumps({name: getattr(self, name) for name in _FIELD_NAMES})

    @classmethod
    def from_bytes(cls, raw: bytes) -> CaseState:
        """Read a state written by :meth:`to_bytes`."""
        data: dict[str, Any] = orjson.loads(raw)
        # a state written by a newer hub may carry fields this one does not know: ignore them (rolling upgrades)
        known = {name: value for name, value in data.items() if name in _FIELD_NAMES}
        for name in _TUPLE_FIELDS:
            known[name] = tuple(known.get(name) or ())
        if "recent_events" in known:
            known["recent_events"] = tuple((str(digest), float(at)) for digest, at in known["recent_events"] or ())
        return cls(**known)

    def assign_deadline(self) -> datetime | None:
        """The SLA deadline while the case waits for assignment, else None."""
        if self.assigned or self.escalated_at or not self.is_open:
            return None
        return _parse_ts(self.assign_by)


_FIELD_NAMES = tuple(f.name for f in fields(CaseState))
_TUPLE_FIELDS = ("disclosure_consents", "referred_to")


def opened(event: CaseEvent, *, case_id: str, now: datetime) -> CaseState:
    """The state of a case a ``case.reported`` (already enriched) opens."""
    enrichment = event.enrichment
    return CaseState(
        case_id=case_id,
        status="open",
        opened_at=_ts(now) or "",
        updated_at=_ts(now) or "",
        last_event_id=event.id,
        last_event_type=event.type,
        events=1,
        issue_category=event.issue_category,
        target_group=event.target_group,
        tambon_code=event.location.tambon_code,
        subject_token=event.subject_token,
        risk_level=event.risk_level,
        assign_by=_ts(enrichment.assign_by) if enrichment else None,
        provincial_office=enrichment.provincial_office if enrichment else None,
    )


def _consented_recipient(event: CaseEvent) -> str | None:
    consent = getattr(event, "consent", None)
    override = getattr(event, "consent_override", None)
    granted = override is not None or (consent is not None and consent.to_disclosure)
    if not granted:
        return None
    if event.type == "referral.requested":
        return str(getattr(event, "recipient"))  # noqa: B009 - referral.requested always has one
    if event.type == "case.transferred":
        return str(getattr(event, "to_unit"))  # noqa: B009
    if event.type == "consent.recorded" and getattr(event, "scope", "") in ("disclosure", "services_and_disclosure"):
        return getattr(event, "recipient", None)
    return None


def _moved(state: CaseState, event: CaseEvent) -> dict[str, Any]:
    """Where an accepted transfer puts the case: its (enriched) location, the one event that may move a case."""
    tambon = event.location.tambon_code
    if not tambon or tambon == state.tambon_code:
        return {}
    office = event.enrichment.provincial_office if event.enrichment else None
    return {"tambon_code": tambon, "provincial_office": office}


def advanced(state: CaseState, event: CaseEvent, *, now: datetime) -> CaseState:
    """The state after ``event`` (an event of this case that passed dedupe)."""
    changes: dict[str, Any] = {
        "updated_at": _ts(now),
        "last_event_id": event.id,
        "last_event_type": event.type,
        "events": state.events + 1,
    }
    kind = event.type
    if kind == "case.reported":
        changes["linked_reports"] = state.linked_reports + 1
    elif kind == "case.triaged":
        changes["risk_level"] = event.risk_level
        changes["owner"] = getattr(event, "assigned_unit", state.owner)
        changes["assign_by"] = _ts(getattr(event, "assign_by", None)) or state.assign_by
    elif kind in ("case.assigned", "case.transferred"):
        changes["owner"] = getattr(event, "to_unit", state.owner)
        changes["assignee"] = getattr(event, "to_unit", state.assignee)
        changes["assigned"] = True
        if kind == "case.transferred":
            changes.update(_moved(state, event))
    elif kind == "referral.requested":
        referred = str(getattr(event, "recipient"))  # noqa: B009 - referral.requested always has one
        if referred not in state.referred_to:
            changes["referred_to"] = (*state.referred_to, referred)
    elif kind in ("referral.rejected", "referral.revoked"):
        ended = getattr(event, "recipient", None)
        changes["referred_to"] = tuple(r for r in state.referred_to if r != ended)
    elif kind == "case.closed":
        changes["status"] = "closed"
    elif kind == "case.reopened":
        changes["status"] = "open"
    elif kind == "case.escalated":
        changes["escalated_at"] = _ts(now)
    elif kind == "consent.withdrawn":
        withdrawn = getattr(event, "recipient", None)
        changes["disclosure_consents"] = tuple(r for r in state.disclosure_consents if withdrawn and r != withdrawn)
    recipient = _consented_recipient(event)
    if recipient and recipient not in state.disclosure_consents:
        changes["disclosure_consents"] = (*state.disclosure_consents, recipient)
    return replace(state, **changes)
