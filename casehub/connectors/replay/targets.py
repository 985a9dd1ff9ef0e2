"""Where replayed records go: a partner's outbound (re-projected), the pipeline's inbound (a re-run), or a file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from casehub.connectors.replay.selection import Candidate
from casehub.core import topics
from casehub.ops.exceptions import BadSelection
from casehub.ops.records import view
from casehub.registry import Disclosure, Registry
from casehub.schemas.codec import encode_binary
from casehub.streams import audit, project, route
from casehub.streams.dedupe import HUB_SOURCE
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState

Headers = list[tuple[str, bytes]]
REPLAY_PREFIX = "hub.replay."


@dataclass(frozen=True, slots=True)
class Out:
    """One record a replay produces."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


@dataclass
class Outcome:
    """What a target makes of one record: records to produce, or why it is skipped."""

    event_type: str
    outputs: list[Out] = field(default_factory=list)
    skipped: str | None = None


class Target(Protocol):
    kind: str

    def describe(self) -> dict[str, Any]: ...

    def take(self, candidate: Candidate, provenance: Headers, *, dry_run: bool) -> Outcome: ...

    def close(self) -> None: ...


ERASED_SKIP = "subject erased (casehub subject erase)"


def without_provenance(headers: Headers) -> Headers:
    """A record's headers without an earlier replay's provenance (a replay of a replay names the latest)."""
    return [(k, v) for k, v in headers if not k.startswith(REPLAY_PREFIX)]


def _type_of(candidate: Candidate) -> str:
    return candidate.event_type() or "(undecodable)"


class PartnerTarget:
    """Re-projects canonical events for one partner as the registry says NOW: its subscription and jurisdiction
    select the events, its disclosure level shapes them; each delivery is written to ``hub.audit`` like the
    pipeline's. ``states`` are the current case states that grant this partner more (case owner, consent)."""

    kind = "partner"

    def __init__(self, registry: Registry, org: str, states: dict[str, CaseState], replay_id: str, *,
                 audit_topic: str = topics.HUB_AUDIT_ENTRIES, pseudonyms: Pseudonyms, schema_base: str) -> None:
        self.registry = registry
        self.schema_base = schema_base
        self.pseudonyms = pseudonyms
        self.partner = registry.get(org)
        if self.partner.disclosure is Disclosure.AGGREGATE:
            raise BadSelection(f"{org} is an aggregate-level partner: it receives counts on stats.aggregates, not events")
        self.states = states
        self.replay_id = replay_id
        self.audit_topic = audit_topic
        self.topic = topics.outbound(org)
        self._types: dict[str, bool] = {}

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "partner": self.partner.id, "topic": self.topic,
                "disclosure": self.partner.disclosure.value, "registry_version": self.registry.version}

    def _may_want(self, event_type: str) -> bool:
        """Whether events of this type can reach the partner at all (cheap, from the ce_type header: most of a long
        replay is never decoded). Types addressed to a named partner may, whatever its subscriptions."""
        wanted = self._types.get(event_type)
        if wanted is None:
            wanted = self._types[event_type] = event_type in route.ADDRESSED_TYPES or any(
                rule.matches(event_type, category) for rule in self.partner.subscriptions
                for category in rule.issue_categories)
        return wanted

    def take(self, candidate: Candidate, provenance: Headers, *, dry_run: bool) -> Outcome:
        event_type = candidate.event_type() or ""
        if event_type and not self._may_want(event_type):
            return Outcome(event_type, skipped="not selected (subscription/jurisdiction)")
        decoded = candidate.decoded()
        if decoded is None:
            return Outcome(_type_of(candidate), skipped="undecodable")
        event, source = decoded.event, decoded.source
        if candidate.erased:  # its personal fields are gone for good: nothing lawful is left to send again
            return Outcome(event.type, skipped=ERASED_SKIP)
        if not event.case_id:
            return Outcome(event.type, skipped="not canonical (no case id)")
        deliveries, withheld = route.route(event, registry=self.registry, state=self.states.get(event.case_id))
        now = datetime.now(UTC)
        refused = next((w for w in withheld if w.partner.id == self.partner.id), None)
        if refused is not None:
            outputs = [] if dry_run else [self._audit(event, source, "withheld", None, (), now, refused.reason)]
            return Outcome(event.type, outputs, skipped="withheld: " + refused.reason)
        delivery = next((d for d in deliveries if d.partner.id == self.partner.id), None)
        if delivery is None:
            return Outcome(event.type, skipped="not selected (subscription/jurisdiction)")
        if dry_run:
            return Outcome(event.type)
        # the pipeline's own projection: the same copy, pseudonyms and key the partner got (or would have got) live
        projection = project.project(event, source=source, recipient=self.partner.id, level=delivery.disclosure,
                                     may_see=delivery.may_see, pseudonyms=self.pseudonyms)
        wire = project.outbound_record(projection, delivery.disclosure, schema_base=self.schema_base)
        return Outcome(event.type, [
            Out(self.topic, wire.key, wire.value, [*wire.headers, *provenance]),
            self._audit(event, source, "delivered", self.topic, projection.withheld, now, None),
        ])

    def _audit(self, event: Any, source: str, decision: str, topic: str | None, withheld_fields: tuple[str, ...],
               now: datetime, reason: str | None) -> Out:
        # the pipeline's record of a routed event (this one recipient), plus which replay wrote it
        recipient = audit.Recipient(self.partner.id, decision, self.partner.disclosure.value, topic, withheld_fields,
                                    reason)
        body = audit.disclosure_record(event, source=source, recipients=[recipient], now=now,
                                       extra={"replay_id": self.replay_id})
        headers = [("content-type", audit.AUDIT_CONTENT_TYPE), (REPLAY_PREFIX + "id", self.replay_id.encode())]
        return Out(self.audit_topic, (event.case_id or "").encode(), body, headers)

    def close(self) -> None:
        return None


