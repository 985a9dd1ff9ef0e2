"""The pydantic models follow from the .avsc files field by field, and dispatch on the event type."""

from __future__ import annotations

import json
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import AwareDatetime, BaseModel

from casehub.schemas import EVENT_TYPES, raw_schema
from casehub.schemas.exceptions import EventInvalid, FieldError, UnknownEventType
from casehub.schemas.generate import GENERATED, MARKING_KEYS, json_schema_key, render_models
from casehub.schemas.loader import shared_types
from casehub.schemas.models import EVENT_MODELS, CaseEvent, CaseReported, model_for, parse_event

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
_SCALARS: dict[str, type] = {"string": str, "boolean": bool, "int": int, "long": int, "double": float}
_LOGICAL: dict[str, type] = {"timestamp-millis": AwareDatetime, "date": date}


def _example_data(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"]
    return data


def _named(avro_type: Any) -> Any:
    return shared_types().get(avro_type, avro_type) if isinstance(avro_type, str) else avro_type


def _assert_type_matches(annotation: Any, avro_type: Any, where: str, seen: dict[str, Any]) -> None:
    """The Python annotation holds exactly what the Avro type holds."""
    if isinstance(avro_type, str) and avro_type in seen:
        avro_type = seen[avro_type]
    avro_type = _named(avro_type)
    if isinstance(avro_type, list):
        assert "null" in avro_type and len(avro_type) == 2, where
        args = typing.get_args(annotation)
        assert type(None) in args, f"{where}: nullable in Avro, not in the model"
        inner = next(a for a in args if a is not type(None))
        _assert_type_matches(inner, next(b for b in avro_type if b != "null"), where, seen)
        return
    if isinstance(avro_type, str):
        assert annotation is _SCALARS[avro_type], f"{where}: {annotation} vs {avro_type}"
        return
    if "logicalType" in avro_type:
        assert annotation is _LOGICAL[avro_type["logicalType"]], f"{where}: {annotation} vs {avro_type}"
        return
    kind = avro_type["type"]
    if kind == "enum":
        seen[f"casehub.{avro_type['name']}"] = avro_type
        assert typing.get_origin(annotation) is typing.Literal, where
        assert list(typing.get_args(annotation)) == avro_type["symbols"], where
    elif kind == "array":
        assert typing.get_origin(annotation) is list, where
        _assert_type_matches(typing.get_args(annotation)[0], avro_type["items"], f"{where}[]", seen)
    elif kind == "record":
        seen[f"casehub.{avro_type['name']}"] = avro_type
        assert issubclass(annotation, BaseModel), where
        assert f"casehub.{avro_type['name']}" == annotation.AVRO_NAME, where
        _assert_record_matches(annotation, avro_type, where, seen)
    else:
        raise AssertionError(f"{where}: unexpected Avro type {avro_type}")


def _assert_record_matches(model: type[BaseModel], record: dict[str, Any], where: str, seen: dict[str, Any]) -> None:
    assert list(model.model_fields) == [f["name"] for f in record["fields"]], where
    hints = typing.get_type_hints(model)
    for field in record["fields"]:
        name = field["name"]
        info = model.model_fields[name]
        path = f"{where}.{name}"
        assert info.description == field["doc"], path
        if "default" in field:
            assert not info.is_required(), f"{path}: has an Avro default, so it is optional"
            assert info.get_default(call_default_factory=True) == field["default"], path
        elif name not in ("type", "schema_version"):
            assert info.is_required(), f"{path}: no Avro default, so it is required"
        markings = {json_schema_key(k): field[k] for k in MARKING_KEYS if k in field}
        if name not in ("type", "schema_version"):  # an event's own Literal type and version, written by generate
            assert (info.json_schema_extra or {}) == markings, path
        if name != "type":
            _assert_type_matches(hints[name], field["type"], path, seen)


def test_generated_models_are_fresh() -> None:
    assert GENERATED.read_text(encoding="utf-8") == render_models(), "run python -m casehub.schemas.generate"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_model_matches_avsc_field_by_field(event_type: str) -> None:
    model = model_for(event_type)
    schema = raw_schema(event_type)
    assert issubclass(model, CaseEvent)
    assert f"casehub.{schema['name']}" == model.AVRO_NAME
    assert event_type == model.EVENT_TYPE
    _assert_record_matches(model, schema, event_type, {})
    assert model.model_fields["type"].default == event_type
    assert model.model_fields["schema_version"].default == schema["casehub.version"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_parse_event_dispatches_on_type(event_type: str) -> None:
    event = parse_event(_example_data(event_type))
    assert type(event) is EVENT_MODELS[event_type]
    assert event.type == event_type


def test_thai_text_round_trips_through_the_model() -> None:
    data = _example_data("case.reported")
    event = parse_event(data)
    assert isinstance(event, CaseReported)
    assert event.subject.given_name == "ด.ญ.มะลิ"
    assert event.to_json()["summary"] == data["summary"]
    assert parse_event(event.to_json()) == event


def test_unknown_type_is_a_field_error() -> None:
    with pytest.raises(EventInvalid) as caught:
        parse_event({**_example_data("case.closed"), "type": "case.deleted"})
    assert caught.value.errors == [
        FieldError("type", f"'case.deleted' is not an event type; expected one of: {', '.join(EVENT_TYPES)}")
    ]
    with pytest.raises(UnknownEventType):
        model_for("case.deleted")


def test_model_errors_name_the_field_path() -> None:
    data = _example_data("case.reported")
    data["subject"] = {**data["subject"], "sex": "f", "nick_name": "มะลิ"}
    data.pop("lawful_basis")
    data["occurred_at"] = "2026-10-05T09:12:00"
    with pytest.raises(EventInvalid) as caught:
        parse_event(data)
    assert caught.value.errors == [
        FieldError("occurred_at", "needs a UTC offset, e.g. 2026-11-28T10:15:00+07:00 or 2026-11-28T03:15:00Z"),
        FieldError("lawful_basis", 'the PDPA lawful basis (ฐานทางกฎหมาย) for this event is required, e.g. {"basis": "public_task"}'),
        FieldError("subject.sex", "must be one of 'female', 'male' or 'unspecified'"),
        FieldError("subject.nick_name", "is not a field of this event type; check the spelling against the schema"),
    ]
