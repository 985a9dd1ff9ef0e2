"""casehub tail / lag / status against the real broker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from click.testing import CliRunner
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from casehub.cli.main import cli
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.tail import TailFilter, follow
from tests.connectors.replay.canonical import canonical_events, registry_with, write_canonical
from tests.kafka_helpers import create_topics, produce


def run_cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_tail_decodes_filters_and_names_places_in_thai(settings: Settings, unique: str, tmp_path: Path) -> None:
    registry = registry_with(tmp_path / "partners.yaml")
    events = canonical_events(registry, 60, source_org="hotline-1300")
    topic = f"{unique}.cases.events"
    write_canonical(settings, topic, events)
    one = events[0].event

    triaged = run_cli("tail", topic, "--from-beginning", "--max", "2", "--event-type", "case.triaged", "--json")
    lines = [json.loads(line) for line in triaged.splitlines()]
    assert len(lines) == 2 and {line["event"]["type"] for line in lines} == {"case.triaged"}
    assert lines[0]["place_th"].startswith("ต.")
    assert lines[0]["headers"]["ce_type"] == "case.triaged"

    case = run_cli("tail", topic, "--from-beginning", "--case-id", one.case_id, "--idle-timeout", "3")
    assert len(case.splitlines()) == 3
    assert all(one.case_id in line for line in case.splitlines())
    assert f"ต.{one.location.tambon_name_th}" in case

    in_84 = [c for c in events if c.event.location.province_code == "84"]
    shown = list(follow(settings, topic, from_beginning=True, idle_timeout=3, where=TailFilter(partners=frozenset({"pso-84"}))))
    assert sorted(v.event.id for v in shown if v.event) == sorted(c.event.id for c in in_84)


def test_tail_without_from_beginning_shows_only_new_records(settings: Settings, unique: str, tmp_path: Path) -> None:
    registry = registry_with(tmp_path / "partners.yaml")
    old, *new = canonical_events(registry, 40, source_org="hotline-1300")
    topic = f"{unique}.cases.events"
    write_canonical(settings, topic, [old], partitions=1)
    seen: list = []

    def run() -> None:
        seen.extend(follow(settings, topic, max_records=1, idle_timeout=60))

    thread = threading.Thread(target=run)
    thread.start()
    # the tail starts at the end whenever it gets there: keep adding new records until it has shown one
    for item in new:
        if not thread.is_alive():
            break
        write_canonical(settings, topic, [item], partitions=1)
        thread.join(timeout=1.0)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(seen) == 1
    assert seen[0].event.id in {c.event.id for c in new}


def test_lag_reports_committed_end_and_lag_per_partition(settings: Settings, unique: str) -> None:
    topic, group = f"{unique}.lagged", f"g-{unique}"
    create_topics(settings, topic, partitions=1)
    produce(settings, topic, [(b"k", b"v%d" % i, []) for i in range(10)])
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(4, "", -1)})
    consumer.close()

    rows = json.loads(run_cli("lag", "--group", group, "--json"))
    assert rows == [{"group": group, "topic": topic, "partition": 0, "committed": 4, "end": 10, "lag": 6}]
    human = run_cli("lag", "--group", group)
    assert f"{group}: total lag 6" in human


def test_status_reports_broker_topics_and_dlq(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["status", "--json"], catch_exceptions=False)
    found = json.loads(result.output)
    assert found["broker"]["reachable"] is True and found["broker"]["brokers"] >= 1
    assert found["topics"]["total"] > 0 and found["topics"]["hub_missing"] == []
    assert found["dlq"]["dead_letters"] >= found["dlq"]["pending"] >= 0
    assert result.exit_code == (0 if found["healthy"] else 1)


def test_status_of_an_unreachable_broker_is_a_clear_failure(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CASEHUB_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    output = run_cli("status", code=1)
    assert "UNREACHABLE" in output and "NOT healthy" in output


def test_what_tail_shows_is_in_the_audit_log_under_the_operators_principal(settings: Settings, unique: str,
                                                                            tmp_path: Path) -> None:
    from casehub.core import topics
    from tests.streams.harness import read_until

    registry = registry_with(tmp_path / "partners.yaml")
    events = canonical_events(registry, 12, source_org="hotline-1300")
    topic = f"{unique}.cases.events"
    write_canonical(settings, topic, events, partitions=1)
    shown = [json.loads(line) for line in run_cli("tail", topic, "--from-beginning", "--max", "3", "--json").splitlines()]
    assert len(shown) == 3

    def reads(records: list) -> list[dict]:
        found = [json.loads(r.value) for r in records if topic.encode() in (r.value or b"")]
        return [entry for entry in found if entry.get("action") == "read" and entry.get("source_topic") == topic]

    audit = read_until(settings, [topics.HUB_AUDIT], done=lambda rs: sum(e["count"] for e in reads(rs)) >= 3,
                       timeout=60)
    entries = reads(audit)
    assert {e["tool"] for e in entries} == {"tail"} and {e["operator"] for e in entries} == {"User:casehub-operator"}
    recorded = [(r["offset"], r["case_id"]) for e in entries for r in e["records"]]
    assert recorded == [(line["offset"], line["event"]["case_id"]) for line in shown]
    assert all(event.event.subject.citizen_id.encode() not in b"".join(r.value for r in audit)  # type: ignore[union-attr]
               for event in events[:3] if getattr(event.event, "subject", None) and event.event.subject.citizen_id)
