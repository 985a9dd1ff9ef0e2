"""Incremental fetch sessions (KIP-227) fitted to aiokafka: what each request names, and a real consumer reading
every record once through them, across a seek and a session the broker forgot."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.protocol.fetch import FetchRequest_v4, FetchRequest_v11, FetchResponse_v11

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.streams.faust_compat import fetch_sessions
from casehub.streams.faust_compat.fetch_sessions import FetchSession, SessionFetchRequest
from tests.kafka_helpers import create_topics, produce


def _request(session: FetchSession, wanted: dict[tuple[str, int], tuple[int, int]]) -> SessionFetchRequest:
    return SessionFetchRequest(session, wanted, max_wait_ms=25, min_bytes=1, max_bytes=1 << 20,
                               isolation_level=1, rack_id="")


def _answer(session_id: int, error_code: int = 0) -> Any:
    return FetchResponse_v11(0, error_code, session_id, [])


def test_the_first_request_opens_a_session_and_later_ones_name_only_what_moved() -> None:
    session = FetchSession()
    wanted = {("a", 0): (10, 100), ("a", 1): (5, 100), ("b", 0): (0, 100)}
    first = _request(session, wanted)
    struct = first.build(FetchRequest_v11)
    assert (struct.session_id, struct.session_epoch) == (0, 0)  # open a session
    assert sorted((t, p[0]) for t, parts in struct.topics for p in parts) == [("a", 0), ("a", 1), ("b", 0)]
    session.answered(first, _answer(session_id=77))
    assert (session.session_id, session.epoch, session.full_requests) == (77, 1, 1)

    moved = {("a", 0): (12, 100), ("a", 1): (5, 100)}  # a-0 read on; b-0 has records waiting in the consumer
    second = _request(session, moved)
    struct = second.build(FetchRequest_v11)
    assert (struct.session_id, struct.session_epoch) == (77, 1)
    assert struct.topics == [("a", [(0, -1, 12, -1, 100)])]
    assert struct.forgotten_topics_data == [("b", [0])]
    # aiokafka checks the answer against every wanted partition, not only the ones on the wire
    assert second.topics == [("a", [(0, 12, 100), (1, 5, 100)])]
    session.answered(second, _answer(session_id=77))
    assert (session.epoch, session.incremental_requests, session.partitions) == (2, 1, moved)

    nothing_new = _request(session, dict(moved)).build(FetchRequest_v11)
    assert (nothing_new.session_epoch, nothing_new.topics, nothing_new.forgotten_topics_data) == (2, [], [])


def test_a_forgotten_session_or_a_lost_answer_starts_again_with_a_full_request() -> None:
    session = FetchSession()
    wanted = {("a", 0): (0, 100)}
    opening = _request(session, wanted)
    opening.build(FetchRequest_v11)
    session.answered(opening, _answer(session_id=5))
    stale = _request(session, wanted)
    stale.build(FetchRequest_v11)
    session.answered(stale, _answer(session_id=0, error_code=70))  # FETCH_SESSION_ID_NOT_FOUND
    assert (session.session_id, session.epoch, session.partitions) == (0, 0, {})
    assert _request(session, wanted).build(FetchRequest_v11).session_epoch == 0

    full_cache = _request(session, wanted)
    full_cache.build(FetchRequest_v11)
    session.answered(full_cache, _answer(session_id=0))  # the broker's session cache is full: stay sessionless
    assert session.session_id == 0 and _request(session, wanted).build(FetchRequest_v11).session_id == 0

    old_broker = _request(session, wanted)
    assert old_broker.build(FetchRequest_v4).topics == [("a", [(0, 0, 100)])]
    session.answered(old_broker, _answer(session_id=9))
    assert session.session_id == 0  # a version without sessions never leaves one behind


async def _read(consumer: AIOKafkaConsumer, expected: int, seen: list[tuple[str, int, int]],
                timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        for tp, records in (await consumer.getmany(timeout_ms=300)).items():
            seen.extend((tp.topic, tp.partition, r.offset) for r in records)


async def test_a_consumer_in_sessions_reads_every_record_once(settings: Settings, unique: str) -> None:
    names = [f"{unique}-fs-{i}" for i in range(40)]
    create_topics(settings, *names, partitions=2)
    await asyncio.sleep(1.0)
    consumer = AIOKafkaConsumer(**connection(settings, "admin").aiokafka(), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest",
                                fetch_max_wait_ms=100)
    sessions = fetch_sessions.install_on_start(consumer)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(t, p) for t in names for p in (0, 1)])
        seen: list[tuple[str, int, int]] = []
        expected = 0
        for round_ in range(3):  # each round moves a few partitions of the session; the rest stay unnamed
            for topic in names[round_::7]:
                produce(settings, topic, [(f"k{i}".encode(), f"{round_}-{i}".encode(), []) for i in range(5)])
                expected += 5
            await _read(consumer, expected, seen)
            assert len(seen) == expected and len(set(seen)) == expected
        counts = sessions.requests()
        assert counts["full"] >= 1 and counts["incremental"] > counts["full"]

        # a seek back is a moved offset the broker must be told: the partition is read again from there
        first = next(TopicPartition(t, p) for t, p, _ in seen)
        again = sum(1 for t, p, _ in seen if (t, p) == (first.topic, first.partition))
        consumer.seek(first, 0)
        reread: list[tuple[str, int, int]] = []
        await _read(consumer, again, reread)
        assert sorted(reread) == sorted(r for r in seen if (r[0], r[1]) == (first.topic, first.partition))

        # the broker forgets the session (a restart, its cache evicted it): the consumer opens a new one
        for session in sessions.by_node.values():
            session.session_id = 2_000_000_001  # never a session of this broker's
        produce(settings, names[-1], [(b"k", b"after", [])])
        late: list[tuple[str, int, int]] = []
        await _read(consumer, 1, late)
        assert [(t, o) for t, _, o in late] == [(names[-1], 0)]  # a topic no round wrote to (39 % 7 > 2)
        assert sessions.requests()["full"] > counts["full"]
    finally:
        await consumer.stop()


async def test_an_answer_naming_a_partition_not_asked_for_is_trimmed_and_the_session_renewed() -> None:
    session = FetchSession()
    wanted = {("a", 0): (3, 100)}
    request = _request(session, wanted)
    request.build(FetchRequest_v11)
    answer = FetchResponse_v11(0, 0, 44, [("a", [(0, 0, 9, 9, 0, [], -1, b"")]), ("z", [(0, 0, 1, 1, 0, [], -1, b"")])])

    class Client:
        async def send(self, node_id: int, request: Any) -> Any:
            return answer

    trimmed = await fetch_sessions.SessionClient(Client()).send(1, request)
    assert trimmed.topics == [("a", [(0, 0, 9, 9, 0, [], -1, b"")])]
    assert session.session_id == 0  # opened, then found out of step: the next request is a full one
