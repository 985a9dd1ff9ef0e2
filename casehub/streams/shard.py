"""The intake hop's only look inside an inbound record: the shard it belongs to, without decoding or validating it.

Records are decoded and validated once, in the core hop (``validate.accept``). Intake only needs the shard
that keeps a subject's and a case's events in one partition: a follow-up's from its ``ce_subject`` (a hub
case id, or the case reference a pseudonymised partner was given), a report's from its subject's id, read
out of the Avro or JSON value without building the event. This never fails: a record intake cannot read
gets a shard from its id or bytes and goes on to the core hop, which dead-letters it with its reason; a
record whose shard intake got wrong (a ``ce_subject`` that is not its case id) the core hop forwards to the
right shard (see ``dedupe.shard_for``, the shard of a decoded event, which decides).
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import fastavro
import orjson

from casehub.schemas.codec import STRUCTURED_CONTENT_TYPE
from casehub.schemas.dataschema import parse_dataschema
from casehub.schemas.loader import writer_schema
from casehub.streams.dlq import Origin
from casehub.streams.keys import other_id_token, shard_of_case, shard_of_text, shard_of_token, subject_token
from casehub.streams.pseudonyms import Pseudonyms
from casehub.vault.scopes import case_scope, record_scope, subject_scope


def shard_of_record(origin: Origin, *, org: str | None, pseudonym_key: bytes, pseudonyms: Pseudonyms | None) -> str:
    """The shard of an inbound record as the core hop will find it for its event (almost always; see the module)."""
    return placement_of_record(origin, org=org, pseudonym_key=pseudonym_key, pseudonyms=pseudonyms)[0]


def placement_of_record(origin: Origin, *, org: str | None, pseudonym_key: bytes,
                        pseudonyms: Pseudonyms | None) -> tuple[str, str]:
    """``(shard, vault scope)`` of an inbound record: the scope of the data key its copies are sealed under (the
    subject's token, else the case it names, else the record itself)."""
    headers = {name.lower(): value for name, value in origin.headers}
    value = origin.value or b""
    try:
        if _structured(headers.get("content-type"), value):
            fields = _structured_fields(value)
        else:
            case_id = _case_id(_text(headers.get("ce_subject")), org, pseudonyms)
            case_shard = shard_of_case(case_id) if case_id is not None else None
            if case_id is not None and case_shard is not None:
                return case_shard, case_scope(case_id)  # a follow-up: its case says all, no need to decode
            fields = _binary_fields(value, headers)
    except Exception:  # noqa: BLE001 - unreadable here is the core hop's to report, with its reason
        fields = {"id": _text(headers.get("ce_id"))}
    return _shard(fields, org=org, pseudonym_key=pseudonym_key, pseudonyms=pseudonyms, value=value)


def _text(raw: bytes | None) -> str | None:
    try:
        return raw.decode() if raw else None
    except UnicodeDecodeError:
        return None


def _structured(content_type: bytes | None, value: bytes) -> bool:
    """The codec's rule: the content type decides; without one, a JSON object is structured mode."""
    if content_type is None:
        return value.lstrip()[:1] == b"{"
    return content_type.split(b";", 1)[0].strip().lower() == STRUCTURED_CONTENT_TYPE.encode()


def _case_id(case_id: str | None, org: str | None, pseudonyms: Pseudonyms | None) -> str | None:
    """The hub case id a record names (a hub case id, or a reference the sender was given), else None."""
    if not case_id:
        return None
    if org is not None and pseudonyms is not None and Pseudonyms.is_reference("case", case_id):
        return pseudonyms.reveal(org, "case", case_id)
    return case_id if shard_of_case(case_id) is not None else None


def _structured_fields(value: bytes) -> dict[str, Any]:
    document = orjson.loads(value)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        return {"id": document.get("id") if isinstance(document, dict) else None}
    return {"id": document.get("id"), "case_id": data.get("case_id"), "subject": data.get("subject")}


def _binary_fields(value: bytes, headers: dict[str, bytes]) -> dict[str, Any]:
    event_type, version = parse_dataschema(_text(headers.get("ce_dataschema")) or "")
    data = fastavro.schemaless_reader(io.BytesIO(value), writer_schema(event_type, version), None)
    if not isinstance(data, dict):
        return {"id": _text(headers.get("ce_id"))}
    return {"id": _text(headers.get("ce_id")), "case_id": data.get("case_id"), "subject": data.get("subject")}


def _shard(fields: dict[str, Any], *, org: str | None, pseudonym_key: bytes, pseudonyms: Pseudonyms | None,
           value: bytes) -> tuple[str, str]:
    """``dedupe.shard_for`` on the few fields read: the case's shard, else the subject's, else the event id's; and
    the vault scope: the subject's token, else the case's, else the record's own."""
    token = None
    subject = fields.get("subject")
    if isinstance(subject, dict):
        citizen_id, other_id = subject.get("citizen_id"), subject.get("other_id")
        if isinstance(citizen_id, str) and citizen_id:
            token = subject_token(pseudonym_key, citizen_id)
        elif isinstance(other_id, str) and other_id:
            token = other_id_token(pseudonym_key, other_id)
    case_id = fields.get("case_id")
    case_id = _case_id(case_id, org, pseudonyms) if isinstance(case_id, str) else None
    case_shard = shard_of_case(case_id) if case_id is not None else None
    if token is not None:
        return case_shard or shard_of_token(token), subject_scope(token)
    if case_id is not None and case_shard is not None:
        return case_shard, case_scope(case_id)
    event_id = fields.get("id")
    if isinstance(event_id, str) and event_id:
        return shard_of_text(event_id), record_scope(f"{org}:{event_id}")
    digest = hashlib.sha256(value).hexdigest()
    return digest[:2].upper(), record_scope(digest)
