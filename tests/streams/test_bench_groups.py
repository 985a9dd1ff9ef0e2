"""The pipeline bench refuses to measure while another worker group reads the partners' topics (real broker)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer

from bench.bench_worker import other_worker_groups
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings

WAIT = 60.0


def test_a_group_reading_a_partner_topic_is_named_and_the_bench_group_itself_is_not(settings: Settings,
                                                                                     unique: str) -> None:
    """Two groups on the same partner topics both write cases.events, each with its own case ids: the bench's driver
    would follow the other group's ids and the measured group dead-letter the follow-ups as unknown cases."""
    group = f"other-hub-{unique}"
    consumer = KafkaConsumer(topics.inbound("pso-84"), **connection(settings, "admin").kafka_python(), group_id=group,
                             enable_auto_commit=False)
    try:
        deadline = time.monotonic() + WAIT
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=500)
        assert consumer.assignment(), "the consumer never joined its group"
        assert group in other_worker_groups(settings, own=f"bench-{unique}")
        assert group not in other_worker_groups(settings, own=group)
    finally:
        consumer.close()
    deadline = time.monotonic() + WAIT
    while group in other_worker_groups(settings, own=f"bench-{unique}") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert group not in other_worker_groups(settings, own=f"bench-{unique}")  # left: the bench may run again
