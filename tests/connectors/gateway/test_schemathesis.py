"""Schemathesis against the live gateway's own /openapi.json: no 5xx, and answers that match the document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from casehub.core.settings import Settings
from tests.connectors.gateway.conftest import start

ST = Path(sys.executable).with_name("st")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_generated_requests_get_no_server_errors_and_documented_answers(settings: Settings, tmp_path: Path) -> None:
    running = start(settings, tmp_path / "fuzzed", gateway_rate_per_minute=1_000_000)
    key = running.gateway.key_for(running.orgs.lao)
    try:
        run = subprocess.run(
            [
                str(ST), "run", f"{running.gateway.url}/openapi.json",
                "--header", f"Authorization: Bearer {key}",
                "--checks", CHECKS,
                "--max-examples", "60",
                # the coverage phase enumerates ~33,000 schema variants (2 min; no failure found when run): fuzzing only here
                "--phases", "examples,fuzzing",
                "--seed", "20261129",
                "--workers", "2",
                "--request-timeout", "20",
                # an endless event stream by design; its own tests cover it
                "--exclude-path", "/v1/stream",
                "--suppress-health-check", "all",
                "--no-color",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    finally:
        running.gateway.stop()
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert "/v1/events" in run.stdout and "/v1/uploads/csv" in run.stdout and "/v1/cases/{case_id}" in run.stdout
