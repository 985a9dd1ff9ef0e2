"""The registry refuses a file that contradicts itself, naming the line that is wrong."""

from __future__ import annotations

import pytest

from casehub.core.errors import RegistryError
from casehub.core.settings import Settings
from casehub.registry import load_registry, parse_registry
from casehub.registry.exceptions import RegistryInvalid, RegistryUnreadable

VALID = """\
version: 3
partners:
  - id: msdhs-hq
    kind: msdhs-hq
    name: {th: สำนักงานปลัดกระทรวง, en: MSDHS HQ}
    jurisdiction: national
    disclosure: full
    subscriptions:
      - {event_types: ['*'], issue_categories: ['*']}
  - id: pso-50
    kind: pso
    name: {th: พมจ.เชียงใหม่, en: Chiang Mai PSO}
    jurisdiction: {provinces: ['50']}
    disclosure: full
    subscriptions:
      - {event_types: ['*']}
  - id: tc-500101
    kind: tambon_centre
    name: {th: ศูนย์ช่วยเหลือสังคมตำบลศรีภูมิ, en: Si Phum centre}
    jurisdiction:
      tambons: ['500101']
    disclosure: full
    subscriptions:
      - event_types: [case.reported, referral.*]
        issue_categories: [elderly, poverty]
  - id: ngo-helpers
    kind: ngo
    name: {th: มูลนิธิ, en: Helpers}
    jurisdiction: {amphoes: ['5001']}
    disclosure: pseudonymised
    subscriptions:
      - {event_types: [referral.requested], issue_categories: [elderly]}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(keepends=True), start=1) if needle in line]
    return hits[occurrence - 1]


def refused(text: str) -> RegistryInvalid:
    with pytest.raises(RegistryInvalid) as caught:
        parse_registry(text, source="test.yaml")
    assert isinstance(caught.value, RegistryError)
    return caught.value


def test_a_consistent_file_loads_with_its_version() -> None:
    registry = parse_registry(VALID, source="test.yaml")
    assert registry.version == 3
    assert sorted(registry.partners) == ["msdhs-hq", "ngo-helpers", "pso-50", "tc-500101"]
    assert registry.get("pso-50").jurisdiction.provinces == ("50",)
    assert len(registry.digest) == 64


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ("{amphoes: ['5001']}", "{tambons: ['500199']}", "tambons: ['500199']", "unknown tambon code '500199'"),
        ("{amphoes: ['5001']}", "{amphoes: ['5099']}", "amphoes: ['5099']", "unknown amphoe code '5099'"),
        (
            "{amphoes: ['5001']}",
            "{amphoes: ['5001'], provinces: ['99']}",
            "provinces: ['99']",
            "unknown province code '99'",
        ),
        (
            "[case.reported, referral.*]",
            "[case.reported, case.vanished]",
            "case.vanished",
            "unknown event type 'case.vanished'",
        ),
        ("[case.reported, referral.*]", "[case.reported, payment.*]", "payment.*", "unknown event type 'payment.*'"),
        ("[elderly, poverty]", "[elderly, lottery]", "lottery", "unknown issue category 'lottery'"),
        ("disclosure: pseudonymised", "disclosure: partial", "disclosure: partial", "'partial' is not one of"),
        ("id: ngo-helpers", "id: ngo_Helpers", "id: ngo_Helpers", "does not follow the rules"),
        ("id: ngo-helpers", "id: police-helpers", "id: police-helpers", "does not fit kind 'ngo'"),
        ("kind: ngo", "kind: charity", "kind: charity", "'charity' is not one of"),
        (
            "    disclosure: pseudonymised\n",
            "    disclosure: pseudonymised\n    colour: blue\n",
            "colour: blue",
            "unknown key 'colour'",
        ),
        (
            "{provinces: ['50']}",
            "{provinces: ['40']}",
            "provinces: ['40']",
            "pso-50 must have jurisdiction provinces 50",
        ),
        (
            "tambons: ['500101']",
            "tambons: ['500102']",
            "jurisdiction:\n",
            "tc-500101 must have jurisdiction tambons 500101",
        ),
        ("jurisdiction: national", "jurisdiction: everywhere", "jurisdiction: everywhere", "'national' or a mapping"),
    ],
)
def test_each_contradiction_is_refused_naming_its_line(old: str, new: str, marker: str, message: str) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    error = refused(text)
    expected_line = line_of(text, marker)
    assert [(p.line, message in p.message) for p in error.problems] == [(expected_line, True)], error.problems
    assert f"test.yaml:{expected_line}:" in str(error)


def test_a_duplicate_id_names_both_lines() -> None:
    text = VALID + VALID[VALID.index("  - id: pso-50") : VALID.index("  - id: tc-500101")]
    error = refused(text)
    second = line_of(text, "id: pso-50", occurrence=2)
    assert [p.line for p in error.problems] == [second]
    assert f"duplicate id 'pso-50' (first defined at line {line_of(text, 'id: pso-50')})" in error.problems[0].message


def test_a_key_given_twice_is_refused() -> None:
    text = VALID.replace("    disclosure: pseudonymised\n", "    disclosure: pseudonymised\n    disclosure: full\n")
    error = refused(text)
    assert [p.line for p in error.problems] == [line_of(text, "disclosure: full", occurrence=4)]
    assert "given twice" in error.problems[0].message


def test_sensitive_access_needs_full_disclosure_and_known_tags() -> None:
    text = VALID.replace(
        "    disclosure: pseudonymised\n", "    disclosure: pseudonymised\n    sensitive_access: [health, horoscope]\n"
    )
    error = refused(text)
    line = line_of(text, "sensitive_access")
    assert sorted((p.line, p.message.split(" (")[0]) for p in error.problems) == [
        (line, "a pseudonymised partner may not receive s26 sensitive fields"),
        (line, "unknown sensitivity tag 'horoscope'"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = VALID.replace("['5001']", "['5099']").replace("[elderly, poverty]", "[elderly, lottery]")
    assert len(refused(text).problems) == 2


def test_text_that_is_not_yaml_is_refused_with_its_line() -> None:
    text = VALID.replace("    disclosure: pseudonymised", "    disclosure: [pseudonymised", 1)
    error = refused(text)
    assert error.problems[0].line is not None
    assert "not valid YAML" in error.problems[0].message


def test_a_missing_version_is_refused() -> None:
    error = refused(VALID.replace("version: 3\n", ""))
    assert [p.message for p in error.problems] == ["'version' is required"]


def test_load_registry_reads_settings_registry_path(tmp_path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(VALID, encoding="utf-8")
    registry = load_registry(Settings(registry_path=path))
    assert registry.source == str(path)
    assert "tc-500101" in registry


def test_a_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(RegistryUnreadable, match="cannot read partner registry"):
        load_registry(Settings(registry_path=tmp_path / "absent.yaml"))
