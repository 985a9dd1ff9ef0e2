"""The simulator's records: reproducible, realistic, valid unless broken on purpose, broken exactly as they claim."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from stdnum.th import pin

from casehub.connectors.simulator import DEFAULT_UNTIL, SimulatedRecord, SimulatorOptions, generate
from casehub.connectors.simulator.domain import MAIN_MIX
from casehub.connectors.simulator.exceptions import SimulatorConfigError
from casehub.connectors.simulator.lifecycle import OFFICE_CLOSES, OFFICE_OPENS, THAILAND
from casehub.connectors.simulator.people import age_on
from casehub.connectors.simulator.writer import Pacer, json_line
from casehub.core import geography, topics
from casehub.core.settings import Settings
from casehub.registry import Registry, load_registry, parse_registry
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import DecodeError, EventInvalid
from casehub.schemas.models import CaseEvent
from casehub.schemas.validation import validate_event
from casehub.streams.keys import CASE_ID

BUSY = SimulatorOptions(duplicates=0.25, retries=0.05, malformed=0.05, structured_share=0.3)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(Settings(registry_path=None))


@pytest.fixture(scope="module")
def busy(registry: Registry) -> list[SimulatedRecord]:
    """400 cases with every kind of record in it."""
    return list(generate(7, 400, BUSY, registry=registry))


def wire(records: list[SimulatedRecord]) -> list[tuple[object, ...]]:
    return [(r.topic, r.record.key, r.record.value, tuple(r.record.headers), r.intent) for r in records]


def lifecycles(records: list[SimulatedRecord]) -> dict[str, list[CaseEvent]]:
    cases: dict[str, list[CaseEvent]] = defaultdict(list)
    for record in records:
        if record.intent.kind == "valid":
            assert record.event is not None and record.case_ref is not None
            cases[record.case_ref].append(record.event)
    return cases


def test_the_same_seed_gives_the_same_records_byte_for_byte(registry: Registry, busy: list[SimulatedRecord]) -> None:
    again = list(generate(7, 400, BUSY, registry=registry))
    assert wire(again) == wire(busy)
    assert [json_line(r) for r in again[:50]] == [json_line(r) for r in busy[:50]]


def test_another_seed_gives_other_records(registry: Registry, busy: list[SimulatedRecord]) -> None:
    other = list(generate(8, 400, BUSY, registry=registry))
    assert {r.event_id for r in other}.isdisjoint({r.event_id for r in busy})
    assert wire(other) != wire(busy)


def test_the_hotline_1300_mix_holds_over_thousands_of_cases(registry: Registry) -> None:
    records = generate(11, 3000, SimulatorOptions(duplicates=0, retries=0), registry=registry)
    categories = Counter(r.event.issue_category for r in records if r.event_type == "case.reported" and r.event)
    assert sum(categories.values()) == 3000
    main_total = sum(categories[c] for c in MAIN_MIX)
    expected = {c: n / sum(MAIN_MIX.values()) for c, n in MAIN_MIX.items()}  # 74.4 / 12.1 / 9.7 / 3.8 %
    for category, share in expected.items():
        assert abs(categories[category] / main_total - share) < 0.025, (category, categories[category] / main_total)
    others = 3000 - main_total
    assert 0.025 < others / 3000 < 0.075
    assert len([c for c in categories if c not in MAIN_MIX]) >= 5


def test_every_lifecycle_has_8_to_12_events_in_a_plausible_order(busy: list[SimulatedRecord]) -> None:
    cases = lifecycles(busy)
    assert len(cases) == 400
    for ref, events in cases.items():
        types = [e.type for e in events]
        assert 8 <= len(events) <= 12, types
        assert types[0] == "case.reported" and types[-1] == "case.closed", types
        assert types[1:3] == ["case.triaged", "case.assigned"], types
        assert types.index("case.assessed") < types.index("case.plan_approved") < types.index("service.delivered")
        assert types.index("service.delivered") < types.index("case.followup") < types.index("case.closed")
        if "case.reopened" in types:
            assert types.index("case.closed") < types.index("case.reopened") < len(types) - 1
        times = [e.occurred_at for e in events]
        assert times == sorted(times), ref
        for event in events[3:]:  # after triage and assignment (around the clock), office work in office hours
            local = event.occurred_at.astimezone(THAILAND)
            assert local.weekday() < 5 and OFFICE_OPENS <= local.time() <= OFFICE_CLOSES, (event.type, local)
        assert times[-1] <= DEFAULT_UNTIL
        assert CASE_ID.match(ref)
        assert {e.case_id for e in events[1:]} == {ref} and events[0].case_id is None
        for transfer in (e for e in events if e.type == "case.transferred"):
            assert transfer.from_unit != transfer.to_unit  # type: ignore[attr-defined]
        requested = {e.referral_id: e for e in events if e.type == "referral.requested"}  # type: ignore[attr-defined]
        for answer in (e for e in events if e.type in ("referral.accepted", "referral.rejected")):
            asked = requested[answer.referral_id]  # type: ignore[attr-defined]
            assert answer.recipient == asked.recipient and answer.occurred_at > asked.occurred_at  # type: ignore[attr-defined]
    kinds = Counter(t for events in cases.values() for t in {e.type for e in events})
    for sometimes in ("consent.recorded", "case.transferred", "case.reopened", "referral.accepted", "referral.rejected"):
        assert kinds[sometimes] > 0, sometimes


def test_records_the_simulator_did_not_break_pass_the_contract(busy: list[SimulatedRecord], registry: Registry) -> None:
    checked = Counter()
    for record in busy:
        if record.intent.kind == "malformed":
            continue
        decoded = decode(record.record.value, record.record.headers)
        validate_event(decoded.event)
        assert decoded.event == record.event
        assert decoded.mode == record.mode
        assert record.topic == topics.inbound(record.org) and record.org in registry
        assert decoded.source == topics.event_source(record.org)
        assert record.record.key == (record.event.case_id.encode() if record.event and record.event.case_id else None)
        checked[record.mode] += 1
    assert checked["binary"] > checked["structured"] > 0.2 * sum(checked.values())


def test_every_broken_record_fails_for_the_reason_it_claims(busy: list[SimulatedRecord]) -> None:
    broken = [r for r in busy if r.intent.kind == "malformed"]
    reasons = Counter(r.intent.reason for r in broken)
    assert len(reasons) >= 7, reasons
    for record in broken:
        assert record.event is None and record.intent.reason and record.intent.detail
        with pytest.raises((DecodeError, EventInvalid)) as failure:
            validate_event(decode(record.record.value, record.record.headers).event)
        fields = {e.field for e in failure.value.errors}  # type: ignore[union-attr]
        if record.intent.field is None:
            assert failure.type is DecodeError, record.intent
        else:
            assert record.intent.field in fields, (record.intent, fields)
    valid_ids = {r.event_id for r in busy if r.intent.kind != "malformed"}
    assert valid_ids.isdisjoint(r.event_id for r in broken)


def test_duplicate_reports_come_from_the_other_channel_within_72_hours(busy: list[SimulatedRecord]) -> None:
    reports = {r.event_id: r for r in busy if r.event_type == "case.reported" and r.intent.kind == "valid"}
    duplicates = [r for r in busy if r.intent.kind == "duplicate"]
    assert 60 <= len(duplicates) <= 140  # 25 % of 400 cases
    for duplicate in duplicates:
        first = reports[duplicate.intent.of or ""]
        assert duplicate.intent.of_source == topics.event_source(first.org)
        assert duplicate.event and first.event
        assert duplicate.event.subject.citizen_id == first.event.subject.citizen_id is not None  # type: ignore[attr-defined]
        assert duplicate.event.issue_category == first.event.issue_category
        assert {duplicate.org, first.org} & {"hotline-1300"} and duplicate.org != first.org
        assert (set(duplicate.org.split("-")[:1]) | set(first.org.split("-")[:1])) & {"tc", "lao"}
        assert timedelta(0) < duplicate.event.occurred_at - first.event.occurred_at < timedelta(hours=72)
        assert duplicate.event.id != first.event.id and duplicate.case_ref == first.case_ref


def test_retries_repeat_an_earlier_record_with_the_same_event_id(busy: list[SimulatedRecord]) -> None:
    retries = [(i, r) for i, r in enumerate(busy) if r.intent.kind == "retry"]
    assert len(retries) > 100
    first_seen = {}
    for index, record in enumerate(busy):
        if record.intent.kind != "retry":
            first_seen.setdefault((record.topic, record.event_id), index)
    for index, retry in retries:
        assert retry.event_id == retry.intent.of
        original = busy[first_seen[(retry.topic, retry.event_id)]]
        assert first_seen[(retry.topic, retry.event_id)] < index
        assert (original.record.key, original.record.value, original.record.headers) == (
            retry.record.key, retry.record.value, retry.record.headers)


def test_people_have_valid_citizen_ids_and_birth_dates_that_fit_their_target_group(busy: list[SimulatedRecord]) -> None:
    reports = [r.event for r in busy if r.event_type == "case.reported" and r.intent.kind == "valid" and r.event]
    with_id = [e for e in reports if e.subject.citizen_id]  # type: ignore[attr-defined]
    assert len(with_id) > 0.85 * len(reports)
    for event in reports:
        subject = event.subject  # type: ignore[attr-defined]
        if subject.citizen_id:
            assert pin.is_valid(subject.citizen_id) and len(subject.citizen_id) == 13
            assert any("\u0e00" <= ch <= "\u0e7f" for ch in subject.given_name + subject.family_name)
        else:
            assert subject.other_id or subject.nationality == "TH"
        age = age_on(subject.birth_date, event.occurred_at.astimezone(THAILAND).date())
        group = event.target_group
        if group == "child":
            assert age < 18
        elif group == "elderly":
            assert age >= 60
        elif group == "youth":
            assert 18 <= age <= 25
        elif group != "disability":
            assert 18 <= age < 60, (group, age)
        if group == "women" or event.issue_category == "teen_pregnancy":
            assert subject.sex == "female"


def test_locations_are_real_tambons_some_given_as_text_or_postal_code(busy: list[SimulatedRecord]) -> None:
    reports = [r.event for r in busy if r.event_type == "case.reported" and r.intent.kind == "valid" and r.event]
    forms: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
    for event in reports:
        location = event.location
        if location.tambon_code:
            place = geography.tambon(location.tambon_code)
            forms["code"] += 1
        else:
            places = geography.resolve_location(location.address_text, location.postal_code)
            assert len(places) == 1, location
            place = places[0]
            forms["text" if location.address_text else "postal"] += 1
        assert place is not None
        provinces[place.province_code] += 1
    # a postal code alone names one tambon for only 33 of 7,436 tambons, so that form stays rare
    assert forms["code"] > forms["text"] > 0.1 * len(reports) and forms["postal"] < forms["text"]
    assert {"40", "50", "84", "90"} <= set(provinces)  # every province with tambon centres in the registry
    assert len(provinces) > 30


def test_count_per_events_writes_exactly_that_many_records(registry: Registry) -> None:
    records = list(generate(3, 250, SimulatorOptions(per="events", malformed=0.1), registry=registry))
    assert len(records) == 250
    assert Counter(r.intent.kind for r in records)["malformed"] > 0


def test_records_come_in_the_order_things_happened(busy: list[SimulatedRecord]) -> None:
    times = [r.event.occurred_at for r in busy if r.intent.kind in ("valid", "duplicate") and r.event]
    assert times == sorted(times)
    assert times[0] < times[-1] - timedelta(days=100)


def test_only_organisations_of_the_registry_send_anything(small_registry_path: object) -> None:
    from pathlib import Path

    path = Path(str(small_registry_path))
    registry = parse_registry(path.read_text(encoding="utf-8"), source=str(path))
    records = list(generate(5, 60, BUSY, registry=registry))
    orgs = Counter(r.org for r in records)
    assert set(orgs) <= set(registry.partners)
    kinds = {registry.get(org).kind.value for org in orgs}
    assert {"hotline", "pso", "tambon_centre", "lao"} <= kinds and kinds & {"hospital", "ngo", "police", "private"}
    assert any(r.intent.kind == "duplicate" for r in records)


def test_impossible_options_are_refused_with_a_clear_error(registry: Registry) -> None:
    with pytest.raises(SimulatorConfigError, match="between 0 and 1"):
        generate(1, 1, SimulatorOptions(retries=1.5), registry=registry)
    lonely = parse_registry(json.dumps({"version": 1, "partners": [
        {"id": "hotline-1300", "kind": "hotline", "name": {"th": "x", "en": "x"}, "jurisdiction": "national",
         "disclosure": "full", "subscriptions": []}]}), source="test")
    with pytest.raises(SimulatorConfigError, match="provincial office"):
        generate(1, 1, registry=lonely)


def test_the_pacer_spaces_records_at_the_rate_asked() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        clock[0] += seconds

    pacer = Pacer(4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    unpaced = Pacer(0.0, clock=lambda: 0.0, sleep=sleep)
    unpaced.wait()
    assert len(slept) == 4


def test_a_record_can_be_re_keyed_to_the_case_id_the_hub_assigned(busy: list[SimulatedRecord]) -> None:
    hub_case_id = "CASE-20261101-7F0123ABCD"
    follow_ups = [r for r in busy if r.intent.kind == "valid" and r.event_type != "case.reported"]
    for record in follow_ups[:200]:
        rekeyed = record.with_case_id(hub_case_id)
        decoded = decode(rekeyed.value, rekeyed.headers)
        assert decoded.event.case_id == hub_case_id and decoded.mode == record.mode
        assert decoded.event == record.event.model_copy(update={"case_id": hub_case_id})  # type: ignore[union-attr]
        assert rekeyed.key == hub_case_id.encode()
        if record.mode == "binary":
            assert rekeyed.header("ce_subject") == hub_case_id.encode()
    unchanged = [r for r in busy if r.intent.kind == "malformed" or r.event_type == "case.reported"][:50]
    assert all(r.with_case_id(hub_case_id) == r.record for r in unchanged)


def test_each_event_comes_from_the_organisation_that_would_really_send_it(busy: list[SimulatedRecord],
                                                                           registry: Registry) -> None:
    senders: dict[str, Counter[str]] = defaultdict(Counter)
    for record in busy:
        if record.intent.kind not in ("valid", "duplicate") or record.event is None:
            continue
        event, org = record.event, record.org
        kind = registry.get(org).kind.value
        senders[event.type][kind] += 1
        tambon = event.location.tambon_code
        if event.type in ("case.triaged", "case.assigned", "case.plan_approved", "case.closed"):
            assert org == f"pso-{(tambon or '')[:2]}", (event.type, org, tambon)
        if event.type in ("referral.accepted", "referral.rejected"):
            assert org == event.recipient  # type: ignore[attr-defined]
        if event.type == "service.delivered":
            assert org == event.provider  # type: ignore[attr-defined]
        if event.type == "case.reported":
            assert (event.channel in ("phone_1300", "line")) == (org == "hotline-1300")  # type: ignore[attr-defined]
            if kind in ("tambon_centre", "lao"):
                assert registry.get(org).covers(tambon or _resolved(event))
    assert set(senders["case.reported"]) == {"hotline", "tambon_centre", "lao", "hospital"}
    assert set(senders["referral.accepted"]) <= {"hospital", "police", "ngo", "private"}
    assert set(senders["case.followup"]) <= {"tambon_centre", "lao", "pso"} and senders["case.followup"]["tambon_centre"]


def _resolved(event: CaseEvent) -> str:
    places = geography.resolve_location(event.location.address_text, event.location.postal_code)
    return places[0].tambon_code
