"""``ce_dataschema``: the URL of the schema a record's data follows, served by the gateway under ``/v1/schemas``.

A binary-mode (Avro) record names the Avro schema it was written with, ``<base>/v1/schemas/<type>/v<N>``; a JSON
rendition (structured mode, SSE, webhooks) names the JSON Schema of its data, the same URL plus ``/json-schema``.
``<base>`` is the hub's public URL (``Settings.public_base_url``). Readers take the event type and version from
the path and never fetch it, so any base is accepted, as are the ``urn:casehub:schema:<type>:v<N>`` names records
written before the URLs still carry.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from casehub.schemas.exceptions import UnknownEventType
from casehub.schemas.loader import check_event_type, schema_version

SCHEMAS_PATH = "/v1/schemas"
JSON_SCHEMA_SUFFIX: Final = "json-schema"
Rendition = Literal["avro", "json-schema"]

_TYPE = r"(?P<type>[a-z_]+\.[a-z_]+)"
_URL = re.compile(rf"^https?://[^/?#]+(?:/[^?#]*)?{SCHEMAS_PATH}/{_TYPE}/v(?P<version>\d+)(?:/{JSON_SCHEMA_SUFFIX})?/?$")
_LEGACY_URN = re.compile(rf"^urn:casehub:schema:{_TYPE}:v(?P<version>\d+)$")


def schema_path(event_type: str, version: int | None = None, *, rendition: Rendition = "avro") -> str:
    """``/v1/schemas/case.reported/v3`` (Avro) or ``/v1/schemas/case.reported/v3/json-schema``; default: current version."""
    check_event_type(event_type)
    path = f"{SCHEMAS_PATH}/{event_type}/v{schema_version(event_type) if version is None else version}"
    return f"{path}/{JSON_SCHEMA_SUFFIX}" if rendition == JSON_SCHEMA_SUFFIX else path


def avro_schema_url(base: str, event_type: str, version: int | None = None) -> str:
    """The ``ce_dataschema`` of an Avro record: where its writer schema is served."""
    return base.rstrip("/") + schema_path(event_type, version)


def json_schema_url(base: str, event_type: str, version: int | None = None) -> str:
    """The ``dataschema`` of a JSON rendition: where the JSON Schema of its ``data`` is served."""
    return base.rstrip("/") + schema_path(event_type, version, rendition=JSON_SCHEMA_SUFFIX)


def parse_dataschema(uri: str) -> tuple[str, int]:
    """The event type and version a ``dataschema`` names: a casehub schema URL of either rendition, on any host, or
    the older ``urn:casehub:schema:<type>:v<N>``; raises UnknownEventType otherwise."""
    text = uri.strip()
    found = _URL.match(text) or _LEGACY_URN.match(text)
    if not found:
        raise UnknownEventType(
            f"{uri!r} is not a casehub schema URL",
            hint=f"expected <hub URL>{SCHEMAS_PATH}/<event type>/v<version> (or .../{JSON_SCHEMA_SUFFIX})",
        )
    event_type, version = found.group("type"), int(found.group("version"))
    check_event_type(event_type)
    return event_type, version