class PipelineTarget:
    """Back into ``partner.<org>.inbound`` for a re-run, keeping each event's (source, id): the pipeline's exact
    dedupe then drops every event it already accepted, so a re-run (or two) delivers only what was missing.

    From an inbound topic the record goes back unchanged. From ``cases.events`` the org comes from ``ce_source``;
    a ``case.reported`` loses the case id the hub gave it (partners may not set one; dedupe finds the case);
    hub-written events (``case.linked``, ``case.escalated``) are skipped: the pipeline makes them again."""

    kind = "pipeline"

    def __init__(self, registry: Registry, *, schema_base: str) -> None:
        self.registry = registry
        self.schema_base = schema_base  # a re-encoded report names its schema under the hub's public URL

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "topics": "partner.<org>.inbound of each event's source"}

    def take(self, candidate: Candidate, provenance: Headers, *, dry_run: bool) -> Outcome:
        record = candidate.record
        headers = [*without_provenance(candidate.headers), *provenance]
        org = topics.org_of_inbound(record.topic)
        if org is not None:
            outcome = Outcome(_type_of(candidate))
            if org not in self.registry:
                outcome.skipped = "partner no longer in the registry"
            elif not dry_run:
                outcome.outputs.append(Out(topics.inbound(org), record.key, record.value, headers))
            return outcome
        source, event_type = candidate.source(), _type_of(candidate)
        if source is None:
            return Outcome(event_type, skipped="undecodable")
        if source == HUB_SOURCE:
            return Outcome(event_type, skipped="hub-written (the pipeline makes it again)")
        org = source.removeprefix("/partners/")
        if source == org or org not in self.registry:
            return Outcome(event_type, skipped="source is not a partner in the registry")
        decoded = candidate.decoded() if candidate.store is not None else None
        if decoded is not None and candidate.erased:
            return Outcome(event_type, skipped=ERASED_SKIP)
        if dry_run:
            return Outcome(event_type)
        if decoded is not None and candidate.sealed and not (event_type == "case.reported" and candidate.case_id()):
            # cases.events holds sealed fields: the partner's topic gets the event as the partner sent it
            wire = encode_binary(decoded.event, source=source, schema_base=self.schema_base)
            return Outcome(event_type, [Out(topics.inbound(org), record.key, wire.value,
                                            [*without_provenance(wire.headers), *provenance])])
        if event_type == "case.reported" and candidate.case_id():
            decoded = candidate.decoded()
            if decoded is None:
                return Outcome(event_type, skipped="undecodable")
            stripped = decoded.event.model_copy(update={"case_id": None, "subject_token": None, "enrichment": None})
            wire = encode_binary(stripped, source=source, schema_base=self.schema_base)
            headers = [*without_provenance(wire.headers), *provenance]
            return Outcome(event_type, [Out(topics.inbound(org), record.key, wire.value, headers)])
        return Outcome(event_type, [Out(topics.inbound(org), record.key, record.value, headers)])

    def close(self) -> None:
        return None


class FileTarget:
    """JSON lines: coordinates, key, headers and the decoded event (or the raw value in base64)."""

    kind = "file"

    def __init__(self, path: Path, replay_id: str) -> None:
        self.path = path
        self.replay_id = replay_id
        self._file: IO[str] | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path)}

    def take(self, candidate: Candidate, provenance: Headers, *, dry_run: bool) -> Outcome:
        outcome = Outcome(_type_of(candidate))
        if dry_run:
            return outcome
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")
        line = view(candidate.record, candidate.store).as_dict()
        line["replay_id"] = self.replay_id
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        return outcome

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
