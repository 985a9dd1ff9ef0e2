"""Per-case order: a case's next event waits for the previous one's delivery; other cases are not held up."""

from __future__ import annotations

import threading

from casehub.core import topics
from tests.connectors.events import example, triaged
from tests.connectors.webhooks.conftest import Tail, WebhookHub, audit_of, running, until
from tests.connectors.webhooks.receiver import Answer, Request

HOLD_LIMIT = 30.0


async def test_a_retried_event_keeps_its_case_in_order_while_other_cases_proceed(hub: WebhookHub, unique: str) -> None:
    case_a, case_b = f"CH-{unique}-a", f"CH-{unique}-b"
    a1, a2, a3 = triaged(case_a), example("case.assigned", case_id=case_a), example("case.closed", case_id=case_a)
    b1, b2 = triaged(case_b), example("case.closed", case_id=case_b)
    audit = Tail(hub.settings, topics.HUB_AUDIT)
    b_done = threading.Event()
    held: dict[str, bool] = {}

    def respond(request: Request, earlier: int) -> Answer:
        if request.event_id == b2.id:
            b_done.set()
        if request.event_id == a1.id and earlier == 0:
            # hold case A's first event until case B is through: B must not wait behind A
            held["b_arrived_meanwhile"] = b_done.wait(HOLD_LIMIT)
            return 503, {"retry-after": "0"}
        return 200, {}

    hub.receiver.respond = respond
    hub.publish(a1, b1, a2, b2, a3)  # one partition, cases interleaved

    async with running(hub.dispatcher()):
        await until(lambda: len(hub.receiver.requests) >= 6, what="six requests")
        await until(lambda: hub.committed() == 5, what="every offset committed")

    assert held == {"b_arrived_meanwhile": True}
    arrived = hub.receiver.event_ids()
    assert len(arrived) == 6
    assert [e for e in arrived if e in {a1.id, a2.id, a3.id}] == [a1.id, a1.id, a2.id, a3.id]
    assert [e for e in arrived if e in {b1.id, b2.id}] == [b1.id, b2.id]
    assert arrived.index(b2.id) < arrived.index(a2.id)  # B finished while A's first event was still failing
    first, second = hub.receiver.of(a1.id)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # one message, two attempts

    entries = audit_of(audit.read(lambda r: r.key in {case_a.encode(), case_b.encode()}, expect=6))
    a1_attempts = [(e["webhook"]["attempt"], e["webhook"]["status"], e["decision"]) for e in entries if e["event_id"] == a1.id]
    assert a1_attempts == [(1, 503, "webhook_retry"), (2, 200, "webhook_delivered")]
    assert [e["event_id"] for e in entries if e["case_id"] == case_a and e["decision"] == "webhook_delivered"] == [a1.id, a2.id, a3.id]
    assert len(entries) == 6


async def test_no_more_events_are_outstanding_than_the_in_flight_bound(hub: WebhookHub, unique: str) -> None:
    hub.settings = hub.settings.model_copy(update={"webhook_max_in_flight": 2})
    events = [triaged(f"CH-{unique}-{n}") for n in range(8)]  # eight cases: without a bound all would be sent at once
    lock, open_now, most = threading.Lock(), [0], [0]
    release = threading.Event()

    def respond(request: Request, earlier: int) -> Answer:
        with lock:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
        release.wait(0.2)  # hold each request a little, so concurrent ones would overlap
        with lock:
            open_now[0] -= 1
        return 200, {}

    hub.receiver.respond = respond
    hub.publish(*events)
    async with running(hub.dispatcher()):
        await until(lambda: hub.committed() == len(events), what="every event delivered and committed")

    assert sorted(hub.receiver.event_ids()) == sorted(e.id for e in events)
    assert 1 <= most[0] <= 2  # (concurrency itself is shown by the ordering test above)
