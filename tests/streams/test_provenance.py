"""Provenance no partner can forge: hub.* headers a partner writes are removed at intake and never read; the hub's own
provenance and commands travel only where partners cannot write; bad records are dead-lettered without crashing the
worker, and no reason or log line repeats a value the partner sent."""

from __future__ import annotations

import json
import uuid

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.schemas.codec import decode, encode_binary
from casehub.streams import commands
from casehub.streams.dlq import read_error
from casehub.vault.feed import reading_store
from tests.access_helpers import partner_credentials
from tests.connectors.events import SCHEMA_BASE
from tests.streams.conftest import Hub
from tests.streams.harness import TAMBON, header, read_until, report, with_ids
from tests.vault.helpers import plain_value

WAIT = 60.0
FORGED = [
    ("hub.origin.topic", b"partner.hotline-1300.inbound"),
    ("hub.origin.partition", b"abc"),
    ("hub.command", b"escalate"),
    ("Hub.Origin.Offset", b"1"),
    ("hub.error.stage", b"validate"),
]


def _as_partner(hub: Hub) -> KafkaProducer:
    creds = partner_credentials(hub.settings, hub.lao)
    return KafkaProducer(**creds.connection().kafka_python(), acks="all", max_block_ms=20_000, request_timeout_ms=10_000)


def _dead_letters(hub: Hub, ids: set[str], count: int) -> list:
    records = read_until(hub.settings, [topics.HUB_DLQ], done=lambda rs: len(with_ids(rs, ids)) >= count, timeout=WAIT)
    return with_ids(records, ids)


def test_forged_hub_headers_are_removed_and_the_event_keeps_the_partners_own_source(hub: Hub) -> None:
    event = report(category="elderly")
    wire = encode_binary(event, source="/partners/hotline-1300", schema_base=SCHEMA_BASE)
    producer = _as_partner(hub)
    try:
        producer.send(topics.inbound(hub.lao), value=wire.value, headers=list(wire.headers) + FORGED).get(timeout=30)
    finally:
        producer.close(timeout=5)

    canonical = read_until(hub.settings, [topics.CASES_EVENTS], done=lambda rs: bool(with_ids(rs, {event.id})), timeout=WAIT)
    [record] = with_ids(canonical, {event.id})
    assert decode(record.value, record.headers).source == topics.event_source(hub.lao)
    assert not [k for k, _ in record.headers if k.lower().startswith("hub.")]

    # not escalated, not vanished: delivered as any report, and the worker is still up
    delivered = read_until(hub.settings, [topics.outbound(f"tc-{TAMBON}")], done=lambda rs: bool(with_ids(rs, {event.id})),
                           timeout=WAIT)
    assert with_ids(delivered, {event.id})
    assert hub.worker.process is not None and hub.worker.process.poll() is None

    # what the core hop read: only the provenance the hub wrote, naming the real inbound topic
    intake = read_until(hub.settings, [f"{hub.worker.worker_id}-intake"], done=lambda rs: bool(with_ids(rs, {event.id})),
                        timeout=WAIT)
    [hop] = with_ids(intake, {event.id})
    hub_headers = {k: v for k, v in hop.headers if k.lower().startswith("hub.")}
    assert hub_headers["hub.origin.topic"] == topics.inbound(hub.lao).encode()
    assert hub_headers["hub.origin.partition"].isdigit()
    assert "hub.command" not in hub_headers and "Hub.Origin.Offset" not in hub_headers
    assert [k for k, _ in hop.headers].count("hub.origin.topic") == 1
    hub.worker.wait_for_log('"count": 5', timeout=10)
    assert "partner hub headers removed" in hub.worker.log_text()


def test_a_partner_can_write_neither_the_intake_nor_the_commands_topic(hub: Hub) -> None:
    producer = _as_partner(hub)
    try:
        for internal in (f"{hub.worker.worker_id}-intake", commands.topic_name(hub.worker.worker_id)):
            with pytest.raises(KafkaError) as refused:
                producer.send(internal, key=b"x", value=b"escalate me",
                              headers=[("hub.command", b"escalate")]).get(timeout=30)
            assert "Authorization" in type(refused.value).__name__
    finally:
        producer.close(timeout=5)


