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
