"""Rebalances never crash a worker: a second worker joining and leaving the group, against the real broker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams import faust_compat
from casehub.streams.exceptions import FaustIncompatible
from tests.streams.conftest import start_hub
from tests.streams.harness import Worker, publish, read_until, report, with_ids

WAIT = 90.0


def _delivered(settings: Settings, lao: str, count: int, started: float) -> set[str]:
    events = [report(category="elderly") for _ in range(count)]
    publish(settings, lao, events)
    ids = {e.id for e in events}
    found = read_until(settings, [topics.outbound("pso-84")], done=lambda rs: len(with_ids(rs, ids)) >= count,
                       timeout=WAIT, since=started)
    return {(dict(r.headers).get("ce_id") or b"").decode() for r in with_ids(found, ids)}


def test_a_worker_joining_and_leaving_the_group_crashes_nobody(settings: Settings, workdir: Path) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir)
    second = Worker(settings, workdir / "second", hub.worker.registry_path, worker_id=hub.worker.worker_id)
    (workdir / "second").mkdir(parents=True, exist_ok=True)
    try:
        assert len(_delivered(settings, hub.lao, 5, started)) == 5
        second.start(wait_ready=WAIT)  # the group rebalances; the first worker recovers its tables again
        assert len(_delivered(settings, hub.lao, 10, started)) == 10
        assert second.stop() == 0  # and back
        assert len(_delivered(settings, hub.lao, 5, started)) == 5
        assert hub.worker.process is not None and hub.worker.process.poll() is None
        for worker in (hub.worker, second):
            assert "ConsistencyError" not in worker.log_text()
            assert "worker stopped after a failure" not in worker.log_text()
    finally:
        second.stop()
        assert hub.worker.stop() == 0


def test_a_faust_without_the_private_names_casehub_uses_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert faust_compat.missing_names() == []
    monkeypatch.setattr(faust_compat, "REQUIRED", (*faust_compat.REQUIRED,
                                                   ("faust.transport.consumer:Consumer", "_gone_in_a_later_faust")))
    with pytest.raises(FaustIncompatible) as refused:
        faust_compat.self_check()
    assert "faust.transport.consumer:Consumer._gone_in_a_later_faust" in str(refused.value)
    assert "pins" in str(refused.value)


async def test_highwaters_under_exactly_once_come_from_list_offsets_never_from_an_unfetched_partition() -> None:
    """faust read ``last_stable_offset`` (None before a partition's first fetch, so -1 and a ConsistencyError)."""

    class Unfetched:
        def last_stable_offset(self, tp: object) -> None:
            return None  # what aiokafka answers right after an assignment

        async def end_offsets(self, partitions: list[object]) -> dict[object, int]:
            return dict.fromkeys(partitions, 42)  # ListOffsets under read_committed: the last stable offset

    thread = faust_compat.ReadCommittedConsumerThread.__new__(faust_compat.ReadCommittedConsumerThread)
    thread._consumer = Unfetched()
    assert await thread._highwaters(["changelog-0", "changelog-1"]) == {"changelog-0": 42, "changelog-1": 42}


def test_a_worker_restarted_within_the_session_timeout_moves_no_partitions(settings: Settings, workdir: Path) -> None:
    """Static membership (group.instance.id) by default: the other worker sees no rebalance; tables have standbys."""
    started = time.time() - 5
    env = {"CASEHUB_WORKER_SESSION_TIMEOUT": "30", "CASEHUB_WORKER_GROUP_SIZE": "2"}
    hub = start_hub(settings, workdir, env)
    second = Worker(settings, workdir / "second", hub.worker.registry_path, worker_id=hub.worker.worker_id,
                    env_extra=env)
    (workdir / "second").mkdir(parents=True, exist_ok=True)
    try:
        second.start(wait_ready=WAIT)
        assert len(_delivered(settings, hub.lao, 5, started)) == 5
        first_ready = hub.worker.log_text().count("worker ready")
        second.kill()  # no LeaveGroup (nor would a static member send one on a clean stop)
        second.start(wait_ready=WAIT)
        assert len(_delivered(settings, hub.lao, 5, started)) == 5
        assert hub.worker.log_text().count("worker ready") == first_ready  # no rebalance reached it
        assert hub.worker.process is not None and hub.worker.process.poll() is None
        for worker in (hub.worker, second):  # each holds its partitions and a standby of the other's
            held = {p.name for p in (worker.workdir / "data").rglob("cases-*.db")}
            assert held == {"cases-0.db", "cases-1.db"}, held
    finally:
        second.stop()
        assert hub.worker.stop() == 0
