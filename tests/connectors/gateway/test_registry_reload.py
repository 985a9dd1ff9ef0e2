"""A partner added to the registry file can use the running gateway: no restart, and a broken file changes nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import parse_registry
from tests.connectors.gateway.conftest import start
from tests.streams.harness import TAMBON, partner, registry_yaml, report


def test_a_partner_added_to_the_registry_file_publishes_through_the_running_gateway(
    settings: Settings, tmp_path: Path
) -> None:
    running = start(settings, tmp_path, registry_refresh_seconds=0.5)
    gateway = running.gateway
    path = gateway.settings.registry_path
    assert path is not None
    newcomer = f"{running.orgs.lao}-b"
    try:
        key = gateway.key_for(newcomer)
        with gateway.client(key=key) as client:
            assert client.post("/v1/events", json=report().to_json()).status_code == 401  # not a partner yet

            original = path.read_text()
            path.write_text("partners: [")  # a half-written file: refused, nothing changes
            time.sleep(1.5)
            assert client.post("/v1/events", json=report().to_json()).status_code == 401
            with gateway.client(running.orgs.lao) as known:
                assert known.post("/v1/events", json=report().to_json()).status_code == 202

            entries = json.loads(original)["partners"]
            entries.append(partner(newcomer, "lao", {"tambons": [TAMBON]}, "full", ["case.reported"]))
            apply_topics(settings, parse_registry(registry_yaml(entries), source="test"))
            path.write_text(registry_yaml(entries))
            deadline = time.monotonic() + 30.0
            status = 401
            while status == 401 and time.monotonic() < deadline:
                time.sleep(0.25)
                answer = client.post("/v1/events", json=report().to_json())
                status = answer.status_code
            assert status == 202, answer.text
            assert answer.json()["source"] == f"/partners/{newcomer}"
    finally:
        gateway.stop()
