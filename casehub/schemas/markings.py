"""Disclosure and personal-data markings read from the .avsc files: per field, what each level receives and how."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from casehub.schemas.loader import raw_schema, shared_types

PiiKind = Literal["direct", "quasi", "free_text"]
PII_KINDS: tuple[str, ...] = ("direct", "quasi", "free_text")
LEVELS: tuple[str, ...] = ("full", "pseudonymised")
"""Disclosure levels that receive events; ``aggregate`` partners receive counts, never an event."""
RULES: tuple[str, ...] = (
    "as_is", "keyed:subject", "keyed:case", "keyed:event", "keyed:referral", "year", "day", "amphoe", "org", "source",
)
"""How a level receives a field (see casehub/schemas/README.md); a level a field does not name does not receive it."""
MARKING_ATTRIBUTES: tuple[str, ...] = ("pii", "sensitivity", "format", "disclose")
FieldKind = Literal["record", "array", "string", "timestamp", "date", "other"]


@dataclass(frozen=True, slots=True)
class FieldMarking:
    """The markings of one field. ``path`` is dotted (``subject.citizen_id``); ``[]`` marks array items.

    ``pii``: direct identifier, quasi identifier or free text (None = not personal data).
    ``sensitivity``: the PDPA s26 kind of data the field holds, if any. ``format``: org_id, dopa_tambon, th_citizen_id.
    ``disclose``: (level, rule) pairs — the levels the field is sent at, and how; every other level gets nothing.
    """

    path: str
    pii: PiiKind | None
    sensitivity: str | None
    format: str | None
    disclose: tuple[tuple[str, str], ...] = ()

    def rule(self, level: str) -> str | None:
        """How ``level`` receives the field, or None when it does not receive it."""
        for name, rule in self.disclose:  # a plain loop: called for every field of every delivery
            if name == level:
                return rule
        return None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field as the projector walks it: its markings, its shape, and (for a record) its own fields."""

    name: str
    marking: FieldMarking
    kind: FieldKind
    required: bool
    default: Any
    children: tuple[FieldPlan, ...] = ()
    marked: bool = True
    """False when the .avsc field has no ``disclose`` attribute (no level receives it; a test refuses it)."""


def _branches(avro_type: Any, named: dict[str, dict[str, Any]]) -> list[Any]:
    """The non-null branches of a type, named references resolved to their definitions."""
    found = avro_type if isinstance(avro_type, list) else [avro_type]
    return [named.get(b, b) if isinstance(b, str) else b for b in found if b != "null"]


def _kind(avro_type: Any) -> FieldKind:
    if avro_type == "string":
        return "string"
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "timestamp-millis":
            return "timestamp"
        if logical == "date":
            return "date"
        if avro_type.get("type") in ("record", "array"):
            return str(avro_type["type"])  # type: ignore[return-value]
    return "other"


def _remember(avro_type: Any, named: dict[str, dict[str, Any]]) -> None:
    """Record every named type defined inside ``avro_type``, so a later use by name can be resolved."""
    if isinstance(avro_type, list):
        for branch in avro_type:
            _remember(branch, named)
    elif isinstance(avro_type, dict):
        if avro_type.get("type") in ("record", "enum", "fixed"):
            named[f"{avro_type.get('namespace', 'casehub')}.{avro_type['name']}"] = avro_type
        if avro_type.get("type") == "array":
            _remember(avro_type["items"], named)


def _plan(record: dict[str, Any], prefix: str, named: dict[str, dict[str, Any]]) -> tuple[FieldPlan, ...]:
    plans: list[FieldPlan] = []
    for field in record["fields"]:
        _remember(field["type"], named)
        path = f"{prefix}{field['name']}"
        disclose = field.get("disclose")
        marking = FieldMarking(path, field.get("pii"), field.get("sensitivity"), field.get("format"),
                               tuple(sorted(disclose.items())) if isinstance(disclose, dict) else ())
        (inner, *_) = _branches(field["type"], named) or ["null"]
        kind = _kind(inner)
        children: tuple[FieldPlan, ...] = ()
        if kind == "record":
            children = _plan(inner, f"{path}.", named)
        plans.append(FieldPlan(field["name"], marking, kind, "default" not in field, field.get("default"), children,
                               isinstance(disclose, dict)))
    return tuple(plans)


@cache
def field_plan(event_type: str) -> tuple[FieldPlan, ...]:
    """The fields of ``event_type`` (envelope first) as a tree: what the projector walks to build a disclosure."""
    return _plan(raw_schema(event_type), "", {})


def _flatten(plans: tuple[FieldPlan, ...]) -> list[FieldPlan]:
    found: list[FieldPlan] = []
    for plan in plans:
        found.append(plan)
        found += _flatten(plan.children)
    return found


@cache
def _markings(event_type: str) -> tuple[FieldMarking, ...]:
    return tuple(plan.marking for plan in _flatten(field_plan(event_type)))


def field_markings(event_type: str) -> list[FieldMarking]:
    """The markings of every field of ``event_type`` (nested ones too), in schema order."""
    return list(_markings(event_type))


def unmarked_fields(event_type: str) -> list[str]:
    """Paths of fields without a valid ``disclose`` marking (unknown level or rule included): none may ship."""
    return [
        plan.marking.path for plan in _flatten(field_plan(event_type))
        if not plan.marked or any(level not in LEVELS or rule not in RULES for level, rule in plan.marking.disclose)
    ]


def pii_paths(event_type: str, kind: PiiKind) -> list[str]:
    """The field paths of ``event_type`` marked ``pii == kind``, e.g. every direct identifier."""
    return [m.path for m in _markings(event_type) if m.pii == kind]


def sensitive_paths(event_type: str) -> dict[str, str]:
    """Field path → PDPA s26 sensitivity tag, for the fields of ``event_type`` that hold sensitive data."""
    return {m.path: m.sensitivity for m in _markings(event_type) if m.sensitivity}


def disclosed_paths(event_type: str, level: str) -> list[str]:
    """The field paths ``level`` receives (in some form); every other field is withheld at that level."""
    return [m.path for m in _markings(event_type) if m.rule(level) is not None]


@cache
def _implied(type_name: str) -> dict[str, frozenset[str]]:
    declared = shared_types()[type_name].get("sensitivity", {})
    return {symbol: frozenset(tags) for symbol, tags in declared.items()}


def implied_sensitivity(issue_category: str, target_group: str) -> frozenset[str]:
    """The PDPA s26 kinds an event's issue category and target group imply (``sensitivity`` of the enums' .avsc)."""
    return _implied("casehub.IssueCategory").get(issue_category, frozenset()) | _implied("casehub.TargetGroup").get(
        target_group, frozenset()
    )
