"""Authorize stage: who may send which event about an existing case, from one table of rules, before state changes.

The source of an event is the inbound topic it came through (``validate``), so the sender is known for
certain; what it may do depends on how it stands to the case: owner, assignee, a unit responsible for the
case's tambon, the province's office, HQ, or a partner a referral was sent to. A refused event goes to
``hub.dlq`` with the rule in ``hub.error.reason``, and its refusal is written to ``hub.audit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NoReturn

from casehub.core import topics
from casehub.schemas.models import CaseEvent
from casehub.streams import audit
from casehub.streams.exceptions import CaseRightRefused, Record
from casehub.streams.state import CaseState

STAGE = "authorize"
HQ_ID = "msdhs-hq"


class Party(StrEnum):
    """How a sender stands to a case."""

    OWNER = "owner"
    ASSIGNEE = "assignee"
    LOCAL_UNIT = "local unit"
    PROVINCIAL_OFFICE = "provincial office"
    HQ = "HQ"
    REFERRAL_RECIPIENT = "referral recipient"


PARTY_MEANING: dict[Party, str] = {
    Party.OWNER: "the case's owner (triage's assigned unit, or the unit it was last assigned or transferred to)",
    Party.ASSIGNEE: "the unit the case was last assigned or transferred to",
    Party.LOCAL_UNIT: "the tambon centre or an LAO responsible for the case's tambon",
    Party.PROVINCIAL_OFFICE: "the provincial office of the case's province (pso-PP)",
    Party.HQ: f"MSDHS headquarters ({HQ_ID})",
    Party.REFERRAL_RECIPIENT: "a partner a referral of the case was sent to (not rejected or revoked)",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may send some event types about an existing case, and why the rule exists."""

    name: str
    event_types: tuple[str, ...]
    senders: tuple[Party, ...]
    why: str


_HOLDERS = (Party.OWNER, Party.PROVINCIAL_OFFICE, Party.HQ)
_CASE_WORKERS = (Party.OWNER, Party.ASSIGNEE, Party.LOCAL_UNIT, Party.PROVINCIAL_OFFICE, Party.HQ)

RULES: tuple[Rule, ...] = (
    Rule("custody", ("case.triaged", "case.assigned", "case.transferred"), _HOLDERS,
         "they decide who holds the case, and so who sees all of it"),
    Rule("closure", ("case.closed", "case.reopened"), _HOLDERS, "they end or restart the work on the case"),
    Rule("consent", ("consent.recorded", "consent.withdrawn"), _HOLDERS,
         "consent decides which further partners receive the case"),
    Rule("casework", ("case.assessed", "case.plan_approved", "case.followup", "referral.requested", "referral.revoked"),
         _CASE_WORKERS, "the work on a case is done by its holders and the units of its area"),
    Rule("referral-answer", ("referral.accepted", "referral.rejected", "service.delivered"),
         (*_CASE_WORKERS, Party.REFERRAL_RECIPIENT), "a partner a case was referred to answers and delivers the service"),
)
"""Every event type a partner may send about an existing case, and who may send it. Anything else is refused."""

LOCATION_RULE = "location"
LOCATION_WHY = "an event about a case carries the case's own tambon; only an accepted case.transferred moves a case"
MOVES_CASE = frozenset({"case.transferred"})
"""The event types that may carry another tambon than the case's, once the rules above accepted their sender."""

UNLISTED_RULE = "unlisted"
RULE_OF_TYPE: dict[str, Rule] = {event_type: rule for rule in RULES for event_type in rule.event_types}


def parties(sender: str, case: CaseState, *, registry: Any) -> frozenset[Party]:
    """How ``sender`` stands to ``case`` (empty: not at all)."""
    found: set[Party] = set()
    if sender == case.owner:
        found.add(Party.OWNER)
    if sender == case.assignee:
        found.add(Party.ASSIGNEE)
    if sender == HQ_ID:
        found.add(Party.HQ)
    if sender in case.referred_to:
        found.add(Party.REFERRAL_RECIPIENT)
    if case.tambon_code:
        units = registry.responsible_units(case.tambon_code)
        if sender == units.tambon_centre or sender in units.laos:
            found.add(Party.LOCAL_UNIT)
        if sender == units.provincial_office:
            found.add(Party.PROVINCIAL_OFFICE)
    elif sender == case.provincial_office:
        found.add(Party.PROVINCIAL_OFFICE)
    return frozenset(found)


def authorize(event: CaseEvent, *, sender: str, case: CaseState, registry: Any, now: datetime) -> None:
    """Raise CaseRightRefused unless ``sender`` may send ``event`` (enriched) about ``case`` (its state before it)."""
    rule = RULE_OF_TYPE.get(event.type)
    if rule is None:
        _refuse(event, sender, case, now, UNLISTED_RULE, f"no rule lets a partner send {event.type} about an existing case")
    elif not parties(sender, case, registry=registry) & set(rule.senders):
        _refuse(event, sender, case, now, rule.name, f"only {describe_senders(rule)} may send it")
    elif case.tambon_code and event.location.tambon_code != case.tambon_code and event.type not in MOVES_CASE:
        _refuse(event, sender, case, now, LOCATION_RULE, LOCATION_WHY)


def describe_senders(rule: Rule) -> str:
    """``the case's owner, ... or HQ``: who a rule lets send (names only, never a case's details)."""
    names = [str(party) for party in rule.senders]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _refuse(event: CaseEvent, sender: str, case: CaseState, now: datetime, rule: str, why: str) -> NoReturn:
    # org ids, event type and id only: the reason travels in hub.dlq headers and logs, never personal data
    reason = f"{event.type} {event.id} from {sender} refused by rule '{rule}': {why}"
    source = topics.event_source(sender)
    value = audit.refusal_record(event, sender=sender, source=source, rule=rule, reason=reason, now=now)
    record: Record = (topics.HUB_AUDIT_ENTRIES, case.case_id.encode(), value, [("content-type", audit.AUDIT_CONTENT_TYPE)])
    raise CaseRightRefused(reason, rule=rule, records=(record,))


def rules_markdown() -> str:
    """The rules as the README's table (a test keeps the README and this table the same)."""
    lines = ["| rule | event types | who may send them | why |", "|---|---|---|---|"]
    for rule in RULES:
        types = ", ".join(f"`{t}`" for t in rule.event_types)
        lines.append(f"| `{rule.name}` | {types} | {describe_senders(rule)} | {rule.why} |")
    lines.append(f"| `{LOCATION_RULE}` | all of the above | whoever the rule above allows | {LOCATION_WHY} |")
    lines.append(f"| `{UNLISTED_RULE}` | any other type | nobody | only the types above act on an existing case |")
    lines.append("")
    lines += [f"- **{party}**: {meaning}" for party, meaning in PARTY_MEANING.items()]
    return "\n".join(lines)
