"""``casehub webhooks``: secrets issued once and kept private, the partner list, and ``run`` as a real process."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

from tests.connectors.events import triaged
from tests.connectors.webhooks.conftest import WebhookHub
from tests.streams.harness import free_port

CASEHUB = Path(sys.executable).with_name("casehub")
LIMIT = 60


def _env(hub: WebhookHub, metrics_port: int | None = None) -> dict[str, str]:
    settings = hub.settings
    return {**os.environ, "CASEHUB_REGISTRY_PATH": str(settings.registry_path),
            "CASEHUB_WEBHOOK_SECRETS_PATH": str(settings.webhook_secrets_path),
            "CASEHUB_WEBHOOK_GROUP_ID": settings.webhook_group_id, "CASEHUB_KAFKA_BOOTSTRAP": settings.bootstrap_servers(),
            "CASEHUB_WEBHOOK_METRICS_PORT": str(metrics_port or free_port())}


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _casehub(hub: WebhookHub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASEHUB), *args], capture_output=True, text=True, env=_env(hub), timeout=LIMIT, check=False)


def test_secrets_are_issued_once_rotated_on_request_and_never_listed(hub: WebhookHub) -> None:
    nohook = f"{hub.org}-nohook"
    issued = _casehub(hub, "webhooks", "secret", nohook)
    assert issued.returncode == 0, issued.stderr
    secret = issued.stdout.strip()
    assert secret.startswith("whsec_") and "issued" in issued.stderr and "no webhook_url" in issued.stderr
    again = _casehub(hub, "webhooks", "secret", nohook)
    assert again.stdout.strip() == secret and "already issued" in again.stderr
    rotated = _casehub(hub, "webhooks", "secret", nohook, "--rotate")
    assert rotated.stdout.strip() not in (secret, "")
    assert stat.S_IMODE(Path(str(hub.settings.webhook_secrets_path)).stat().st_mode) == 0o600

    listed = _casehub(hub, "webhooks", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["partners"]
    assert [(r["org"], r["url"], r["topic"]) for r in rows] == [(hub.org, hub.receiver.url, hub.topic)]
    assert rows[0]["secret_issued_at"]
    assert "whsec_" not in listed.stdout and hub.secret not in _casehub(hub, "webhooks", "list").stdout

    unknown = _casehub(hub, "webhooks", "secret", "ngo-nobody-at-all")
    assert unknown.returncode == 1 and "ngo-nobody-at-all" in unknown.stderr
    no_url = _casehub(hub, "webhooks", "run", "--org", nohook)
    assert no_url.returncode == 1 and "no webhook_url" in no_url.stderr


def test_run_delivers_until_sigterm_and_commits(hub: WebhookHub, unique: str) -> None:
    event = triaged(f"CH-{unique}")
    hub.publish(event)
    port = free_port()
    process = subprocess.Popen([str(CASEHUB), "webhooks", "run"], env=_env(hub, port), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        hub.receiver.wait_for(lambda: len(hub.receiver.requests) == 1, timeout=LIMIT)
        deadline = time.monotonic() + LIMIT
        while hub.committed() != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        metrics = _scrape(port)
        listening = {c.laddr.ip for c in psutil.Process(process.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
    finally:
        process.send_signal(signal.SIGTERM)
        _out, logs = process.communicate(timeout=LIMIT)
    assert process.returncode == 0, logs
    assert hub.committed() == 1
    assert Webhook(hub.secret).verify(hub.receiver.requests[0].body, hub.receiver.requests[0].headers)["id"] == event.id
    assert hub.secret not in logs and "webhook delivered" in logs
    # the dispatcher's own metrics and its process's, served on loopback only
    assert metrics[("casehub_webhook_attempts_total", (("verdict", "delivered"),))] == 1
    assert metrics[("casehub_webhook_attempt_seconds_count", ())] == 1
    assert metrics[("process_cpu_seconds_total", ())] > 0 and ("process_resident_memory_bytes", ()) in metrics
    assert listening == {"127.0.0.1"}


def test_a_running_dispatcher_starts_delivering_once_a_secret_is_issued(hub: WebhookHub, unique: str, tmp_path: Path) -> None:
    Path(str(hub.settings.webhook_secrets_path)).unlink()  # the partner has a URL but no secret yet
    event = triaged(f"CH-{unique}")
    hub.publish(event)
    env = {**_env(hub), "CASEHUB_WEBHOOK_REFRESH_SECONDS": "0.3"}
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen([str(CASEHUB), "webhooks", "run"], env=env, stdout=log_file, stderr=log_file)
        try:
            deadline = time.monotonic() + LIMIT
            while "no webhook partner yet" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "no webhook partner yet" in log_path.read_text()
            assert hub.receiver.requests == []
            issued = _casehub(hub, "webhooks", "secret", hub.org)
            assert issued.returncode == 0, issued.stderr
            hub.receiver.wait_for(lambda: len(hub.receiver.requests) == 1, timeout=LIMIT)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=LIMIT)
    assert process.returncode == 0, log_path.read_text()
    request = hub.receiver.requests[0]
    assert Webhook(issued.stdout.strip()).verify(request.body, request.headers)["id"] == event.id
