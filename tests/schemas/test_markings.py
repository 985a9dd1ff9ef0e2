"""Personal-data markings are read from the .avsc files, per event type, by field path."""

from __future__ import annotations

from typing import get_args

import pytest

from casehub.schemas import EVENT_TYPES, field_markings
from casehub.schemas.markings import GENERALISATIONS, PII_KINDS, FieldMarking, pii_paths, sensitive_paths
from casehub.schemas.models import SensitivityTag


def test_case_reported_marks_direct_identifiers_free_text_and_quasi_identifiers() -> None:
    assert pii_paths("case.reported", "direct") == [
        "location.address_text", "subject.citizen_id", "subject.other_id", "subject.given_name",
        "subject.family_name", "subject.phone", "reporter_phone",
    ]
    assert pii_paths("case.reported", "free_text") == ["summary"]
    markings = {m.path: m for m in field_markings("case.reported")}
    assert markings["subject.birth_date"] == FieldMarking("subject.birth_date", "quasi", "birth_year", None, None)
    assert markings["location.tambon_code"] == FieldMarking("location.tambon_code", "quasi", "amphoe", None, "dopa_tambon")


def test_sensitive_fields_carry_their_pdpa_tag() -> None:
    assert sensitive_paths("case.assessed") == {"health_condition": "health", "disability_type": "disability"}
    assert sensitive_paths("case.closed") == {}


def test_free_text_in_nested_records_is_found() -> None:
    assert pii_paths("referral.requested", "free_text") == ["consent_override.reason", "notes"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_marking_uses_the_documented_vocabulary(event_type: str) -> None:
    tags = set(get_args(SensitivityTag))
    for marking in field_markings(event_type):
        assert marking.pii in (None, *PII_KINDS)
        assert marking.generalise in (None, *GENERALISATIONS)
        assert marking.sensitivity in (None, *tags)
        assert marking.format in (None, "org_id", "dopa_tambon", "th_citizen_id")
        if marking.pii == "quasi":
            assert marking.generalise is not None, marking.path


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_location_address_text_is_a_direct_identifier_everywhere(event_type: str) -> None:
    assert "location.address_text" in pii_paths(event_type, "direct")
