"""A small partner registry for the simulator's tests: Songkhla's provincial office, two tambons, unique partner ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from casehub.registry import Registry, parse_registry

TAMBONS = ["900101", "900102"]  # ต.บ่อยาง, ต.เขารูปช้าง อ.เมืองสงขลา จ.สงขลา


def _partner(org: str, kind: str, jurisdiction: Any, types: list[str], categories: list[str] | None = None,
             disclosure: str = "full") -> dict[str, Any]:
    return {"id": org, "kind": kind, "name": {"th": org, "en": org}, "jurisdiction": jurisdiction,
            "disclosure": disclosure, "subscriptions": [{"event_types": types, "issue_categories": categories or ["*"]}]}


def small_registry_text(tag: str) -> str:
    """The hotline, pso-90, a tambon centre, and an LAO, hospital, police unit, NGO and private partner named with ``tag``."""
    partners = [
        _partner("hotline-1300", "hotline", "national", ["case.*"]),
        _partner("pso-90", "pso", {"provinces": ["90"]}, ["*"]),
        _partner(f"tc-{TAMBONS[0]}", "tambon_centre", {"tambons": [TAMBONS[0]]}, ["*"]),
        _partner(f"lao-{tag}", "lao", {"tambons": TAMBONS}, ["case.*"]),
        _partner(f"hosp-{tag}", "hospital", {"provinces": ["90"]}, ["referral.*"]),
        _partner(f"police-{tag}", "police", {"provinces": ["90"]}, ["referral.*"], ["family_violence", "human_trafficking", "begging"]),
        _partner(f"ngo-{tag}", "ngo", {"provinces": ["90"]}, ["referral.*"], disclosure="pseudonymised"),
        _partner(f"private-{tag}", "private", "national", ["referral.*"], ["poverty", "elderly", "disability"],
                 disclosure="pseudonymised"),
    ]
    return json.dumps({"version": 1, "partners": partners}, ensure_ascii=False, indent=1)


@pytest.fixture
def small_registry_path(tmp_path: Path, unique: str) -> Path:
    """The small registry as a YAML file (JSON is YAML), partner ids unique to this test."""
    path = tmp_path / "partners.yaml"
    path.write_text(small_registry_text(unique), encoding="utf-8")
    return path


@pytest.fixture
def small_registry(small_registry_path: Path) -> Registry:
    """The small registry, loaded."""
    return parse_registry(small_registry_path.read_text(encoding="utf-8"), source=str(small_registry_path))
