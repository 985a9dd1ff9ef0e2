"""docker/ stays consistent with the code: the same Kafka release, real setting names, real CLI verbs."""

from __future__ import annotations

from pathlib import Path

import yaml

from casehub.broker.runtime import KAFKA_VERSION
from casehub.cli.main import COMMANDS
from casehub.core.settings import Settings

COMPOSE = Path(__file__).parents[2] / "docker" / "compose.yaml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_brokers_run_the_release_the_project_pins() -> None:
    services = _compose()["services"]
    kafka_images = {s["image"] for name, s in services.items() if name.startswith("kafka-")}
    assert kafka_images == {f"apache/kafka:{KAFKA_VERSION}"}
    assert len([n for n in services if n.startswith("kafka-")]) == 3


def test_hub_services_use_only_settings_the_code_reads() -> None:
    known = {f"CASEHUB_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        env = service.get("environment") or {}
        used = {key for key in env if key.startswith("CASEHUB_")}
        assert used <= known, f"{name} sets unknown settings {used - known}"


def test_hub_services_run_real_cli_verbs() -> None:
    for name, service in _compose()["services"].items():
        if service.get("image") == "casehub:latest":
            assert service["command"][0] in COMMANDS, f"{name} runs unknown verb {service['command'][0]}"


def test_each_worker_keeps_its_tables_in_a_volume_of_its_own() -> None:
    services = _compose()["services"]
    workers = {name: s for name, s in services.items() if s.get("command") == ["worker"]}
    assert len(workers) == 2
    assert all("replicas" not in (s.get("deploy") or {}) for s in workers.values())  # replicas would share a volume
    volumes = [v.split(":")[0] for s in workers.values() for v in s["volumes"]]
    assert len(set(volumes)) == len(workers)
    instances = [s["environment"]["CASEHUB_WORKER_INSTANCE_ID"] for s in workers.values()]
    assert len(set(instances)) == len(workers)
