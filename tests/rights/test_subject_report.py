"""`casehub subject report` against the real broker: exactly the partners whose outbound topics hold a person's
events are listed as recipients; another person's case is not; the report is itself audited, by token only."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams.pseudonyms import Pseudonyms
from tests.streams.conftest import Hub, running_hub
from tests.streams.harness import (
    CASEHUB,
    NEIGHBOUR_TAMBON,
    TAMBON,
    citizen_id,
    publish,
    read_until,
    report,
    with_ids,
)

WAIT = 120.0


@pytest.fixture(scope="module")
def hub(settings: Settings) -> Iterator[Hub]:
    with running_hub(settings) as running:
        yield running


def _subject_report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASEHUB), "subject", "report", *args], capture_output=True, text=True, timeout=300)


def test_the_report_lists_exactly_who_received_the_persons_events(hub: Hub, tmp_path: Path) -> None:
    person, other = citizen_id(), citizen_id()
    mine, theirs = report(cid=person), report(cid=other, tambon=NEIGHBOUR_TAMBON)
    publish(hub.settings, "hotline-1300", [mine, theirs])
    pseudonyms = Pseudonyms.from_settings(hub.settings)
    source = topics.event_source("hotline-1300")
    known = {mine.id} | {pseudonyms.pseudonym(org, "event", f"{source}\x1f{mine.id}") for org in hub.everyone}
    outbound = [topics.outbound(org) for org in hub.everyone]
    # the hotline, the tambon's centre and LAO, the province and its NGO (pseudonymised); not the neighbour
    expected = sorted(["hotline-1300", f"tc-{TAMBON}", hub.lao, "pso-84", hub.ngo])

    def recipients(rs: list[Any]) -> list[str]:
        return sorted({record.topic.split(".")[1] for record in with_ids(rs, known)})

    records = read_until(hub.settings, outbound, done=lambda rs: recipients(rs) == expected, timeout=WAIT, settle=3.0)
    received = recipients(records)
    assert received == expected
    theirs_received = read_until(hub.settings, [topics.outbound(f"tc-{NEIGHBOUR_TAMBON}")],
                                 done=lambda rs: bool(with_ids(rs, {theirs.id})), timeout=WAIT)
    assert with_ids(theirs_received, {theirs.id})
    audited = read_until(hub.settings, [topics.HUB_AUDIT], timeout=WAIT, settle=2.0,
                         done=lambda rs: sum(mine.id.encode() in (r.value or b"") for r in rs) >= len(received))
    assert audited

    page = tmp_path / "report.html"
    result = _subject_report("--citizen-id", person, "--json", "--html", str(page))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)

    assert document["recipients"] == received
    assert [e["event_id"] for e in document["events"]] == [mine.id]
    (case_id,) = document["cases"]
    assert case_id.startswith("CASE-")
    for disclosure in document["disclosures"]:
        assert disclosure["event_id"] == mine.id and disclosure["case_id"] == case_id
        assert disclosure["lawful_basis"] == mine.lawful_basis.basis and disclosure["disclosure"] in ("full", "pseudonymised")
        assert disclosure["at"]
    ngo = [d for d in document["disclosures"] if d["recipient"] == hub.ngo]
    assert ngo and ngo[0]["disclosure"] == "pseudonymised" and ngo[0]["withheld_fields"]
    assert theirs.id not in result.stdout and other not in result.stdout

    text = page.read_text(encoding="utf-8")
    assert "การเปิดเผยข้อมูล / Disclosures" in text and hub.ngo in text
    assert person not in text  # the id is masked, even in the person's own copy

    token = document["subject"]["token"]
    entries = read_until(hub.settings, [topics.HUB_AUDIT], timeout=WAIT,
                         done=lambda rs: any(document["report_id"].encode() in (r.value or b"") for r in rs))
    (entry,) = [json.loads(r.value) for r in entries if document["report_id"].encode() in (r.value or b"")]
    assert entry["action"] == "subject_report" and entry["subject_token"] == token
    assert entry["operator"] == "User:casehub-operator" and entry["recipients"] == received
    assert person.encode() not in b"".join(r.value or b"" for r in entries)


def test_a_wrong_citizen_id_is_refused_in_one_line() -> None:
    result = _subject_report("--citizen-id", "1234567890123")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --citizen-id: check digit is wrong: the 13th digit does not match the " \
                                    "first 12 (mistyped?)"
