"""The published schemas: fresh from the sources, and each one parses on its own in fastavro, Apache Avro (Python)
and Apache Avro (Java) to the same schema; the JSON Schemas describe the JSON the hub writes and refuses what it
refuses."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import avro.io
import avro.schema
import fastavro
import pytest
from fastavro.schema import load_schema, to_parsing_canonical_form
from jsonschema import Draft202012Validator, FormatChecker

from casehub.broker.runtime import ensure_avro_jars, java_binary
from casehub.core.settings import Settings
from casehub.schemas import EVENT_TYPES, schema_version
from casehub.schemas.models import CaseEvent, parse_event
from casehub.schemas.publish import PUBLISHED_DIR, published_path, published_versions, stale_published

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
PARSE_SCHEMAS = Path(__file__).parent / "java" / "ParseSchemas.java"
PUBLISHED = [(t, v) for t in EVENT_TYPES for v in published_versions(t)]


def _example(event_type: str) -> CaseEvent:
    return parse_event(json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"])


def _json_schema(event_type: str, version: int | None = None) -> Draft202012Validator:
    path = published_path(event_type, version or schema_version(event_type), "json-schema")
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")), format_checker=FormatChecker())


def test_the_committed_files_are_what_generation_writes() -> None:
    assert stale_published() == []
    assert len(list(PUBLISHED_DIR.glob("*/*.avsc"))) == len(PUBLISHED) >= 2 * len(EVENT_TYPES)


def test_every_version_a_record_may_carry_is_published() -> None:
    for event_type in EVENT_TYPES:
        assert published_versions(event_type) == list(range(1, schema_version(event_type) + 1))


@pytest.fixture(scope="module")
def java_parsing_forms() -> dict[str, str]:
    """Apache Avro for Java's parsing canonical form of every published .avsc, each parsed by a fresh parser."""
    libs = ensure_avro_jars(Settings().cache_dir)
    files = [str(published_path(t, v)) for t, v in PUBLISHED]
    result = subprocess.run([java_binary(), "-cp", f"{libs}/*", str(PARSE_SCHEMAS), *files],
                            capture_output=True, text=True, timeout=180, check=False)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, "\n".join(line for line in lines if line.startswith("error")) or result.stderr
    forms = {}
    for line in lines:
        verdict, path, form = line.split(" ", 2)
        assert verdict == "ok"
        forms[path] = form
    return forms


@pytest.mark.parametrize(("event_type", "version"), PUBLISHED)
def test_each_avsc_parses_standalone_in_three_avro_libraries_to_the_same_schema(
    event_type: str, version: int, java_parsing_forms: dict[str, str]
) -> None:
    path = published_path(event_type, version)
    text = path.read_text(encoding="utf-8")
    # fastavro, from the file alone: nothing else in its folder could define a type it lacks
    parsed = load_schema(str(path))
    assert parsed["name"] == "casehub." + "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))
    # Apache Avro (Python) and (Java), each with no other schema known
    python = avro.schema.parse(text)
    assert isinstance(python, avro.schema.RecordSchema) and python.fullname == parsed["name"]
    assert [f.name for f in python.fields] == [f["name"] for f in json.loads(text)["fields"]]
    assert java_parsing_forms[str(path)] == to_parsing_canonical_form(parsed)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_apache_avro_writes_what_fastavro_reads_with_the_published_schema(event_type: str) -> None:
    text = published_path(event_type, schema_version(event_type)).read_text(encoding="utf-8")
    event = _example(event_type)
    buffer = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(text)).write(event.to_avro(), avro.io.BinaryEncoder(buffer))
    back = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), fastavro.parse_schema(json.loads(text), named_schemas={}), None)
    assert parse_event(back) == event


@pytest.mark.parametrize(("event_type", "version"), PUBLISHED)
def test_each_json_schema_is_a_valid_2020_12_schema(event_type: str, version: int) -> None:
    schema = json.loads(published_path(event_type, version, "json-schema").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    avsc = json.loads(published_path(event_type, version).read_text(encoding="utf-8"))
    assert list(schema["properties"]) == [field["name"] for field in avsc["fields"]]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_json_the_hub_writes_follows_the_json_schema(event_type: str) -> None:
    validator = _json_schema(event_type)
    event = _example(event_type)
    assert list(validator.iter_errors(event.to_json())) == []
    example = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(example["data"])) == []


def test_the_json_schema_refuses_what_the_hub_refuses() -> None:
    validator = _json_schema("case.reported")
    good = _example("case.reported").to_json()
    broken = [
        {k: v for k, v in good.items() if k != "issue_category"},  # a required field left out
        {**good, "colour": "blue"},  # a field the contract does not have
        {**good, "channel": "carrier_pigeon"},  # not a symbol of the enum
        {**good, "subject": {**good["subject"], "birth_date": "2 March 1948"}},  # not an ISO date
        {**good, "location": {**good["location"], "tambon_code": 840101}},  # a number for a string
    ]
    for data in broken:
        assert list(validator.iter_errors(data)), data


def test_markings_and_docs_carry_over_to_the_json_schema() -> None:
    schema = json.loads(published_path("case.reported", 3, "json-schema").read_text(encoding="utf-8"))
    citizen_id = schema["$defs"]["casehub.Subject"]["properties"]["citizen_id"]
    assert citizen_id["pii"] == "direct"
    assert citizen_id["x-casehub-format"] == "th_citizen_id"
    assert citizen_id["x-casehub-disclose"] == {"full": "as_is"}
    assert schema["properties"]["subject"]["$ref"] == "#/$defs/casehub.Subject"
    assert schema["properties"]["occurred_at"]["format"] == "date-time"
    assert "ท้องไม่พร้อม" in schema["$defs"]["casehub.IssueCategory"]["description"]
    assert schema["x-casehub-version"] == 3
