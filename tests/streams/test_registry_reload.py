"""A running worker follows its registry file: a new partner is read from and delivered to without an operator restart."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import parse_registry
from tests.streams.conftest import start_hub
from tests.streams.harness import TAMBON, partner, publish, read_until, registry_yaml, report, with_ids


def test_a_changed_registry_restarts_the_worker_onto_it_and_a_broken_one_is_refused(
    settings: Settings, workdir: Path
) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir, env_extra={"CASEHUB_REGISTRY_REFRESH_SECONDS": "1"})
    worker = hub.worker
    try:
        original = worker.registry_path.read_text()

        worker.registry_path.write_text(original.replace('"disclosure": "full"', '"disclosure": "everything"', 1))
        worker.wait_for_log("registry change refused", timeout=30.0)
        assert "registry changed" not in worker.log_text()
        assert worker.process is not None and worker.process.poll() is None  # the running registry stays

        newcomer = f"{hub.lao}-b"
        entries = json.loads(original)["partners"]
        entries.append(partner(newcomer, "lao", {"tambons": [TAMBON]}, "full", ["case.reported"], ["children_youth"]))
        changed = registry_yaml(entries)
        apply_topics(settings, parse_registry(changed, source="test"))  # the operator's `casehub topics apply`
        worker.registry_path.write_text(changed)
        worker.wait_for_log("registry changed: restarting onto it", timeout=30.0)
        worker.wait_for_log("worker ready", occurrences=2, timeout=90.0)
        assert f'"added": ["{newcomer}"]' in worker.log_text()

        event = report()
        publish(settings, newcomer, [event])
        wanted = [topics.CASES_EVENTS, topics.outbound(newcomer)]
        records = read_until(settings, wanted, done=lambda rs: len(with_ids(rs, {event.id})) == 2, timeout=120.0,
                             since=started)
        delivered = sorted(r.topic for r in with_ids(records, {event.id}))
        if delivered != sorted(wanted):
            worker.diagnose()
            kept = Path(tempfile.gettempdir()) / f"casehub-registry-reload-{worker.worker_id}.log"
            kept.write_text(worker.log_text())
            raise AssertionError(f"delivered to {delivered}, wanted {sorted(wanted)}; worker log kept in {kept}")
    finally:
        code = worker.stop()
        kept = Path(tempfile.gettempdir()) / f"casehub-registry-reload-{worker.worker_id}.log"
        if code != 0:
            kept.write_text(worker.log_text())
        assert code == 0, f"the worker stopped with {code}; its log kept in {kept}"


def test_the_watch_ignores_a_reformatted_file_and_names_a_broken_one_once(tmp_path: Path) -> None:
    from casehub.registry.watch import RegistryWatch
    from tests.streams.conftest import write_registry

    path, _, _ = write_registry(tmp_path / "partners.yaml", "unit")
    watch = RegistryWatch(path, parse_registry(path.read_text(), source=str(path)))
    assert watch.check() is None  # unchanged
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    assert watch.check() is None  # another layout, the same partners
    path.write_text("partners: [")
    assert watch.check() is None and watch.check() is None  # refused (logged once), the running registry stays
    entries = json.loads(registry_yaml([partner("pso-10", "pso", {"provinces": ["10"]}, "full", ["*"])]))["partners"]
    path.write_text(registry_yaml(entries))
    found = watch.check()
    assert found is not None and set(found.partners) == {"pso-10"}
