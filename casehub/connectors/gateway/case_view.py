"""GET /v1/cases/{id}: an in-memory view of the compacted ``cases.state`` topic, and a case as a partner sees it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from casehub.connectors.gateway.exceptions import ViewNotReady
from casehub.connectors.gateway.models import CaseLocation, CaseView
from casehub.core import geography, topics
from casehub.core.errors import HubError
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.registry import Partner
from casehub.streams.project import project_case_view
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState

log = get_logger(__name__, topic=topics.CASES_STATE)
RETRY_SECONDS = 2.0
PartitionLookup = Callable[[str], Awaitable[set[int]]]


class CasesView:
    """Reads ``cases.state`` from the beginning, then follows it; ``ready`` once it reached the end it saw at start."""

    def __init__(self, settings: Settings, partitions_of: PartitionLookup, topic: str = topics.CASES_STATE) -> None:
        self.settings = settings
        self.partitions_of = partitions_of
        self.topic = topic
        self.cases: dict[str, CaseState] = {}
        self.ready = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start following the topic in the background (a missing topic or cluster is retried, not fatal)."""
        self._task = asyncio.create_task(self._follow(), name="casehub-gateway-cases-view")

    async def stop(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def get(self, case_id: str) -> CaseState | None:
        """The case's state, or None if the hub has no such case; ViewNotReady while still catching up."""
        if not self.ready:
            raise ViewNotReady("the gateway is still reading cases.state", hint="retry in a few seconds")
        return self.cases.get(case_id)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of the compacted topic: a state, or a tombstone that removes the case."""
        if key is None:
            return
        case_id = key.decode("utf-8", errors="replace")
        if value is None:
            self.cases.pop(case_id, None)
            return
        try:
            self.cases[case_id] = CaseState.from_bytes(value)
        except (ValueError, TypeError) as exc:
            log.warning("unreadable case state", case_id=case_id, error=str(exc))

    async def _follow(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                **connection(self.settings, "gateway").aiokafka(),
                client_id="casehub-gateway-cases-view",
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                await self._read(consumer)
            except (KafkaError, OSError, HubError) as exc:
                log.warning("cases.state view interrupted; retrying", error=str(exc))
            finally:
                await consumer.stop()
            await asyncio.sleep(RETRY_SECONDS)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await self.partitions_of(self.topic)
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    self.apply(record.key, record.value)
            if not self.ready and await self._caught_up(consumer, ends):
                self.ready = True
                log.info("cases.state view ready", cases=len(self.cases))

    @staticmethod
    async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
        for partition, end in ends.items():
            if await consumer.position(partition) < end:
                return False
        return True


def _location(tambon_code: str | None) -> dict[str, Any]:
    place = geography.tambon(tambon_code) if tambon_code else None
    if place is None:
        return {"tambon_code": tambon_code}
    return {name: getattr(place, name) for name in CaseLocation.model_fields}


def case_view(case: CaseState, partner: Partner, pseudonyms: Pseudonyms) -> CaseView:
    """The case as ``partner`` may see it: projected by the pipeline's own projection (``project_case_view``)."""
    data: dict[str, Any] = {
        "case_id": case.case_id,
        "disclosure": partner.disclosure.value,
        "status": case.status,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "last_event_type": case.last_event_type,
        "events": case.events,
        "issue_category": case.issue_category,
        "target_group": case.target_group,
        "location": _location(case.tambon_code),
        "subject_token": case.subject_token,
        "risk_level": case.risk_level,
        "owner": case.owner,
        "assigned": case.assigned,
        "assign_by": case.assign_by,
        "provincial_office": case.provincial_office,
        "escalated_at": case.escalated_at,
        "linked_reports": case.linked_reports,
        "disclosure_consents": list(case.disclosure_consents),
    }
    data, withheld = project_case_view(data, recipient=partner.id, level=partner.disclosure.value, pseudonyms=pseudonyms)
    return CaseView.model_validate({**data, "withheld": withheld})
