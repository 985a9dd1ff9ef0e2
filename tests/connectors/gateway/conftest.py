"""Fixtures of the gateway tests: a registry with orgs of their own, their topics, and a running gateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from tests.connectors.gateway.server import GatewayServer, gateway_settings, load
from tests.streams.harness import TAMBON, partner, registry_yaml

FAR_TAMBON = "500101"  # ต.ศรีภูมิ อ.เมืองเชียงใหม่: another province


@dataclass(frozen=True)
class Orgs:
    """The test registry's partners: an LAO of TAMBON (full), an NGO of its province (pseudonymised), a far LAO."""

    lao: str
    ngo: str
    far: str


def write_registry(path: Path) -> Orgs:
    slug = "g" + uuid.uuid4().hex[:8]
    orgs = Orgs(lao=f"lao-{slug}", ngo=f"ngo-{slug}", far=f"lao-{slug}-far")
    path.write_text(
        registry_yaml(
            [
                partner(orgs.lao, "lao", {"tambons": [TAMBON]}, "full", ["*"]),
                partner(orgs.ngo, "ngo", {"provinces": ["84"]}, "pseudonymised", ["case.reported"]),
                partner(orgs.far, "lao", {"tambons": [FAR_TAMBON]}, "full", ["*"]),
            ]
        )
    )
    return orgs


@dataclass
class Running:
    """A running gateway over the test registry."""

    gateway: GatewayServer
    orgs: Orgs


def start(settings: Settings, workdir: Path, **overrides: object) -> Running:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "partners.yaml"
    orgs = write_registry(path)
    registry = load(path)
    apply_topics(settings, registry)
    gateway = GatewayServer(gateway_settings(settings, workdir / "home", path, **overrides), registry)
    gateway.start()
    return Running(gateway, orgs)


@pytest.fixture(scope="module")
def running(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One gateway per test module (its registry's orgs are unique to it)."""
    found = start(settings, tmp_path_factory.mktemp("gateway"))
    yield found
    found.gateway.stop()
