"""Crypto-shredding end to end: two people's events through the worker, one erased with `casehub subject erase`;
then a byte scan of every topic the hub keeps finds the erased person's citizen id and name nowhere, while the other
person's data still decodes through the hub's tools and a replay re-delivers theirs and skips the erased one's."""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.records import view
from casehub.vault.feed import reading_store
from casehub.vault.tokens import ERASED
from tests.streams.conftest import Hub, running_hub
from tests.streams.harness import CASEHUB, citizen_id, follow_up, header, publish, read_until, report, with_ids

WAIT = 120.0
THAI = "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอฮ"


def thai_name() -> str:
    return "".join(random.choice(THAI) for _ in range(12))  # noqa: S311 - a test name, not a secret


@pytest.fixture(scope="module")
def hub(settings: Settings) -> Iterator[Hub]:
    with running_hub(settings) as running:
        yield running


def _casehub(hub: Hub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEHUB_REGISTRY_PATH": str(hub.worker.registry_path)}
    return subprocess.run([str(CASEHUB), *args], capture_output=True, text=True, timeout=300, env=env)


def hub_kept_topics(settings: Settings, worker_id: str) -> list[str]:
    """cases.events, cases.state, hub.dlq, hub.audit(.entries), the keys, and the worker's own topics (intake, cells,
    commands) and table changelogs."""
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python())
    try:
        own = sorted(name for name in consumer.topics() if name.startswith(f"{worker_id}-"))
    finally:
        consumer.close()
    assert any(name.endswith("-intake") for name in own) and any(name.endswith("-changelog") for name in own)
    return [topics.CASES_EVENTS, topics.CASES_STATE, topics.HUB_DLQ, topics.HUB_AUDIT, topics.HUB_AUDIT_ENTRIES,
            topics.HUB_SUBJECT_KEYS, *own]


def raw_records(settings: Settings, names: list[str]) -> list[Any]:
    """Every record now in ``names``, aborted transactions' too (read_uncommitted: what the log files hold)."""
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                             isolation_level="read_uncommitted")
    try:
        tps = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + WAIT
        while any(consumer.position(tp) < end[tp] for tp in tps):
            assert time.monotonic() < deadline, "the scan did not reach the end of the topics"
            for batch in consumer.poll(timeout_ms=500, max_records=10_000).values():
                records += batch
        return records
    finally:
        consumer.close()


def mentions(records: list[Any], needles: list[bytes]) -> list[str]:
    found = []
    for r in records:
        blob = b"\x00".join([r.key or b"", r.value or b"", *(v or b"" for _, v in r.headers or [])])
        found += [f"{r.topic} {r.partition}:{r.offset}" for needle in needles if needle in blob]
    return found


