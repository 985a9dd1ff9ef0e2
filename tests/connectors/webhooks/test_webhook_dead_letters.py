"""Failures: retries back off, a receiver's Retry-After is honoured, then dead letters with context; every attempt audited."""

from __future__ import annotations

from casehub.core import topics
from casehub.streams.dlq import read_error
from tests.connectors.events import example, triaged
from tests.connectors.webhooks.conftest import Tail, WebhookHub, audit_of, running, until
from tests.connectors.webhooks.receiver import Answer, Request


async def test_failures_are_retried_then_dead_lettered_with_context_and_each_attempt_is_audited(hub: WebhookHub, unique: str) -> None:
    failing, rejected, limited = f"CH-{unique}-c", f"CH-{unique}-d", f"CH-{unique}-e"
    c1, c2 = triaged(failing), example("case.closed", case_id=failing)
    d1 = triaged(rejected)
    e1 = triaged(limited)
    audit, dlq = Tail(hub.settings, topics.HUB_AUDIT), Tail(hub.settings, topics.HUB_DLQ)

    def respond(request: Request, earlier: int) -> Answer:
        if request.event_id == c1.id:
            return 500, {}
        if request.event_id == d1.id:
            return 404, {}
        if request.event_id == e1.id and earlier == 0:
            return 429, {"retry-after": "1"}
        return 200, {}

    hub.receiver.respond = respond
    wires = hub.publish(c1, d1, c2, e1)

    async with running(hub.dispatcher()):
        await until(lambda: len(hub.receiver.of(c2.id)) == 1 and len(hub.receiver.of(e1.id)) == 2, what="c2 and e1 delivered")
        await until(lambda: hub.committed() == 4, what="every offset committed")

    # 500 three times (the limit), then the case moves on; 404 once; 429 then success
    assert len(hub.receiver.of(c1.id)) == 3 and len(hub.receiver.of(d1.id)) == 1
    arrived = hub.receiver.event_ids()
    assert arrived.index(c2.id) > max(i for i, e in enumerate(arrived) if e == c1.id)

    found = dlq.read(lambda r: r.key in {failing.encode(), rejected.encode(), limited.encode()}, expect=2)
    letters = sorted(found, key=lambda r: r.key)  # two cases: dead-lettered concurrently, in either order
    assert [r.key for r in letters] == [failing.encode(), rejected.encode()]
    for letter, wire, offset in ((letters[0], wires[0], 0), (letters[1], wires[1], 1)):
        assert letter.value == wire.value  # the record unchanged...
        assert list(letter.headers)[: len(wire.headers)] == wire.headers  # ...with its own headers first
        error = read_error(letter.headers)
        assert (error["stage"], error["topic"], error["partition"], error["offset"]) == ("webhook", hub.topic, "0", str(offset))
    exhausted, refused = (read_error(letter.headers) for letter in letters)
    assert (exhausted["exception"], exhausted["attempts"]) == ("WebhookRetriesExhausted", "3")
    assert "HTTP 500" in exhausted["reason"] and hub.receiver.url in exhausted["reason"]
    assert (refused["exception"], refused["attempts"]) == ("WebhookRejected", "1")
    assert "HTTP 404" in refused["reason"]

    entries = audit_of(audit.read(lambda r: r.key in {failing.encode(), rejected.encode(), limited.encode()}, expect=7))
    assert len(entries) == 7  # c1 three times, d1 once, c2 once, e1 twice
    c1_log = [e for e in entries if e["event_id"] == c1.id]
    assert [(e["webhook"]["attempt"], e["webhook"]["status"], e["decision"]) for e in c1_log] == [
        (1, 500, "webhook_retry"), (2, 500, "webhook_retry"), (3, 500, "webhook_failed")]
    cap_ms = hub.settings.webhook_backoff_max_seconds * 1000
    assert all(0 <= e["webhook"]["retry_in_ms"] <= cap_ms for e in c1_log[:2]) and c1_log[2]["webhook"]["retry_in_ms"] is None
    assert [(e["webhook"]["attempt"], e["webhook"]["status"], e["decision"]) for e in entries if e["event_id"] == d1.id] == [
        (1, 404, "webhook_failed")]
    e1_log = [e for e in entries if e["event_id"] == e1.id]
    assert [(e["webhook"]["attempt"], e["webhook"]["status"]) for e in e1_log] == [(1, 429), (2, 200)]
    # the receiver asked for 1 s: that floor wins over the (0.2 s) backoff cap of these settings... up to the cap
    assert e1_log[0]["webhook"]["retry_after_s"] == 1.0
    assert e1_log[0]["webhook"]["retry_in_ms"] == cap_ms
    assert [e["decision"] for e in entries if e["event_id"] == c2.id] == ["webhook_delivered"]