def test_unreadable_provenance_and_commands_are_dead_lettered_and_the_worker_goes_on(hub: Hub) -> None:
    marker = "ev-" + uuid.uuid4().hex[:12]
    admin = KafkaProducer(**connection(hub.settings, "admin").kafka_python(), acks="all")
    try:  # records only a faulty hub could write: the partners' ACLs keep them off these topics
        admin.send(f"{hub.worker.worker_id}-intake", key=b"shard", value=b"{}",
                   headers=[("ce_id", marker.encode()), ("hub.origin.topic", topics.inbound(hub.lao).encode()),
                            ("hub.origin.partition", b"abc"), ("hub.origin.offset", b"1")]).get(timeout=30)
        for value, kind in ((b"not-a-case", commands.ESCALATE), (b"soon", commands.EXPIRE), (b"x", b"reboot")):
            admin.send(commands.topic_name(hub.worker.worker_id), key=b"shard", value=value,
                       headers=[("ce_id", marker.encode()), (commands.COMMAND_HEADER, kind)]).get(timeout=30)
    finally:
        admin.close(timeout=5)

    dead = _dead_letters(hub, {marker}, 4)
    reasons = sorted((read_error(r.headers)["stage"], read_error(r.headers)["reason"]) for r in dead)
    assert reasons == [
        ("command", "escalate: the value is not a case id issued by the hub"),
        ("command", "expire: the value is not a time in epoch milliseconds"),
        ("command", "unknown command kind (header hub.command)"),
        ("core", "an intake record's hub.origin.* headers are missing or not readable"),
    ]
    after = report(category="elderly")
    from tests.streams.harness import publish

    publish(hub.settings, hub.lao, [after])
    delivered = read_until(hub.settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {after.id})),
                           timeout=WAIT)
    assert with_ids(delivered, {after.id})
    assert hub.worker.process is not None and hub.worker.process.poll() is None


def test_dead_letter_reasons_and_worker_logs_never_repeat_the_personal_data_a_partner_sent(hub: Hub) -> None:
    from tests.streams.harness import example

    data = example("case.reported")
    name, cid = "สมหญิง ใจกล้า", "1103700123458"
    data.update(id="ev-" + uuid.uuid4().hex[:12], location={"tambon_code": TAMBON})
    data["subject"] = {**data["subject"], "birth_date": f"{name} {cid} บ้านเลขที่ 99"}
    producer = KafkaProducer(**connection(hub.settings, "admin").kafka_python(), acks="all")
    try:
        producer.send(topics.inbound(hub.lao), value=json.dumps({
            "specversion": "1.0", "id": data["id"], "source": "/x", "type": "case.reported",
            "datacontenttype": "application/json", "data": data}, ensure_ascii=False).encode(),
            headers=[("content-type", b"application/cloudevents+json")]).get(timeout=30)
    finally:
        producer.close(timeout=5)
    with reading_store(hub.settings) as store:  # dead letters are sealed under their subject's data key
        plain = plain_value(store)
        # structured records carry their id in the body: find it by value, opened
        records = read_until(hub.settings, [topics.HUB_DLQ], timeout=WAIT,
                             done=lambda rs: any(data["id"].encode() in (plain(r) or b"") for r in rs))
        [dead] = [r for r in records if data["id"].encode() in (plain(r) or b"")]
        assert cid.encode() in (plain(dead) or b"")  # the record itself is kept unchanged for a re-drive
    assert cid.encode() not in (dead.value or b"")  # ... sealed: not readable in hub.dlq
    error = read_error(dead.headers)
    assert "subject.birth_date" in error["reason"]
    for secret in (name, cid, "บ้านเลขที่"):
        assert secret not in error["reason"]
        assert secret not in hub.worker.log_text()
    assert header(dead, "hub.error.stage") == b"validate"


def test_a_record_over_the_hubs_size_limit_is_dead_lettered_unchanged_and_the_worker_goes_on(hub: Hub) -> None:
    from casehub.core import limits

    event = report(category="elderly")
    wire = encode_binary(event, source="/x", schema_base=SCHEMA_BASE)
    padding = b"\x00" * (limits.MAX_RECORD_BYTES + 20_000 - len(wire.value))  # Kafka takes it; the hub does not
    big = wire.value + padding
    producer = KafkaProducer(**connection(hub.settings, "admin").kafka_python(), acks="all", max_request_size=2 * 1024 * 1024)
    try:
        producer.send(topics.inbound(hub.lao), value=big, headers=list(wire.headers)).get(timeout=30)
    finally:
        producer.close(timeout=5)
    (dead,) = _dead_letters(hub, {event.id}, 1)
    error = read_error(dead.headers)
    assert error["exception"] == "RecordTooLarge" and error["stage"] == "validate"
    assert f"at most {limits.MAX_RECORD_BYTES} bytes" in error["reason"]
    with reading_store(hub.settings) as store:  # sealed under the subject's data key; opens to the exact bytes
        assert plain_value(store)(dead) == big  # unchanged: hub.dlq takes any record a partner topic took

    after = report(category="elderly")
    from tests.streams.harness import publish

    publish(hub.settings, hub.lao, [after])
    delivered = read_until(hub.settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {after.id})),
                           timeout=WAIT)
    assert with_ids(delivered, {after.id})


def test_an_event_whose_output_would_be_too_large_is_dead_lettered_before_anything_is_sent() -> None:
    from casehub.core import limits
    from casehub.streams.core import Output
    from casehub.streams.topology import _oversize

    fine = Output(topics.CASES_EVENTS, b"CASE-1", b"x" * 1000, [])
    huge = Output(topics.outbound("ngo-x"), b"CASE-1", b"x" * limits.MAX_OUTPUT_BYTES, [("ce_id", b"e")])
    assert _oversize([fine]) is None
    refused = _oversize([fine, huge])
    assert refused is not None and refused.stage == "core" and refused.exception == "RecordTooLarge"
    assert "partner.outbound" in refused.message and "ngo-x" not in refused.message
