"""casehub replay --to-partner against the real broker: a new partner backfilled at its subscription and disclosure."""

from __future__ import annotations

import json
import re
from pathlib import Path

from casehub.connectors.replay import Filters, ReplayRequest, run_replay
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.records import header
from casehub.schemas.codec import decode
from casehub.streams.pseudonyms import Pseudonyms
from tests.connectors.replay.canonical import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    SECRET_TEXT,
    audit_documents,
    canonical_events,
    end_offsets,
    read_from,
    registry_with,
    write_canonical,
)
from tests.kafka_helpers import create_topics
from tests.streams.harness import partner

TYPES = {"case.reported", "case.triaged"}
CATEGORIES = {"children_youth", "family_violence"}


def new_ngo(tmp_path: Path, unique: str):  # type: ignore[no-untyped-def]
    ngo = f"ngo-{unique}"
    registry = registry_with(
        tmp_path / "partners.yaml",
        partner(ngo, "ngo", {"provinces": ["84"]}, "pseudonymised", sorted(TYPES), sorted(CATEGORIES)),
    )
    return ngo, registry


def selected_by_subscription(events) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        c.event.id for c in events
        if c.event.type in TYPES and c.event.issue_category in CATEGORIES
        and (c.event.location.tambon_code or "").startswith("84")
    }


def test_ten_thousand_events_replayed_to_a_new_pseudonymised_partner(settings: Settings, unique: str, tmp_path: Path) -> None:
    ngo, registry = new_ngo(tmp_path, unique)
    events = canonical_events(registry, 10_000, source_org="hotline-1300")
    source = f"{unique}.cases.events"
    write_canonical(settings, source, events)
    audit_topic = f"{unique}.audit"  # hub.audit's role, without filling the shared broker's hub.audit
    create_topics(settings, topics.outbound(ngo), audit_topic)
    expected = selected_by_subscription(events)
    assert 0 < len(expected) < len(events)

    report = run_replay(settings, registry, ReplayRequest(from_topic=source, target="partner", partner=ngo,
                                                          progress=False, audit_topic=audit_topic))

    assert report.read == 10_000
    assert report.selected == len(expected)
    records = read_from(settings, topics.outbound(ngo), {}, expect=len(expected), settle=2.0)
    # the partner knows each event by its own reference of (source, id): the pipeline's projection, per recipient
    pseudonyms = Pseudonyms.from_settings(settings)
    by_reference = {pseudonyms.pseudonym(ngo, "event", f"{c.source}\x1f{c.event.id}"): c for c in events}
    ids = [header(r.headers, "ce_id").decode() for r in records]
    assert len(ids) == len(set(ids)) == len(expected)
    assert {by_reference[i].event.id for i in ids} == expected
    source_offsets = end_offsets(settings, source)
    for record in records[:200]:
        original = by_reference[header(record.headers, "ce_id").decode()]
        assert record.key == pseudonyms.case_reference(ngo, original.event.case_id).encode()
        assert header(record.headers, "ce_casehubdisclosure") == b"pseudonymised"
        assert header(record.headers, "hub.replay.id") == report.id.encode()
        assert header(record.headers, "hub.replay.topic") == source.encode()
        partition = int(header(record.headers, "hub.replay.partition"))
        assert 0 <= int(header(record.headers, "hub.replay.offset")) < source_offsets[partition]
        delivered = decode(record.value, record.headers).event
        assert delivered.subject_token == pseudonyms.subject_token(ngo, original.event.subject_token)
        if delivered.type == "case.reported":
            assert delivered.subject.citizen_id is None and delivered.subject.given_name is None
            assert delivered.subject.birth_date.month == 1 and delivered.subject.birth_date.day == 1

    # PDPA: nothing in the pseudonymised partner's topic identifies a person or carries free text
    blob = b"".join(r.value + b"".join(k.encode() + v for k, v in r.headers) + (r.key or b"") for r in records)
    citizen_ids = {c.citizen_id.encode() for c in events if c.citizen_id}
    assert not set(re.findall(rb"\d{13}", blob)) & citizen_ids
    for secret in (*GIVEN_NAMES, *FAMILY_NAMES, SECRET_TEXT, "0812345678"):
        assert secret.encode() not in blob, secret

    audit = read_from(settings, audit_topic, {}, timeout=60,
                      done=lambda rs: any(header(r.headers, "hub.audit.action") == b"replay"
                                          and report.id.encode() in r.value for r in rs))
    documents = audit_documents(audit)
    (summary,) = [d for d in documents if d.get("action") == "replay" and d.get("id") == report.id]
    assert summary["operator"] == "User:casehub-operator" and summary["status"] == "completed" and summary["failed"] == 0
    assert summary["from_topic"] == source
    assert summary["target"]["partner"] == ngo and summary["target"]["disclosure"] == "pseudonymised"
    assert summary["selected"] == len(expected)
    assert sum(end - start for start, end in summary["ranges"].values()) == 10_000
    deliveries = [d for d in documents if d.get("replay_id") == report.id and d.get("decision") == "delivered"]
    assert len(deliveries) == len(expected)
    assert {d["recipient"] for d in deliveries} == {ngo}


