"""Every private name of faust (and aiokafka) casehub uses is reached through ``streams/faust_compat`` only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casehub.streams import faust_compat
from casehub.streams.exceptions import FaustIncompatible

CASEHUB = Path(faust_compat.__file__).resolve().parents[2]


def test_the_installed_faust_has_every_private_name_casehub_uses() -> None:
    assert faust_compat.missing_names() == []
    faust_compat.self_check()


def test_a_missing_aiokafka_internal_is_named_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = ("aiokafka.producer.message_accumulator:MessageAccumulator", "_renamed_in_a_later_aiokafka")
    monkeypatch.setattr(faust_compat, "REQUIRED", (*faust_compat.REQUIRED, gone))
    with pytest.raises(FaustIncompatible) as refused:
        faust_compat.self_check()
    assert "MessageAccumulator._renamed_in_a_later_aiokafka" in str(refused.value)
    assert "aiokafka" in str(refused.value) and "pyproject.toml pins" in str(refused.value)


def test_no_module_outside_faust_compat_touches_those_names() -> None:
    private = sorted({name for _, name in faust_compat.REQUIRED if name.startswith("_")})
    pattern = re.compile(r"\.(" + "|".join(map(re.escape, private)) + r")\b")
    compat = CASEHUB / "casehub" / "streams" / "faust_compat"
    found = [
        f"{path.relative_to(CASEHUB)}:{number}: {line.strip()}"
        for path in sorted((CASEHUB / "casehub").rglob("*.py")) if compat not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)
    ]
    assert found == []
