"""The SDK Consumer against the real test broker: typed events, committed only after the handler returns."""

from __future__ import annotations

import pytest

from casehub.connectors.sdk import Consumer, HandlerFailed, Received, UndecodableRecord
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.schemas.models import CaseClosed, CaseTriaged
from tests.access_helpers import partner_credentials
from tests.connectors.events import example, outbound, triaged
from tests.kafka_helpers import create_topics, produce

IDLE = 15.0  # every run stops once nothing arrived for this long


class Boom(Exception):
    """The handler's own failure."""


def _fill(settings: Settings, org: str, *records: object) -> None:
    create_topics(settings, topics.outbound(org))
    produce(settings, topics.outbound(org), [(r.key, r.value, r.headers) for r in records])  # type: ignore[attr-defined]


async def test_a_failing_handler_leaves_the_event_to_the_next_member_of_the_group(settings: Settings, unique: str) -> None:
    org = f"ngo-{unique}"
    case = f"CH-{unique}"
    events = [triaged(case), example("case.assigned", case_id=case), example("case.closed", case_id=case)]
    _fill(settings, org, *(outbound(e, disclosure="pseudonymised") for e in events))
    group = f"{org}.g-{unique}"

    seen: list[Received] = []

    async def fails_on_the_second(received: Received) -> None:
        if received.event.id == events[1].id:
            raise Boom("the case system is down")
        seen.append(received)

    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=group) as first:
        with pytest.raises(HandlerFailed) as failed:
            await first.run(fails_on_the_second, idle_timeout=IDLE)
    assert failed.value.event_id == events[1].id and failed.value.offset == 1
    assert isinstance(failed.value.__cause__, Boom)
    assert [r.event.id for r in seen] == [events[0].id]
    typed = seen[0]
    assert isinstance(typed.event, CaseTriaged) and typed.event == events[0]
    assert typed.disclosure == "pseudonymised"
    assert typed.source == "/partners/hotline-1300"
    assert typed.attributes["subject"] == case and typed.attributes["type"] == "case.triaged"

    # a new member of the same group starts at the event whose handler failed, not after it
    later: list[Received] = []
    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=group) as second:
        handled = await second.run(later.append, max_events=2, idle_timeout=IDLE)
    assert handled == 2
    assert [r.event.id for r in later] == [events[1].id, events[2].id]
    assert isinstance(later[1].event, CaseClosed)

    # everything is committed now: the group has nothing left
    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=group) as third:
        assert await third.run(later.append, idle_timeout=3.0) == 0


async def test_the_same_consumer_gets_the_failed_event_again_when_it_runs_again(settings: Settings, unique: str) -> None:
    org = f"lao-{unique}"
    events = [triaged(f"CH-{unique}-a"), triaged(f"CH-{unique}-b")]
    _fill(settings, org, *(outbound(e) for e in events))
    attempts: list[str] = []

    async def flaky(received: Received) -> None:
        attempts.append(received.event.id)
        if attempts.count(received.event.id) == 1:
            raise Boom("first try fails")

    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=f"{org}.g-{unique}") as consumer:
        with pytest.raises(HandlerFailed):
            await consumer.run(flaky, idle_timeout=IDLE)
        with pytest.raises(HandlerFailed):
            await consumer.run(flaky, idle_timeout=IDLE)
        assert await consumer.run(flaky, max_events=1, idle_timeout=IDLE) == 1
    assert attempts == [events[0].id, events[0].id, events[1].id, events[1].id]


async def test_an_undecodable_record_stops_the_consumer_unless_told_to_skip(settings: Settings, unique: str) -> None:
    org = f"lao-{unique}"
    good = outbound(triaged(f"CH-{unique}"))
    _fill(settings, org, good)
    produce(settings, topics.outbound(org), [(b"CH-x", b"not avro", [("content-type", b"application/avro")]), (good.key, good.value, good.headers)])
    seen: list[Received] = []

    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=f"{org}.g-{unique}") as strict:
        with pytest.raises(UndecodableRecord) as bad:
            await strict.run(seen.append, idle_timeout=IDLE)
    assert bad.value.offset == 1 and len(seen) == 1

    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=f"{org}.g-{unique}", skip_undecodable=True) as lenient:
        assert await lenient.run(seen.append, max_events=2, idle_timeout=IDLE) == 2
    assert [r.offset for r in seen] == [0, 2]


async def test_events_of_an_aborted_hub_transaction_never_reach_the_handler(settings: Settings, unique: str) -> None:
    from kafka import KafkaProducer

    org = f"lao-{unique}"
    create_topics(settings, topics.outbound(org))
    aborted, committed = outbound(triaged(f"CH-{unique}-x")), outbound(triaged(f"CH-{unique}-y"))
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), transactional_id=f"tx-{unique}")
    try:
        producer.init_transactions()
        for record, commit in ((aborted, False), (committed, True)):
            producer.begin_transaction()
            producer.send(topics.outbound(org), key=record.key, value=record.value, headers=record.headers)
            producer.flush()
            producer.commit_transaction() if commit else producer.abort_transaction()
    finally:
        producer.close()

    seen: list[Received] = []
    async with Consumer(settings, org, credentials=partner_credentials(settings, org), group_id=f"{org}.g-{unique}") as consumer:
        await consumer.run(seen.append, max_events=1, idle_timeout=IDLE)
        assert await consumer.run(seen.append, idle_timeout=2.0) == 0
    assert [r.event.case_id for r in seen] == [f"CH-{unique}-y"]