def test_a_dry_run_counts_per_event_type_writes_nothing_and_is_audited_as_a_read(settings: Settings, unique: str,
                                                                                  tmp_path: Path) -> None:
    ngo, registry = new_ngo(tmp_path, unique)
    events = canonical_events(registry, 300, source_org="hotline-1300")
    source = f"{unique}.cases.events"
    write_canonical(settings, source, events)
    create_topics(settings, topics.outbound(ngo), topics.HUB_AUDIT)
    audit_start = end_offsets(settings, topics.HUB_AUDIT)
    expected = selected_by_subscription(events)

    report = run_replay(settings, registry, ReplayRequest(from_topic=source, target="partner", partner=ngo,
                                                          dry_run=True, progress=False))

    assert report.selected == len(expected)
    counted = {t: sum(1 for c in events if c.event.id in expected and c.event.type == t) for t in TYPES}
    assert dict(report.by_type) == {t: n for t, n in counted.items() if n}
    assert report.written == 0
    assert end_offsets(settings, topics.outbound(ngo)) == {0: 0}
    audit = read_from(settings, topics.HUB_AUDIT, audit_start, timeout=60, settle=0,
                      done=lambda rs: any(report.id.encode() in r.value for r in rs))
    (entry,) = [json.loads(r.value) for r in audit if report.id.encode() in r.value]
    assert entry["action"] == "read" and entry["tool"] == "replay --dry-run" and entry["records"] == []
    assert entry["operator"] == "User:casehub-operator" and entry["selected"] == len(expected) and entry["written"] == 0


def test_filters_select_by_case_type_and_place(settings: Settings, unique: str, tmp_path: Path) -> None:
    ngo, registry = new_ngo(tmp_path, unique)
    events = canonical_events(registry, 120, source_org="hotline-1300")
    source = f"{unique}.cases.events"
    write_canonical(settings, source, events)
    create_topics(settings, topics.outbound(ngo))
    one_case = events[0].event.case_id
    tambon = events[0].event.location.tambon_code

    by_case = run_replay(settings, registry, ReplayRequest(
        from_topic=source, target="file", path=tmp_path / "case.jsonl", progress=False,
        filters=Filters(case_ids=frozenset({one_case}))))
    by_place = run_replay(settings, registry, ReplayRequest(
        from_topic=source, target="partner", partner=ngo, dry_run=True, progress=False,
        filters=Filters(event_types=frozenset({"case.reported"}), tambons=frozenset({tambon}))))
    by_province = run_replay(settings, registry, ReplayRequest(
        from_topic=source, target="file", path=tmp_path / "p50.jsonl", dry_run=True, progress=False,
        filters=Filters(provinces=frozenset({"50"}))))

    assert by_case.selected == 3
    lines = (tmp_path / "case.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert '"case_id":"' + one_case + '"' in lines[0]
    assert "ต." in lines[0]  # the Thai place label
    assert by_place.selected == sum(1 for c in events if c.event.type == "case.reported"
                                    and c.event.location.tambon_code == tambon and c.event.issue_category in CATEGORIES)
    assert by_province.selected == sum(1 for c in events if c.event.location.province_code == "50")
    assert not (tmp_path / "p50.jsonl").exists()
