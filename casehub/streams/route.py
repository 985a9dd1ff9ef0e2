"""Route stage: which partners receive an event, at which disclosure level, behind the consent gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casehub.registry import Disclosure, Partner
from casehub.schemas.markings import implied_sensitivity
from casehub.schemas.models import CaseEvent
from casehub.streams.state import CaseState

CONSENT_GATED_PREFIXES = ("ngo-", "private-")
# events that hand a case to a named partner, who receives it whatever its subscriptions say
_ADDRESSEE_FIELD = {
    "referral.requested": "recipient",
    "referral.revoked": "recipient",
    "case.transferred": "to_unit",
    "case.assigned": "to_unit",
    "case.triaged": "assigned_unit",
    "case.escalated": "escalated_to",
}
ADDRESSED_TYPES = frozenset(_ADDRESSEE_FIELD)
"""Event types that may name their recipient (delivered to it whatever its subscriptions say)."""
_DISCLOSING = frozenset({"referral.requested", "case.transferred"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One partner that receives the event, and how much of it."""

    partner: Partner
    disclosure: str
    may_see: frozenset[str]


@dataclass(frozen=True, slots=True)
class Withheld:
    """A partner the consent gate kept the event from."""

    partner: Partner
    reason: str


def addressee(event: CaseEvent) -> str | None:
    """The partner an event names as its recipient (referral, transfer, assignment, escalation), if any."""
    field = _ADDRESSEE_FIELD.get(event.type)
    return getattr(event, field, None) if field else None


def consent_on_record(event: CaseEvent, partner_id: str, state: CaseState | None) -> bool:
    """Whether disclosure to ``partner_id`` rests on consent or a recorded override (on the event or the case)."""
    if state is not None and partner_id in state.disclosure_consents:
        return True
    if addressee(event) != partner_id:
        return False
    consent = getattr(event, "consent", None)
    override = getattr(event, "consent_override", None)
    return override is not None or (consent is not None and consent.to_disclosure)


def _needs_consent(event: CaseEvent, partner: Partner) -> bool:
    return _consent_gated(partner) and (event.type in _DISCLOSING or addressee(event) == partner.id)


def subscribers(registry: Any, event_type: str, issue_category: str | None, tambon: str | None) -> list[Partner]:
    """The partners an event reaches by subscription: a rule selects its type and category, the jurisdiction its tambon."""
    found: list[Partner] = registry.recipients(event_type, issue_category, tambon)
    return found


def _consent_gated(partner: Partner) -> bool:
    return partner.id.startswith(CONSENT_GATED_PREFIXES) and partner.disclosure is Disclosure.FULL


def receives_case(partner: Partner, case: CaseState, *, registry: Any) -> bool:
    """Whether the pipeline delivers events of ``case`` to ``partner`` (what a read of the case's state may show).

    By subscription and jurisdiction, as :func:`route` selects them, for the case's report or its latest event;
    or because the case was handed to it: its owner, its assignee, a partner with disclosure consent on
    record, or a referral's recipient (behind the consent gate like the referral itself). Never an
    aggregate-level partner.
    """
    if partner.disclosure is Disclosure.AGGREGATE:
        return False
    if partner.id in (case.owner, case.assignee) or partner.id in case.disclosure_consents:
        return True
    if partner.id in case.referred_to and not _consent_gated(partner):
        return True
    return any(
        partner.id == selected.id
        for event_type in dict.fromkeys(("case.reported", case.last_event_type))
        for selected in subscribers(registry, event_type, case.issue_category, case.tambon_code)
    )


def route(event: CaseEvent, *, registry: Any, state: CaseState | None) -> tuple[list[Delivery], list[Withheld]]:
    """The deliveries of ``event`` (enriched, with its case id) and the partners the consent gate withheld it from.

    Recipients: every partner whose subscription selects the event and whose jurisdiction covers its
    tambon, plus the partner the event is addressed to. Aggregate-level partners get counts, not events.
    """
    tambon = event.location.tambon_code
    partners: dict[str, Partner] = {p.id: p for p in subscribers(registry, event.type, event.issue_category, tambon)}
    named = addressee(event)
    if named and named in registry and named not in partners:
        partners[named] = registry.get(named)
    owner = state.owner if state else None
    deliveries: list[Delivery] = []
    withheld: list[Withheld] = []
    for partner in partners.values():
        if partner.disclosure is Disclosure.AGGREGATE:
            continue
        if _needs_consent(event, partner) and not consent_on_record(event, partner.id, state):
            withheld.append(Withheld(partner, "no consent to disclosure and no recorded override"))
            continue
        # health and police partners: the registry grants which sensitive kinds they receive
        may_see = set(partner.sensitive_access)
        if partner.disclosure is Disclosure.FULL and partner.id in (owner, named):
            # the case owner (and the unit a case is handed to) works the case and sees all of it, including the
            # kinds its issue category and target group imply
            may_see |= set(event.sensitivity) | implied_sensitivity(event.issue_category, event.target_group)
        deliveries.append(Delivery(partner, partner.disclosure.value, frozenset(may_see)))
    return deliveries, withheld

