"""A record the cluster will not take (its topic deleted while the worker runs) is dead-lettered, not a crash."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.streams.dlq import read_error
from tests.streams.conftest import start_hub
from tests.streams.harness import TAMBON, publish, read_until, report, with_ids

WAIT = 90.0


def _ids(records: list[Any]) -> Counter[str]:
    return Counter((dict(r.headers).get("ce_id") or b"").decode() for r in records)


def _delete_topic(settings: Settings, topic: str) -> None:
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    try:
        admin.delete_topics([topic])
        deadline = time.monotonic() + 30
        while topic in admin.list_topics() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert topic not in admin.list_topics()
    finally:
        admin.close()


def _limit_message_bytes(settings: Settings, topic: str, limit: int) -> None:
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": str(limit)})])
    finally:
        admin.close()
    time.sleep(2.0)  # the broker applies a topic config a moment after the controller accepts it


def _dead_letters(settings: Settings, ids: set[str], since: float) -> list[Any]:
    letters = read_until(settings, [topics.HUB_DLQ], since=since, timeout=WAIT, settle=2.0,
                         done=lambda rs: len(with_ids(rs, ids)) >= len(ids))
    got = with_ids(letters, ids)
    assert _ids(got) == Counter(dict.fromkeys(ids, 1))  # one dead letter per record, each once
    return got


def _everyone_else_gets_each_once(settings: Settings, topics_: list[str], ids: set[str], since: float) -> None:
    outputs = read_until(settings, topics_, since=since, timeout=WAIT, settle=2.0,
                         done=lambda rs: len(with_ids(rs, ids)) >= len(ids) * len(topics_))
    for topic in topics_:
        assert _ids(with_ids([r for r in outputs if r.topic == topic], ids)) == Counter(dict.fromkeys(ids, 1)), topic


def test_an_output_topic_deleted_while_the_worker_runs_dead_letters_its_records(settings: Settings,
                                                                                 workdir: Path) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir)
    lao_outbound = topics.outbound(hub.lao)
    delivered = [topics.outbound("pso-84"), topics.outbound(f"tc-{TAMBON}")]
    try:
        before = [report() for _ in range(3)]
        publish(settings, hub.lao, before)
        ids = {e.id for e in before}
        found = read_until(settings, [lao_outbound], since=started, timeout=WAIT,
                           done=lambda rs: len(with_ids(rs, ids)) >= len(ids))
        assert set(_ids(with_ids(found, ids))) == ids  # the worker's producers know the topic now

        _delete_topic(settings, lao_outbound)
        after = [report() for _ in range(5)]
        publish(settings, hub.lao, after)
        ids = {e.id for e in after}

        for letter in _dead_letters(settings, ids, started):
            error = read_error(letter.headers)
            assert error["topic"] == lao_outbound and error["stage"] == "deliver"
            assert lao_outbound in error["reason"] and error["exception"] == "UnknownTopicOrPartitionError"
            assert letter.value  # the record itself, for a re-drive once the topic is back

        # everyone else still gets every event, exactly once, and the worker runs on
        _everyone_else_gets_each_once(settings, delivered, ids, started)
        assert hub.worker.process is not None and hub.worker.process.poll() is None, hub.worker.log_text()[-3000:]
        assert "worker stopped after a failure" not in hub.worker.log_text()
    finally:
        assert hub.worker.stop() == 0, hub.worker.log_text()[-3000:]


def test_a_record_the_broker_refuses_for_good_is_dead_lettered_and_the_next_ones_flow(settings: Settings,
                                                                                      workdir: Path) -> None:
    """MESSAGE_TOO_LARGE is not retriable: aiokafka fails the record and would commit its transaction without it."""
    started = time.time() - 5
    hub = start_hub(settings, workdir)
    lao_outbound = topics.outbound(hub.lao)
    delivered = [topics.outbound("pso-84"), topics.outbound(f"tc-{TAMBON}")]
    try:
        _limit_message_bytes(settings, lao_outbound, 200)  # an operator's mistake: smaller than any case record
        refused = [report() for _ in range(3)]
        publish(settings, hub.lao, refused)
        ids = {e.id for e in refused}
        for letter in _dead_letters(settings, ids, started):
            error = read_error(letter.headers)
            assert error["topic"] == lao_outbound and error["stage"] == "deliver"
            assert error["exception"] in ("MessageSizeTooLargeError", "RecordTooLargeError"), error
        _everyone_else_gets_each_once(settings, delivered, ids, started)

        # the limit fixed, the same worker delivers again (its producer's sequence numbers were renewed)
        _limit_message_bytes(settings, lao_outbound, 1_048_588)
        after = [report() for _ in range(3)]
        publish(settings, hub.lao, after)
        ids = {e.id for e in after}
        _everyone_else_gets_each_once(settings, [lao_outbound, *delivered], ids, started)
        assert hub.worker.process is not None and hub.worker.process.poll() is None, hub.worker.log_text()[-3000:]
    finally:
        assert hub.worker.stop() == 0, hub.worker.log_text()[-3000:]
