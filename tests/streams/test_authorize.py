"""The case-level rights table and the authorize stage, through the core processor with in-memory tables."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from casehub.core import topics
from casehub.registry import parse_registry
from casehub.schemas import HUB_WRITTEN
from casehub.schemas.models import EVENT_MODELS
from casehub.streams import authorize, route, state
from casehub.streams.authorize import RULE_OF_TYPE, RULES, Party
from casehub.streams.core import CoreProcessor
from casehub.streams.exceptions import CaseRightRefused, StageRejected
from tests.streams.conftest import write_registry
from tests.streams.harness import NEIGHBOUR_TAMBON, TAMBON, citizen_id, follow_up, partner, report
from tests.streams.test_stage_rules import origin_of_event, processor, run, tables

README = Path(__file__).resolve().parents[2] / "README.md"
LAO, NGO, HOSPITAL, CROWDFUNDING = "lao-unit", "ngo-unit", "hosp-unit", "private-unit"
FAR_TAMBON = "500101"  # Chiang Mai: another province
OVERRIDE = {"reason": "urgent", "authorised_by": "someone"}
SECRETS = ("สมหญิง", "ใจดีมาก", "ซอยลับ")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    extra = [
        partner(HOSPITAL, "hospital", {"provinces": ["84"]}, "full", ["referral.*", "case.assessed"],
                sensitive_access=["health"]),
        partner(CROWDFUNDING, "private", "national", "full", ["case.reported"], ["poverty"]),
        partner("msdhs-hq", "msdhs-hq", "national", "pseudonymised", ["case.reported"]),
    ]
    path, _, _ = write_registry(tmp_path_factory.mktemp("rights") / "partners.yaml", "unit", extra)
    return parse_registry(path.read_text(), source=str(path))


class Case:
    """One case opened through the core processor, and the tables it lives in."""

    def __init__(self, registry, category: str = "family_violence") -> None:  # type: ignore[no-untyped-def]
        self.core: CoreProcessor = processor(registry)
        self.category = category
        self.store = tables()
        event = report(cid=citizen_id(), category=category, summary="เด็กอยู่ที่บ้านเลขที่ 9 ซอยลับ")
        event = event.model_copy(update={"subject": event.subject.model_copy(
            update={"given_name": "สมหญิง", "family_name": "ใจดีมาก"})})
        outputs = run(self.core, origin_of_event(event, LAO), self.store)
        self.id = next(o.key for o in outputs if o.topic == topics.CASES_EVENTS).decode()

    @property
    def state(self) -> state.CaseState:
        return state.CaseState.from_bytes(self.store["cases"][self.id.encode()])

    def send(self, sender: str, event_type: str, **fields: object) -> list:
        fields.setdefault("issue_category", self.category)
        return run(self.core, origin_of_event(follow_up(event_type, case_id=self.id, **fields), sender), self.store)

    def refused(self, sender: str, event_type: str, **fields: object) -> CaseRightRefused:
        before = {name: dict(table) for name, table in self.store.items()}
        with pytest.raises(CaseRightRefused) as caught:
            self.send(sender, event_type, **fields)
        assert self.store == before  # nothing of the refused event stays: not its state, not its dedupe entry
        return caught.value


def owned_by(registry, owner: str) -> Case:  # type: ignore[no-untyped-def]
    case = Case(registry)
    case.send("pso-84", "case.triaged", assigned_unit=owner)
    assert case.state.owner == owner
    return case


# --- the table ---

def test_every_type_a_partner_may_send_about_a_case_has_exactly_one_rule() -> None:
    follow_ups = set(EVENT_MODELS) - set(HUB_WRITTEN) - {"case.reported"}
    listed = [t for rule in RULES for t in rule.event_types]
    assert sorted(listed) == sorted(follow_ups)  # each once, none missing, nothing unknown
    assert all(rule.senders and rule.why for rule in RULES)


def test_custody_closure_and_consent_belong_to_the_owner_the_province_and_hq() -> None:
    holders = {Party.OWNER, Party.PROVINCIAL_OFFICE, Party.HQ}
    for event_type in ("case.transferred", "case.closed", "case.reopened", "consent.recorded", "consent.withdrawn",
                       "case.triaged", "case.assigned"):
        assert set(RULE_OF_TYPE[event_type].senders) == holders, event_type
    for event_type in ("case.followup", "case.assessed", "referral.requested"):
        assert set(RULE_OF_TYPE[event_type].senders) == holders | {Party.ASSIGNEE, Party.LOCAL_UNIT}
    assert Party.REFERRAL_RECIPIENT in RULE_OF_TYPE["referral.accepted"].senders
    assert {"case.transferred"} == authorize.MOVES_CASE


def test_the_readme_lists_the_same_rules_as_the_code() -> None:
    assert authorize.rules_markdown() in README.read_text(encoding="utf-8")


def test_how_a_sender_stands_to_a_case(registry) -> None:  # type: ignore[no-untyped-def]
    case = state.CaseState(case_id="CASE-20261128-0A12345678", status="open", opened_at="", updated_at="",
                           last_event_id="e", last_event_type="case.assigned", events=3, issue_category="elderly",
                           target_group="elderly", tambon_code=TAMBON, owner=HOSPITAL, assignee="pso-84",
                           referred_to=(NGO,))
    assert authorize.parties(HOSPITAL, case, registry=registry) == {Party.OWNER}
    assert authorize.parties("pso-84", case, registry=registry) == {Party.ASSIGNEE, Party.PROVINCIAL_OFFICE}
    assert authorize.parties(f"tc-{TAMBON}", case, registry=registry) == {Party.LOCAL_UNIT}
    assert authorize.parties(LAO, case, registry=registry) == {Party.LOCAL_UNIT}
    assert authorize.parties(NGO, case, registry=registry) == {Party.REFERRAL_RECIPIENT}
    assert authorize.parties("msdhs-hq", case, registry=registry) == {Party.HQ}
    for outsider in (f"tc-{NEIGHBOUR_TAMBON}", "pso-50", CROWDFUNDING, "hotline-1300"):
        assert authorize.parties(outsider, case, registry=registry) == frozenset(), outsider


# --- the findings, through the core processor ---

def test_a_tambon_centre_cannot_transfer_a_case_to_itself_with_an_override(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, HOSPITAL)
    refusal = case.refused(f"tc-{TAMBON}", "case.transferred", from_unit=HOSPITAL, to_unit=f"tc-{TAMBON}",
                           consent=None, consent_override=OVERRIDE)
    assert refusal.stage == "authorize" and refusal.rule == "custody"
    assert "rule 'custody'" in refusal.message and f"from tc-{TAMBON}" in refusal.message
    (audited,) = refusal.records
    topic, key, value, headers = audited
    assert topic == topics.HUB_AUDIT_ENTRIES and key == case.id.encode() and ("content-type", b"application/json") in headers
    record = json.loads(value)
    assert record["decision"] == "refused" and record["rule"] == "custody" and record["recipient"] is None
    assert record["sender"] == f"tc-{TAMBON}" and record["event_type"] == "case.transferred"
    assert record["subject_token"] == case.state.subject_token
    for secret in SECRETS:
        assert secret not in refusal.message and secret.encode() not in value
    # the owner's own assessment still withholds the health condition from the tambon centre
    outputs = case.send(HOSPITAL, "case.assessed")
    centre_copy = [o for o in outputs if o.topic == topics.outbound(f"tc-{TAMBON}")]
    assert centre_copy and "ภาวะขาดสารอาหาร".encode() not in centre_copy[0].value


def test_only_the_owner_the_province_or_hq_close_and_reopen(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, f"tc-{TAMBON}")
    for outsider in (LAO, HOSPITAL, "pso-50", f"tc-{NEIGHBOUR_TAMBON}"):
        assert case.refused(outsider, "case.closed").rule == "closure"
    case.send(f"tc-{TAMBON}", "case.closed")
    assert case.state.status == "closed"
    assert case.refused(LAO, "case.reopened").rule == "closure"
    case.send("pso-84", "case.reopened")
    case.send("msdhs-hq", "case.closed")
    assert case.state.status == "closed"


def test_consent_is_recorded_by_the_owner_only(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, HOSPITAL)
    grant = {"scope": "disclosure", "recipient": CROWDFUNDING}
    assert case.refused(f"tc-{TAMBON}", "consent.recorded", **grant).rule == "consent"
    assert case.refused(CROWDFUNDING, "consent.recorded", **grant).rule == "consent"
    assert CROWDFUNDING not in case.state.disclosure_consents
    case.send(HOSPITAL, "consent.recorded", **grant)
    assert CROWDFUNDING in case.state.disclosure_consents
    assert case.refused(LAO, "consent.withdrawn", scope="disclosure", recipient=CROWDFUNDING).rule == "consent"


def test_a_follow_up_never_moves_a_case_only_an_accepted_transfer_does(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, f"tc-{TAMBON}")
    elsewhere = {"location": {"tambon_code": FAR_TAMBON}}
    refusal = case.refused(f"tc-{TAMBON}", "case.followup", **elsewhere)  # a sender entitled to follow up
    assert refusal.rule == "location" and FAR_TAMBON not in refusal.message
    assert case.refused("pso-84", "case.assessed", **elsewhere).rule == "location"
    assert case.refused("pso-50", "case.transferred", from_unit=f"tc-{TAMBON}", to_unit="pso-50", **elsewhere).rule == "custody"
    outputs = case.send(f"tc-{TAMBON}", "case.transferred", from_unit=f"tc-{TAMBON}", to_unit="pso-50", **elsewhere)
    moved = case.state
    assert moved.tambon_code == FAR_TAMBON and moved.provincial_office == "pso-50" and moved.owner == "pso-50"
    assert topics.outbound("pso-50") in {o.topic for o in outputs}
    case.send("pso-50", "case.followup", **elsewhere)  # the case lives in its new tambon now
    assert case.refused(f"tc-{TAMBON}", "case.followup").rule == "casework"  # no longer its area


def test_follow_ups_come_from_the_case_workers_and_the_units_of_its_tambon(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, HOSPITAL)
    for entitled in (HOSPITAL, f"tc-{TAMBON}", LAO, "pso-84", "msdhs-hq"):
        case.send(entitled, "case.followup")
    for outsider in (f"tc-{NEIGHBOUR_TAMBON}", "pso-50", NGO, CROWDFUNDING, "hotline-1300"):
        assert case.refused(outsider, "case.followup").rule == "casework", outsider
    case.send("pso-84", "case.assigned", to_unit=f"tc-{NEIGHBOUR_TAMBON}")
    assert case.state.assignee == f"tc-{NEIGHBOUR_TAMBON}"
    case.send(f"tc-{NEIGHBOUR_TAMBON}", "case.followup")  # the assignee works the case from the next tambon


def test_a_referral_recipient_answers_its_referral_and_no_other(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, f"tc-{TAMBON}")
    assert case.refused(NGO, "referral.accepted", recipient=NGO).rule == "referral-answer"
    case.send(f"tc-{TAMBON}", "referral.requested", recipient=NGO)
    assert case.state.referred_to == (NGO,)
    case.send(NGO, "referral.accepted", recipient=NGO)
    case.send(NGO, "service.delivered")
    assert case.refused(NGO, "case.followup").rule == "casework"
    case.send(f"tc-{TAMBON}", "referral.revoked", recipient=NGO)
    assert case.state.referred_to == ()
    assert case.refused(NGO, "service.delivered").rule == "referral-answer"


def test_an_unknown_case_is_still_refused_before_any_rule(registry) -> None:  # type: ignore[no-untyped-def]
    stray = follow_up("case.closed", case_id="CASE-20261128-0A12345678")
    with pytest.raises(StageRejected, match="no case") as caught:
        run(processor(registry), origin_of_event(stray, "pso-84"), tables())
    assert not isinstance(caught.value, CaseRightRefused)


# --- the state it needs ---

def test_a_state_written_before_the_assignee_and_referrals_were_recorded_still_loads() -> None:
    old = (b'{"case_id":"CASE-20261128-0A12345678","status":"open","opened_at":"t","updated_at":"t",'
           b'"last_event_id":"e","last_event_type":"case.assigned","events":2,"issue_category":"elderly",'
           b'"target_group":"elderly","tambon_code":"840502","subject_token":"tok","risk_level":"medium",'
           b'"owner":"pso-84","assigned":true,"assign_by":null,"provincial_office":"pso-84",'
           b'"disclosure_consents":["ngo-x"],"linked_reports":0,"escalated_at":null}')
    loaded = state.CaseState.from_bytes(old)
    assert loaded.assignee is None and loaded.referred_to == () and loaded.disclosure_consents == ("ngo-x",)
    newer = json.loads(loaded.to_bytes())
    newer["a_field_of_a_later_hub"] = 1
    assert state.CaseState.from_bytes(json.dumps(newer).encode()) == loaded
    assert state.CaseState.from_bytes(loaded.to_bytes()) == loaded


# --- who may read a case (the gateway's GET uses the same routing) ---

def test_a_case_is_readable_by_the_partners_it_is_routed_to_and_its_holders(registry) -> None:  # type: ignore[no-untyped-def]
    case = owned_by(registry, HOSPITAL).state  # family violence, in TAMBON
    get = registry.get
    assert route.receives_case(get("pso-84"), case, registry=registry)
    assert route.receives_case(get(f"tc-{TAMBON}"), case, registry=registry)
    assert route.receives_case(get(HOSPITAL), case, registry=registry)  # the owner, whatever it subscribes to
    assert route.receives_case(get("msdhs-hq"), case, registry=registry)  # national, subscribed to reports
    for outsider in (CROWDFUNDING, "pso-50", f"tc-{NEIGHBOUR_TAMBON}", LAO, NGO, "hotline-1300"):
        # the crowdfunding partner covers the whole country but subscribes to poverty; the LAO, NGO and hotline
        # to children and youth: none of them receives a family-violence case
        assert not route.receives_case(get(outsider), case, registry=registry), outsider
    consented = replace(case, disclosure_consents=(CROWDFUNDING,))
    assert route.receives_case(get(CROWDFUNDING), consented, registry=registry)
    referred = replace(case, referred_to=(CROWDFUNDING,))
    assert not route.receives_case(get(CROWDFUNDING), referred, registry=registry)  # full-level private: consent first
    assert route.receives_case(get(NGO), replace(case, referred_to=(NGO,)), registry=registry)
