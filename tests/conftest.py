"""Shared fixtures: a Settings pointed at the real test broker that `make test` starts, and unique names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

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
