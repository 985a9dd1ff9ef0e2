"""Offsets are committed only after delivery or dead-lettering: a dispatcher stopped mid-retry resumes at that event."""

from __future__ import annotations

from tests.connectors.events import triaged
from tests.connectors.webhooks.conftest import WebhookHub, running, until
from tests.connectors.webhooks.receiver import Answer, Request


async def test_an_event_still_being_retried_is_not_committed_and_is_delivered_after_a_restart(hub: WebhookHub, unique: str) -> None:
    hub.settings = hub.settings.model_copy(update={"webhook_max_attempts": 1000})  # never dead-lettered here
    stuck, other = triaged(f"CH-{unique}-f"), triaged(f"CH-{unique}-g")
    receiver_up = False

    def respond(request: Request, earlier: int) -> Answer:
        return (200, {}) if receiver_up or request.event_id == other.id else (503, {})

    hub.receiver.respond = respond
    hub.publish(stuck, other)

    async with running(hub.dispatcher()):
        await until(lambda: len(hub.receiver.of(stuck.id)) >= 3 and len(hub.receiver.of(other.id)) == 1,
                    what="retries of the stuck event, delivery of the other")
    # the other case (offset 1) was delivered, but the stuck event at offset 0 holds the commit point
    assert hub.committed() in (None, 0)
    first_try = hub.receiver.of(stuck.id)[0]
    tries_before = len(hub.receiver.of(stuck.id))

    receiver_up = True
    async with running(hub.dispatcher()):  # same consumer group: resumes at the stuck event
        await until(lambda: hub.committed() == 2, what="resumed, delivered and committed")

    retried = hub.receiver.of(stuck.id)
    assert len(retried) > tries_before
    assert retried[-1].headers["webhook-id"] == first_try.headers["webhook-id"]  # the receiver can drop repeats by id
    # the other event was already delivered; after the restart it may come again with the same webhook-id
    assert {r.headers["webhook-id"] for r in hub.receiver.of(other.id)} == {hub.receiver.of(other.id)[0].headers["webhook-id"]}
