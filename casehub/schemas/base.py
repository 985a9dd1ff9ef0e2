"""The base class of every generated model: strict about unknown fields, Avro-ready dumps."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class AvroRecord(BaseModel):
    """A pydantic model of one Avro record; ``AVRO_NAME`` is the record's full name in the .avsc files."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    AVRO_NAME: ClassVar[str] = ""

    def to_avro(self) -> dict[str, Any]:
        """The record as fastavro writes it: datetimes and dates as objects, enums as their symbols."""
        return self.model_dump(mode="python")

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data: RFC 3339 times, ISO dates, Thai text as is."""
        return self.model_dump(mode="json")
