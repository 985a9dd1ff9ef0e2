"""Case events and outbound records for the connector tests, built from the contract's example events."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from casehub.core import topics
from casehub.schemas.codec import WireRecord, encode_binary
from casehub.schemas.models import CaseEvent, parse_event

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
SCHEMA_BASE = "https://casehub.test"
"""The hub URL the tests' records name their schemas under: readers take only the type and version from it."""
DISCLOSURE_HEADER = "ce_casehubdisclosure"


def example(event_type: str, **changes: Any) -> CaseEvent:
    """The contract's example of ``event_type`` with a fresh id (and ``changes`` applied, validated)."""
    data = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"]
    data.update({"id": f"ev-{uuid.uuid4().hex[:12]}", **changes})
    return parse_event(data)


def triaged(case_id: str, **changes: Any) -> CaseEvent:
    """A case.triaged event of ``case_id``."""
    return example("case.triaged", case_id=case_id, **changes)


def outbound(event: CaseEvent, *, disclosure: str = "full", source_org: str = "hotline-1300") -> WireRecord:
    """The record the stream pipeline writes to a partner's outbound topic: binary CloudEvent + disclosure attribute."""
    wire = encode_binary(event, source=topics.event_source(source_org), schema_base=SCHEMA_BASE)
    return WireRecord(wire.key, wire.value, [*wire.headers, (DISCLOSURE_HEADER, disclosure.encode())])
