"""Disclosure and personal-data markings are read from the .avsc files; every field of every schema is marked."""

from __future__ import annotations

import copy
import json
from typing import Any, get_args

import pytest

from casehub.schemas import EVENT_TYPES, field_markings
from casehub.schemas.loader import AVSC_DIR, read_avsc
from casehub.schemas.markings import (
    LEVELS,
    PII_KINDS,
    RULES,
    FieldMarking,
    FieldPlan,
    _plan,
    disclosed_paths,
    field_plan,
    implied_sensitivity,
    pii_paths,
    sensitive_paths,
    unmarked_fields,
)
from casehub.schemas.models import SensitivityTag

# the rules that fit a field's Avro shape: a generalisation must know what it generalises
_RULE_KINDS = {"year": {"date"}, "day": {"timestamp"}, "amphoe": {"string"}, "org": {"string", "array"},
               "source": {"string"}, "keyed:subject": {"string"}, "keyed:case": {"string"}, "keyed:event": {"string"},
               "keyed:referral": {"string"}}


def _flat(plans: tuple[FieldPlan, ...]) -> list[FieldPlan]:
    return [p for plan in plans for p in (plan, *_flat(plan.children))]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_field_of_every_schema_carries_a_disclosure_marking(event_type: str) -> None:
    assert unmarked_fields(event_type) == []


def test_a_schema_gaining_an_unmarked_field_is_refused() -> None:
    schema = read_avsc(AVSC_DIR / "case.closed.avsc")
    grown = copy.deepcopy(schema)
    grown["fields"].append({"name": "closing_note_2", "type": ["null", "string"], "default": None, "doc": "new"})
    plans = _plan(grown, "", {})
    assert [p.marking.path for p in plans if not p.marked] == ["closing_note_2"]
    assert not any(p.marking.rule(level) for p in plans if not p.marked for level in LEVELS)  # sent to nobody


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_markings_use_the_documented_vocabulary_and_fit_the_field(event_type: str) -> None:
    tags = set(get_args(SensitivityTag))
    for plan in _flat(field_plan(event_type)):
        marking = plan.marking
        assert marking.pii in (None, *PII_KINDS)
        assert marking.sensitivity in (None, *tags)
        assert marking.format in (None, "org_id", "dopa_tambon", "th_citizen_id")
        assert {level for level, _ in marking.disclose} <= set(LEVELS), marking.path
        assert marking.rule("full") is not None, f"{marking.path}: full disclosure receives every field"
        for _level, rule in marking.disclose:
            assert rule in RULES
            if rule in _RULE_KINDS:
                assert plan.kind in _RULE_KINDS[rule], f"{marking.path}: {rule} on a {plan.kind}"
        if plan.required and marking.rule("pseudonymised") is None:
            # Avro needs a value: only text ([withheld]) and arrays ([]) can stand in for what is not sent
            assert plan.kind in ("string", "array"), f"{marking.path}: required, so mark it for pseudonymised"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_pseudonymised_level_receives_no_identifier_free_text_or_sensitive_field(event_type: str) -> None:
    sent = set(disclosed_paths(event_type, "pseudonymised"))
    for marking in field_markings(event_type):
        if marking.pii in ("direct", "free_text") or marking.sensitivity:
            assert marking.path not in sent, marking.path
        if marking.format == "org_id":
            assert marking.rule("pseudonymised") in (None, "org"), marking.path
    for never in ("location.tambon_code", "location.tambon_name_th", "location.postal_code", "sensitivity",
                  "lawful_basis.reference", "lawful_basis.sensitive_basis", "enrichment.age_years"):
        assert never not in sent
    assert {m.path: m.rule("pseudonymised") for m in field_markings(event_type)}["case_id"] == "keyed:case"


def test_the_finding_fields_are_free_text_or_withheld() -> None:
    assert "partner_ref" in pii_paths("case.reported", "free_text")
    assert "lawful_basis.reference" in pii_paths("case.closed", "free_text")
    assert "approved_by" in pii_paths("case.closed", "free_text")
    assert "consent_override.authorised_by" in pii_paths("referral.requested", "free_text")
    assert "caseworker" not in disclosed_paths("case.assigned", "pseudonymised")


def test_case_reported_marks_direct_identifiers_free_text_and_quasi_identifiers() -> None:
    assert pii_paths("case.reported", "direct") == [
        "location.address_text", "subject.citizen_id", "subject.other_id", "subject.given_name",
        "subject.family_name", "subject.phone", "reporter_phone",
    ]
    assert pii_paths("case.reported", "free_text") == ["lawful_basis.reference", "summary", "partner_ref"]
    markings = {m.path: m for m in field_markings("case.reported")}
    assert markings["subject.birth_date"] == FieldMarking(
        "subject.birth_date", "quasi", None, None, (("full", "as_is"), ("pseudonymised", "year")))
    assert markings["location.tambon_code"].rule("pseudonymised") is None
    assert markings["location.amphoe_code"].rule("pseudonymised") == "amphoe"
    assert markings["subject_token"].rule("full") == "keyed:subject"  # full partners get a token of their own


def test_sensitive_fields_carry_their_pdpa_tag() -> None:
    assert sensitive_paths("case.assessed") == {"health_condition": "health", "disability_type": "disability"}
    assert sensitive_paths("case.closed") == {}


def test_sensitive_categories_and_target_groups_imply_their_tags() -> None:
    assert implied_sensitivity("teen_pregnancy", "child") == {"health", "sexual_behaviour"}
    assert implied_sensitivity("poverty", "disability") == {"disability"}
    assert implied_sensitivity("elderly", "elderly") == frozenset()


def test_free_text_in_nested_records_is_found() -> None:
    assert pii_paths("referral.requested", "free_text") == [
        "lawful_basis.reference", "consent_override.reason", "consent_override.authorised_by", "notes"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_location_address_text_is_a_direct_identifier_everywhere(event_type: str) -> None:
    assert "location.address_text" in pii_paths(event_type, "direct")


def test_markings_live_in_the_avsc_files() -> None:
    subject: dict[str, Any] = json.loads((AVSC_DIR / "casehub.Subject.avsc").read_text(encoding="utf-8"))
    birth = next(f for f in subject["fields"] if f["name"] == "birth_date")
    assert birth["disclose"] == {"full": "as_is", "pseudonymised": "year"}
