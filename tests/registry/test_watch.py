"""The registry watch: a reformatted file is no change, a broken one is refused, another valid one is returned."""

from __future__ import annotations

import json
from pathlib import Path

from casehub.registry import parse_registry
from casehub.registry.watch import RegistryWatch
from tests.streams.conftest import write_registry
from tests.streams.harness import partner, registry_yaml


def test_the_watch_ignores_a_reformatted_file_and_names_a_broken_one_once(tmp_path: Path) -> None:
    path, _, _ = write_registry(tmp_path / "partners.yaml", "unit")
    watch = RegistryWatch(path, parse_registry(path.read_text(), source=str(path)))
    assert watch.check() is None  # unchanged
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    assert watch.check() is None  # another layout, the same partners
    path.write_text("partners: [")
    assert watch.check() is None and watch.check() is None  # refused (logged once), the running registry stays
    entries = json.loads(registry_yaml([partner("pso-10", "pso", {"provinces": ["10"]}, "full", ["*"])]))["partners"]
    path.write_text(registry_yaml(entries))
    found = watch.check()
    assert found is not None and set(found.partners) == {"pso-10"}
