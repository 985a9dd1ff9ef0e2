"""The simulator's library API: ``generate`` yields partner records, in time order, each saying what it is meant to be."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from casehub.connectors.simulator import malform
from casehub.connectors.simulator.exceptions import SimulatorConfigError
from casehub.connectors.simulator.lifecycle import Case, CaseBuilder, Step
from casehub.connectors.simulator.places import PlacePicker
from casehub.core import topics
from casehub.registry import Registry
from casehub.schemas.codec import WireRecord, encode_binary, encode_structured
from casehub.schemas.models import CaseEvent, parse_event

DEFAULT_UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
"""The latest occurred_at by default: a fixed moment, so the same seed gives the same bytes on any day."""
SPREAD = timedelta(days=240)
"""Reports are spread over this long before ``until``."""
DUPLICATE_WINDOW = timedelta(hours=72)
"""A second channel reports the same person within this window (the hub's near-duplicate window)."""

IntentKind = Literal["valid", "duplicate", "retry", "malformed"]
Mode = Literal["binary", "structured"]


@dataclass(frozen=True, slots=True)
class Intent:
    """What a record is meant to be.

    ``valid``: a lifecycle event. ``duplicate``: another channel's report of the same person and category within 72 h
    (``of`` = the first report's event id, ``of_source`` its CloudEvents source). ``retry``: the same record again
    (``of`` = its event id). ``malformed``: broken on purpose, ``reason`` says how and ``field`` which field the
    contract names (None: it cannot be decoded at all).
    """

    kind: IntentKind
    of: str | None = None
    of_source: str | None = None
    reason: str | None = None
    field: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, without the empty parts."""
        return {name: value for name in ("kind", "of", "of_source", "reason", "field", "detail")
                if (value := getattr(self, name)) is not None}


@dataclass(frozen=True, slots=True)
class SimulatedRecord:
    """One record for partner ``org``'s inbound topic, what it is meant to be, and the event it carries (if any)."""

    topic: str
    org: str
    record: WireRecord
    intent: Intent
    event_id: str
    event_type: str
    case_ref: str | None
    mode: Mode
    schema_base: str
    event: CaseEvent | None = None

    def with_case_id(self, case_id: str) -> WireRecord:
        """This record re-encoded (same mode) about the hub's case ``case_id`` instead of the stand-in ``case_ref``.

        Reports (the hub assigns their case id) and malformed records (sent as broken) come back unchanged.
        """
        if self.event is None or self.event.type == "case.reported":
            return self.record
        encode = encode_structured if self.mode == "structured" else encode_binary
        return encode(self.event.model_copy(update={"case_id": case_id}), source=topics.event_source(self.org),
                      schema_base=self.schema_base)


@dataclass(frozen=True)
class SimulatorOptions:
    """What traffic to write. Shares are probabilities: ``duplicates`` per case, ``retries`` and ``malformed`` per
    lifecycle record, ``structured_share`` per record (the rest is binary-mode Avro). ``schema_base`` is the hub's
    public URL, which the records' ``ce_dataschema`` starts with (the CLI passes CASEHUB_PUBLIC_URL's)."""

    per: Literal["cases", "events"] = "cases"
    duplicates: float = 0.05
    retries: float = 0.02
    malformed: float = 0.0
    structured_share: float = 0.1
    until: datetime = DEFAULT_UNTIL
    provinces: tuple[str, ...] | None = None
    local_share: float = 0.5
    address_text_share: float = 0.25
    postal_code_share: float = 0.05
    schema_base: str = "http://127.0.0.1:8080"

    def check(self) -> None:
        """Refuse options that cannot be honoured."""
        for name in ("duplicates", "retries", "malformed", "structured_share", "local_share", "address_text_share", "postal_code_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SimulatorConfigError(f"--{name.replace('_', '-')} must be a share between 0 and 1, got {value}")
        if self.until.tzinfo is None:
            raise SimulatorConfigError("until needs a UTC offset")


@dataclass(order=True)
class _Planned:
    at: datetime
    case_index: int
    seq: int
    org: str = field(compare=False)
    intent: Intent = field(compare=False)
    case_ref: str | None = field(compare=False)
    mode: Mode = field(compare=False)
    schema_base: str = field(compare=False)
    event: CaseEvent | None = field(compare=False, default=None)
    broken: malform.Broken | None = field(compare=False, default=None)

    def materialise(self) -> SimulatedRecord:
        if self.broken is not None:
            assert self.event is not None
            record = self.broken.record
            event_id, event_type = self.broken.event_id, self.event.type
        else:
            assert self.event is not None
            source = topics.event_source(self.org)
            encode = encode_structured if self.mode == "structured" else encode_binary
            record = encode(self.event, source=source, schema_base=self.schema_base)
            event_id, event_type = self.event.id, self.event.type
        carried = None if self.broken is not None else self.event
        return SimulatedRecord(topics.inbound(self.org), self.org, record, self.intent, event_id, event_type,
                               self.case_ref, self.mode, self.schema_base, carried)


class Traffic:
    """The planned records, ordered by occurred_at: ``len()`` is known up front, iterating encodes them one by one."""

    def __init__(self, planned: list[_Planned]) -> None:
        self._planned = planned

    def __len__(self) -> int:
        return len(self._planned)

    def __iter__(self) -> Iterator[SimulatedRecord]:
        for item in self._planned:
            yield item.materialise()


def generate(seed: int, count: int, options: SimulatorOptions | None = None, *, registry: Registry) -> Traffic:
    """Simulated partner traffic: ``count`` cases (or records, with ``per="events"``), ordered by occurred_at.

    The same seed, count, options and registry give the same records byte for byte. Every record not marked
    ``malformed`` passes ``casehub.schemas`` decoding and validation; every malformed one fails as its intent says.
    Only organisations in ``registry`` send anything.
    """
    options = options or SimulatorOptions()
    options.check()
    picker = PlacePicker(registry, options.provinces)
    if not picker.provinces:
        raise SimulatorConfigError(
            "no province has a provincial office (pso-<PP>) in the registry" + (f" among {options.provinces}" if options.provinces else ""),
            hint="cases need an owner: add pso-<PP> partners, or choose other --province codes",
        )
    planned: list[_Planned] = []
    index = 0
    while (index < count) if options.per == "cases" else (len(planned) < count):
        planned += plan_case(seed, index, picker, registry, options)
        index += 1
    planned.sort()
    if options.per == "events":
        planned = planned[:count]
    return Traffic(planned)


def plan_case(seed: int, index: int, picker: PlacePicker, registry: Registry, options: SimulatorOptions) -> list[_Planned]:
    """Every record of case ``index``: its lifecycle, maybe a second channel's report, retries, broken copies."""
    rng = random.Random(f"casehub-simulator:{seed}:{index}")
    reported_twice = rng.random() < options.duplicates
    place = picker.tambon(rng, local=reported_twice or rng.random() < options.local_share)
    given = picker.given(place, rng, text_share=options.address_text_share, postal_share=options.postal_code_share)
    reported_at = (options.until - timedelta(seconds=rng.uniform(0, SPREAD.total_seconds()))).replace(microsecond=0)
    builder = CaseBuilder(rng, registry, given, reported_at, citizen_id_known=True if reported_twice else None,
                          hotline_or_local=reported_twice)
    case = builder.build()
    extra: list[tuple[Step, Intent]] = []
    if reported_twice:
        second = _second_channel(builder, case, rng)
        if second is not None:
            extra.append(second)
    shift = _days_past(case, options.until)
    planned: list[_Planned] = []
    seq = 0

    def add(at: datetime, org: str, intent: Intent, event: CaseEvent, mode: Mode, broken: malform.Broken | None = None) -> None:
        nonlocal seq
        planned.append(_Planned(at, index, seq, org, intent, case.ref, mode, options.schema_base, event, broken))
        seq += 1

    lifecycle = [(step, Intent("valid")) for step in case.steps]
    for step, intent in sorted(lifecycle + extra, key=lambda pair: pair[0].event.occurred_at):
        event = _shifted(step.event, shift) if shift else step.event
        mode: Mode = "structured" if rng.random() < options.structured_share else "binary"
        add(event.occurred_at, step.org, intent, event, mode)
        if rng.random() < options.retries:
            later = event.occurred_at + timedelta(seconds=rng.randint(1, 600))
            add(later, step.org, Intent("retry", of=event.id, of_source=topics.event_source(step.org)), event, mode)
        if intent.kind == "valid" and rng.random() < options.malformed:
            broken = malform.break_event(rng, event, step.org, structured=mode == "structured",
                                         schema_base=options.schema_base)
            reason = Intent("malformed", reason=broken.reason, field=broken.field, detail=broken.detail)
            add(event.occurred_at, step.org, reason, event, "structured" if broken.record.header("ce_id") is None else "binary", broken)
    return planned


def _second_channel(builder: CaseBuilder, case: Case, rng: random.Random) -> tuple[Step, Intent] | None:
    """The same person and issue reported again by the other channel (hotline vs. LAO / tambon centre) within 72 h."""
    if not case.person.citizen_id:
        return None
    first = case.report
    if first.org == "hotline-1300":
        locals_ = [("lao", org) for org in builder.laos] + ([("walk_in", builder.centre)] if builder.centre else [])
        if not locals_:
            return None
        channel, org = rng.choice(locals_)
    elif "hotline-1300" in builder.registry:
        channel, org = "phone_1300", "hotline-1300"
    else:
        return None
    latest = min(DUPLICATE_WINDOW - timedelta(hours=1), case.steps[-1].event.occurred_at - first.event.occurred_at)
    at = first.event.occurred_at + timedelta(seconds=rng.uniform(600, max(601.0, latest.total_seconds())))
    event = builder.report(org=org, channel=channel, at=at.replace(microsecond=0))
    return Step(org, event), Intent("duplicate", of=first.event.id, of_source=topics.event_source(first.org))


def _days_past(case: Case, until: datetime) -> int:
    """Days (whole weeks, so office work stays on working days) to move the case back to end by ``until``."""
    last = max(step.event.occurred_at for step in case.steps)
    overshoot = (last - until).total_seconds()
    return 7 * math.ceil(overshoot / (7 * 86400)) if overshoot > 0 else 0


def _shifted(event: CaseEvent, days: int) -> CaseEvent:
    """The event moved ``days`` earlier: every time and date alike, so ages and deadlines keep their meaning."""
    delta = timedelta(days=days)

    def move(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value - delta
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    return parse_event(move(event.model_dump()))
