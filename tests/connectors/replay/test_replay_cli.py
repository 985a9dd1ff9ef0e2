"""casehub replay as operators run it (the real CLI), and re-projection for a full-disclosure partner from case state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from casehub.cli.main import cli
from casehub.connectors.replay import ReplayRequest, run_replay
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.records import header
from casehub.streams.audit import entries as audit_entries
from casehub.streams.keys import new_case_id
from casehub.streams.state import CaseState
from tests.connectors.replay.canonical import (
    Canonical,
    canonical_events,
    end_offsets,
    read_from,
    registry_with,
    write_canonical,
)
from tests.kafka_helpers import create_topics, produce
from tests.streams.harness import follow_up, partner

CASEHUB = Path(sys.executable).with_name("casehub")


@pytest.mark.parametrize("verb", [["replay"], ["dlq", "list"], ["dlq", "show"], ["dlq", "redrive"], ["tail"], ["lag"],
                                  ["status"]])
def test_every_verb_has_help(verb: list[str]) -> None:
    result = CliRunner().invoke(cli, [*verb, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if verb != ["dlq", "show"]:
        assert "--json" in result.output


def run(*args: str, registry: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEHUB_REGISTRY_PATH": str(registry)}
    done = subprocess.run([str(CASEHUB), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr[-3000:]
    return done


def test_the_cli_replays_to_a_file_and_explains_bad_requests(settings: Settings, unique: str, tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    registry = registry_with(path, partner("pso-50", "pso", {"provinces": ["50"]}, "aggregate", ["*"]))
    source = f"{unique}.cases.events"
    write_canonical(settings, source, canonical_events(registry, 30, source_org="hotline-1300"))
    out = tmp_path / "out.jsonl"

    done = run("replay", "--from-topic", source, "--to-file", str(out), "--event-type", "case.reported", "--json",
               registry=path)
    report = json.loads(done.stdout)
    assert report["selected"] == 10 and report["by_type"] == {"case.reported": 10}
    assert len(out.read_text(encoding="utf-8").splitlines()) == 10
    assert "replay" in done.stderr and "rec" in done.stderr  # the progress bar

    human = run("replay", "--from-topic", source, "--to-partner", "pso-84", "--dry-run", "--no-progress", registry=path)
    assert "would replay" in human.stdout and "case.triaged" in human.stdout and "dry run" in human.stdout

    for args, message in (
        (["--to-file", str(out), "--to-pipeline"], "exactly one target"),
        (["--to-partner", "ngo-nobody"], "ngo-nobody"),
        (["--to-partner", "pso-50"], "aggregate"),
        (["--to-file", str(out), "--start-offset", "x"], "PARTITION:OFFSET"),
        (["--to-file", str(out), "--since", "yesterday"], "ISO 8601"),
    ):
        failed = run("replay", "--from-topic", source, *args, registry=path, code=1)
        assert message in failed.stderr, failed.stderr
    missing = run("replay", "--from-topic", f"{unique}.nothing", "--to-file", str(out), registry=path, code=1)
    assert "does not exist" in missing.stderr


def test_a_full_partner_is_re_projected_with_the_consent_its_case_state_records(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    ngo = f"ngo-{unique}"
    registry = registry_with(tmp_path / "partners.yaml",
                             partner(ngo, "ngo", {"provinces": ["84"]}, "full", ["case.triaged"], ["*"]))
    template = canonical_events(registry, 1, source_org="pso-84")[0].event
    now = datetime.now(UTC)
    consented, unconsented = new_case_id("A1", now), new_case_id("A2", now)
    revocations = [
        follow_up("referral.revoked", case_id=case, recipient=ngo, issue_category=template.issue_category,
                  location=template.location.model_dump(), subject_token=template.subject_token)
        for case in (consented, unconsented)
    ]
    source, states = f"{unique}.cases.events", f"{unique}.cases.state"
    write_canonical(settings, source, [Canonical(e, topics.event_source("pso-84"), None) for e in revocations])
    base = CaseState(case_id=consented, status="open", opened_at="2026-11-29T00:00:00+00:00",
                     updated_at="2026-11-29T00:00:00+00:00", last_event_id="x", last_event_type="referral.requested",
                     events=3, issue_category=template.issue_category, target_group="child", tambon_code="840502",
                     disclosure_consents=(ngo,))
    create_topics(settings, states, topics.outbound(ngo), topics.HUB_AUDIT)
    produce(settings, states, [(consented.encode(), base.to_bytes(), []),
                               (unconsented.encode(), replace(base, case_id=unconsented, disclosure_consents=()).to_bytes(), [])])
    audit_start = end_offsets(settings, topics.HUB_AUDIT)

    report = run_replay(settings, registry, ReplayRequest(from_topic=source, target="partner", partner=ngo,
                                                          progress=False, states_topic=states))

    assert report.selected == 1
    assert dict(report.skipped) == {"withheld: no consent to disclosure and no recorded override": 1}
    (delivered,) = read_from(settings, topics.outbound(ngo), {}, expect=1, settle=1.0)
    assert delivered.key == consented.encode()
    assert header(delivered.headers, "ce_casehubdisclosure") == b"full"
    audit = read_from(settings, topics.HUB_AUDIT, audit_start, timeout=30,
                      done=lambda rs: sum(report.id.encode() in r.value for r in rs) >= 3)
    decisions = sorted((d["decision"], d["case_id"]) for r in audit for d in audit_entries(json.loads(r.value))
                       if d.get("replay_id") == report.id)
    assert decisions == sorted([("delivered", consented), ("withheld", unconsented)])
