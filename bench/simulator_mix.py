"""The simulator's full-lifecycle traffic as a bench mix: follow-ups carry the case ids the hub gave their reports.

The simulator gives follow-ups a stand-in case id (``case_ref``) of the same length as the hub's; a partner learns
the real one from its outbound topic. Here the stand-in is swapped for the hub's id byte for byte (same length in
the key, the ``ce_subject`` header and the Avro or JSON value), so the swap costs nothing measurable.

In process (``linked``): one untimed pass through the stages learns the hub's case ids; with :class:`FixedCaseIds`
a second pass gives every report the same case id again, so the linked records are processed as the hub would.
Against Kafka, ``bench/pipeline.py`` learns them live from ``cases.events`` (``LiveLinker`` there).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from casehub.connectors.simulator.traffic import SimulatedRecord, SimulatorOptions, generate
from casehub.core import topics
from casehub.registry import Registry
from casehub.streams import keys
from casehub.streams.core import CoreProcessor, StagedTable
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class MixRecord:
    """One inbound record of the mix and what it needs before it may be sent."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers
    case_ref: str | None
    event_id: str
    source: str
    kind: str  # valid | duplicate | retry | malformed
    event_type: str

    @property
    def gates(self) -> bool:
        """Whether the case's next record waits until the hub processed this one (it appears on cases.events)."""
        return self.kind in ("valid", "duplicate")

    def linked(self, case_id: str | None) -> tuple[bytes | None, bytes, Headers]:
        """Key, value and headers about the hub's ``case_id`` instead of the stand-in (reports stay as they are)."""
        ref = self.case_ref
        if case_id is None or ref is None or self.event_type == "case.reported" or len(ref) != len(case_id):
            return self.key, self.value, self.headers
        old, new = ref.encode(), case_id.encode()
        key = self.key.replace(old, new) if self.key is not None else None
        return key, self.value.replace(old, new), [(k, v.replace(old, new)) for k, v in self.headers]


def registry_of_provinces(registry_text: str, provinces: tuple[str, ...]) -> str:
    """The registry (YAML text) narrowed to national partners and those serving somewhere in ``provinces``."""
    import json

    import yaml

    document = yaml.safe_load(registry_text)

    def serves(partner: dict[str, Any]) -> bool:
        area = partner.get("jurisdiction")
        if area == "national":
            return True
        codes = [code for name in ("provinces", "amphoes", "tambons") for code in (area or {}).get(name, ())]
        return any(str(code)[:2] in provinces for code in codes)

    document["partners"] = [p for p in document["partners"] if serves(p)]
    return json.dumps(document, ensure_ascii=False)


def mix(registry: Registry, cases: int, *, seed: int = 7, malformed: float = 0.01, legacy: bool = False,
        provinces: tuple[str, ...] | None = None) -> list[MixRecord]:
    """``cases`` simulated case lifecycles (the simulator's defaults, ``malformed`` broken copies), in time order.

    ``legacy``: records name their schema as ``urn:casehub:schema:<type>:v<N>`` (which hubs before schema URLs
    read, and today's still do), so a worker of an older checkout takes the same mix (``--worker-code``).
    """
    options = SimulatorOptions(malformed=malformed, until=min(datetime.now(UTC), SimulatorOptions().until),
                               provinces=provinces)
    records = [_record(item) for item in generate(seed, cases, options, registry=registry)]
    return [_legacy(record, options.schema_base) for record in records] if legacy else records


_SCHEMA_URL = re.compile(rb"https?://[^\s\"]*?/v1/schemas/(?P<type>[a-z_]+\.[a-z_]+)/v(?P<version>\d+)(?:/json-schema)?")


def _legacy(record: MixRecord, schema_base: str) -> MixRecord:
    def urn(found: re.Match[bytes]) -> bytes:
        return b"urn:casehub:schema:" + found.group("type") + b":v" + found.group("version")

    headers = [(k, _SCHEMA_URL.sub(urn, v) if k == "ce_dataschema" else v) for k, v in record.headers]
    value = _SCHEMA_URL.sub(urn, record.value) if record.value.lstrip()[:1] == b"{" else record.value
    return MixRecord(record.topic, record.key, value, headers, record.case_ref, record.event_id, record.source,
                     record.kind, record.event_type)


def _record(item: SimulatedRecord) -> MixRecord:
    wire = item.record
    return MixRecord(item.topic, wire.key, wire.value, list(wire.headers), item.case_ref, item.event_id,
                     topics.event_source(item.org), item.intent.kind, item.event_type)


def by_case(records: list[MixRecord]) -> dict[str, list[MixRecord]]:
    """Each case's records in the order they are sent (records without a case ref each on their own)."""
    found: dict[str, list[MixRecord]] = {}
    for i, record in enumerate(records):
        found.setdefault(record.case_ref or f"#{i}", []).append(record)
    return found


class _SeededSecrets:
    """Stands in for ``secrets`` in ``casehub.streams.keys``: case ids from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self.random.randbytes(n)


@contextmanager
def fixed_case_ids(seed: int = 1) -> Iterator[None]:
    """Case ids drawn from ``seed`` (bench only): two passes over the same records assign the same ids."""
    original: Any = keys.secrets
    keys.secrets = _SeededSecrets(seed)  # type: ignore[assignment]
    try:
        yield
    finally:
        keys.secrets = original


def linked(core: CoreProcessor, records: list[MixRecord], *, seed: int = 1) -> list[tuple[str, bytes | None, bytes, Headers]]:
    """The records as the hub's partners would send them: one untimed pass through the stages (case ids drawn from
    ``seed``) learns each report's case id and swaps it into its case's later records. Run the stages again
    under ``fixed_case_ids(seed)`` on the result and every report gets the same case id again."""
    tables: dict[str, dict[bytes, bytes]] = {name: {} for name in ("seen", "subjects", "cases", "deadlines", "expiring")}
    case_ids: dict[str, str] = {}
    out: list[tuple[str, bytes | None, bytes, Headers]] = []
    with fixed_case_ids(seed):
        for offset, record in enumerate(records):
            key, value, headers = record.linked(case_ids.get(record.case_ref or ""))
            out.append((record.topic, key, value, headers))
            staged = {name: StagedTable(table) for name, table in tables.items()}
            origin = Origin(record.topic, 0, offset, key, value, tuple(headers))
            try:
                outputs = core.process(origin, now=datetime.now(UTC), **staged)
            except StageRejected:
                continue
            for table in staged.values():
                table.apply()
            if record.event_type == "case.reported" and record.case_ref and record.case_ref not in case_ids:
                mine = (b"ce_id", record.event_id.encode())
                for output in outputs:
                    found = dict(output.headers)
                    if output.topic == topics.CASES_EVENTS and found.get("ce_id") == mine[1] and "ce_subject" in found:
                        case_ids[record.case_ref] = found["ce_subject"].decode()
                        break
    return out
