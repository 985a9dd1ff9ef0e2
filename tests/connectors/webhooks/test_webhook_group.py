"""Two dispatchers in one group share the partitions; a rebalance mid-retry loses nothing and keeps each case in order."""

from __future__ import annotations

import threading
from pathlib import Path

from casehub.core.settings import Settings
from tests.connectors.events import example, triaged
from tests.connectors.webhooks.conftest import make_hub, running, until
from tests.connectors.webhooks.receiver import Answer, Receiver, Request

CASES = 12
PARTITIONS = 3


async def test_a_second_member_takes_partitions_mid_retry_and_every_case_arrives_in_order(
    settings: Settings, unique: str, tmp_path: Path, receiver: Receiver
) -> None:
    hub = make_hub(settings, unique, tmp_path, receiver, partitions=PARTITIONS)
    hub.settings = hub.settings.model_copy(update={"webhook_max_attempts": 1000, "webhook_max_in_flight": 4})
    cases = {
        f"CH-{unique}-{n:02d}": [
            triaged(f"CH-{unique}-{n:02d}"),
            example("case.assigned", case_id=f"CH-{unique}-{n:02d}"),
            example("case.closed", case_id=f"CH-{unique}-{n:02d}"),
        ]
        for n in range(CASES)
    }
    gate = threading.Event()  # the receiver fails everything until both members are at work

    def respond(request: Request, earlier: int) -> Answer:
        return (200, {}) if gate.is_set() else (503, {})

    receiver.respond = respond
    for step in range(3):
        hub.publish(*(events[step] for events in cases.values()))
    total = CASES * 3

    async with running(hub.dispatcher()) as first:
        await until(lambda: len(receiver.requests) >= 8, what="first member retrying")
        async with running(hub.dispatcher()) as second:
            await until(lambda: bool(first.assigned()) and bool(second.assigned())
                        and len(first.assigned()) + len(second.assigned()) == PARTITIONS, what="partitions shared")
            gate.set()
            await until(lambda: len(set(receiver.delivered())) == total, what="every event delivered")
            await until(lambda: sum(hub.committed_offsets().values()) == total, what="every offset committed")

    delivered = receiver.delivered()
    for case, events in cases.items():
        ids = [e.id for e in events]
        firsts = list(dict.fromkeys(e for e in delivered if e in ids))
        assert firsts == ids, f"{case} out of order: {firsts}"
