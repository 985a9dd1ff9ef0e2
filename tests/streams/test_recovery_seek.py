"""Table recovery's seek: a start faust computes as negative or None reads the changelog from its beginning."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from casehub.streams.faust_compat.consumer import ReadCommittedConsumerThread


def test_recovery_never_seeks_before_the_start_of_a_changelog(monkeypatch: pytest.MonkeyPatch) -> None:
    sought: list[Mapping[TP, int]] = []

    async def recorded(self: object, partitions: Mapping[TP, int]) -> None:
        sought.append(dict(partitions))

    monkeypatch.setattr(faust_aiokafka.AIOKafkaConsumerThread, "seek_wait", recorded)
    thread = object.__new__(ReadCommittedConsumerThread)  # only seek_wait is exercised: no consumer, no broker
    cases, seen, expiry = TP("w-cases-changelog", 0), TP("w-seen-changelog", 3), TP("w-expiry-changelog", 1)

    asyncio.run(thread.seek_wait({cases: -5, seen: None, expiry: 41}))  # type: ignore[dict-item]

    assert sought == [{cases: 0, seen: 0, expiry: 41}]
