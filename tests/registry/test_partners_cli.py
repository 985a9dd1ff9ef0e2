"""`casehub partners list/show` as an operator sees them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from casehub.cli.main import cli
from casehub.registry.loader import default_registry_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_partners_list_json_prints_every_partner_with_its_fields() -> None:
    result = run("partners", "list", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["version"] >= 1
    by_id = {p["id"]: p for p in document["partners"]}
    assert len(by_id) > 1000
    hq = by_id["msdhs-hq"]
    assert set(hq) >= {"id", "kind", "name", "jurisdiction", "disclosure", "subscriptions"}
    assert hq["jurisdiction"] == "national"
    assert by_id["pso-50"]["jurisdiction"] == {"provinces": ["50"]}
    assert by_id["ngo-childline"]["disclosure"] == "pseudonymised"
    assert by_id["tc-500101"]["name"]["th"] == "ศูนย์ช่วยเหลือสังคมตำบลศรีภูมิ"


def test_partners_list_filters_by_kind() -> None:
    result = run("partners", "list", "--kind", "hospital", "--json")
    kinds = {p["kind"] for p in json.loads(result.stdout)["partners"]}
    assert kinds == {"hospital"}
    human = run("partners", "list", "--kind", "police")
    assert "police-atpd" in human.stdout and "tc-500101" not in human.stdout


def test_partners_show_an_lao_names_the_lao_it_shares_a_tambon_with() -> None:
    result = run("partners", "show", "lao-sao-500105")
    assert result.exit_code == 0
    assert "tambons 500105" in result.stdout
    assert "shared with lao-city-500101" in result.stdout


def test_partners_show_an_unknown_org_fails_clearly() -> None:
    result = CliRunner().invoke(cli, ["partners", "show", "tc-999999"])
    assert result.exit_code != 0
    assert "unknown partner 'tc-999999'" in str(result.exception)


def test_partners_check_accepts_the_default_and_names_the_wrong_line_of_a_bad_file(tmp_path) -> None:
    assert run("partners", "check").stdout.startswith("ok: ")
    source = Path(default_registry_path()).read_text(encoding="utf-8")
    bad = tmp_path / "partners.yaml"
    bad.write_text(source.replace("disclosure: pseudonymised", "disclosure: secret", 1), encoding="utf-8")
    wrong_line = next(n for n, line in enumerate(bad.read_text().splitlines(), 1) if "disclosure: secret" in line)
    result = CliRunner().invoke(cli, ["partners", "check", str(bad), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(p["line"], "'secret' is not one of" in p["message"]) for p in report["problems"]] == [(wrong_line, True)]
