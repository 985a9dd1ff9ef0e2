"""The vocabularies a registry is checked against: event types, issue categories and s26 sensitivity tags.

This is the ONE place that decides where they come from: the event contract
(``casehub.schemas.EVENT_TYPES`` and the ``casehub.IssueCategory`` /
``casehub.SensitivityTag`` enums of its .avsc files) when it is installed,
otherwise the catalogue of DESIGN.md copied below. A bug inside
``casehub.schemas`` is not hidden: only the package being absent selects the
fallback.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from functools import cache
from importlib.resources import files

# DESIGN.md, "The case event catalogue"
_DESIGN_EVENT_TYPES: tuple[str, ...] = (
    "case.reported",
    "case.triaged",
    "case.assigned",
    "case.transferred",
    "case.assessed",
    "case.plan_approved",
    "referral.requested",
    "referral.accepted",
    "referral.rejected",
    "referral.revoked",
    "service.delivered",
    "case.followup",
    "case.closed",
    "case.reopened",
    "consent.recorded",
    "consent.withdrawn",
    "case.linked",
    "case.escalated",
)

# DESIGN.md: the 10 categories of hotline 1300, plus poverty
_DESIGN_ISSUE_CATEGORIES: tuple[str, ...] = (
    "family_violence",
    "teen_pregnancy",
    "human_trafficking",
    "drugs",
    "homeless_destitute",
    "children_youth",
    "missing_persons",
    "elderly",
    "disability",
    "begging",
    "poverty",
)

# DESIGN.md, "Personal data": PDPA s26 sensitive data
_DESIGN_SENSITIVITY_TAGS: tuple[str, ...] = (
    "health",
    "disability",
    "sexual_violence",
    "sexual_behaviour",
    "criminal_record",
    "ethnicity",
    "religion",
    "political_opinion",
    "trade_union",
    "genetic",
    "biometric",
)


def _from_schemas(attribute: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    if importlib.util.find_spec("casehub.schemas") is None:
        return fallback
    schemas = importlib.import_module("casehub.schemas")
    value = getattr(schemas, attribute, None)
    return tuple(value) if value is not None else fallback


def _enum_symbols(avsc_name: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    if importlib.util.find_spec("casehub.schemas") is None:
        return fallback
    path = files("casehub.schemas").joinpath(f"avsc/{avsc_name}.avsc")
    if not path.is_file():
        return fallback
    return tuple(json.loads(path.read_text(encoding="utf-8"))["symbols"])


@cache
def event_types() -> frozenset[str]:
    """Every event type a partner may subscribe to."""
    return frozenset(_from_schemas("EVENT_TYPES", _DESIGN_EVENT_TYPES))


@cache
def issue_categories() -> frozenset[str]:
    """Every issue category a partner may subscribe to."""
    return frozenset(_enum_symbols("casehub.IssueCategory", _DESIGN_ISSUE_CATEGORIES))


@cache
def sensitivity_tags() -> frozenset[str]:
    """Every PDPA s26 sensitivity tag a partner may be granted access to."""
    return frozenset(_enum_symbols("casehub.SensitivityTag", _DESIGN_SENSITIVITY_TAGS))