def test_after_erase_no_hub_topic_holds_the_person_and_the_other_person_still_decodes(hub: Hub) -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    erased_id, erased_name, kept_id, kept_name = citizen_id(), thai_name(), citizen_id(), thai_name()
    person = {"given_name": erased_name, "family_name": "ศรีสุข", "birth_date": "1948-03-02"}
    other = {"given_name": kept_name, "family_name": "ใจดี", "birth_date": "1950-01-01"}
    mine, theirs = report(cid=erased_id, subject={**person, "citizen_id": erased_id}), \
        report(cid=kept_id, subject={**other, "citizen_id": kept_id})
    unknown_place = report(cid=erased_id, tambon="999999", subject={**person, "citizen_id": erased_id})
    publish(hub.settings, "hotline-1300", [mine, theirs, unknown_place])
    events = read_until(hub.settings, [topics.CASES_EVENTS], timeout=WAIT,
                        done=lambda rs: len(with_ids(rs, {mine.id, theirs.id})) >= 2)
    cases = {(header(r, "ce_id") or b"").decode(): (header(r, "ce_subject") or b"").decode()
             for r in with_ids(events, {mine.id, theirs.id})}
    assert set(cases) == {mine.id, theirs.id}, hub.worker.log_text()[-3000:]
    # a follow-up of the erased person's case: free text, keyed by case only
    notes = "เยี่ยมบ้าน " + thai_name()
    publish(hub.settings, "hotline-1300", [follow_up("case.followup", case_id=cases[mine.id], notes=notes)])
    letters = read_until(hub.settings, [topics.HUB_DLQ], timeout=WAIT,
                         done=lambda rs: bool(with_ids(rs, {unknown_place.id})))
    (letter,) = with_ids(letters, {unknown_place.id})
    read_until(hub.settings, [topics.CASES_EVENTS], timeout=WAIT,
               done=lambda rs: any(header(r, "ce_type") == b"case.followup" and
                                   header(r, "ce_subject") == cases[mine.id].encode() for r in rs))

    kept_topics = hub_kept_topics(hub.settings, hub.worker.worker_id)
    needles = [erased_id.encode(), erased_name.encode(), notes.encode(), kept_id.encode(), kept_name.encode()]
    # sealed from the first hop on: not even before the erasure does a hub topic hold the plaintext
    assert mentions(raw_records(hub.settings, kept_topics), needles) == []
    # ... while the hub's tools read both people, the dead letter byte for byte
    with reading_store(hub.settings) as store:
        shown = {view(r, store).event.id: view(r, store).event for r in with_ids(events, {mine.id, theirs.id})}
        assert shown[mine.id].subject.citizen_id == erased_id and shown[mine.id].subject.given_name == erased_name
        dead = view(letter, store)
        assert dead.event is not None and dead.event.subject.citizen_id == erased_id

    result = _casehub(hub, "subject", "erase", "--citizen-id", erased_id, "--reason", "PDPA s33 request 2026/77",
                      "--yes", "--json")
    assert result.returncode == 0, result.stderr
    erasure = json.loads(result.stdout)
    assert erasure["cases"] == [cases[mine.id]]
    scopes = {key.rsplit(":", 1)[0] for key in erasure["keys_destroyed"]}
    assert f"case-{cases[mine.id]}" in scopes and any(s.startswith("subject-") for s in scopes)
    assert f"{letter.partition}:{letter.offset}" in erasure["dead_letters"]

    # the byte scan: every topic the hub keeps, the erased person's id, name and notes nowhere
    assert mentions(raw_records(hub.settings, kept_topics), needles[:3]) == []
    with reading_store(hub.settings) as store:
        erased_view, kept_view = (view(r, store) for r in (with_ids(events, {mine.id})[0], with_ids(events, {theirs.id})[0]))
        assert erased_view.event.subject.citizen_id == ERASED and erased_view.event.subject.given_name == ERASED
        assert "subject.citizen_id" in erased_view.erased and "[erased" in erased_view.summary()
        assert erased_view.event.issue_category == mine.issue_category  # what is not personal still reads
        assert kept_view.event.subject.citizen_id == kept_id and kept_view.event.subject.given_name == kept_name
        assert view(letter, store).erased == ["value"]

    shown_letter = _casehub(hub, "dlq", "show", f"{letter.partition}:{letter.offset}")
    assert shown_letter.returncode == 0, shown_letter.stderr
    assert ERASED in shown_letter.stdout and erased_id not in shown_letter.stdout
    redrive = _casehub(hub, "dlq", "redrive", "--offset", f"{letter.partition}:{letter.offset}")
    assert redrive.returncode != 0 and "erased" in redrive.stderr + redrive.stdout

    audit = read_until(hub.settings, [topics.HUB_AUDIT_ENTRIES], timeout=WAIT,
                       done=lambda rs: any(erasure["id"].encode() in (r.value or b"") for r in rs))
    entry = json.loads(next(r.value for r in audit if erasure["id"].encode() in (r.value or b"")))
    assert entry["action"] == "erase" and entry["reason"] == "PDPA s33 request 2026/77"
    assert entry["operator"].startswith("User:") and erased_id not in json.dumps(entry)

    # replay and re-projection: the other person's event again, the erased person's skipped and counted
    tambon_centre = next(org for org in hub.everyone if org.startswith("tc-840502"))
    replay = _casehub(hub, "replay", "--from-topic", topics.CASES_EVENTS, "--since", started.isoformat(),
                      "--case-id", cases[mine.id], "--case-id", cases[theirs.id], "--to-partner", tambon_centre,
                      "--no-progress", "--json")
    assert replay.returncode == 0, replay.stderr
    replayed = json.loads(replay.stdout)
    # the report (and the follow-up, where the partner is sent follow-ups): skipped and counted, never sent
    assert replayed["skipped"].get("subject erased (casehub subject erase)", 0) >= 1, replayed
    assert replayed["selected"] == 1, replayed
    outbound = read_until(hub.settings, [topics.outbound(tambon_centre)], timeout=WAIT,
                          done=lambda rs: any(header(r, "hub.replay.id") == replayed["id"].encode() for r in rs))
    again = [r for r in outbound if header(r, "hub.replay.id") == replayed["id"].encode()]
    assert [(header(r, "ce_id") or b"").decode() for r in again] == [theirs.id]
    assert kept_name.encode() in (again[0].value or b"")  # re-delivered at full disclosure, decrypted
