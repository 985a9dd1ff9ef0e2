"""Webhook delivery end to end: outbound events on the real broker are POSTed to a real receiver, signed and audited."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from casehub.core import topics
from casehub.schemas.codec import decode
from casehub.schemas.dataschema import json_schema_url
from tests.connectors.events import example, triaged
from tests.connectors.webhooks.conftest import Tail, WebhookHub, audit_of, running, until


async def test_events_arrive_signed_as_structured_cloudevents_and_every_attempt_is_audited(hub: WebhookHub, unique: str) -> None:
    audit = Tail(hub.settings, topics.HUB_AUDIT)
    first, second = triaged(f"CH-{unique}-x"), example("case.closed", case_id=f"CH-{unique}-y")
    hub.publish(first, second)

    async with running(hub.dispatcher()):
        await until(lambda: len(hub.receiver.requests) >= 2, what="two deliveries")
        await until(lambda: hub.committed() == 2, what="offsets committed")

    requests = {r.event_id: r for r in hub.receiver.requests}
    assert sorted(requests) == sorted([first.id, second.id]) and len(hub.receiver.requests) == 2
    for event in (first, second):
        request = requests[event.id]
        assert request.path == "/hooks/casehub"
        assert request.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
        # the independent Standard Webhooks implementation accepts the signature...
        document = Webhook(hub.secret).verify(request.body, request.headers)
        assert document["id"] == event.id and document["type"] == event.type
        assert document["subject"] == event.case_id
        assert document["source"] == "/partners/hotline-1300"
        assert document["casehubdisclosure"] == "pseudonymised"
        # the JSON body names the JSON Schema of its data (the outbound record's ce_dataschema names the Avro one)
        assert document["dataschema"] == json_schema_url(hub.settings.public_base_url(), event.type)
        assert request.headers["webhook-id"].startswith("msg_")
        # ...and the body is a structured CloudEvent the contract reads back into the same event
        back = decode(request.body, [("content-type", b"application/cloudevents+json")])
        assert back.event == event
    # ...while another secret, or a tampered body, does not verify
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(requests[first.id].body, requests[first.id].headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hub.secret).verify(requests[first.id].body.replace(b"case.triaged", b"case.closed"), requests[first.id].headers)

    records = audit.read(lambda r: r.key in {f"CH-{unique}-x".encode(), f"CH-{unique}-y".encode()}, expect=2)
    entries = {e["event_id"]: e for e in audit_of(records)}
    assert len(records) == 2
    for event in (first, second):
        entry = entries[event.id]
        assert entry["decision"] == "webhook_delivered"
        assert (entry["recipient"], entry["case_id"], entry["disclosure"]) == (hub.org, event.case_id, "pseudonymised")
        assert entry["topic"] == hub.topic
        attempt = entry["webhook"]
        assert (attempt["attempt"], attempt["status"], attempt["error"]) == (1, 200, None)
        assert attempt["latency_ms"] >= 0 and attempt["retry_in_ms"] is None
        assert attempt["webhook_id"] == requests[event.id].headers["webhook-id"]
        assert attempt["url"] == hub.receiver.url
    assert hub.secret not in "".join(r.value.decode() for r in records)
