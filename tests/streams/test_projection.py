"""The projection's findings, one test each: s26 events, the pseudonymised level's leaks, shared tokens, other ids."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casehub.registry import Registry, parse_registry
from casehub.schemas.codec import decode
from casehub.schemas.models import CaseEvent, parse_event
from casehub.streams import dedupe, enrich, project, route
from casehub.streams.core import CoreProcessor, StagedTable
from casehub.streams.keys import new_case_id
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState
from tests.connectors.events import SCHEMA_BASE
from tests.streams.harness import EXAMPLES, TAMBON, citizen_id, example, follow_up, partner, registry_yaml, report
from tests.streams.test_stage_rules import origin_of_event, tables

KEY = b"test-pseudonym-key"
NOW = datetime.now(UTC).replace(microsecond=0)
PSEUDONYMS = Pseudonyms(KEY)
SMALL_AMPHOE_TAMBON = "841901"  # อ.วิภาวดี has two tambons: only the province may be told
S26_SUMMARY = "ผู้เสียหายถูกล่วงละเมิดทางเพศ ได้รับบาดเจ็บ รักษาที่โรงพยาบาล"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """Surat Thani: office, tambon centre, an LAO, a hospital (health), police (no health), two NGOs, a PAO."""
    everything = ["*"]
    partners = [
        partner("pso-84", "pso", {"provinces": ["84"]}, "full", everything),
        partner(f"tc-{TAMBON}", "tambon_centre", {"tambons": [TAMBON]}, "full", everything),
        partner("lao-840502", "lao", {"tambons": [TAMBON]}, "full", everything),
        partner("hosp-suratthani", "hospital", {"provinces": ["84"]}, "full", everything,
                sensitive_access=["health", "disability", "sexual_violence"]),
        partner("police-prov-84", "police", {"provinces": ["84"]}, "full", everything,
                sensitive_access=["criminal_record", "sexual_violence"]),
        partner("ngo-a", "ngo", {"provinces": ["84"]}, "pseudonymised", everything),
        partner("ngo-b", "ngo", {"provinces": ["84"]}, "pseudonymised", everything),
        partner("lao-pao-84", "lao", {"provinces": ["84"]}, "aggregate", []),
    ]
    path = tmp_path_factory.mktemp("reg") / "partners.yaml"
    path.write_text(registry_yaml(partners))
    return parse_registry(path.read_text(), source=str(path))


def enriched(event: CaseEvent, registry: Registry, **changes: Any) -> CaseEvent:
    event = enrich.enrich(event, registry=registry, now=NOW, state=None, sla_high=timedelta(hours=1),
                          sla_standard=timedelta(hours=3))
    return event.model_copy(update={"case_id": event.case_id or new_case_id("4B", NOW), "subject_token": "hubtoken",
                                    **changes})


def projected(event: CaseEvent, recipient: str, *, level: str = "pseudonymised", may_see: frozenset[str] = frozenset(),
              source: str = "/partners/lao-840503") -> project.Projection:
    return project.project(event, source=source, recipient=recipient, level=level, may_see=may_see,
                           pseudonyms=PSEUDONYMS)


def wire_text(projection: project.Projection, level: str = "pseudonymised") -> bytes:
    record = project.outbound_record(projection, level, schema_base=SCHEMA_BASE)
    return record.value + b"".join(k.encode() + v for k, v in record.headers) + (record.key or b"")


# --- s26: sensitive events ---

def s26_report(registry: Registry) -> CaseEvent:
    event = report(category="family_violence", summary=S26_SUMMARY)
    return enriched(event, registry, sensitivity=["sexual_violence", "health"],
                    lawful_basis=event.lawful_basis.model_copy(update={"sensitive_basis": "vital_interest_incapable"}))


def test_an_s26_event_withholds_free_text_from_police_without_the_health_tag(registry: Registry) -> None:
    event = s26_report(registry)
    owner = CaseState(case_id=event.case_id or "", status="open", opened_at=NOW.isoformat(),
                      updated_at=NOW.isoformat(), last_event_id="e", last_event_type="case.triaged", events=2,
                      issue_category="family_violence", target_group="child", tambon_code=TAMBON, owner=f"tc-{TAMBON}")
    deliveries, _ = route.route(event, registry=registry, state=owner)
    by_org = {d.partner.id: d for d in deliveries}
    seen = {org: projected(event, org, level=d.disclosure, may_see=d.may_see, source="/partners/hotline-1300")
            for org, d in by_org.items()}
    for org in ("police-prov-84", "lao-840502", "pso-84", "ngo-a"):
        assert seen[org].event.summary is None, org  # lacking health (or sexual_violence): no free text
        assert S26_SUMMARY.encode() not in wire_text(seen[org], by_org[org].disclosure), org
        assert seen[org].event.lawful_basis.reference is None, org
    assert seen["police-prov-84"].event.sensitivity == ["sexual_violence"]  # told only the kinds it may see
    assert seen["police-prov-84"].event.subject.citizen_id == event.subject.citizen_id  # still full level
    assert seen["hosp-suratthani"].event.summary == S26_SUMMARY  # granted health and sexual_violence
    assert seen[f"tc-{TAMBON}"].event.summary == S26_SUMMARY  # the case owner works the case
    assert "summary" in seen["police-prov-84"].withheld


def test_a_sensitive_issue_category_withholds_free_text_without_any_tag_on_the_event(registry: Registry) -> None:
    event = enriched(report(category="teen_pregnancy", summary="ตั้งครรภ์ 4 เดือน"), registry)
    assert event.sensitivity == []
    assert projected(event, "lao-840502", level="full").event.summary is None
    assert projected(event, "police-prov-84", level="full", may_see=frozenset({"sexual_violence"})).event.summary is None
    granted = frozenset({"health", "sexual_behaviour"})  # what route grants the owner and the addressee
    assert projected(event, "tc-840502", level="full", may_see=granted).event.summary == "ตั้งครรภ์ 4 เดือน"


# --- the pseudonymised level: what the denylist let through ---

def test_a_free_text_lawful_reference_is_not_sent_pseudonymised(registry: Registry) -> None:
    event = enriched(report(), registry)
    assert event.lawful_basis.reference
    seen = projected(event, "ngo-a")
    assert seen.event.lawful_basis.reference is None and seen.event.lawful_basis.basis == event.lawful_basis.basis
    assert event.lawful_basis.reference.encode() not in wire_text(seen)


def test_approvers_are_not_sent_pseudonymised(registry: Registry) -> None:
    for event_type in ("case.closed", "case.plan_approved", "case.reopened"):
        event = enriched(follow_up(event_type, case_id=new_case_id("4B", NOW)), registry)
        approver = event.approved_by
        assert "หัวหน้า" in approver
        seen = projected(event, "ngo-a")
        assert seen.event.approved_by == project.REDACTED
        assert approver.encode() not in wire_text(seen)


def test_a_consent_overrides_authoriser_is_not_sent_pseudonymised(registry: Registry) -> None:
    override = {"reason": "เด็กตกอยู่ในอันตราย", "authorised_by": "pso-84 นักสังคมสงเคราะห์ สมชาย"}
    event = enriched(follow_up("referral.requested", case_id=new_case_id("4B", NOW), recipient="ngo-a",
                               consent=None, consent_override=override), registry)
    seen = projected(event, "ngo-a")
    assert seen.event.consent_override is not None  # that an override was recorded, not who or why
    assert seen.event.consent_override.authorised_by == project.REDACTED == seen.event.consent_override.reason
    assert b"\xe0\xb8" not in project.outbound_record(seen, "pseudonymised", schema_base=SCHEMA_BASE).value.replace(
        "สุราษฎร์ธานี".encode(), b"").replace("เกาะพะงัน".encode(), b"")  # no Thai but the place names


def test_a_partner_reference_from_a_csv_is_not_sent_pseudonymised(registry: Registry) -> None:
    reference = "นายสมชาย ใจดี HN 6612345"
    event = enriched(report(partner_ref=reference), registry)
    seen = projected(event, "ngo-a")
    assert seen.event.partner_ref is None and "partner_ref" in seen.withheld
    assert b"6612345" not in wire_text(seen) and "สมชาย".encode() not in wire_text(seen)


def test_org_ids_naming_a_tambon_are_not_sent_pseudonymised_unless_to_that_unit(registry: Registry) -> None:
    triaged = enriched(follow_up("case.triaged", case_id=new_case_id("4B", NOW), assigned_unit="tc-840503"), registry)
    assert projected(triaged, "ngo-a").event.assigned_unit == project.REDACTED
    assert projected(triaged, "tc-840503").event.assigned_unit == "tc-840503"  # the unit itself
    assigned = enriched(follow_up("case.assigned", case_id=new_case_id("4B", NOW)), registry)
    assert assigned.caseworker == "sw-840503-07"
    seen = projected(assigned, "ngo-a")
    assert seen.event.caseworker is None and b"840503" not in wire_text(seen)
    report_event = enriched(report(), registry)
    assert report_event.enrichment and report_event.enrichment.tambon_centre == f"tc-{TAMBON}"
    seen = projected(report_event, "ngo-a")
    assert seen.event.enrichment and seen.event.enrichment.tambon_centre is None and seen.event.enrichment.laos == []
    assert seen.event.enrichment.provincial_office == "pso-84"  # a province names no tambon
    assert TAMBON.encode() not in wire_text(seen)


def test_a_source_naming_a_tambon_is_not_sent_pseudonymised(registry: Registry) -> None:
    linked = enriched(parse_event(example("case.linked")), registry)
    assert linked.linked_source == "/partners/lao-840503"
    seen = projected(linked, "ngo-a", source="/hub")
    assert seen.event.linked_source == project.REDACTED
    assert b"840503" not in wire_text(seen)
    from_lao = projected(enriched(report(), registry), "ngo-a", source="/partners/lao-840503")
    record = project.outbound_record(from_lao, "pseudonymised", schema_base=SCHEMA_BASE)
    assert dict(record.headers)["ce_source"] == b"/hub"
    from_hotline = projected(enriched(report(), registry), "ngo-a", source="/partners/hotline-1300")
    assert from_hotline.source == "/partners/hotline-1300"


def test_times_go_to_the_day_and_places_to_the_amphoe_or_the_province(registry: Registry) -> None:
    event = enriched(report(), registry)
    seen = projected(event, "ngo-a").event
    thai_day = event.occurred_at.astimezone(project.THAI_TIME).date()
    assert seen.occurred_at == datetime(thai_day.year, thai_day.month, thai_day.day, tzinfo=UTC)
    assert seen.enrichment and seen.enrichment.assign_by and seen.enrichment.assign_by.hour == 0
    assert seen.location.tambon_code is None and seen.location.amphoe_code == TAMBON[:4]
    small = enriched(report(tambon=SMALL_AMPHOE_TAMBON), registry)
    in_small = projected(small, "ngo-a").event.location
    assert in_small.amphoe_code is None and in_small.amphoe_name_th is None and in_small.province_code == "84"
    assert SMALL_AMPHOE_TAMBON[:4].encode() not in wire_text(projected(small, "ngo-a"))


# --- pseudonyms per recipient ---

def test_two_partners_cannot_join_their_pseudonyms_and_a_full_feed_cannot_reverse_them(registry: Registry) -> None:
    event = enriched(report(), registry)
    a, b = projected(event, "ngo-a"), projected(event, "ngo-b")
    full = projected(event, "pso-84", level="full")
    for name in ("subject_token", "case_id", "id"):
        assert getattr(a.event, name) != getattr(b.event, name), name
        assert getattr(a.event, name) != getattr(full.event, name), name
    assert full.event.case_id == event.case_id and full.event.subject.citizen_id == event.subject.citizen_id
    assert full.event.subject_token not in (event.subject_token, a.event.subject_token)  # its own token
    assert a.event.subject_token and a.event.subject_token.startswith("subject-v1-")
    assert a.key == (a.event.case_id or "").encode() and a.key.startswith(b"case-v1-")
    assert event.case_id and event.case_id.encode() not in wire_text(a)
    again = projected(enriched(follow_up("case.closed", case_id=event.case_id), registry), "ngo-a")
    assert again.key == a.key  # one case, one key: its records stay in order


def test_a_new_key_version_gives_new_pseudonyms() -> None:
    v1, v2 = Pseudonyms(KEY), Pseudonyms(KEY, version=2)
    assert v1.case_reference("ngo-a", "CASE-1") != v2.case_reference("ngo-a", "CASE-1")
    assert v2.case_reference("ngo-a", "CASE-1").startswith("case-v2-")
    assert v1.key_for("ngo-a") != v1.key_for("ngo-b") and len(v1.key_for("ngo-a")) == 32


def test_the_pipeline_keys_each_pseudonymised_partners_records_by_its_own_case_reference(registry: Registry) -> None:
    core = CoreProcessor(registry=registry, pseudonym_key=KEY, retention=timedelta(days=7),
                         window=timedelta(hours=72), sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3),
                         cells_topic="cells", schema_base=SCHEMA_BASE)
    store = tables()
    staged = {name: StagedTable(table) for name, table in store.items()}
    outputs = core.process(origin_of_event(report(), "lao-840502"), now=NOW, **staged)
    case_id = next(o.key for o in outputs if o.topic == "cases.events").decode()
    keys = {o.topic: o.key for o in outputs if o.topic.startswith("partner.")}
    assert keys["partner.ngo-a.outbound"] == PSEUDONYMS.case_reference("ngo-a", case_id).encode()
    assert keys["partner.ngo-b.outbound"] == PSEUDONYMS.case_reference("ngo-b", case_id).encode()
    assert keys["partner.pso-84.outbound"] == case_id.encode()
    assert "partner.lao-pao-84.outbound" not in keys  # aggregate: counts only


# --- other ids ---

def test_other_ids_keep_their_letters_and_type() -> None:
    def token(other_id: str | None, cid: str | None = None) -> str | None:
        event = report(cid=cid)
        event = event.model_copy(update={"subject": event.subject.model_copy(update={"citizen_id": cid,
                                                                                      "other_id": other_id})})
        return dedupe.token_of(event, KEY)

    tokens = {token("MM1234567"), token("TH1234567"), token("1234567"), token("ABCDEFG"), token("XYZ")}
    assert len(tokens) == 5  # were one token (digits only), and every id without digits shared another
    assert token("mm 123-4567") == token("MM1234567")  # formatting is not identity
    cid = citizen_id()
    assert token(cid) != token(None, cid)  # an other id never meets a citizen id


# --- every example event, byte for byte ---

@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_no_example_event_leaks_at_the_pseudonymised_level(path: Path, registry: Registry) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    event = enriched(parse_event(document["data"]), registry, subject_token="hubtoken")
    seen = projected(event, "ngo-a", source=document["source"])
    text = wire_text(seen)
    data = document["data"]
    secrets = [data["id"], data["case_id"] or "CASE-none", "840503", "hubtoken"]
    if project.names_a_tambon(document["source"].removeprefix("/partners/")):
        secrets.append(document["source"])
    secrets += [data["lawful_basis"]["reference"] or "-"]
    for value in (data.get("subject") or {}).values():
        if isinstance(value, str) and len(value) > 2:
            secrets.append(value)
    for name in ("summary", "notes", "reason", "reason_text", "approved_by", "partner_ref", "caseworker",
                 "plan_summary", "health_condition", "outcome_reason", "referral_id", "linked_event_id"):
        if data.get(name):
            secrets.append(data[name])
    for secret in secrets:
        if secret in ("TH", "female"):
            continue
        assert str(secret).encode() not in text, (path.stem, secret)
    assert decode(project.outbound_record(seen, "pseudonymised", schema_base=SCHEMA_BASE).value,
                  project.outbound_record(seen, "pseudonymised", schema_base=SCHEMA_BASE).headers).event.type == event.type


def test_the_case_view_uses_the_same_projection() -> None:
    state = CaseState(case_id="CASE-20261128-4B12345678", status="open", opened_at="2026-11-28T02:15:00.000+00:00",
                      updated_at="2026-11-28T03:00:00.000+00:00", last_event_id="e", last_event_type="case.assigned",
                      events=3, issue_category="children_youth", target_group="child", tambon_code=TAMBON,
                      subject_token="hubtoken", owner="tc-840503", provincial_office="pso-84",
                      disclosure_consents=("ngo-a", "lao-840502"))
    view = {"case_id": state.case_id, "subject_token": state.subject_token, "owner": state.owner,
            "opened_at": state.opened_at, "provincial_office": state.provincial_office,
            "disclosure_consents": list(state.disclosure_consents), "status": "open",
            "location": {"tambon_code": TAMBON, "amphoe_code": TAMBON[:4], "tambon_name_th": "บ้านใต้"}}
    seen, withheld = project.project_case_view(view, recipient="ngo-a", level="pseudonymised", pseudonyms=PSEUDONYMS)
    assert seen["case_id"] == PSEUDONYMS.case_reference("ngo-a", state.case_id)
    assert seen["subject_token"] == PSEUDONYMS.subject_token("ngo-a", "hubtoken")
    assert seen["owner"] is None and seen["provincial_office"] == "pso-84"
    assert seen["opened_at"] == "2026-11-28T00:00:00.000+00:00"
    assert seen["disclosure_consents"] == ["ngo-a"]
    assert seen["location"] == {"tambon_code": None, "amphoe_code": TAMBON[:4], "tambon_name_th": None}
    assert {"owner", "location.tambon_code", "opened_at"} <= set(withheld)
    full, _ = project.project_case_view(view, recipient="pso-84", level="full", pseudonyms=PSEUDONYMS)
    assert full["case_id"] == state.case_id and full["owner"] == "tc-840503"
    assert full["subject_token"] == PSEUDONYMS.subject_token("pso-84", "hubtoken") != seen["subject_token"]
    assert date.fromisoformat(full["opened_at"][:10]) == date(2026, 11, 28)
