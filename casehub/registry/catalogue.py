"""The vocabularies a registry is checked against, read from the event contract (never a second copy).

Event types come from ``casehub.schemas.EVENT_TYPES``; issue categories and s26
sensitivity tags are the symbols of the ``casehub.IssueCategory`` and
``casehub.SensitivityTag`` enums in the .avsc files.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from casehub.schemas import EVENT_TYPES


def _enum_symbols(avsc_name: str) -> tuple[str, ...]:
    path = files("casehub.schemas").joinpath(f"avsc/{avsc_name}.avsc")
    return tuple(json.loads(path.read_text(encoding="utf-8"))["symbols"])


@cache
def event_types() -> frozenset[str]:
    """Every event type a partner may subscribe to."""
    return frozenset(EVENT_TYPES)


@cache
def issue_categories() -> frozenset[str]:
    """Every issue category a partner may subscribe to."""
    return frozenset(_enum_symbols("casehub.IssueCategory"))


@cache
def sensitivity_tags() -> frozenset[str]:
    """Every PDPA s26 sensitivity tag a partner may be granted access to."""
    return frozenset(_enum_symbols("casehub.SensitivityTag"))
