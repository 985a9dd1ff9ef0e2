"""Domain validation: each rule, a bad input, and the exact field error a partner's developer gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from casehub.schemas import EVENT_TYPES
from casehub.schemas.exceptions import EventInvalid, FieldError
from casehub.schemas.validation import check_citizen_id, validate_data, validate_event

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _data(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"]
    return data


def _errors(data: dict[str, Any], now: datetime = NOW) -> list[FieldError]:
    with pytest.raises(EventInvalid) as caught:
        validate_data(data, now=now)
    return caught.value.errors


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_example_is_valid(event_type: str) -> None:
    event = validate_data(_data(event_type), now=NOW)
    assert event.type == event_type
    assert validate_event(event) is event  # and with the real clock: examples lie in the past


@pytest.mark.parametrize(
    ("citizen_id", "message"),
    [
        ("1103700123451", "check digit is wrong: the 13th digit does not match the first 12 (mistyped?)"),
        ("110370012345", "must be 13 digits (เลขประจำตัวประชาชน); got 12"),
        ("1-1037-00123-45-5", "must be the 13 digits of a Thai citizen id (เลขประจำตัวประชาชน), without dashes or spaces"),
        ("0103700123450", "a Thai citizen id cannot start with 0 or 9"),
    ],
)
def test_citizen_id_check_digit(citizen_id: str, message: str) -> None:
    data = _data("case.reported")
    data["subject"]["citizen_id"] = citizen_id
    assert _errors(data) == [FieldError("subject.citizen_id", message)]


def test_valid_citizen_id_passes() -> None:
    assert check_citizen_id("1103700123458") is None


def test_unknown_tambon_code() -> None:
    data = _data("case.triaged")
    data["location"]["tambon_code"] = "840599"
    assert _errors(data) == [
        FieldError(
            "location.tambon_code",
            "is not a DOPA tambon code (รหัสตำบล): give the 6-digit code of a current tambon, e.g. 840503",
        )
    ]


def test_amphoe_code_that_does_not_contain_the_tambon() -> None:
    data = _data("case.triaged")
    data["location"]["amphoe_code"] = "8401"
    assert _errors(data) == [FieldError("location.amphoe_code", "does not contain the tambon of location.tambon_code")]


def test_ambiguous_address_says_how_many_tambons_match_without_echoing_it() -> None:
    data = _data("case.reported")
    data["location"] = {"address_text": "12 หมู่ 4 ต.บ้านใต้"}
    assert _errors(data) == [
        FieldError(
            "location.address_text",
            "is ambiguous: it matches 2 tambons; add the amphoe, province or postal code, or give tambon_code",
        )
    ]


def test_postal_code_resolves_the_ambiguity() -> None:
    data = _data("case.reported")
    data["location"] = {"address_text": "12 หมู่ 4 ต.บ้านใต้", "postal_code": "84280"}
    validate_data(data, now=NOW)


def test_postal_code_alone_that_serves_two_tambons_is_ambiguous() -> None:
    data = _data("case.reported")
    data["location"] = {"postal_code": "84280"}
    assert _errors(data) == [
        FieldError(
            "location.postal_code",
            "is ambiguous: it matches 2 tambons; add the amphoe, province or postal code, or give tambon_code",
        )
    ]


def test_unknown_address() -> None:
    data = _data("case.reported")
    data["location"] = {"address_text": "ต.ไม่มีจริง อ.ไหนก็ไม่รู้"}
    assert _errors(data) == [
        FieldError(
            "location.address_text",
            "matches no DOPA tambon; check the ตำบล/อำเภอ/จังหวัด names or give tambon_code",
        )
    ]


def test_no_location_at_all() -> None:
    data = _data("case.closed")
    data["location"] = {}
    assert _errors(data) == [
        FieldError("location", "give tambon_code, or address_text and/or postal_code that name exactly one tambon")
    ]


def test_birth_date_in_the_future() -> None:
    data = _data("case.reported")
    data["subject"]["birth_date"] = "2026-11-29"
    assert _errors(data) == [FieldError("subject.birth_date", "is in the future")]


def test_birth_date_today_in_thailand_is_not_in_the_future() -> None:
    data = _data("case.reported")
    data["subject"]["birth_date"] = "2026-11-29"  # 2026-11-28T18:00Z is already the 29th in Bangkok
    validate_data(data, now=datetime(2026, 11, 28, 18, 0, tzinfo=UTC))


def test_occurred_at_in_the_future_beyond_clock_skew() -> None:
    data = _data("case.followup")
    data["occurred_at"] = "2026-11-28T19:06:00+07:00"
    assert _errors(data) == [
        FieldError("occurred_at", "is in the future (hub time 2026-11-28T12:00:00+00:00)")
    ]


def test_occurred_at_within_clock_skew_is_accepted() -> None:
    data = _data("case.followup")
    data["occurred_at"] = "2026-11-28T19:04:00+07:00"
    validate_data(data, now=NOW)


def test_other_past_facts_cannot_be_in_the_future() -> None:
    data = _data("consent.recorded")
    data["consent"]["recorded_at"] = "2026-12-01T10:00:00+07:00"
    assert _errors(data) == [
        FieldError("consent.recorded_at", "is in the future (hub time 2026-11-28T12:00:00+00:00)")
    ]
    data = _data("service.delivered")
    data["delivered_on"] = "2026-12-24"
    assert _errors(data) == [FieldError("delivered_on", "is in the future")]


def test_lawful_basis_is_required() -> None:
    data = _data("case.assigned")
    del data["lawful_basis"]
    assert _errors(data) == [
        FieldError("lawful_basis", 'the PDPA lawful basis (ฐานทางกฎหมาย) for this event is required, e.g. {"basis": "public_task"}')
    ]


def test_unknown_lawful_basis() -> None:
    data = _data("case.assigned")
    data["lawful_basis"] = {"basis": "because"}
    assert _errors(data) == [
        FieldError(
            "lawful_basis.basis",
            "must be one of 'vital_interest', 'public_task', 'legal_duty', 'consent', 'contract' or "
            "'legitimate_interest'",
        )
    ]


def test_sensitive_event_needs_an_s26_basis() -> None:
    data = _data("case.assessed")
    data["lawful_basis"]["sensitive_basis"] = None
    assert _errors(data) == [
        FieldError(
            "lawful_basis.sensitive_basis",
            "the event holds sensitive data (health), so it needs a PDPA s26 basis, "
            "e.g. vital_interest_incapable or social_protection",
        )
    ]


def test_a_sensitive_field_needs_its_tag() -> None:
    data = _data("case.assessed")
    data["disability_type"] = "hearing"
    assert _errors(data) == [FieldError("disability_type", "holds disability data: add 'disability' to sensitivity")]


def test_org_id_fields_must_be_organisation_ids() -> None:
    data = _data("case.triaged")
    data["assigned_unit"] = "Koh Tao centre"
    assert _errors(data) == [
        FieldError(
            "assigned_unit",
            "is not an organisation id; expected e.g. tc-840503, pso-84, lao-6501, ngo-<slug>",
        )
    ]


def test_case_id_is_required_after_the_report() -> None:
    data = _data("case.closed")
    data["case_id"] = None
    assert _errors(data) == [
        FieldError("case_id", "is required on case.closed: the hub's case id (เลขที่เคส) this event is about")
    ]


def test_triage_must_set_the_risk_level() -> None:
    data = _data("case.triaged")
    data["risk_level"] = None
    assert _errors(data) == [FieldError("risk_level", "a triage must set the risk level: high, medium or low")]


def test_referral_to_an_ngo_without_consent() -> None:
    data = _data("referral.requested")
    data["consent"] = None
    assert _errors(data) == [
        FieldError(
            "consent",
            "disclosing the case to ngo-rak-dek needs the subject's consent (ความยินยอม) or a consent_override with a reason",
        )
    ]


def test_referral_to_a_private_partner_with_consent_to_services_only() -> None:
    data = _data("referral.requested")
    data["recipient"] = "private-care-plus"
    data["consent"]["to_disclosure"] = False
    assert _errors(data) == [
        FieldError(
            "consent.to_disclosure",
            "is false: disclosing the case to private-care-plus needs consent to disclosure or a consent_override with a reason",
        )
    ]


def test_consent_override_needs_a_reason() -> None:
    data = _data("referral.requested")
    data["consent"] = None
    data["consent_override"] = {"reason": "  ", "authorised_by": "pso-84 นักสังคมสงเคราะห์"}
    assert _errors(data) == [FieldError("consent_override.reason", "must say why the case proceeds without consent")]


def test_recorded_override_with_a_reason_is_accepted() -> None:
    data = _data("referral.requested")
    data["consent"] = None
    data["consent_override"] = {"reason": "เด็กอยู่ในภาวะเสี่ยงอันตรายเร่งด่วน", "authorised_by": "pso-84 นักสังคมสงเคราะห์"}
    validate_data(data, now=NOW)


def test_referral_to_a_government_unit_needs_no_consent() -> None:
    data = _data("referral.requested")
    data["recipient"] = "hosp-10669"
    data["consent"] = None
    validate_data(data, now=NOW)


def test_transfer_needs_consent_to_disclosure() -> None:
    data = _data("case.transferred")
    data["consent"] = None
    assert _errors(data) == [
        FieldError(
            "consent",
            "disclosing the case to pso-84 needs the subject's consent (ความยินยอม) or a consent_override with a reason",
        )
    ]


def test_unsuccessful_service_needs_a_reason() -> None:
    data = _data("service.delivered")
    data["outcome"] = "unsuccessful"
    assert _errors(data) == [FieldError("outcome_reason", "is required when the outcome is partial or unsuccessful")]


def test_every_problem_is_reported_at_once() -> None:
    data = _data("case.reported")
    data["subject"]["citizen_id"] = "1103700123451"
    data["location"] = {"tambon_code": "999999"}
    data["occurred_at"] = "2027-01-01T00:00:00+07:00"
    with pytest.raises(EventInvalid) as caught:
        validate_data(data, now=NOW)
    assert [e.field for e in caught.value.errors] == ["subject.citizen_id", "location.tambon_code", "occurred_at"]
    assert str(caught.value).startswith("invalid event: subject.citizen_id: check digit is wrong")
    assert caught.value.errors[0].as_dict() == {
        "field": "subject.citizen_id",
        "message": "check digit is wrong: the 13th digit does not match the first 12 (mistyped?)",
    }


def test_province_code_that_does_not_contain_the_tambon() -> None:
    data = _data("case.triaged")
    data["location"]["province_code"] = "83"
    assert _errors(data) == [FieldError("location.province_code", "does not contain the tambon of location.tambon_code")]


@pytest.mark.parametrize(
    ("event_type", "field", "value", "message"),
    [
        ("case.plan_approved", "approved_at", "2026-11-28T19:30:00+07:00",
         "is in the future (hub time 2026-11-28T12:00:00+00:00)"),
        ("case.followup", "followup_date", "2026-11-30", "is in the future"),
    ],
)
def test_approvals_and_follow_ups_cannot_be_in_the_future(event_type: str, field: str, value: str, message: str) -> None:
    data = _data(event_type)
    data[field] = value
    assert _errors(data) == [FieldError(field, message)]
