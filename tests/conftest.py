"""Shared fixtures: a Settings pointed at the real test broker that `make test` starts, and unique names per test."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# `make test` sets these; the defaults let `pytest tests/...` run against the same shared test broker
os.environ.setdefault("CASEHUB_HOME", ".casehub/test")
os.environ.setdefault("CASEHUB_BROKER_PORT", "29092")

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings for the test broker (bootstrap from CASEHUB_KAFKA_BOOTSTRAP or the running local test cluster)."""
    return Settings()


@pytest.fixture
def unique() -> str:
    """A short name no other test uses: prefix topics, group ids and org slugs with it."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def admin(settings: Settings) -> Iterator[object]:
    """A kafka-python admin client on the test broker."""
    from kafka import KafkaAdminClient

    client = KafkaAdminClient(**connection(settings, "admin").kafka_python(), client_id="casehub-tests")
    yield client
    client.close()


@pytest.fixture(scope="session", autouse=True)
def audit_sealer(settings: Settings) -> Iterator[None]:
    """`casehub audit seal` on the test broker for the whole session: services write hub.audit.entries, and the
    tests that read what was disclosed read hub.audit, as operators do. Started, not awaited: every test that reads
    hub.audit waits (bounded) for what it expects; a session without a broker just sees it exit."""
    from tests.streams.harness import CASEHUB, free_port

    folder = Path(tempfile.mkdtemp(prefix="casehub-sealer-"))
    env = {**os.environ, "CASEHUB_AUDIT_SEALER_WEB_PORT": str(free_port()), "CASEHUB_WORKER_DATA_DIR": str(folder),
           "CASEHUB_WORKER_METRICS_PORT": "0"}
    log = (folder / "sealer.log").open("ab")
    process = subprocess.Popen([str(CASEHUB), "audit", "seal"], env=env, stdout=log, stderr=log)
    yield
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    log.close()
