"""The SDK Producer against the real test broker: what lands on partner.<org>.inbound, and what never does."""

from __future__ import annotations

import dataclasses

import pytest

from casehub.connectors.sdk import Producer, ProducerFailed
from casehub.core import topics
from casehub.core.errors import ConfigError
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import EventInvalid
from casehub.schemas.models import CaseReported, CaseTriaged
from tests.access_helpers import partner_credentials
from tests.connectors.events import example, triaged
from tests.kafka_helpers import consume, create_topics


def _headers(record: object) -> dict[str, bytes]:
    return dict(record.headers)  # type: ignore[attr-defined]


async def test_events_land_on_the_inbound_topic_as_binary_cloudevents(settings: Settings, unique: str) -> None:
    org = f"lao-{unique}"
    create_topics(settings, topics.inbound(org))
    report = example("case.reported")
    triage = triaged(f"CH-{unique}")

    hub_url = "https://casehub.example.go.th"  # CASEHUB_PUBLIC_URL: where the partner was told the hub is
    async with Producer(settings.model_copy(update={"public_url": hub_url}), org,
                        credentials=partner_credentials(settings, org)) as producer:
        first = await producer.send(report)
        second = await producer.send(triage.to_json())  # a plain dict is validated the same way

    assert (first.topic, first.event_id, first.case_id) == (topics.inbound(org), report.id, None)
    assert (second.event_id, second.case_id) == (triage.id, f"CH-{unique}")
    records = consume(settings, topics.inbound(org), expect=2)
    assert [r.offset for r in records] == [first.offset, second.offset]

    reported_record, triaged_record = records
    assert reported_record.key is None  # the hub assigns the case id of a new report
    assert triaged_record.key == f"CH-{unique}".encode()
    headers = _headers(triaged_record)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == triage.id.encode()
    assert headers["ce_source"] == f"/partners/{org}".encode()
    assert headers["ce_type"] == b"case.triaged"
    assert headers["ce_subject"] == f"CH-{unique}".encode()
    assert headers["ce_dataschema"] == b"https://casehub.example.go.th/v1/schemas/case.triaged/v2"
    assert headers["content-type"] == b"application/avro"
    assert "ce_subject" not in _headers(reported_record)

    back = decode(triaged_record.value, triaged_record.headers)
    assert isinstance(back.event, CaseTriaged) and back.event == triage
    assert back.source == f"/partners/{org}"
    assert isinstance(decode(reported_record.value, reported_record.headers).event, CaseReported)


async def test_invalid_events_raise_field_errors_and_write_nothing(settings: Settings, unique: str) -> None:
    org = f"ngo-{unique}"
    create_topics(settings, topics.inbound(org))
    good = example("case.reported")
    wrong_check_digit = example("case.reported")
    wrong_check_digit.subject.citizen_id = "1103700123457"
    no_basis = {k: v for k, v in example("case.triaged").to_json().items() if k != "lawful_basis"}

    async with Producer(settings, org, credentials=partner_credentials(settings, org)) as producer:
        with pytest.raises(EventInvalid) as batch:
            await producer.send_many([good, wrong_check_digit])
        with pytest.raises(EventInvalid) as missing:
            await producer.send(no_basis)
        with pytest.raises(EventInvalid) as hub_only:
            await producer.send(example("case.linked"))
        control = await producer.send(example("case.reported"))

    assert [e.field for e in batch.value.errors] == ["[1].subject.citizen_id"]
    assert "check digit" in batch.value.errors[0].message
    assert [e.field for e in missing.value.errors] == ["lawful_basis"]
    assert [e.field for e in hub_only.value.errors] == ["type"]
    # only the control event reached the topic: the valid event of the refused batch was not written either
    records = consume(settings, topics.inbound(org), expect=2, timeout=10, settle=1.0)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [control.event_id]


async def test_an_unreachable_cluster_is_a_producer_failure(settings: Settings) -> None:
    nowhere = dataclasses.replace(partner_credentials(settings, "lao-nowhere"), bootstrap="127.0.0.1:1")
    with pytest.raises(ProducerFailed):
        async with Producer(settings, "lao-nowhere", credentials=nowhere):
            pass


async def test_without_credentials_the_sdk_says_what_to_pass(settings: Settings) -> None:
    with pytest.raises(ConfigError) as missing:
        Producer(settings, "lao-nobody")
    assert "no Kafka credentials for lao-nobody" in str(missing.value)
    assert "partners credentials" in str(missing.value)
