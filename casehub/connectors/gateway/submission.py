"""From a request body to events ready for the partner's inbound topic, or field-level errors per item.

Every item is checked exactly as the pipeline's validate stage will check it (schema, domain rules,
hub-written types, hub-issued case ids), so a 202 means the pipeline will not dead-letter the event
for its content. The ``source`` is the authenticated partner's; whatever the body claims is ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote

from casehub.connectors.gateway.exceptions import RequestInvalid
from casehub.core import topics
from casehub.core.limits import MAX_RECORD_BYTES, record_bytes
from casehub.schemas import HUB_WRITTEN
from casehub.schemas.codec import STRUCTURED_CONTENT_TYPE, WireRecord, decode, encode_binary
from casehub.schemas.exceptions import DecodeError, EncodeError, EventInvalid, FieldError
from casehub.schemas.models import CaseEvent, parse_event
from casehub.schemas.validation import validate_event
from casehub.streams.keys import shard_of_case

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
JSON_TYPES = ("application/json", STRUCTURED_CONTENT_TYPE, BATCH_CONTENT_TYPE)
BINARY_PREFIX = "ce-"
BINARY_REQUIRED = ("specversion", "id", "source", "type")
Status = Literal["accepted", "already_submitted"]
Shape = Literal["one", "batch", "either"]
MISSING_TYPE = ("is missing: a plain event body names its event type in `type`; a CloudEvent names it in `type` "
                "(structured mode) or the ce-type header (binary mode)")


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """One thing wrong with item ``index`` of the request (0 for a single event)."""

    index: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """A valid event, its binary-mode record for the inbound topic and a fingerprint of its content."""

    index: int
    event: CaseEvent
    record: WireRecord
    fingerprint: str


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


def read_items(body: bytes, content_type: str | None, *, max_batch: int, shape: Shape = "either") -> list[Any]:
    """The JSON items of a request: one event (object) or a batch (array); raises RequestInvalid.

    ``shape`` is what the route takes: ``one`` event, a ``batch``, or ``either`` (POST /v1/events, which has
    always taken both).
    """
    kind = media_type(content_type)
    if kind not in JSON_TYPES:
        raise RequestInvalid(f"unsupported media type {kind!r}; send JSON ({', '.join(JSON_TYPES)})", status=415)
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestInvalid(f"the body is not UTF-8 JSON: {exc}") from exc
    if isinstance(document, dict):
        if kind == BATCH_CONTENT_TYPE:
            raise RequestInvalid(f"{BATCH_CONTENT_TYPE} is a JSON array of CloudEvents")
        if shape == "batch":
            raise RequestInvalid("a batch is a JSON array of events; send one event to POST /v1/events")
        return [document]
    if kind == STRUCTURED_CONTENT_TYPE:
        raise RequestInvalid(f"{STRUCTURED_CONTENT_TYPE} is one CloudEvent (a JSON object); send a batch as {BATCH_CONTENT_TYPE}")
    if not isinstance(document, list):
        raise RequestInvalid("the body must be one event (a JSON object) or a batch (a JSON array of events)")
    if shape == "one" and kind != BATCH_CONTENT_TYPE:
        raise RequestInvalid("one event is a JSON object; send a batch (a JSON array) to POST /v1/events/batch")
    if not document:
        raise RequestInvalid("the batch is empty")
    if len(document) > max_batch:
        raise RequestInvalid(f"the batch holds {len(document)} events; at most {max_batch} per request", status=413)
    return document


def is_binary_mode(headers: Mapping[str, str], content_type: str | None) -> bool:
    """Whether a request is a CloudEvent in HTTP binary mode: ce-specversion present, not a CloudEvents media type."""
    return BINARY_PREFIX + "specversion" in headers and media_type(content_type) == "application/json"


def binary_event(headers: Mapping[str, str], item: Any) -> dict[str, Any] | list[ItemProblem]:
    """The structured form of a binary-mode CloudEvent: attributes from the ``ce-*`` headers, ``data`` the body.

    Header values are percent-decoded (UTF-8), as the CloudEvents HTTP binding writes them.
    """
    if not isinstance(item, dict):
        return [ItemProblem(0, "", "in binary mode the body is the event's data: one JSON object")]
    attributes: dict[str, Any] = {}
    problems: list[ItemProblem] = []
    for name, value in headers.items():
        lowered = name.lower()
        if not lowered.startswith(BINARY_PREFIX) or lowered == BINARY_PREFIX + "datacontenttype":
            continue  # in binary mode Content-Type is the datacontenttype
        try:
            attributes[lowered.removeprefix(BINARY_PREFIX)] = unquote(value, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            problems.append(ItemProblem(0, lowered, "is not percent-encoded UTF-8"))
    problems += [ItemProblem(0, BINARY_PREFIX + name, "is required in binary mode (the CloudEvents HTTP binding)")
                 for name in BINARY_REQUIRED if not attributes.get(name)]
    if problems:
        return problems
    return {**attributes, "datacontenttype": "application/json", "data": item}


def _decoded(item: dict[str, Any]) -> CaseEvent:
    if "specversion" in item:  # a structured-mode CloudEvent; the body is its data
        data, subject = item.get("data"), item.get("subject")
        if isinstance(data, dict) and isinstance(subject, str) and data.get("case_id") is None:
            item = {**item, "data": {**data, "case_id": subject}}  # the CloudEvent's subject is the case id
        value = json.dumps(item, ensure_ascii=False).encode("utf-8")
        return decode(value, [("content-type", STRUCTURED_CONTENT_TYPE.encode())]).event
    return parse_event(item)


def _rule_problems(event: CaseEvent, now: datetime | None) -> list[FieldError]:
    if event.type in HUB_WRITTEN:
        return [FieldError("type", f"{event.type} is written by the hub only; partners may not send it")]
    problems: list[FieldError] = []
    try:
        validate_event(event, now=now)
    except EventInvalid as exc:
        problems += exc.errors
    if event.type == "case.reported" and event.case_id:
        problems.append(FieldError("case_id", "must be null on case.reported: the hub assigns case ids"))
    elif event.case_id and shard_of_case(event.case_id) is None:
        problems.append(FieldError("case_id", f"{event.case_id!r} is not a case id the hub issued (CASE-yyyymmdd-...)"))
    return problems


def prepare_item(
    index: int, item: Any, *, source: str, schema_base: str, now: datetime | None = None, structured_only: bool = False
) -> Prepared | list[ItemProblem]:
    """Validate one item and encode it for the inbound topic, or list what is wrong with it.

    ``schema_base`` is the hub's public URL, under which the record's ``ce_dataschema`` names its schema.
    """
    structured = isinstance(item, dict) and "specversion" in item
    prefix = "data." if structured else ""
    if not isinstance(item, dict):
        return [ItemProblem(index, "", f"an event is a JSON object, got {type(item).__name__}")]
    if structured_only and not structured:
        return [ItemProblem(index, "specversion", "is required in a CloudEvent; send plain event bodies as application/json")]
    if not structured and item.get("type") is None:
        return [ItemProblem(index, "type", MISSING_TYPE)]
    subject, data = item.get("subject"), item.get("data")
    if structured and isinstance(data, dict) and data.get("case_id") not in (None, subject) and subject is not None:
        return [ItemProblem(index, "subject", f"is the case id, and differs from data.case_id {data['case_id']!r}")]
    try:
        event = _decoded(item)
    except EventInvalid as exc:
        return [ItemProblem(index, e.field, e.message) for e in exc.errors]
    except DecodeError as exc:
        if exc.errors:
            return [ItemProblem(index, prefix + e.field, e.message) for e in exc.errors]
        return [ItemProblem(index, "", exc.message)]
    problems = _rule_problems(event, now)
    if problems:
        return [ItemProblem(index, e.field, e.message) for e in problems]
    # what the hub fills in is not the partner's to set (the pipeline clears it too)
    event = event.model_copy(update={"subject_token": None, "enrichment": None})
    try:
        record = encode_binary(event, source=source, schema_base=schema_base)
    except EncodeError as exc:
        return [ItemProblem(index, "", exc.message)]
    size = record_bytes(record.key, record.value, record.headers)
    if size > MAX_RECORD_BYTES:
        return [ItemProblem(index, "", f"the event is {size} bytes once encoded; the hub takes events of at most "
                                       f"{MAX_RECORD_BYTES} bytes (shorten the free text)")]
    return Prepared(index, event, record, hashlib.sha256(record.value).hexdigest())


def prepare(
    items: Iterable[Any], *, org: str, schema_base: str, now: datetime | None = None, content_type: str | None = None
) -> tuple[list[Prepared], list[ItemProblem]]:
    """Every item checked (none is skipped after a failure), and ids that repeat within the request flagged.

    Under the CloudEvents media types every item must be a structured CloudEvent; under application/json
    each item may be either a CloudEvent or a plain event body.
    """
    structured_only = media_type(content_type) in (STRUCTURED_CONTENT_TYPE, BATCH_CONTENT_TYPE)
    source = topics.event_source(org)
    ready: list[Prepared] = []
    problems: list[ItemProblem] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        outcome = prepare_item(index, item, source=source, schema_base=schema_base, now=now,
                               structured_only=structured_only)
        if isinstance(outcome, list):
            problems += outcome
            continue
        earlier = first_index.setdefault(outcome.event.id, index)
        if earlier != index:
            problems.append(ItemProblem(index, "id", f"repeats the id of item {earlier}; every event needs its own id"))
            continue
        ready.append(outcome)
    return ready, problems


class RecentIds:
    """The (partner, event id) pairs this gateway wrote lately and a fingerprint of each event's content.

    A repeat with the same content is answered ``already_submitted`` without a second write; the same
    id with different content is refused, because the pipeline would drop it as a duplicate.
    After a restart this memory is empty, and the pipeline's (source, id) dedupe drops the repeat.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], str] = OrderedDict()

    def classify(self, org: str, prepared: Prepared) -> Literal["new", "repeat", "conflict"]:
        """Whether ``prepared`` is new, a repeat of a written event, or a different event reusing its id."""
        known = self._seen.get((org, prepared.event.id))
        if known is None:
            return "new"
        self._seen.move_to_end((org, prepared.event.id))
        return "repeat" if known == prepared.fingerprint else "conflict"

    def remember(self, org: str, written: Iterable[Prepared]) -> None:
        """Record events Kafka acknowledged."""
        for prepared in written:
            self._seen[(org, prepared.event.id)] = prepared.fingerprint
            self._seen.move_to_end((org, prepared.event.id))
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
