"""Everything the hub holds about one person: their events, every disclosure, replay, re-drive and operator read.

Read from the hub's own topics, never from partner systems: ``cases.events`` (the person's events; only records
whose case id carries the person's shard are decoded), ``hub.audit`` (disclosures, refusals, reads, replays and
re-drives; only records that name the person's token or one of their cases are parsed) and ``hub.dlq`` (dead
letters that hold the person's id or token).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.kafka_io import read_spans, reader, whole_topic
from casehub.ops.records import when
from casehub.rights.identity import SubjectId
from casehub.schemas import codec
from casehub.streams import audit
from casehub.streams.keys import shard_of_case
from casehub.vault.exceptions import Tampered
from casehub.vault.feed import reading_store
from casehub.vault.fields import open_fields
from casehub.vault.records import SCOPE_HEADER
from casehub.vault.scopes import case_scope, subject_scope
from casehub.vault.tokens import is_token

# audit decisions that put the person's data in someone's hands, and those that record it was kept back
DISCLOSING = frozenset({"delivered", "read"})


@dataclass(frozen=True)
class HubTopics:
    """Where the scan reads (the hub's topics; a benchmark points it at copies)."""

    events: str = topics.CASES_EVENTS
    audit: str = topics.HUB_AUDIT
    dlq: str = topics.HUB_DLQ


@dataclass
class Lineage:
    """What one scan found; every list in the order the hub recorded it."""

    subject: SubjectId
    events: list[dict[str, Any]] = field(default_factory=list)
    disclosures: list[dict[str, Any]] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    replays: list[dict[str, Any]] = field(default_factory=list)
    redrives: list[dict[str, Any]] = field(default_factory=list)
    operator_reads: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> list[str]:
        return sorted({e["case_id"] for e in self.events if e.get("case_id")})

    @property
    def recipients(self) -> list[str]:
        return sorted({d["recipient"] for d in self.disclosures if d.get("recipient")})


def _records(settings: Settings, topic: str, client_id: str) -> Iterator[Any]:
    with reader(settings, client_id=client_id) as consumer:
        yield from read_spans(consumer, topic, whole_topic(consumer, topic))


def _events(settings: Settings, found: Lineage, where: HubTopics) -> None:
    count = 0
    for record in _records(settings, where.events, "casehub-subject-events"):
        count += 1
        case_id = (record.key or b"").decode(errors="replace")
        if shard_of_case(case_id) != found.subject.shard:
            continue
        try:
            decoded = codec.decode(record.value, record.headers)
        except Exception:  # noqa: BLE001 - a record the hub cannot decode names nobody; the count says it was read
            continue
        event = decoded.event
        if event.subject_token != found.subject.token:
            continue
        found.events.append({"case_id": event.case_id, "event_id": event.id, "type": event.type,
                             "source": decoded.source, "occurred_at": event.occurred_at.isoformat(),
                             "recorded_at": when(record.timestamp), "issue_category": event.issue_category})
    found.scanned[where.events] = count


def _dead_letters(settings: Settings, found: Lineage, where: HubTopics) -> None:
    count = 0
    needles = found.subject.needles()
    # a dead letter is sealed under its subject's (or case's) data key; the header naming that key's scope says whose
    scopes = {subject_scope(found.subject.token).encode(), *(case_scope(c).encode() for c in found.cases)}
    for record in _records(settings, where.dlq, "casehub-subject-dlq"):
        count += 1
        value = record.value or b""
        scope = next((v for k, v in (record.headers or ()) if k == SCOPE_HEADER), None)
        if scope in scopes or _mentions(value, needles):
            found.dead_letters.append(f"{record.partition}:{record.offset}")
    found.scanned[where.dlq] = count


def _mentions(value: bytes, needles: tuple[bytes, ...]) -> bool:
    return any(needle in value for needle in needles)


def _audit(settings: Settings, found: Lineage, where: HubTopics) -> None:
    """Disclosures and refusals of the person's events; then the operator actions that touched them."""
    needles = (found.subject.token.encode(), *(case.encode() for case in found.cases))
    cases = set(found.cases)
    letters = set(found.dead_letters)
    actions: list[dict[str, Any]] = []
    replay_ids: set[str] = set()
    count = 0
    for record in _records(settings, where.audit, "casehub-subject-audit"):
        count += 1
        value = record.value or b""
        is_action = b'"action":' in value[:200]
        if not is_action and not _mentions(value, needles):
            continue
        try:
            entry = json.loads(value)
        except ValueError:
            continue
        entry["audit_offset"] = f"{record.partition}:{record.offset}"
        if is_action:
            actions.append(entry)
            continue
        if entry.get("decision") == "streamed":  # a batch the gateway's SSE stream sent: the person's records in it
            common = {k: v for k, v in entry.items() if k != "records"}
            found.disclosures += [{**common, **r} for r in entry.get("records") or [] if r.get("case_id") in cases]
            continue
        if entry.get("subject_token") != found.subject.token and entry.get("case_id") not in cases:
            continue
        for disclosure in audit.entries(entry):
            if disclosure.get("replay_id"):
                replay_ids.add(disclosure["replay_id"])
            target = found.disclosures if disclosure.get("decision") in DISCLOSING else found.withheld
            target.append(disclosure)
    found.scanned[where.audit] = count
    for action in actions:
        kind = action.get("action")
        if kind == "replay" and action.get("id") in replay_ids:
            found.replays.append(action)
        elif kind == "redrive" and letters & {r.get("dlq") for r in action.get("records") or []}:
            found.redrives.append(action)
        elif kind == "read" and _action_touches(action, cases, letters, found.subject.token):
            found.operator_reads.append(action)


def _action_touches(action: dict[str, Any], cases: set[str], letters: set[str], token: str) -> bool:
    """An operator read that showed one of the person's records (by case id, token or dead-letter coordinates)."""
    shown = action.get("records") or []
    return any(r.get("case_id") in cases or r.get("subject_token") == token or r.get("dlq") in letters
               for r in shown)


def trace(settings: Settings, subject: SubjectId, where: HubTopics | None = None) -> Lineage:
    """Scan the hub's topics for ``subject``: events first (they name the person's cases), then dead letters,
    then the audit log (which names cases and dead letters)."""
    where = where or HubTopics()
    found = Lineage(subject)
    _events(settings, found, where)
    _dead_letters(settings, found, where)
    _audit(settings, found, where)
    _open_references(settings, found)
    return found


def _open_references(settings: Settings, found: Lineage) -> None:
    """The lawful-basis references the worker sealed in its audit records, opened ([erased] once erased)."""
    sealed = [e for e in (*found.disclosures, *found.withheld) if is_token(e.get("lawful_reference"))]
    if not sealed:
        return
    with reading_store(settings) as store:
        for entry in sealed:
            sealed_basis = {"lawful_basis": {"reference": entry["lawful_reference"]}}  # the path it was sealed at
            try:
                entry["lawful_reference"] = open_fields(sealed_basis, store).data["lawful_basis"]["reference"]
            except Tampered:
                entry["lawful_reference"] = "[unreadable]"
