"""Header schemas: the CloudEvents Kafka binding (``ce_*``, binary mode) and the hub's own ``hub.*`` headers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from casehub.connectors.asyncapi.payloads import AVRO_CONTENT_TYPE, JSON_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE
from casehub.schemas.dataschema import SCHEMAS_PATH
from casehub.streams.dlq import HEADER_PREFIX as ERROR_PREFIX
from casehub.streams.project import DISCLOSURE_HEADER, HUB_SOURCE

REPLAY_PREFIX = "hub.replay."  # casehub.connectors.replay.targets (not imported: it pulls in the replay machinery)
REDRIVE_PREFIX = "hub.redrive."
CONTENT_TYPE = "content-type"


def literal(text: str) -> str:
    """``text`` as a regex that matches it literally, in the escapes ECMA-262's unicode mode accepts (not ``\\-``)."""
    return re.sub(r"([.^$|?*+()\[\]{}\\])", r"\\\1", text)


def _text(description: str, **rules: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **rules}


def _object(properties: dict[str, Any], required: Iterable[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def dataschema_pattern(event_type: str, versions: Iterable[int]) -> str:
    """The ``ce_dataschema`` values the hub reads for these versions: its schema URL on any host, or the older URN."""
    kind, numbers = literal(event_type), "|".join(str(v) for v in versions)
    return rf"^(https?://[^/?#]+(/[^?#]*)?{literal(SCHEMAS_PATH)}/{kind}/v({numbers})/?|urn:casehub:schema:{kind}:v({numbers}))$"


def _common(event_type: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "ce_specversion": _text("CloudEvents version.", const="1.0"),
        "ce_id": _text("Event id, the same as the payload's id; unique per source: a retry reuses it and the hub "
                       "drops the repeat.", minLength=1),
        "ce_type": _text("The event type, the same as the payload's type.", const=event_type),
        "ce_time": _text("When the event happened (the payload's occurred_at), RFC 3339.", format="date-time"),
        "ce_subject": subject,
    }


def partner_headers(event_type: str, *, org: str | None, versions: Iterable[int], dataschema: str,
                    subject: dict[str, Any]) -> dict[str, Any]:
    """What a partner's binary-mode record on its inbound topic carries (``org`` None: any partner)."""
    source = f"/partners/{org}" if org else "/partners/<org>"
    properties = {
        **_common(event_type, subject),
        "ce_source": _text(f"Write {source}. The hub does not read it: the source of an event is the topic it "
                           "arrived on, so only you can write as you.", examples=[source]),
        "ce_dataschema": _text(
            "The schema the value was written with: its URL, <hub URL>/v1/schemas/<type>/v<N> (GET it: Avro JSON). "
            "An earlier version of the type is accepted and read with the current one (Avro schema resolution).",
            pattern=dataschema_pattern(event_type, versions), examples=[dataschema]),
        CONTENT_TYPE: _text("Binary mode: the value is one Avro record, without a schema-registry prefix.",
                            const=AVRO_CONTENT_TYPE),
    }
    return _object(properties, ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_dataschema"))


def _sources(org: str | None) -> dict[str, Any]:
    examples = [f"/partners/{org}" if org else "/partners/hotline-1300", HUB_SOURCE]
    return _text("Who sent the event: /partners/<org>, the topic it arrived on; /hub for events the hub wrote (or, "
                 "at the pseudonymised level, a sender whose id names a tambon).", pattern=r"^/(partners/[^/]+|hub)$",
                 examples=examples)


def _replay_headers() -> dict[str, Any]:
    return {
        f"{REPLAY_PREFIX}id": _text("Present only on a replayed delivery (`casehub replay`): the replay's id."),
        f"{REPLAY_PREFIX}topic": _text("Replayed from this topic."),
        f"{REPLAY_PREFIX}partition": _text("Replayed from this partition.", pattern=r"^\d+$"),
        f"{REPLAY_PREFIX}offset": _text("Replayed from this offset.", pattern=r"^\d+$"),
    }


def delivered_headers(event_type: str, *, org: str | None, levels: Iterable[str], dataschema: str,
                      subject: dict[str, Any]) -> dict[str, Any]:
    """What the hub writes on a partner's outbound topic: binary mode, the disclosure level, replay provenance."""
    chosen = list(levels)
    level = {"const": chosen[0]} if len(chosen) == 1 else {"enum": chosen}
    properties = {
        **_common(event_type, subject),
        "ce_source": _sources(org),
        "ce_dataschema": _text("The URL of the Avro schema the value was written with (GET it: Avro JSON); the "
                               "hub writes the current version of the type.", examples=[dataschema]),
        DISCLOSURE_HEADER: _text("CloudEvents extension casehubdisclosure: the level the event was projected to; "
                                 "fields the level may not see are null or [withheld].", **level),
        CONTENT_TYPE: _text("Binary mode: one Avro record.", const=AVRO_CONTENT_TYPE),
        **_replay_headers(),
    }
    required = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_dataschema",
                DISCLOSURE_HEADER, CONTENT_TYPE)
    return _object(properties, required)


def canonical_headers(event_type: str, *, dataschema: str, subject: dict[str, Any]) -> dict[str, Any]:
    """What a ``cases.events`` record carries: binary mode, the source the hub established."""
    properties = {
        **_common(event_type, subject),
        "ce_source": _sources(None),
        "ce_dataschema": _text("The URL of the Avro schema the value was written with.", examples=[dataschema]),
        CONTENT_TYPE: _text("Binary mode: one Avro record.", const=AVRO_CONTENT_TYPE),
    }
    return _object(properties, ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
                                "ce_dataschema", CONTENT_TYPE))


def structured_headers() -> dict[str, Any]:
    """A structured-mode record's headers: only the content type."""
    properties = {CONTENT_TYPE: _text("Structured mode: the value is one JSON CloudEvent (a charset parameter is "
                                      "allowed).", pattern=rf"^{literal(STRUCTURED_CONTENT_TYPE)}(;.*)?$")}
    return _object(properties, (CONTENT_TYPE,))


def json_headers() -> dict[str, Any]:
    """Headers of the hub's JSON records (aggregates, audit)."""
    return _object({CONTENT_TYPE: _text("The value is JSON.", const=JSON_CONTENT_TYPE)}, ())


def dead_letter_headers() -> dict[str, Any]:
    """A dead letter's headers: the original ones, unchanged, then ``hub.error.*`` (casehub.streams.dlq)."""
    error = {
        "stage": _text("The stage that refused the record: validate, dedupe, enrich, authorize, core, command or webhook."),
        "reason": _text("Why, in words (at most 4000 bytes)."),
        "exception": _text("The error's class."),
        "topic": _text("The topic the record was read from."),
        "partition": _text("Its partition.", pattern=r"^\d+$"),
        "offset": _text("Its offset.", pattern=r"^\d+$"),
        "attempts": _text("How often it failed; a re-driven record that fails again comes back with one more.",
                          pattern=r"^\d+$"),
    }
    properties: dict[str, Any] = {f"{ERROR_PREFIX}{name}": schema for name, schema in error.items()}
    schema = _object(properties, list(properties))
    schema["additionalProperties"] = {"type": "string", "description": "The failed record's own headers, unchanged."}
    return schema


def redrive_marker_headers() -> dict[str, Any]:
    """A re-drive marker's headers (casehub.ops.dlq): which dead letter an operator sent back, under which re-drive."""
    properties = {
        f"{REDRIVE_PREFIX}of": _text("The partition:offset of the dead letter that was re-driven.",
                                     pattern=r"^\d+:\d+$"),
        f"{REDRIVE_PREFIX}id": _text("The re-drive's id (its hub.audit record names it too)."),
    }
    return _object(properties, list(properties))
