"""A worker group's internal topics: created before the group joins, and a table added later follows the group."""

from __future__ import annotations

import uuid
from pathlib import Path

from kafka.admin import NewTopic

from casehub.core.settings import Settings
from casehub.ops.topics import admin_client
from casehub.streams.app import assemble
from casehub.streams.runner import ensure_internal_topics
from tests.streams.conftest import write_registry


def partitions(settings: Settings, names: list[str]) -> dict[str, int]:
    with admin_client(settings) as client:
        return {t["name"]: len(t["partitions"]) for t in client.describe_topics(names)}


def test_a_new_groups_topics_get_the_configured_partitions_and_an_upgrade_keeps_the_groups(
    settings: Settings, tmp_path: Path
) -> None:
    path, _, _ = write_registry(tmp_path / "partners.yaml", "t" + uuid.uuid4().hex[:8])
    fresh = settings.model_copy(update={"worker_id": "casehub-w" + uuid.uuid4().hex[:10], "registry_path": path,
                                        "worker_data_dir": tmp_path / "data"})
    app, pipeline = assemble(fresh)
    ensure_internal_topics(fresh, app, pipeline)
    names = [f"{fresh.worker_id}-intake", f"{fresh.worker_id}-expiry-changelog", f"{fresh.worker_id}-seen-changelog"]
    assert set(partitions(fresh, names).values()) == {fresh.worker_partitions}

    # a group made by an older release with 6 partitions, before the expiry table existed
    older = fresh.model_copy(update={"worker_id": "casehub-w" + uuid.uuid4().hex[:10]})
    app, pipeline = assemble(older)
    with admin_client(older) as client:
        client.create_topics([NewTopic(f"{older.worker_id}-intake", 6, 1)])
    ensure_internal_topics(older, app, pipeline)
    names = [f"{older.worker_id}-intake", f"{older.worker_id}-expiry-changelog", f"{older.worker_id}-cases-changelog"]
    assert set(partitions(older, names).values()) == {6}


def test_a_worker_whose_partners_topics_are_missing_says_which_and_does_not_start(settings: Settings, tmp_path: Path) -> None:
    import subprocess

    from tests.streams.harness import CASEHUB, Worker, partner, registry_yaml

    org = "lao-" + uuid.uuid4().hex[:8]
    path = tmp_path / "partners.yaml"
    path.write_text(registry_yaml([partner(org, "lao", {"tambons": ["840502"]}, "full", ["*"])]))
    env = Worker(settings, tmp_path, path).env()
    done = subprocess.run([str(CASEHUB), "worker"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 2 topic(s) the pipeline reads or writes do not exist:")
    assert f"partner.{org}.inbound" in last and f"partner.{org}.outbound" in last and "casehub topics apply" in last
