"""/healthz, /metrics, the OpenAPI document, and `casehub partners key` (issue once, store a hash, revoke)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time

import httpx
import pytest
from click.testing import CliRunner

from casehub.cli.main import cli
from casehub.connectors.gateway.keys import OPERATORS, digest, key_store_path
from casehub.connectors.gateway.producer import EventWriter
from casehub.core.errors import TransportError
from tests.connectors.gateway.conftest import Running
from tests.kafka_helpers import kafka_identity_env
from tests.streams.harness import CASEHUB, free_port, report


def test_healthz_reports_kafka_reachable_and_the_case_view_ready(running: Running) -> None:
    answer = httpx.get(f"{running.gateway.url}/healthz", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["kafka"] is True and answer.json()["cases_view_ready"] is True


def test_metrics_count_requests_by_route_and_events_by_partner(running: Running) -> None:
    with running.gateway.client(running.orgs.lao) as client:
        assert client.post("/v1/events", json=report().to_json()).status_code == 202
        bad = report().to_json()
        bad["issue_category"] = "nonsense"
        assert client.post("/v1/events", json=bad).status_code == 422
    text = scrape(running)
    lao = running.orgs.lao
    assert f'casehub_gateway_events_total{{outcome="accepted",partner="{lao}"}}' in text
    assert f'casehub_gateway_events_total{{outcome="rejected",partner="{lao}"}}' in text
    assert 'casehub_gateway_requests_total{method="POST",route="/v1/events",status="202"}' in text
    assert 'casehub_gateway_requests_total{method="POST",route="/v1/events",status="422"}' in text
    assert "casehub_gateway_produce_seconds_count" in text
    # the process itself, as every casehub service exports it
    assert "process_cpu_seconds_total" in text and "process_resident_memory_bytes" in text
    assert "python_info" in text


def scrape(running: Running) -> str:
    """/metrics read with a fresh operator key."""
    key = running.gateway.keys.issue(OPERATORS).secret
    answer = httpx.get(f"{running.gateway.url}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_metrics_answer_only_an_operator_key(running: Running) -> None:
    url = f"{running.gateway.url}/metrics"
    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.headers["content-type"] == "application/problem+json"
    partner_key = running.gateway.key_for(running.orgs.lao)
    partner = httpx.get(url, headers={"Authorization": f"Bearer {partner_key}"}, timeout=10)
    assert partner.status_code == 403 and partner.json()["code"] == "forbidden"
    assert "casehub_gateway" not in anonymous.text + partner.text
    # an operator key (issued by the CLI) reads it, and does not act for any partner
    env = {"CASEHUB_HOME": str(running.gateway.settings.home)}
    issued = CliRunner().invoke(cli, ["partners", "key", "--operator", "--json"], env=env)
    assert issued.exit_code == 0, issued.output
    document = json.loads(issued.stdout[issued.stdout.index("{\n"):])
    assert document["org"] == OPERATORS
    operator_key = document["key"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {operator_key}"}, timeout=10).status_code == 200
    with running.gateway.client(key=operator_key) as client:
        refused = client.post("/v1/events", json=report().to_json())
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert CliRunner().invoke(cli, ["partners", "key"], env=env).exit_code == 2  # a partner, or --operator
    assert httpx.get(f"{running.gateway.url}/healthz", timeout=10).status_code == 200  # probes need no key


def test_the_openapi_document_describes_bodies_errors_and_the_key_scheme(running: Running) -> None:
    document = httpx.get(f"{running.gateway.url}/openapi.json", timeout=10).json()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "casehub API key (chk_...)",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    post = document["paths"]["/v1/events"]["post"]
    assert post["security"] == [{"ApiKey": []}]
    assert set(post["requestBody"]["content"]) == {"application/json"}  # one media type per operation
    assert "application/cloudevents+json" in post["description"]
    problem = {"$ref": "#/components/schemas/Problem"}
    assert post["responses"]["422"]["content"] == {"application/problem+json": {"schema": problem}}
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SubmissionResult"}
    mapping = document["components"]["schemas"]["PartnerEvent"]["discriminator"]["mapping"]
    assert "case.reported" in mapping and "case.linked" not in mapping and "case.escalated" not in mapping
    assert "HTTPValidationError" not in json.dumps(document)
    assert "text/event-stream" in document["paths"]["/v1/stream"]["get"]["responses"]["200"]["content"]


def test_partners_key_is_shown_once_stored_as_a_hash_and_revocable(running: Running) -> None:
    settings = running.gateway.settings
    env = {"CASEHUB_HOME": str(settings.home), "CASEHUB_REGISTRY_PATH": str(settings.registry_path)}
    runner = CliRunner()
    issued = runner.invoke(cli, ["partners", "key", running.orgs.ngo, "--json"], env=env)
    assert issued.exit_code == 0, issued.output
    # (another test may have reset structlog to its defaults, which print to stdout: read the JSON document itself)
    document = json.loads(issued.stdout[issued.stdout.index("{\n"):])
    secret, key_id = document["key"], document["key_id"]
    stored = key_store_path(settings).read_text()
    assert secret not in stored and digest(secret) in stored
    assert stat.S_IMODE(os.stat(key_store_path(settings)).st_mode) == 0o600

    with running.gateway.client(key=secret) as client:
        assert client.get("/v1/cases/CASE-20260101-00AAAAAAAA").status_code == 404  # authenticated

    listed = runner.invoke(cli, ["partners", "key", running.orgs.ngo, "--list"], env=env)
    assert key_id in listed.stdout and secret not in listed.output
    revoked = runner.invoke(cli, ["partners", "key", running.orgs.ngo, "--revoke", "--key-id", key_id], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    with running.gateway.client(key=secret) as client:
        # the gateway looks at the key file at most once a second, so revocation is effective within a second
        deadline = time.monotonic() + 10
        while client.get("/v1/cases/CASE-20260101-00AAAAAAAA").status_code != 401 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/v1/cases/CASE-20260101-00AAAAAAAA").status_code == 401

    unknown = runner.invoke(cli, ["partners", "key", "ngo-nobody-at-all"], env=env)
    assert unknown.exit_code != 0


def test_casehub_gateway_serves_from_the_command_line(running: Running, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = running.gateway.settings
    port = free_port()
    env = {
        **os.environ,
        "CASEHUB_HOME": str(settings.home),
        "CASEHUB_REGISTRY_PATH": str(settings.registry_path),
        **kafka_identity_env(settings),
    }
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen([str(CASEHUB), "gateway", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None and health.status_code == 200, (tmp_path / "gateway.log").read_text()[-3000:]
        key = running.gateway.key_for(running.orgs.lao)
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/events", json=report().to_json(),
                            headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 202, answer.text
    finally:
        process.terminate()
        status = process.wait(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status still says how it ended
    assert status in (0, -15)
    assert "gateway stopped" in (tmp_path / "gateway.log").read_text()


async def test_an_unreachable_cluster_is_a_transport_error(running: Running) -> None:
    writer = EventWriter(running.gateway.settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"}))
    with pytest.raises(TransportError):
        await writer.start()
    assert await writer.reachable() is False
