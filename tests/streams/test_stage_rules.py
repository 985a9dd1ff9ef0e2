"""Fast tests of each stage's pure rules: keys, validation, dedupe, enrichment, projection, routing, state, DLQ."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from casehub.core import topics
from casehub.registry import parse_registry
from casehub.schemas.codec import encode_binary, encode_structured
from casehub.streams import aggregates, dedupe, enrich, expiry, project, route, state, timers
from casehub.streams.core import CoreProcessor, StagedTable
from casehub.streams.dlq import Origin, dead_letter_headers, read_error
from casehub.streams.exceptions import StageRejected
from casehub.streams.keys import CASE_ID, new_case_id, shard_of_case, subject_token
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.validate import accept
from tests.connectors.events import SCHEMA_BASE
from tests.streams.conftest import write_registry
from tests.streams.harness import TAMBON, citizen_id, follow_up, report

# a fixed instant for rules that compare times; validation compares against the wall clock, as the hub does
NOW = datetime.now(UTC).replace(microsecond=0)
KEY = b"test-pseudonym-key"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path, _, _ = write_registry(tmp_path_factory.mktemp("reg") / "partners.yaml", "unit")
    return parse_registry(path.read_text(), source=str(path))


def origin_of_event(event, org: str = "lao-unit", structured: bool = False) -> Origin:  # type: ignore[no-untyped-def]
    wire = (encode_structured if structured else encode_binary)(event, source="/partners/liar", schema_base=SCHEMA_BASE)
    return Origin(topics.inbound(org), 0, 7, wire.key, wire.value, tuple(wire.headers))


def processor(registry) -> CoreProcessor:  # type: ignore[no-untyped-def]
    return CoreProcessor(registry=registry, pseudonym_key=KEY, retention=timedelta(days=7), window=timedelta(hours=72),
                         sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3), cells_topic="cells",
                         schema_base=SCHEMA_BASE)


def tables() -> dict[str, dict[bytes, bytes]]:
    return {name: {} for name in ("seen", "subjects", "cases", "deadlines", "expiring")}


def run(core: CoreProcessor, origin: Origin, store: dict[str, dict[bytes, bytes]], now: datetime = NOW) -> list:
    staged = {name: StagedTable(table) for name, table in store.items()}
    outputs = core.process(origin, now=now, **staged)
    for table in staged.values():
        table.apply()
    return outputs


# --- keys ---

def test_subject_tokens_are_keyed_hmacs_not_plain_hashes() -> None:
    cid = citizen_id()
    token = subject_token(KEY, cid)
    assert token == subject_token(KEY, cid[:1] + "-" + cid[1:])  # formatting does not matter
    assert token != subject_token(b"another key", cid)
    assert token not in hashlib.sha256(cid.encode()).hexdigest()


def test_case_ids_carry_the_shard_of_their_subject() -> None:
    case_id = new_case_id("A7", NOW)
    assert CASE_ID.match(case_id) and case_id.startswith(f"CASE-{NOW:%Y%m%d}-A7")
    assert shard_of_case(case_id) == "A7"
    assert shard_of_case("CASE-1") is None


# --- validate ---

def test_validate_takes_the_source_from_the_topic_and_clears_hub_fields() -> None:
    event = report().model_copy(update={"subject_token": "forged"})
    accepted = accept(origin_of_event(event, "lao-unit"), now=datetime.now(UTC))
    assert accepted.source == "/partners/lao-unit" and accepted.org == "lao-unit"
    assert accepted.event.subject_token is None


def test_validate_refuses_bad_records_with_a_reason() -> None:
    bad_id = report(cid="1101700123450")  # wrong check digit
    with pytest.raises(StageRejected, match="check digit"):
        accept(origin_of_event(bad_id), now=datetime.now(UTC))
    forged = follow_up("case.assigned", case_id="CASE-20261128-ZZ", to_unit="pso-84")
    with pytest.raises(StageRejected, match="not issued by the hub"):
        accept(origin_of_event(forged), now=datetime.now(UTC))
    with pytest.raises(StageRejected, match="decode"):
        accept(Origin(topics.inbound("lao-unit"), 0, 1, None, b"{not json", ()), now=datetime.now(UTC))


# --- dedupe ---

def test_exact_dedupe_within_retention_only() -> None:
    seen: dict[bytes, bytes] = {}
    week = timedelta(days=7)
    assert not dedupe.is_retry(seen, "/partners/a", "e1", now=NOW, retention=week)
    assert dedupe.is_retry(seen, "/partners/a", "e1", now=NOW + timedelta(days=6), retention=week)
    assert not dedupe.is_retry(seen, "/partners/b", "e1", now=NOW, retention=week)  # another source, another event
    assert not dedupe.is_retry(seen, "/partners/a", "e1", now=NOW + timedelta(days=8), retention=week)


def test_a_follow_up_retry_is_dropped_by_its_case_and_writes_no_dedupe_record(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    opened = run(core, origin_of_event(report()), store)
    case_id = next(o.key for o in opened if o.topic == topics.CASES_EVENTS).decode()
    assign = origin_of_event(follow_up("case.assigned", case_id=case_id, to_unit=f"tc-{TAMBON}"), "pso-84")
    before = {name: dict(table) for name, table in store.items()}
    assert run(core, assign, store, NOW + timedelta(minutes=5))
    assert store["seen"] == before["seen"] and store["expiring"] == before["expiring"]  # the case remembers it
    assert run(core, assign, store, NOW + timedelta(days=6)) == []  # a retry within the retention
    state_after = state.CaseState.from_bytes(store["cases"][case_id.encode()])
    assert len(state_after.recent_events) == 1 and state_after.events == 2
    # a follow-up accepted before cases remembered theirs (its entry in ``seen``) is still a retry
    triage = follow_up("case.triaged", case_id=case_id, assigned_unit=f"tc-{TAMBON}")
    store["seen"][dedupe.seen_key("/partners/pso-84", triage.id)] = f"{NOW.timestamp():.3f}".encode()
    assert run(core, origin_of_event(triage, "pso-84"), store, NOW + timedelta(hours=1)) == []
    # past the retention the case forgets it: the same event is accepted anew (as a late report would be)
    assert run(core, assign, store, NOW + timedelta(days=8))


def test_a_second_report_within_72_hours_joins_the_open_case(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    cid = citizen_id()
    first = run(core, origin_of_event(report(cid=cid), "hotline-1300"), store)
    second = run(core, origin_of_event(report(cid=cid, channel="lao"), "lao-unit"), store, NOW + timedelta(hours=71))
    case_ids = {o.key for o in first + second if o.topic == topics.CASES_EVENTS}
    assert len(case_ids) == 1
    linked = [o for o in second if o.topic == topics.CASES_EVENTS and (b"case.linked" in dict(o.headers)["ce_type"])]
    assert len(linked) == 1


def test_after_72_hours_or_once_closed_a_report_opens_a_new_case(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    cid = citizen_id()
    run(core, origin_of_event(report(cid=cid)), store)
    late = run(core, origin_of_event(report(cid=cid)), store, NOW + timedelta(hours=73))
    other_category = run(core, origin_of_event(report(cid=cid, category="poverty")), store, NOW + timedelta(hours=74))
    keys = [{o.key for o in outs if o.topic == topics.CASES_EVENTS} for outs in (late, other_category)]
    assert len(keys[0] | keys[1]) == 2
    (case_id,) = keys[0]
    closing = follow_up("case.closed", case_id=case_id.decode(), closure_reason="needs_met", approved_by="pso-84")
    run(core, origin_of_event(closing, "pso-84"), store, NOW + timedelta(hours=75))  # the province's office closes
    reopened = run(core, origin_of_event(report(cid=cid)), store, NOW + timedelta(hours=76))
    assert {o.key for o in reopened if o.topic == topics.CASES_EVENTS} != {case_id}


def test_table_writes_stay_staged_until_the_record_succeeds() -> None:
    table: dict[bytes, bytes] = {b"a": b"1", b"b": b"2"}
    staged = StagedTable(table)
    staged[b"a"] = b"changed"
    del staged[b"b"]
    assert staged.get(b"a") == b"changed" and staged.get(b"b") is None
    assert table == {b"a": b"1", b"b": b"2"}  # a record that is dead-lettered now leaves the table as it was
    staged.apply()
    assert table == {b"a": b"changed"}


def test_an_event_about_an_unknown_case_is_rejected_by_the_core(registry) -> None:  # type: ignore[no-untyped-def]
    stray = follow_up("case.assigned", case_id=new_case_id("0A", NOW), to_unit="pso-84")
    with pytest.raises(StageRejected, match="no case"):
        run(processor(registry), origin_of_event(stray), tables())


# --- enrich ---

def test_enrichment_fills_geography_units_age_target_group_risk_and_deadline(registry) -> None:  # type: ignore[no-untyped-def]
    event = report(birth=date(2012, 12, 1), category="family_violence").model_copy(update={"target_group": "women"})
    enriched = enrich.enrich(event, registry=registry, now=NOW, state=None,
                             sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3))
    assert enriched.location.amphoe_name_en == "Ko Pha-ngan" and enriched.location.province_code == "84"
    assert enriched.enrichment.provincial_office == "pso-84"
    assert enriched.enrichment.tambon_centre == f"tc-{TAMBON}" and enriched.enrichment.laos == ["lao-unit"]
    assert enriched.target_group == "child"
    assert enriched.risk_level == "high" and enriched.enrichment.assign_by == NOW + timedelta(hours=1)
    assert enriched.enrichment.age_years == enrich.age_on(date(2012, 12, 1), event.occurred_at.date())


def test_enrichment_ages_and_slas() -> None:
    assert enrich.age_on(date(1966, 11, 29), date(2026, 11, 28)) == 59
    assert enrich.target_group_for(60, "general") == "elderly" and enrich.target_group_for(17, "general") == "child"
    assert enrich.target_group_for(None, "women") == "women"
    assert enrich.assumed_risk("poverty", "general") == "low"
    assert enrich.sla_for("medium", high=timedelta(hours=1), standard=timedelta(hours=3)) == timedelta(hours=3)


def test_address_text_resolves_to_one_tambon() -> None:
    located = enrich.located(report().location.model_copy(update={"tambon_code": None, "postal_code": None,
                                                                   "address_text": "ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี"}))
    assert located.tambon_code == TAMBON


# --- project ---

def _projected(event, level: str, may_see: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return project.project(event, source="/partners/lao-unit", recipient="ngo-unit", level=level, may_see=may_see,
                           pseudonyms=Pseudonyms(KEY))


def test_pseudonymised_projection_keeps_no_identifier_or_free_text() -> None:
    event = report(birth=date(2014, 6, 3), summary="free text", reporter_phone="0812345678")
    event = event.model_copy(update={"subject_token": "tok", "case_id": new_case_id("0A", NOW)})
    projected = _projected(event, "pseudonymised").event
    assert projected.subject.citizen_id is None and projected.subject.given_name is None
    assert projected.summary is None and projected.reporter_phone is None
    assert projected.subject.birth_date == date(2014, 1, 1)
    assert projected.subject_token == Pseudonyms(KEY).subject_token("ngo-unit", "tok")  # the recipient's own token
    assert projected.location.tambon_code is None


def test_full_projection_withholds_sensitive_fields_unless_allowed() -> None:
    assessed = follow_up("case.assessed", case_id=new_case_id("0A", NOW))
    assert assessed.health_condition and "health" in assessed.sensitivity
    withheld = _projected(assessed, "full")
    assert withheld.event.health_condition is None and "health_condition" in withheld.withheld
    assert "health" not in withheld.event.sensitivity
    allowed = _projected(assessed, "full", frozenset({"health", "disability"}))
    assert allowed.event.health_condition == assessed.health_condition and not allowed.withheld


def test_a_required_free_text_field_is_blanked_not_nulled() -> None:
    transfer = follow_up("case.transferred", case_id=new_case_id("0A", NOW))
    assert _projected(transfer, "pseudonymised").event.reason == project.REDACTED


# --- route ---

def test_route_selects_subscribers_in_jurisdiction(registry) -> None:  # type: ignore[no-untyped-def]
    event = enrich.enrich(report(category="elderly"), registry=registry, now=NOW, state=None,
                          sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3))
    deliveries, withheld = route.route(event, registry=registry, state=None)
    assert sorted(d.partner.id for d in deliveries) == ["pso-84", f"tc-{TAMBON}"] and not withheld


def test_consent_gate_on_referrals_to_ngos(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.streams.harness import partner, registry_yaml

    path = tmp_path / "r.yaml"
    path.write_text(registry_yaml([partner("ngo-full", "ngo", {"provinces": ["84"]}, "full", ["referral.*"])]))
    reg = parse_registry(path.read_text())
    base = follow_up("referral.requested", case_id=new_case_id("0A", NOW), recipient="ngo-full")
    without = base.model_copy(update={"consent": None, "consent_override": None})
    deliveries, withheld = route.route(without, registry=reg, state=None)
    assert not deliveries and [w.partner.id for w in withheld] == ["ngo-full"]
    assert base.consent is not None and base.consent.to_disclosure  # the contract's example carries consent
    deliveries, withheld = route.route(base, registry=reg, state=None)
    assert [d.partner.id for d in deliveries] == ["ngo-full"] and not withheld
    override = without.model_copy(update={"consent_override": {"reason": "child in danger", "authorised_by": "pso-84"}})
    deliveries, _ = route.route(override, registry=reg, state=None)
    assert [d.partner.id for d in deliveries] == ["ngo-full"]


# --- state, timers, aggregates, dlq ---

def test_case_state_follows_assignment_and_closure() -> None:
    opened = state.CaseState(case_id="CASE-20261128-0A12345678", status="open", opened_at=NOW.isoformat(),
                             updated_at=NOW.isoformat(), last_event_id="e", last_event_type="case.reported", events=1,
                             issue_category="family_violence", target_group="child", tambon_code=TAMBON,
                             risk_level="high", assign_by=(NOW + timedelta(hours=1)).isoformat(), provincial_office="pso-84")
    assert timers.escalation(opened, now=NOW) is None
    late = timers.escalation(opened, now=NOW + timedelta(hours=2))
    assert late is not None and late.escalated_to == "pso-84" and late.overdue_minutes == 60
    assigned = state.advanced(opened, follow_up("case.assigned", case_id=opened.case_id, to_unit=f"tc-{TAMBON}"), now=NOW)
    assert assigned.owner == f"tc-{TAMBON}" and timers.escalation(assigned, now=NOW + timedelta(hours=2)) is None
    assert state.CaseState.from_bytes(assigned.to_bytes()) == assigned


def test_small_aggregate_cells_are_suppressed() -> None:
    key = aggregates.cell_key(TAMBON, "elderly", NOW)
    assert b'"suppressed":true' in aggregates.cell_record(key, 4) and b'"count":null' in aggregates.cell_record(key, 4)
    assert b'"count":5' in aggregates.cell_record(key, 5)


def test_dead_letter_headers_keep_the_record_and_say_why() -> None:
    origin = Origin("partner.x.inbound", 2, 41, b"k", b"v", (("trace", b"1"),))
    headers = dead_letter_headers(origin, stage="validate", reason="bad", exception="DecodeError")
    assert headers[0] == ("trace", b"1")
    assert read_error(headers) == {"stage": "validate", "reason": "bad", "exception": "DecodeError",
                                   "topic": "partner.x.inbound", "partition": "2", "offset": "41", "attempts": "1"}


def test_deadlines_are_kept_in_deadline_order_until_the_case_is_assigned(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    outputs = run(core, origin_of_event(report(category="family_violence")), store)  # high risk
    (key,) = store["deadlines"]
    case_id = next(o.key for o in outputs if o.topic == topics.CASES_EVENTS).decode()
    assert key == f"{timers.moment_key(NOW + timedelta(hours=1))}|{case_id}".encode()
    assert run(core, origin_of_event(report(category="elderly")), store) and len(store["deadlines"]) == 1  # medium
    assign = follow_up("case.assigned", case_id=case_id, to_unit=f"tc-{TAMBON}")
    run(core, origin_of_event(assign, "pso-84"), store, NOW + timedelta(minutes=10))  # the province's office assigns
    assert store["deadlines"] == {}


# --- expiry of dedupe state ---

def sweep(core: CoreProcessor, store: dict[str, dict[bytes, bytes]], until: datetime) -> int:
    staged = {name: StagedTable(store[name]) for name in ("seen", "subjects", "expiring")}
    due = expiry.due_before(sorted(store["expiring"]), until)
    deleted = core.expire(due, until=until, seen=staged["seen"], subjects=staged["subjects"], expiring=staged["expiring"])
    for table in staged.values():
        table.apply()
    return deleted


def test_dedupe_state_is_deleted_once_the_retention_and_the_window_passed(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    cid = citizen_id()
    run(core, origin_of_event(report(cid=cid)), store)
    # one plan per report, for its seen entry and its subject index entry: due when the first of them expires
    assert len(store["seen"]) == 1 and len(store["subjects"]) == 1 and len(store["expiring"]) == 1

    assert sweep(core, store, NOW + timedelta(hours=71)) == 0  # nothing is due yet
    assert sweep(core, store, NOW + timedelta(hours=73)) == 1  # the window passed: the subject index entry goes
    assert store["subjects"] == {} and len(store["seen"]) == 1
    assert sweep(core, store, NOW + timedelta(days=7, hours=1)) == 1  # the retention passed: the seen entry goes
    assert store["seen"] == {} and store["expiring"] == {}


def test_an_entry_written_again_after_its_plan_is_kept_until_its_own_expiry(registry) -> None:  # type: ignore[no-untyped-def]
    core, store = processor(registry), tables()
    event = report(cid=citizen_id())
    run(core, origin_of_event(event), store)
    later = NOW + timedelta(days=8)  # a very late retry is accepted anew and planned again
    run(core, origin_of_event(event), store, later)
    assert len(store["expiring"]) == 2
    assert sweep(core, store, NOW + timedelta(days=7, hours=1)) == 0  # the first plan is due, the entries are newer
    # ... so they are planned again, each at its own expiry, beside the second report's plan
    assert len(store["seen"]) == 1 and len(store["subjects"]) == 1 and len(store["expiring"]) == 3
    assert sweep(core, store, later + timedelta(days=7, hours=1)) == 2


def test_a_sweep_deletes_at_most_its_limit_in_key_order() -> None:
    keys = [expiry.expiry_key(NOW + timedelta(seconds=i), expiry.SEEN, f"k{i}".encode()) for i in range(10)]
    assert expiry.due_before(keys, NOW + timedelta(seconds=5)) == keys[:5]
    assert expiry.due_before(keys, NOW + timedelta(days=1), limit=3) == keys[:3]
