"""The intake hop keys records without decoding them; a record it keyed wrongly still reaches its case."""

from __future__ import annotations

from kafka import KafkaProducer
from kafka.partitioner.default import murmur2

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.schemas.codec import encode_binary
from casehub.streams.keys import CASE_ID, partition_key, shard_of_case
from tests.connectors.events import SCHEMA_BASE
from tests.streams.conftest import Hub
from tests.streams.harness import TAMBON, follow_up, header, publish, read_until, report, with_ids

WAIT = 60.0


def intake_partition(shard: str, partitions: int) -> int:
    """The intake partition a shard's records land in (the producers' default partitioner)."""
    return (murmur2(partition_key(shard)) & 0x7FFFFFFF) % partitions


def test_a_follow_up_whose_ce_subject_names_another_case_is_still_processed_with_its_own_case(hub: Hub) -> None:
    opened = report(category="elderly")
    publish(hub.settings, hub.lao, [opened])
    found = read_until(hub.settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {opened.id})),
                       timeout=WAIT)
    case_id = with_ids(found, {opened.id})[0].key.decode()
    shard = shard_of_case(case_id)
    assert CASE_ID.match(case_id) and shard is not None
    partitions = hub.settings.worker_partitions
    # a ce_subject whose shard lands in another intake partition: intake keys the record by it, wrongly
    other = next(f"{n:02X}" for n in range(256)
                 if intake_partition(f"{n:02X}", partitions) != intake_partition(shard, partitions))
    misleading = f"{case_id[:14]}{other}{case_id[16:]}"
    assert shard_of_case(misleading) == other
    assigned = follow_up("case.assigned", case_id=case_id, to_unit=f"tc-{TAMBON}")
    wire = encode_binary(assigned, source="/partners/pso-84", schema_base=SCHEMA_BASE)
    headers = [(name, misleading.encode() if name == "ce_subject" else value) for name, value in wire.headers]
    producer = KafkaProducer(**connection(hub.settings, "admin").kafka_python(), acks="all")
    try:
        producer.send(topics.inbound("pso-84"), key=b"pso-key", value=wire.value, headers=headers).get(30)
    finally:
        producer.close(timeout=10)

    delivered = read_until(hub.settings, [topics.outbound(f"tc-{TAMBON}")],
                           done=lambda rs: bool(with_ids(rs, {assigned.id})), timeout=WAIT)
    (record,) = with_ids(delivered, {assigned.id})
    assert record.key == case_id.encode() and header(record, "ce_subject") == case_id.encode()
