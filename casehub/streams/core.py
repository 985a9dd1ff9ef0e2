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
from casehub.schemas.models import CaseEvent
from casehub.streams import aggregates, audit, authorize, dedupe, enrich, expiry, project, route, state, timers, wire
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.validate import Accepted, decoded
from casehub.vault.feed import store_for
from casehub.vault.fields import seal_fields
from casehub.vault.keystore import DataKeyStore
from casehub.vault.scopes import case_scope, subject_scope

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
        schema_base: str,
        pseudonyms: Pseudonyms | None = None,
        keys: DataKeyStore | None = None,
    ) -> None:
        self.registry = registry
        # personal fields of cases.events are sealed under their subject's data key (None: left as they are)
        self.keys = keys
        self.schema_base = schema_base  # the hub's public URL: every record's ce_dataschema names a schema under it
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
            schema_base=settings.public_base_url(),
            pseudonyms=Pseudonyms.from_settings(settings),
            keys=store_for(settings),
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
        """The outputs of one inbound record that passed validation (decoded here without checking it again: the
        worker validates in ``validate.accept`` and calls :meth:`process_accepted`); raises StageRejected for one
        that cannot be processed (then dead-lettered)."""
        accepted = decoded(origin, self.pseudonyms)
        return self.process_accepted(accepted, now=now, seen=seen, subjects=subjects, cases=cases, deadlines=deadlines,
                                     expiring=expiring)

    def process_accepted(
        self,
        accepted: Accepted,
        *,
        now: datetime,
        seen: StagedTable,
        subjects: StagedTable,
        cases: StagedTable,
        deadlines: StagedTable,
        expiring: StagedTable,
    ) -> list[Output]:
        """The outputs of one validated inbound event (``validate.accept``: decoded once, in the core hop)."""
        event, org, source = accepted.event, accepted.org, accepted.source
        outputs: list[Output] = []
        if event.type == "case.reported":
            if dedupe.is_retry(seen, source, event.id, now=now, retention=self.retention):
                log.info("duplicate dropped", event_id=event.id, partner=source)
                return []
            event, before, case, extra = self._report(event, source, now=now, subjects=subjects, cases=cases)
            new_subject = before is None and event.subject_token
            subject_key = dedupe.subject_key(event.subject_token or "", event.issue_category) if new_subject else None
            expiry.plan_report(expiring, dedupe.seen_key(source, event.id), subject_key, now=now,
                               retention=self.retention, window=self.window)
            if before is None and event.location.tambon_code:
                cell = aggregates.cell_key(event.location.tambon_code, event.issue_category, now)
                outputs.append(Output(self.cells_topic, cell, b"1"))
        else:
            followed = self._follow_up(event, org, source, now=now, cases=cases, seen=seen)
            if followed is None:
                log.info("duplicate dropped", event_id=event.id, partner=source)
                return []
            event, before, case = followed
            extra = []
        for canonical, canonical_source in ((event, source), *((e, dedupe.HUB_SOURCE) for e in extra)):
            outputs += self.publish(canonical, canonical_source, case, now=now)
        state_bytes = case.to_bytes()  # encoded once: the table's value and the cases.state record
        cases[case.case_id.encode()] = state_bytes
        self._track_deadline(before, case, deadlines)
        outputs.append(self._state_record(case, state_bytes))
        return outputs

    def _report(
        self, event: CaseEvent, source: str, *, now: datetime, subjects: StagedTable, cases: StagedTable
    ) -> tuple[CaseEvent, state.CaseState | None, state.CaseState, list[CaseEvent]]:
        """The report under its case id; the case before it (None: a new case) and after it; a ``case.linked``."""
        token = dedupe.token_of(event, self.pseudonym_key)
        placed = dedupe.place_report(event, token=token, index=subjects, cases=cases, now=now, window=self.window)
        assigned = {"case_id": placed.case_id, "subject_token": token}
        if placed.is_new:
            event = self._enrich(event, now=now, case=None, changes=assigned)
            return event, None, state.opened(event, case_id=placed.case_id, now=now), []
        case = state.CaseState.from_bytes(cases[placed.case_id.encode()])
        event = self._enrich(event, now=now, case=case, changes=assigned)
        linked = dedupe.linked_event(
            event, case_id=placed.case_id, source=source, window_hours=int(self.window.total_seconds() // 3600), now=now
        )
        return event, case, state.advanced(case, event, now=now), [linked]

    def _follow_up(
        self, event: CaseEvent, sender: str, source: str, *, now: datetime, cases: StagedTable, seen: StagedTable
    ) -> tuple[CaseEvent, state.CaseState, state.CaseState] | None:
        """The enriched follow-up and its case before and after it; None for a retry of one already accepted.

        An unknown case or a sender without the right to act on it (``authorize``) is refused.
        """
        case_id = event.case_id or ""
        raw = cases.get(case_id.encode())
        if raw is None:
            raise StageRejected(f"{event.type} {event.id}: no case {case_id} is known to the hub", stage="dedupe")
        case = state.CaseState.from_bytes(raw)
        # the case remembers its follow-ups; ``seen`` still holds those accepted before it did (read, never written)
        if dedupe.seen_in_case(case, source, event.id, now=now, retention=self.retention) or self._seen_before(
                seen, source, event.id, now=now):
            return None
        event = self._enrich(event, now=now, case=case, changes={"subject_token": case.subject_token})
        authorize.authorize(event, sender=sender, case=case, registry=self.registry, now=now)
        after = state.advanced(case, event, now=now)
        return event, case, dedupe.remembered(after, source, event.id, now=now, retention=self.retention)

    def _seen_before(self, seen: StagedTable, source: str, event_id: str, *, now: datetime) -> bool:
        first_seen = seen.get(dedupe.seen_key(source, event_id))
        return first_seen is not None and now.timestamp() - float(first_seen) <= self.retention.total_seconds()

    def _enrich(self, event: CaseEvent, *, now: datetime, case: state.CaseState | None,
                changes: dict[str, Any] | None = None) -> CaseEvent:
        return enrich.enrich(event, registry=self.registry, now=now, state=case, sla_high=self.sla_high,
                             sla_standard=self.sla_standard, changes=changes)

    def publish(self, event: CaseEvent, source: str, case: state.CaseState, *, now: datetime) -> list[Output]:
        """``cases.events`` (binary CloudEvent, Avro), one projected delivery per recipient, and one ``hub.audit``
        record naming every recipient (level, topic, withheld fields) and every partner the event was withheld from.

        The event is dumped to Avro data once; the canonical record and every projection are written from it.
        """
        data = event.to_avro()
        outputs, audited = self._canonical(event, data, source)
        deliveries, withheld = route.route(event, registry=self.registry, state=case)
        recipients: list[audit.Recipient] = []
        sensitive = project.sensitivity_of(event) if deliveries else frozenset()
        for delivery in deliveries:
            # each recipient's copy is its own: its pseudonyms are keyed to it alone
            projected = project.project_data(event, data, source=source, recipient=delivery.partner.id,
                                             level=delivery.disclosure, may_see=delivery.may_see,
                                             pseudonyms=self.pseudonyms, sensitive=sensitive)
            out = project.outbound_wire(projected, delivery.disclosure, schema_base=self.schema_base)
            topic = topics.outbound(delivery.partner.id)
            outputs.append(Output(topic, out.key, out.value, out.headers))
            recipients.append(audit.Recipient(delivery.partner.id, "delivered", delivery.disclosure, topic,
                                              projected.withheld))
        recipients += [audit.Recipient(refused.partner.id, "withheld", refused.partner.disclosure.value, None,
                                       reason=refused.reason) for refused in withheld]
        if recipients:
            outputs.append(self._audit_output(event, source, recipients, now, audited))
        return outputs

    def _canonical(self, event: CaseEvent, data: dict[str, Any], source: str) -> tuple[list[Output], dict[str, Any]]:
        """The ``cases.events`` record, its personal fields sealed under the subject's data key (the case's when the
        subject is unknown), with the key's own record while it is not yet known committed; and what the audit
        record may say of the event's free text (sealed too)."""
        if self.keys is None:
            record = wire.binary_record(data, source=source, schema_base=self.schema_base)
            return [Output(topics.CASES_EVENTS, record.key, record.value, record.headers)], {}
        scope = subject_scope(event.subject_token) if event.subject_token else case_scope(event.case_id or event.id)
        key = self.keys.key_for(scope)
        sealed = seal_fields(event.type, data, key)
        record = wire.binary_record(sealed, source=source, schema_base=self.schema_base)
        outputs = [Output(topic, record_key, wrapped) for topic, record_key, wrapped in self.keys.records_for([key])]
        outputs.append(Output(topics.CASES_EVENTS, record.key, record.value, record.headers))
        reference = (sealed.get("lawful_basis") or {}).get("reference")
        return outputs, ({"lawful_reference": reference} if reference is not None else {})

    @staticmethod
    def _audit_output(event: CaseEvent, source: str, recipients: list[audit.Recipient], now: datetime,
                      extra: dict[str, Any] | None = None) -> Output:
        value = audit.disclosure_record(event, source=source, recipients=recipients, now=now, extra=extra or None)
        return Output(topics.HUB_AUDIT_ENTRIES, (event.case_id or "").encode(), value, [("content-type", audit.AUDIT_CONTENT_TYPE)])

    @staticmethod
    def _state_record(case: state.CaseState, encoded: bytes | None = None) -> Output:
        value = case.to_bytes() if encoded is None else encoded
        return Output(topics.CASES_STATE, case.case_id.encode(), value, [("content-type", b"application/json")])

    @staticmethod
    def _track_deadline(before: state.CaseState | None, case: state.CaseState, deadlines: StagedTable) -> None:
        """Keep the case in ``deadlines`` while it is high risk and waits for assignment, under its deadline."""
        old = timers.deadline_key(before) if before is not None else None
        new = timers.deadline_key(case) if case.risk_level == "high" and case.assign_deadline() is not None else None
        if old is not None and old != new and deadlines.get(old) is not None:
            del deadlines[old]
        if new is not None and deadlines.get(new) != (value := case.case_id.encode()):
            deadlines[new] = value  # written once: a changelog record repeating the one before it says nothing new

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
        state_bytes = case.to_bytes()
        cases[case_id.encode()] = state_bytes
        return [*self.publish(enriched, dedupe.HUB_SOURCE, case, now=now), self._state_record(case, state_bytes)]
