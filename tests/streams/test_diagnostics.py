"""SIGUSR1 makes a running worker log what it waits for, and it keeps running."""

from __future__ import annotations

import json
import time
from pathlib import Path

from casehub.core import topics
from casehub.core.settings import Settings
from tests.streams.conftest import start_hub
from tests.streams.harness import publish, read_until, report, with_ids


def test_sigusr1_logs_offsets_gate_and_tasks_and_the_worker_goes_on(settings: Settings, workdir: Path) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir)
    try:
        first = [report() for _ in range(3)]
        publish(settings, hub.lao, first)
        read_until(settings, [topics.CASES_EVENTS], done=lambda rs: len(with_ids(rs, {e.id for e in first})) == 3,
                   timeout=60.0, since=started)

        hub.worker.diagnose()
        line = next(entry for entry in map(json.loads, _json_lines(hub.worker.log_text()))
                    if entry.get("event") == "worker diagnostics")
        inbound = line["partitions"][f"partner.{hub.lao}.inbound/0"]
        assert inbound["committed"] == 3  # the three events, committed
        assert set(line["gate"]) == {"active", "committing"}  # a commit may be running at that instant
        assert isinstance(line["gate"]["active"], int) and isinstance(line["gate"]["committing"], bool)
        assert any("Agent._execute_actor" in stack for stack in line["tasks"])

        later = [report()]
        publish(settings, hub.lao, later)
        records = read_until(settings, [topics.CASES_EVENTS], done=lambda rs: len(with_ids(rs, {later[0].id})) == 1,
                             timeout=60.0, since=started)
        assert len(with_ids(records, {later[0].id})) == 1
    finally:
        assert hub.worker.stop() == 0


def _json_lines(text: str) -> list[str]:
    return [line[line.index("{"):] for line in text.splitlines() if "{" in line and line.rstrip().endswith("}")]
