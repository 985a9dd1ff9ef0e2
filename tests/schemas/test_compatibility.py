"""Schema evolution: every event type's frozen versions stay backward and forward compatible (Apache avro's checker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casehub.schemas import EVENT_TYPES, raw_schema, schema_version
from casehub.schemas.compatibility import check_all, check_event_type, full_compatibility
from casehub.schemas.loader import history_schema, history_versions, without_docs

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_current_schema_is_frozen_as_its_latest_version(event_type: str) -> None:
    versions = history_versions(event_type)
    assert versions == list(range(1, schema_version(event_type) + 1))
    assert without_docs(history_schema(event_type, versions[-1])) == without_docs(raw_schema(event_type))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_version_pair_is_backward_and_forward_compatible(event_type: str) -> None:
    versions = history_versions(event_type)
    for old, new in zip(versions, versions[1:], strict=False):
        assert full_compatibility(history_schema(event_type, old), history_schema(event_type, new)) == []
    assert check_event_type(event_type) == []


def _names(event_type: str, version: int) -> set[str]:
    return {f["name"] for f in history_schema(event_type, version)["fields"]}


def test_the_contract_has_real_history_for_the_checker_to_guard() -> None:
    assert history_versions("case.reported") == [1, 2, 3]
    assert _names("case.reported", 2) - _names("case.reported", 1) == {"language"}
    assert _names("case.reported", 3) - _names("case.reported", 2) == {"enrichment"}
    for event_type in EVENT_TYPES:
        if event_type != "case.reported":
            assert history_versions(event_type) == [1, 2]
            assert _names(event_type, 2) - _names(event_type, 1) == {"enrichment"}


def test_the_whole_contract_passes() -> None:
    assert check_all() == []


def test_known_good_change_is_compatible_both_ways() -> None:
    assert full_compatibility(raw_schema("case.reported"), _fixture("known_good_change.avsc")) == []


def test_known_bad_change_is_reported_incompatible() -> None:
    problems = full_compatibility(raw_schema("case.reported"), _fixture("known_bad_change.avsc"))
    assert problems == ["backward (new reader, old data): reader_field_missing_default_value (reporter_name) at /fields/20"]


def test_removing_an_enum_symbol_breaks_old_data() -> None:
    new = raw_schema("case.reported")
    channel = next(f for f in new["fields"] if f["name"] == "channel")
    channel["type"]["symbols"].remove("media")
    problems = full_compatibility(raw_schema("case.reported"), new)
    assert problems == ["backward (new reader, old data): missing_enum_symbols ({'media'}) at /fields/13/type/symbols"]
