"""Fixtures of the stream tests: a registry with orgs of their own, its topics, and a worker subprocess."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import Registry, parse_registry
from tests.streams.harness import NEIGHBOUR_TAMBON, TAMBON, Worker, partner, registry_yaml

# the SLA clock runs fast in tests so an escalation is seen within seconds
FAST_SLA = {"CASEHUB_SLA_HIGH_RISK_SECONDS": "4", "CASEHUB_ESCALATION_CHECK_SECONDS": "1"}


@dataclass
class Hub:
    """A running pipeline and the partners of its registry."""

    settings: Settings
    worker: Worker
    registry: Registry
    lao: str
    ngo: str

    @property
    def everyone(self) -> list[str]:
        return sorted(self.registry.partners)


def write_registry(path: Path, slug: str, extra: Iterable[dict[str, Any]] = ()) -> tuple[Path, str, str]:
    """A registry for tambon 840502: its centre and province, a neighbour and another province, one LAO, one NGO
    (and the ``extra`` partners a test module needs)."""
    lao, ngo = f"lao-{slug}", f"ngo-{slug}"
    children = ["children_youth"]
    partners = [
        partner("hotline-1300", "hotline", "national", "full", ["case.reported", "case.linked"], children),
        partner("pso-84", "pso", {"provinces": ["84"]}, "full", ["*"]),
        partner("pso-50", "pso", {"provinces": ["50"]}, "full", ["*"]),
        partner(f"tc-{TAMBON}", "tambon_centre", {"tambons": [TAMBON]}, "full", ["*"]),
        partner(f"tc-{NEIGHBOUR_TAMBON}", "tambon_centre", {"tambons": [NEIGHBOUR_TAMBON]}, "full", ["*"]),
        partner(lao, "lao", {"tambons": [TAMBON]}, "full", ["case.reported", "case.linked"], children),
        partner(ngo, "ngo", {"provinces": ["84"]}, "pseudonymised", ["case.reported", "case.linked"], children),
        *extra,
    ]
    path.write_text(registry_yaml(partners))
    return path, lao, ngo


def start_hub(settings: Settings, workdir: Path, env_extra: dict[str, str] | None = None,
              extra_partners: Iterable[dict[str, Any]] = ()) -> Hub:
    slug = "t" + uuid.uuid4().hex[:8]
    workdir.mkdir(parents=True, exist_ok=True)
    path, lao, ngo = write_registry(workdir / "partners.yaml", slug, extra_partners)
    registry = parse_registry(path.read_text(), source=str(path))
    apply_topics(settings, registry)
    worker = Worker(settings, workdir, path, env_extra=env_extra or {})
    worker.start()
    return Hub(settings, worker, registry, lao, ngo)


def workdir_for(settings: Settings) -> Path:
    """A folder for one worker's tables and log, under the test home.

    Not pytest's tmp_path: concurrent pytest sessions prune each other's old base folders, and a worker
    whose RocksDB folder disappears mid-test fails for reasons that have nothing to do with the test.
    """
    return (settings.home / "stream-tests" / uuid.uuid4().hex[:12]).resolve()


@pytest.fixture
def workdir(settings: Settings) -> Iterator[Path]:
    """A worker folder removed after the test."""
    path = workdir_for(settings)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def running_hub(settings: Settings, env_extra: dict[str, str] | None = None) -> Iterator[Hub]:
    """A worker with a registry of its own, in a folder of its own; stopped and removed afterwards."""
    path = workdir_for(settings)
    running = start_hub(settings, path, env_extra)
    try:
        yield running
    finally:
        running.worker.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(settings: Settings) -> Iterator[Hub]:
    """One worker shared by a test module (its registry's orgs are unique to it)."""
    with running_hub(settings, FAST_SLA) as running:
        yield running
