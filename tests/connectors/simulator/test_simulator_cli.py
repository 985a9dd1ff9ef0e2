"""``casehub simulate`` as a user runs it: into the real test broker's inbound topics, or as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from casehub.connectors.simulator import SimulatorOptions, generate
from casehub.connectors.simulator.writer import json_line
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import Registry
from tests.connectors.events import SCHEMA_BASE

CASEHUB = Path(sys.executable).with_name("casehub")
OPTIONS = ["--province", "90", "--duplicates", "0.3", "--retries", "0.1", "--malformed", "0.1", "--structured-share", "0.3"]
LIBRARY_OPTIONS = SimulatorOptions(provinces=("90",), duplicates=0.3, retries=0.1, malformed=0.1, structured_share=0.3,
                                   schema_base=SCHEMA_BASE)


def run_casehub(args: list[str], registry_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CASEHUB_REGISTRY_PATH": str(registry_path), "CASEHUB_PUBLIC_URL": SCHEMA_BASE}
    return subprocess.run([str(CASEHUB), *args], env=env, capture_output=True, timeout=240, check=False)


def end_offsets(consumer: KafkaConsumer, names: list[str]) -> dict[TopicPartition, int]:
    partitions = [TopicPartition(name, p) for name in names for p in sorted(consumer.partitions_for_topic(name) or ())]
    return dict(consumer.end_offsets(partitions))


def read_since(consumer: KafkaConsumer, starts: dict[TopicPartition, int], wanted: set[bytes], expect: int,
               timeout: float = 60.0) -> list[Any]:
    """Records written after ``starts`` whose value is one of ``wanted`` (other tests share some topics)."""
    consumer.assign(list(starts))
    for partition, offset in starts.items():
        consumer.seek(partition, offset)
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(found) < expect and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=300).values():
            found += [record for record in batch if record.value in wanted]
    return found


def test_simulate_writes_partner_traffic_into_each_senders_inbound_topic(
    settings: Settings, small_registry: Registry, small_registry_path: Path, unique: str, tmp_path: Path
) -> None:
    apply_topics(settings, small_registry)
    names = sorted(topics.inbound(org) for org in small_registry.partners)
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False)
    try:
        starts = end_offsets(consumer, names)
        seed = int(unique[1:], 16) % 1_000_000_007
        manifest = tmp_path / "manifest.jsonl"
        result = run_casehub(["simulate", "-n", "25", "--seed", str(seed), *OPTIONS, "--manifest", str(manifest),
                              "--json", "--no-progress"], small_registry_path)
        assert result.returncode == 0, result.stderr.decode()
        summary = json.loads(result.stdout)
        expected = list(generate(seed, 25, LIBRARY_OPTIONS, registry=small_registry))
        wanted = Counter((r.topic, r.record.key, r.record.value, tuple(r.record.headers)) for r in expected)
        found = read_since(consumer, starts, {r.record.value for r in expected}, expect=len(expected))
    finally:
        consumer.close()
    arrived = Counter((r.topic, r.key, r.value, tuple((k, bytes(v)) for k, v in r.headers)) for r in found)
    assert arrived == wanted
    assert summary["records"] == len(expected) == len(found)
    assert summary["per_topic"] == dict(sorted(Counter(r.topic for r in expected).items()))
    assert summary["cases"] == 25
    intents = Counter(r.intent.kind for r in expected)
    assert (summary["duplicates"], summary["retries"], summary["malformed"]) == (
        intents["duplicate"], intents["retry"], intents["malformed"])
    assert intents["duplicate"] and intents["retry"] and intents["malformed"]
    said = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    assert [(m["topic"], m["event_id"], m["intent"]) for m in said] == [
        (r.topic, r.event_id, r.intent.as_dict()) for r in expected]
    broken = [m for m in said if m["intent"]["kind"] == "malformed"]
    assert broken and all(m["intent"]["reason"] and m["intent"]["detail"] for m in broken)
    for record in found:
        headers = dict(record.headers)
        org = topics.org_of_inbound(record.topic)
        assert org in small_registry
        if headers.get("content-type") == b"application/avro":
            assert headers["ce_source"] == topics.event_source(org or "").encode()
            assert headers["ce_specversion"] == b"1.0"
            assert headers["ce_dataschema"].startswith(f"{SCHEMA_BASE}/v1/schemas/".encode() + headers["ce_type"] + b"/v")
            assert headers.get("ce_subject") == record.key
        else:
            assert headers["content-type"].startswith(b"application/cloudevents+json")
            assert json.loads(record.value)["source"] == topics.event_source(org or "")


def test_dry_run_prints_the_library_records_as_json_lines(small_registry: Registry, small_registry_path: Path,
                                                          tmp_path: Path) -> None:
    result = run_casehub(["simulate", "-n", "6", "--seed", "42", *OPTIONS, "--dry-run", "--no-progress"],
                         small_registry_path)
    assert result.returncode == 0, result.stderr.decode()
    expected = [json_line(r) for r in generate(42, 6, LIBRARY_OPTIONS, registry=small_registry)]
    assert result.stdout.decode().splitlines() == expected
    assert "records for 6 cases" in result.stderr.decode()
    out = tmp_path / "traffic.jsonl"
    again = run_casehub(["simulate", "-n", "6", "--seed", "42", *OPTIONS, "--out", str(out), "--json", "--no-progress"],
                        small_registry_path)
    assert again.returncode == 0, again.stderr.decode()
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert json.loads(again.stdout)["records"] == len(expected)
    line = json.loads(expected[0])
    assert {"topic", "key", "headers", "value_base64", "intent", "event_id", "mode"} <= set(line)


def test_simulate_refuses_times_in_the_future_and_names_the_fix(small_registry_path: Path) -> None:
    result = run_casehub(["simulate", "-n", "1", "--until", "2999-01-01T00:00:00Z", "--dry-run"], small_registry_path)
    assert result.returncode == 1
    assert b"is in the future" in result.stderr and b"--until now" in result.stderr
    assert result.stdout == b""


def test_an_unreachable_cluster_is_one_clear_error_line(small_registry_path: Path) -> None:
    env_args = ["simulate", "-n", "1", "--no-progress"]
    env = {**os.environ, "CASEHUB_REGISTRY_PATH": str(small_registry_path), "CASEHUB_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    result = subprocess.run([str(CASEHUB), *env_args], env=env, capture_output=True, timeout=120, check=False)
    assert result.returncode == 1
    last = result.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the cluster at 127.0.0.1:1") and "casehub broker status" in last
    assert b"Traceback" not in result.stderr
