"""Project stage: the copy of an event a recipient may see, driven by the personal-data markings in the .avsc files.

- ``full``: everything, except fields marked sensitive (PDPA s26), which only the case owner and partners
  granted that kind of data (hospitals, police) receive.
- ``pseudonymised``: the keyed subject token instead of identifiers; direct identifiers, free text and
  sensitive fields removed; quasi identifiers generalised as marked (birth date → 1 January of the birth
  year, tambon → amphoe, dropped, or kept).
- ``aggregate``: nothing per event (counts only, see ``aggregates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from casehub.schemas.markings import FieldMarking, field_markings
from casehub.schemas.models import CaseEvent, model_for

REDACTED = "[withheld]"
"""What a required text field holds when the recipient may not see it (Avro cannot make it null)."""


@dataclass(frozen=True, slots=True)
class Projection:
    """A projected event and the paths the recipient did not receive (for the audit record)."""

    event: CaseEvent
    withheld: tuple[str, ...]


def _containers(data: Any, parts: list[str]) -> list[tuple[dict[str, Any], str]]:
    """The (parent dict, field name) pairs a dotted path with ``[]`` items reaches in ``data``."""
    head, rest = parts[0], parts[1:]
    is_array = head.endswith("[]")
    name = head[:-2] if is_array else head
    if not isinstance(data, dict) or data.get(name) is None:
        return []
    if not rest:
        return [(data, name)]
    children = data[name] if is_array else [data[name]]
    found: list[tuple[dict[str, Any], str]] = []
    for child in children:
        found += _containers(child, rest)
    return found


def _blank(model_field_default: Any, value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, str):
        return REDACTED
    return model_field_default


def _remove(data: dict[str, Any], event_type: str, marking: FieldMarking, withheld: list[str]) -> None:
    for parent, name in _containers(data, marking.path.split(".")):
        value = parent[name]
        if value is None or value == []:
            continue
        # optional fields become null; a required text field (e.g. a transfer's reason) becomes REDACTED
        parent[name] = None if _is_optional(event_type, marking.path) else _blank(None, value)
        withheld.append(marking.path)


def _generalise(data: dict[str, Any], marking: FieldMarking, withheld: list[str]) -> None:
    for parent, name in _containers(data, marking.path.split(".")):
        value = parent[name]
        if value is None or marking.generalise == "keep":
            continue
        if marking.generalise == "birth_year" and isinstance(value, date):
            parent[name] = date(value.year, 1, 1)
        else:  # "amphoe" (the amphoe code and names stay in the location) and "drop"
            parent[name] = [] if isinstance(value, list) else None
        withheld.append(marking.path)


def _rebuild(event: CaseEvent, data: dict[str, Any]) -> CaseEvent:
    return model_for(event.type).model_validate(data)


def project_full(event: CaseEvent, *, may_see: set[str]) -> Projection:
    """Everything, but each sensitive field only if its tag is in ``may_see``."""
    data = event.to_avro()
    withheld: list[str] = []
    for marking in field_markings(event.type):
        if marking.sensitivity and marking.sensitivity not in may_see:
            _remove(data, event.type, marking, withheld)
    if withheld:
        kept = {m.sensitivity for m in field_markings(event.type) if m.sensitivity and m.path not in withheld}
        data["sensitivity"] = [tag for tag in data.get("sensitivity", []) if tag in kept or tag in may_see]
        return Projection(_rebuild(event, data), tuple(withheld))
    return Projection(event, ())


def pseudonymise_fields(data: dict[str, Any], event_type: str) -> list[str]:
    """Apply the pseudonymised rules in place to event-shaped ``data`` (an event's Avro dict, or the gateway's
    case view shaped like its envelope); returns the withheld paths."""
    withheld: list[str] = []
    for marking in field_markings(event_type):
        if marking.sensitivity or marking.pii in ("direct", "free_text"):
            _remove(data, event_type, marking, withheld)
        elif marking.pii == "quasi":
            _generalise(data, marking, withheld)
    return withheld


def project_pseudonymised(event: CaseEvent) -> Projection:
    """The keyed token and generalised quasi identifiers; no identifiers, free text or sensitive data."""
    data = event.to_avro()
    withheld = pseudonymise_fields(data, event.type)
    data["sensitivity"] = []
    if data["lawful_basis"].get("sensitive_basis") is not None:
        data["lawful_basis"]["sensitive_basis"] = None
    return Projection(_rebuild(event, data), tuple(withheld))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in get_args(annotation):
        found = _model_of(inner)
        if found is not None:
            return found
    return None


@cache
def _is_optional(event_type: str, path: str) -> bool:
    """Whether the field at ``path`` may be null (a required one is blanked instead)."""
    model: type[BaseModel] | None = model_for(event_type)
    parts = path.replace("[]", "").split(".")
    for part in parts[:-1]:
        if model is None or part not in model.model_fields:
            return True
        model = _model_of(model.model_fields[part].annotation)
    if model is None or parts[-1] not in model.model_fields:
        return True
    return not model.model_fields[parts[-1]].is_required()
