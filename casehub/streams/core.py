"""The core hop's logic for one record: dedupe → enrich → authorize → case state → route + project, as outputs.

Pure apart from the tables it is handed; table writes are staged and applied only when the record
succeeds, so a record that ends in ``hub.dlq`` leaves no trace (a re-drive is processed afresh).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import CaseEvent
from casehub.streams import aggregates, audit, authorize, dedupe, enrich, expiry, project, route, state, timers
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.validate import read_event

log = get_logger(__name__)
Headers = list[tuple[str, bytes]]
DISCLOSURE_HEADER = project.DISCLOSURE_HEADER
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce (in the transaction of the record being processed)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = field(default_factory=list)


class StagedTable(MutableMapping[bytes, bytes]):
    """A write buffer over a faust table: reads see staged writes; ``apply`` writes them through."""

    def __init__(self, table: MutableMapping[bytes, Any]) -> None:
        self.table = table
        self.writes: dict[bytes, Any] = {}

    def __getitem__(self, key: bytes) -> bytes:
        value = self.writes.get(key, _MISSING)
        if value is _MISSING:
            value = self.table.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def __delitem__(self, key: bytes) -> None:
        self.writes[key] = None

    def __iter__(self) -> Iterator[bytes]:
        raise TypeError("a staged table is read by key only")

    def __len__(self) -> int:
        raise TypeError("a staged table is read by key only")

    def apply(self) -> None:
        """Write the staged changes to the table (deletes included)."""
        for key, value in self.writes.items():
            if value is None:
                if self.table.get(key) is not None:
                    del self.table[key]
            else:
                self.table[key] = value
        self.writes.clear()


class CoreProcessor:
    """Decides what one intake record produces. Tables are passed per call (staged views of faust tables)."""

    def __init__(
        self,
        *,
        registry: Any,
        pseudonym_key: bytes,
        retention: timedelta,
        window: timedelta,
        sla_high: timedelta,
        sla_standard: timedelta,
        cells_topic: str,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.registry = registry
        self.cells_topic = cells_topic
        self.pseudonym_key = pseudonym_key
        self.pseudonyms = pseudonyms or Pseudonyms(pseudonym_key)
        self.retention = retention
        self.window = window
        self.sla_high = sla_high
        self.sla_standard = sla_standard

    @classmethod
    def from_settings(cls, settings: Settings, registry: Any, *, cells_topic: str) -> CoreProcessor:
        """The processor the worker runs: keys, windows and SLAs from ``settings``."""
        return cls(
            registry=registry,
            pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
            retention=timedelta(hours=settings.dedupe_retention_hours),
            window=timedelta(hours=settings.near_duplicate_window_hours),
            sla_high=timedelta(seconds=settings.sla_high_risk_seconds),
            sla_standard=timedelta(seconds=settings.sla_standard_seconds),
            cells_topic=cells_topic,
            pseudonyms=Pseudonyms.from_settings(settings),
        )

    def shard_for(self, event: CaseEvent) -> str:
        """The shard an event's intake record is keyed by."""
        return dedupe.shard_for(event, self.pseudonym_key)

    def process(
        self,
        origin: Origin,
        *,
        now: datetime,
        seen: StagedTable,
        subjects: StagedTable,
        cases: StagedTable,
        deadlines: StagedTable,
        expiring: StagedTable,
    ) -> list[Output]:
        """The outputs of one accepted inbound record; raises StageRejected for one that cannot be processed."""
        event, org = read_event(origin, self.pseudonyms)
        source = topics.event_source(org)
        if dedupe.is_retry(seen, source, event.id, now=now, retention=self.retention):
            log.info("duplicate dropped", event_id=event.id, partner=source, topic=origin.topic, offset=origin.offset)
            return []
        expiry.plan(expiring, expiry.SEEN, dedupe.seen_key(source, event.id), now + self.retention)
        outputs: list[Output] = []
        if event.type == "case.reported":
            event, before, case, extra = self._report(event, source, now=now, subjects=subjects, cases=cases)
            if before is None and event.subject_token:
                key = dedupe.subject_key(event.subject_token, event.issue_category)
                expiry.plan(expiring, expiry.SUBJECTS, key, now + self.window)
            if before is None and event.location.tambon_code:
                cell = aggregates.cell_key(event.location.tambon_code, event.issue_category, now)
                outputs.append(Output(self.cells_topic, cell, b"1"))
        else:
            event, before, case = self._follow_up(event, org, now=now, cases=cases)
            extra = []
        for canonical, canonical_source in ((event, source), *((e, dedupe.HUB_SOURCE) for e in extra)):
            outputs += self.publish(canonical, canonical_source, case, now=now)
        cases[case.case_id.encode()] = case.to_bytes()
        self._track_deadline(before, case, deadlines)
        outputs.append(self._state_record(case))
        return outputs

    def _report(
        self, event: CaseEvent, source: str, *, now: datetime, subjects: StagedTable, cases: StagedTable
    ) -> tuple[CaseEvent, state.CaseState | None, state.CaseState, list[CaseEvent]]:
        """The report under its case id; the case before it (None: a new case) and after it; a ``case.linked``."""
        token = dedupe.token_of(event, self.pseudonym_key)
        placed = dedupe.place_report(event, token=token, index=subjects, cases=cases, now=now, window=self.window)
        event = event.model_copy(update={"case_id": placed.case_id, "subject_token": token})
        if placed.is_new:
            event = self._enrich(event, now=now, case=None)
            return event, None, state.opened(event, case_id=placed.case_id, now=now), []
        case = state.CaseState.from_bytes(cases[placed.case_id.encode()])
        event = self._enrich(event, now=now, case=case)
        linked = dedupe.linked_event(
            event, case_id=placed.case_id, source=source, window_hours=int(self.window.total_seconds() // 3600), now=now
        )
        return event, case, state.advanced(case, event, now=now), [linked]

    def _follow_up(
        self, event: CaseEvent, sender: str, *, now: datetime, cases: StagedTable
    ) -> tuple[CaseEvent, state.CaseState, state.CaseState]:
        """The enriched follow-up and its case before and after it; an unknown case or a sender without the right
        to act on it (``authorize``) is refused."""
        case_id = event.case_id or ""
        raw = cases.get(case_id.encode())
        if raw is None:
            raise StageRejected(f"{event.type} {event.id}: no case {case_id} is known to the hub", stage="dedupe")
        case = state.CaseState.from_bytes(raw)
        event = self._enrich(event.model_copy(update={"subject_token": case.subject_token}), now=now, case=case)
        authorize.authorize(event, sender=sender, case=case, registry=self.registry, now=now)
        return event, case, state.advanced(case, event, now=now)

    def _enrich(self, event: CaseEvent, *, now: datetime, case: state.CaseState | None) -> CaseEvent:
        return enrich.enrich(
            event, registry=self.registry, now=now, state=case, sla_high=self.sla_high, sla_standard=self.sla_standard
        )

    def publish(self, event: CaseEvent, source: str, case: state.CaseState, *, now: datetime) -> list[Output]:
        """``cases.events`` (binary CloudEvent, Avro) plus one projected delivery and one audit record per recipient."""
        record = encode_binary(event, source=source)
        outputs = [Output(topics.CASES_EVENTS, record.key, record.value, record.headers)]
        deliveries, withheld = route.route(event, registry=self.registry, state=case)
        for delivery in deliveries:
            # each recipient's copy is its own: its pseudonyms are keyed to it alone
            projection = project.project(event, source=source, recipient=delivery.partner.id, level=delivery.disclosure,
                                         may_see=delivery.may_see, pseudonyms=self.pseudonyms)
            wire = project.outbound_record(projection, delivery.disclosure)
            topic = topics.outbound(delivery.partner.id)
            outputs.append(Output(topic, wire.key, wire.value, wire.headers))
            outputs.append(self._audit(event, source, delivery.partner.id, delivery.disclosure, topic,
                                       projection.withheld, now))
        for refused in withheld:
            outputs.append(
                self._audit(event, source, refused.partner.id, refused.partner.disclosure.value, None, (), now, refused.reason)
            )
        return outputs

    @staticmethod
    def _audit(
        event: CaseEvent,
        source: str,
        recipient: str,
        disclosure: str,
        topic: str | None,
        withheld_fields: tuple[str, ...],
        now: datetime,
        refusal: str | None = None,
    ) -> Output:
        value = audit.audit_record(
            event,
            recipient=recipient,
            disclosure=disclosure,
            source=source,
            topic=topic,
            withheld_fields=withheld_fields,
            decision="withheld" if refusal else "delivered",
            reason=refusal,
            now=now,
        )
        return Output(topics.HUB_AUDIT, (event.case_id or "").encode(), value, [("content-type", audit.AUDIT_CONTENT_TYPE)])

    @staticmethod
    def _state_record(case: state.CaseState) -> Output:
        return Output(topics.CASES_STATE, case.case_id.encode(), case.to_bytes(), [("content-type", b"application/json")])

    @staticmethod
    def _track_deadline(before: state.CaseState | None, case: state.CaseState, deadlines: StagedTable) -> None:
        """Keep the case in ``deadlines`` while it is high risk and waits for assignment, under its deadline."""
        old = timers.deadline_key(before) if before is not None else None
        new = timers.deadline_key(case) if case.risk_level == "high" and case.assign_deadline() is not None else None
        if old is not None and old != new and deadlines.get(old) is not None:
            del deadlines[old]
        if new is not None:
            deadlines[new] = case.case_id.encode()

    def expire(self, due: list[bytes], *, until: datetime, seen: StagedTable, subjects: StagedTable,
               expiring: StagedTable) -> int:
        """A sweep command: delete the dedupe entries planned in ``due`` that expired by ``until``."""
        return expiry.sweep(due, until=until, seen=seen, subjects=subjects, expiry=expiring, retention=self.retention,
                            window=self.window)

    def escalate(self, case_id: str, *, now: datetime, cases: StagedTable, deadlines: StagedTable) -> list[Output]:
        """The outputs of a timer's escalation command: ``case.escalated`` if the deadline really passed unassigned."""
        raw = cases.get(case_id.encode())
        if raw is None:
            return []
        case = state.CaseState.from_bytes(raw)
        key = timers.deadline_key(case)
        if key is None or deadlines.get(key) is None:
            return []  # already escalated, assigned or re-timed: the command was a repeat
        escalated = timers.escalation(case, now=now)
        if escalated is None:
            if case.assign_deadline() is None:
                del deadlines[key]
            return []
        enriched = self._enrich(escalated, now=now, case=case)
        del deadlines[key]
        case = state.advanced(case, enriched, now=now)
        cases[case_id.encode()] = case.to_bytes()
        return [*self.publish(enriched, dedupe.HUB_SOURCE, case, now=now), self._state_record(case)]
