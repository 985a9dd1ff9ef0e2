"""``casehub schemas``: what an operator or a partner's developer sees."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from casehub.schemas.cli import schemas
from casehub.schemas.publish import published_path

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"


def test_list_json_gives_every_type_with_its_schema_urls() -> None:
    result = CliRunner(env={"CASEHUB_PUBLIC_URL": "https://casehub.example.go.th"}).invoke(schemas, ["list", "--json"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 18
    assert rows[0] == {
        "type": "case.reported", "version": 3,
        "dataschema": "https://casehub.example.go.th/v1/schemas/case.reported/v3",
        "json_schema": "https://casehub.example.go.th/v1/schemas/case.reported/v3/json-schema",
        "versions": [1, 2, 3], "written_by": "partners",
    }
    assert {r["type"] for r in rows if r["written_by"] == "hub"} == {"case.linked", "case.escalated"}


def test_markings_json() -> None:
    result = CliRunner().invoke(schemas, ["markings", "case.reported", "--json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {"path": "subject.citizen_id", "pii": "direct", "sensitivity": None, "format": "th_citizen_id",
            "disclose": [["full", "as_is"]]} in rows
    assert {"path": "subject.birth_date", "pii": "quasi", "sensitivity": None, "format": None,
            "disclose": [["full", "as_is"], ["pseudonymised", "year"]]} in rows


def test_check_passes_on_the_committed_contract() -> None:
    result = CliRunner().invoke(schemas, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 18 event types")


def test_validate_reports_field_errors_and_fails(tmp_path: Path) -> None:
    document = json.loads((EXAMPLES / "case.triaged.json").read_text(encoding="utf-8"))
    document["data"]["location"]["tambon_code"] = "840599"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(schemas, ["validate", str(EXAMPLES / "case.closed.json"), str(bad), "--json"])
    assert result.exit_code == 1
    good_row, bad_row = (json.loads(line) for line in result.output.splitlines())
    assert good_row["valid"] is True
    assert bad_row["errors"] == [{
        "field": "location.tambon_code",
        "message": "is not a DOPA tambon code (รหัสตำบล): give the 6-digit code of a current tambon, e.g. 840503",
    }]


def test_show_prints_the_published_schemas_of_any_version() -> None:
    avro = CliRunner().invoke(schemas, ["show", "case.reported", "--version", "1"])
    assert avro.exit_code == 0
    assert avro.output == published_path("case.reported", 1).read_text(encoding="utf-8")
    json_schema = CliRunner().invoke(schemas, ["show", "case.reported", "--json-schema"])
    assert json.loads(json_schema.output)["title"] == "casehub.CaseReported"
    missing = CliRunner().invoke(schemas, ["show", "case.reported", "--version", "9"])
    assert missing.exit_code == 1 and "case.reported has no schema version 9" in missing.output
