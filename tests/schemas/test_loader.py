"""The schema registry: one documented .avsc per catalogue event, composed with the envelope and shared types."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import pytest

from casehub.schemas import (
    EVENT_TYPES,
    HUB_WRITTEN,
    avro_schema_url,
    json_schema_url,
    load_schema,
    parse_dataschema,
    raw_schema,
    schema_version,
)
from casehub.schemas.exceptions import UnknownEventType
from casehub.schemas.loader import AVSC_DIR, ENVELOPE, read_avsc, shared_types

CATALOGUE = [
    "case.reported", "case.triaged", "case.assigned", "case.transferred", "case.assessed", "case.plan_approved",
    "referral.requested", "referral.accepted", "referral.rejected", "referral.revoked", "service.delivered",
    "case.followup", "case.closed", "case.reopened", "consent.recorded", "consent.withdrawn",
    "case.linked", "case.escalated",
]
ENVELOPE_FIELDS = [
    "id", "type", "occurred_at", "case_id", "subject_token", "issue_category", "target_group", "location",
    "risk_level", "lawful_basis", "sensitivity", "schema_version", "enrichment",
]


def _all_fields(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every field of every record in a schema, with its dotted path."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, list):
        for branch in node:
            found += _all_fields(branch, path)
    elif isinstance(node, dict):
        if node.get("type") == "record":
            for field in node["fields"]:
                found.append((f"{path}{field['name']}", field))
                found += _all_fields(field["type"], f"{path}{field['name']}.")
        elif node.get("type") == "array":
            found += _all_fields(node["items"], path)
    return found


def test_every_catalogue_event_has_one_schema_file() -> None:
    assert list(EVENT_TYPES) == CATALOGUE
    on_disk = sorted(p.stem for p in AVSC_DIR.glob("*.avsc") if not p.stem.startswith("casehub."))
    assert on_disk == sorted(CATALOGUE)
    assert {"case.linked", "case.escalated"} == HUB_WRITTEN


def test_shared_named_types_live_in_their_own_files() -> None:
    assert set(shared_types()) == {
        "casehub.IssueCategory", "casehub.TargetGroup", "casehub.Channel", "casehub.ReporterType", "casehub.RiskLevel",
        "casehub.SensitivityTag", "casehub.LawfulBasisCode", "casehub.SensitiveBasis", "casehub.ConsentGiver",
        "casehub.ConsentScope", "casehub.ServiceType", "casehub.Sex", "casehub.Location", "casehub.Subject",
        "casehub.LawfulBasis", "casehub.Consent", "casehub.ConsentOverride", "casehub.Enrichment",
    }
    assert shared_types()["casehub.IssueCategory"]["symbols"] == [
        "family_violence", "teen_pregnancy", "human_trafficking", "drugs", "homeless_destitute", "children_youth",
        "missing_persons", "elderly", "disability", "begging", "poverty",
    ]
    assert shared_types()["casehub.Channel"]["symbols"] == [
        "phone_1300", "line", "walk_in", "volunteer_visit", "lao", "hospital", "media",
    ]
    assert set(shared_types()["casehub.LawfulBasisCode"]["symbols"]) >= {"vital_interest", "public_task", "legal_duty", "consent"}


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_starts_with_the_envelope(event_type: str) -> None:
    names = [f["name"] for f in raw_schema(event_type)["fields"]]
    assert names[: len(ENVELOPE_FIELDS)] == ENVELOPE_FIELDS
    assert [f["name"] for f in read_avsc(AVSC_DIR / f"{ENVELOPE}.avsc")["fields"]] == ENVELOPE_FIELDS


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_field_and_type_is_documented(event_type: str) -> None:
    schema = raw_schema(event_type)
    assert schema["doc"].strip()
    undocumented = [path for path, field in _all_fields(schema) if not field.get("doc", "").strip()]
    assert undocumented == []


def test_thai_terms_appear_in_the_docs_partners_read() -> None:
    docs = {path: field["doc"] for path, field in _all_fields(raw_schema("case.reported"))}
    assert "เลขประจำตัวประชาชน" in docs["subject.citizen_id"]
    assert "รหัสตำบล" in docs["location.tambon_code"]
    assert "ฐานทางกฎหมาย" in docs["lawful_basis"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_composed_schemas_parse_in_fastavro_and_apache_avro(event_type: str) -> None:
    full_name = f"casehub.{raw_schema(event_type)['name']}"
    assert load_schema(event_type)["name"] == full_name
    assert avro.schema.parse(json.dumps(raw_schema(event_type))).fullname == full_name


def test_schema_urls_name_type_and_version_under_the_hub_url() -> None:
    base = "https://casehub.example.go.th/"
    assert avro_schema_url(base, "case.triaged") == "https://casehub.example.go.th/v1/schemas/case.triaged/v2"
    assert avro_schema_url(base, "case.reported") == "https://casehub.example.go.th/v1/schemas/case.reported/v3"
    assert schema_version("case.reported") == 3
    assert avro_schema_url(base, "case.reported", 1) == "https://casehub.example.go.th/v1/schemas/case.reported/v1"
    assert json_schema_url(base, "case.reported", 1) == (
        "https://casehub.example.go.th/v1/schemas/case.reported/v1/json-schema")


@pytest.mark.parametrize(("uri", "named"), [
    ("https://casehub.example.go.th/v1/schemas/referral.requested/v1", ("referral.requested", 1)),
    ("http://127.0.0.1:8080/v1/schemas/case.reported/v3/json-schema", ("case.reported", 3)),
    ("https://proxy.example.org/casehub/v1/schemas/case.closed/v2", ("case.closed", 2)),
    ("urn:casehub:schema:referral.requested:v1", ("referral.requested", 1)),  # what records said before the URLs
])
def test_a_dataschema_names_type_and_version_whatever_the_host(uri: str, named: tuple[str, int]) -> None:
    assert parse_dataschema(uri) == named


def test_unknown_types_and_bad_schema_urls_are_refused_clearly() -> None:
    with pytest.raises(UnknownEventType, match="unknown event type 'case.deleted'"):
        load_schema("case.deleted")
    with pytest.raises(UnknownEventType, match="is not a casehub schema URL"):
        parse_dataschema("https://example.org/case.reported.avsc")
    with pytest.raises(UnknownEventType, match="is not a casehub schema URL"):
        parse_dataschema("https://example.org/v1/schemas/case.reported/v3?x=1")
    with pytest.raises(UnknownEventType, match="unknown event type 'case.deleted'"):
        parse_dataschema("urn:casehub:schema:case.deleted:v1")
    with pytest.raises(UnknownEventType, match="unknown event type 'case.deleted'"):
        parse_dataschema("https://casehub.example.go.th/v1/schemas/case.deleted/v1")
