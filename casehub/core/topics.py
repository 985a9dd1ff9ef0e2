"""Topic names: the public face of casehub for partners (DESIGN.md, "Topics and names")."""

from __future__ import annotations

import re

CASES_EVENTS = "cases.events"
CASES_STATE = "cases.state"
HUB_DLQ = "hub.dlq"
HUB_AUDIT = "hub.audit"
# every service writes its audit entries here; the worker seals them, hash-chained and signed, into hub.audit
HUB_AUDIT_ENTRIES = "hub.audit.entries"
STATS_AGGREGATES = "stats.aggregates"
HUB_TOPICS = (CASES_EVENTS, CASES_STATE, HUB_DLQ, HUB_AUDIT, HUB_AUDIT_ENTRIES, STATS_AGGREGATES)
"""The hub's own topics (besides each partner's inbound and outbound and the worker group's internal topics)."""
HUB_SUBJECT_KEYS = "hub.subject.keys"
"""Compacted: the per-subject data keys (wrapped by the master key) that encrypt personal fields; hub principals only."""

ORG_ID = re.compile(r"^(msdhs-hq|hotline-1300|pso-\d{2}|tc-\d{6}|lao-[0-9a-z-]+|hosp-[0-9a-z-]+|police-[0-9a-z-]+|ngo-[0-9a-z-]+|private-[0-9a-z-]+)$")
_INBOUND = re.compile(r"^partner\.(?P<org>[^.]+)\.inbound$")


def inbound(org: str) -> str:
    """The topic partner ``org`` publishes to; only that partner may write it."""
    return f"partner.{org}.inbound"


def outbound(org: str) -> str:
    """The topic the hub delivers to partner ``org``, projected to its disclosure level."""
    return f"partner.{org}.outbound"


def org_of_inbound(topic: str) -> str | None:
    """The partner an inbound topic belongs to, or None if ``topic`` is not an inbound topic."""
    match = _INBOUND.match(topic)
    return match.group("org") if match else None


def event_source(org: str) -> str:
    """The CloudEvents ``source`` of events from ``org``: derived from the inbound topic, never from the payload."""
    return f"/partners/{org}"


INBOUND_PATTERN = r"^partner\..*\.inbound$"
