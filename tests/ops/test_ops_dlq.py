"""casehub dlq list/show/redrive against the real broker: grouping, decoding, re-drive once, attempts raised."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from casehub.cli.main import cli
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops import dlq
from casehub.ops.records import header
from casehub.schemas.codec import encode_binary
from casehub.streams.dlq import Origin, dead_letter_headers, read_error
from casehub.vault.feed import reading_store
from tests.connectors.events import SCHEMA_BASE
from tests.connectors.replay.canonical import end_offsets, read_from
from tests.kafka_helpers import create_topics, produce
from tests.streams.conftest import Hub, start_hub
from tests.streams.harness import follow_up, free_port, publish, report
from tests.vault.helpers import plain_value

UNKNOWN_CASE = "CASE-20261129-A0ZZZZZZZZ"


def dead(origin_topic: str, offset: int, value: bytes, *, stage: str, reason: str, attempts: int | None = None
         ) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    origin = Origin(origin_topic, 0, offset, b"partner-key", value, (("ce_id", f"ev-{offset}".encode()),))
    error: dict[str, object] = {"stage": stage, "reason": reason, "exception": "StageRejected"}
    if attempts is not None:
        error["attempts"] = attempts
    return b"partner-key", value, dead_letter_headers(origin, **error)


def test_dead_letter_headers_count_attempts_from_a_redriven_record() -> None:
    first = Origin("partner.x.inbound", 0, 1, None, b"v", (("ce_id", b"e1"),))
    assert read_error(dead_letter_headers(first, stage="validate", reason="r", exception="E"))["attempts"] == "1"
    redriven = Origin("partner.x.inbound", 0, 9, None, b"v", (("ce_id", b"e1"), ("hub.error.attempts", b"2")))
    headers = dead_letter_headers(redriven, stage="validate", reason="r", exception="E")
    assert read_error(headers)["attempts"] == "3"
    assert [v for k, v in headers if k == "hub.error.attempts"] == [b"3"]


def test_scan_groups_by_stage_and_reason_and_redrive_sends_each_record_once(settings: Settings, unique: str) -> None:
    dlq_topic, inbound = f"{unique}.dlq", f"partner.ngo-{unique}.inbound"
    create_topics(settings, dlq_topic, inbound, topics.HUB_AUDIT)
    event = report()
    wire = encode_binary(event, source="/partners/x", schema_base=SCHEMA_BASE)
    produce(settings, dlq_topic, [
        dead(inbound, 1, wire.value, stage="validate", reason="case.reported ev-aaa: subject.citizen_id: bad check digit"),
        dead(inbound, 2, wire.value, stage="validate", reason="case.reported ev-bbb: subject.citizen_id: bad check digit"),
        dead(inbound, 3, b"\x00garbage", stage="core", reason=f"case.closed ev-c: no case {UNKNOWN_CASE} is known"),
    ])

    scan = dlq.scan(settings, topic=dlq_topic)
    groups = {(g.stage, g.reason): g.count for g in dlq.grouped(scan.letters)}
    assert groups == {("validate", "case.reported <id>: subject.citizen_id: bad check digit"): 2,
                      ("core", "case.closed <id>: no case <case> is known"): 1}

    assert len(dlq.select(scan.letters, reasons=["CHECK DIGIT"])[0]) == 2
    assert len(dlq.select(scan.letters, stages=["core"], reasons=["check digit"])[0]) == 0
    chosen, already = dlq.select(scan.letters, stages=["validate"])
    assert len(chosen) == 2 and not already
    done = dlq.redrive(settings, chosen, already, operator="tester", criteria={"stages": ["validate"]},
                       dlq_topic=dlq_topic)
    assert len(done.sent) == 2

    back = read_from(settings, inbound, {}, expect=2, timeout=30)
    assert len(back) == 2
    for record in back:
        assert record.key == b"partner-key" and record.value == wire.value
        assert header(record.headers, "ce_id") is not None
        assert header(record.headers, "hub.error.attempts") == b"1"
        assert header(record.headers, "hub.redrive.id") == done.id.encode()
        assert not [k for k, _ in record.headers if k in ("hub.error.stage", "hub.error.reason")]

    again = dlq.scan(settings, topic=dlq_topic)
    assert again.markers == 2 and len(again.pending) == 1
    chosen, already = dlq.select(again.letters, stages=["validate"])
    assert chosen == [] and len(already) == 2
    dlq.redrive(settings, chosen, already, operator="tester", criteria={}, dlq_topic=dlq_topic)
    assert len(read_from(settings, inbound, {}, timeout=3, settle=1.0)) == 2  # nothing sent twice


def test_select_refuses_coordinates_that_are_not_dead_letters(settings: Settings, unique: str) -> None:
    dlq_topic = f"{unique}.dlq"
    create_topics(settings, dlq_topic)
    produce(settings, dlq_topic, [dead("partner.x.inbound", 1, b"v", stage="validate", reason="r")])
    scan = dlq.scan(settings, topic=dlq_topic)
    with pytest.raises(dlq.BadSelection):
        dlq.select(scan.letters, offsets=["0:99"])
    with pytest.raises(dlq.BadSelection):
        dlq.select(scan.letters, offsets=["zero"])


@pytest.fixture(scope="module")
def hub(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    running = start_hub(settings, tmp_path_factory.mktemp("dlq-hub"), {"CASEHUB_WORKER_METRICS_PORT": str(free_port())})
    yield running
    running.worker.stop()


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_redriven_record_that_fails_again_returns_with_its_attempts_raised(hub: Hub, tmp_path: Path) -> None:
    settings = hub.settings
    stray = follow_up("case.closed", case_id=UNKNOWN_CASE)
    dlq_start = end_offsets(settings, topics.HUB_DLQ)
    publish(settings, hub.lao, [stray])
    first = read_from(settings, topics.HUB_DLQ, dlq_start, timeout=60,
                      done=lambda rs: any(header(r.headers, "ce_id") == stray.id.encode() for r in rs))
    (letter,) = [r for r in first if header(r.headers, "ce_id") == stray.id.encode()]
    assert read_error(letter.headers)["attempts"] == "1"
    where = f"{letter.partition}:{letter.offset}"

    listed = json.loads(run_cli("dlq", "list", "--json"))
    assert any(g["stage"] == "dedupe" and "no case <case> is known" in g["reason"] for g in listed["groups"])
    audit_before_show = end_offsets(settings, topics.HUB_AUDIT)
    shown = json.loads(run_cli("dlq", "show", where, "--json"))
    assert shown["event"]["id"] == stray.id and shown["headers"]["hub.error.topic"] == topics.inbound(hub.lao)
    assert "hub.error.reason" in run_cli("dlq", "show", where)
    shows = read_from(settings, topics.HUB_AUDIT, audit_before_show, timeout=30,
                      done=lambda rs: sum(b'"dlq show"' in r.value and where.encode() in r.value for r in rs) >= 2)
    reads = [json.loads(r.value) for r in shows if b'"dlq show"' in r.value and where.encode() in r.value]
    assert len(reads) == 2 and all(r["operator"] == "User:casehub-operator" for r in reads)
    assert reads[0]["records"] == [{"topic": topics.HUB_DLQ, "partition": letter.partition, "offset": letter.offset,
                                    "case_id": UNKNOWN_CASE, "dlq": where}]

    audit_start = end_offsets(settings, topics.HUB_AUDIT)
    dlq_start = end_offsets(settings, topics.HUB_DLQ)
    redriven = json.loads(run_cli("dlq", "redrive", "--offset", where, "--json"))
    assert redriven["sent"] == 1

    second = read_from(settings, topics.HUB_DLQ, dlq_start, timeout=60,
                       done=lambda rs: any(header(r.headers, "ce_id") == stray.id.encode() for r in rs))
    (returned,) = [r for r in second if header(r.headers, "ce_id") == stray.id.encode()]
    with reading_store(settings) as store:  # each dead letter is sealed afresh; both open to the same bytes
        assert plain_value(store)(returned) == plain_value(store)(letter) == stray_bytes(stray)
    assert returned.key == letter.key
    assert read_error(returned.headers)["attempts"] == "2"
    assert header(returned.headers, "hub.redrive.id") == redriven["id"].encode()

    audit = read_from(settings, topics.HUB_AUDIT, audit_start, timeout=30,
                      done=lambda rs: any(redriven["id"].encode() in r.value for r in rs))
    (record,) = [json.loads(r.value) for r in audit if redriven["id"].encode() in r.value]
    assert record["action"] == "redrive" and record["operator"] == "User:casehub-operator"
    assert record["records"][0]["dlq"] == where and record["records"][0]["topic"] == topics.inbound(hub.lao)

    twice = json.loads(run_cli("dlq", "redrive", "--offset", where, "--json"))
    assert twice["sent"] == 0 and twice["already_redriven"] == 1


def test_status_lists_the_running_worker_and_probes_its_metrics_endpoint(hub: Hub) -> None:
    port = hub.worker.env_extra["CASEHUB_WORKER_METRICS_PORT"]
    url = f"http://127.0.0.1:{port}/metrics"
    result = CliRunner().invoke(cli, ["status", "--endpoint", url, "--json"], catch_exceptions=False)
    found = json.loads(result.output)
    (worker,) = [w for w in found["workers"] if w["group"] == hub.worker.worker_id]
    assert worker["members"] == 1 and worker["state"] == "Stable"
    assert found["endpoints"] == [{"url": url, "up": True, "status": 200}]
    human = CliRunner().invoke(cli, ["status", "--no-dlq"], catch_exceptions=False).output
    assert f"worker   {hub.worker.worker_id}: Stable, 1 member(s)" in human


def test_intake_keeps_a_redrives_headers_only_with_the_hubs_signature() -> None:
    from casehub.streams.dlq import redrive_key, sign_redrive, without_hub_headers

    key = redrive_key(b"the hub's secret")
    headers = [("ce_id", b"e1"), ("hub.error.attempts", b"2"), ("hub.redrive.id", b"rd-1"), ("hub.redrive.dlq", b"0:7")]
    signed = (*headers, sign_redrive(key, headers, b"v"))
    kept, removed = without_hub_headers(Origin("partner.x.inbound", 0, 9, None, b"v", signed), key)
    assert removed == 0 and read_error(kept.headers)["attempts"] == "2"

    forged = (*headers, sign_redrive(redrive_key(b"a partner's guess"), headers, b"v"))
    stripped, removed = without_hub_headers(Origin("partner.x.inbound", 0, 9, None, b"v", forged), key)
    assert removed == 4 and stripped.headers == (("ce_id", b"e1"),)
    tampered, _ = without_hub_headers(Origin("partner.x.inbound", 0, 9, None, b"other value", signed), key)
    assert tampered.headers == (("ce_id", b"e1"),)


def stray_bytes(event: object) -> bytes:
    """The Avro value ``publish`` wrote for ``event`` (what the dead letter holds, unchanged)."""
    from casehub.schemas.codec import encode_binary
    from tests.connectors.events import SCHEMA_BASE

    return encode_binary(event, source="/partners/someone-else", schema_base=SCHEMA_BASE).value  # type: ignore[arg-type]
