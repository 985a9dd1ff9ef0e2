"""The published contract: one self-contained Avro schema and one JSON Schema per event type and version.

``published/<type>/v<N>.avsc`` parses on its own in any Avro library (every named type is defined where it is first
used); ``published/<type>/v<N>.schema.json`` is the JSON Schema of the same version's JSON form. The current
version comes from the sources (``loader.raw_schema``), older ones from ``avsc/history``. They are written by
``casehub schemas generate``; ``casehub schemas check`` and a test fail when a committed file differs from a fresh
rendering. The gateway serves these files at the URLs records carry in ``ce_dataschema``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from casehub.schemas.dataschema import JSON_SCHEMA_SUFFIX, Rendition
from casehub.schemas.exceptions import UnknownEventType
from casehub.schemas.json_schema import json_schema
from casehub.schemas.loader import (
    EVENT_TYPES,
    check_event_type,
    history_schema,
    history_versions,
    raw_schema,
    schema_version,
)

PUBLISHED_DIR = Path(__file__).parent / "published"
_SUFFIXES: dict[Rendition, str] = {"avro": ".avsc", JSON_SCHEMA_SUFFIX: ".schema.json"}


def published_versions(event_type: str) -> list[int]:
    """Every version of ``event_type`` a record may have been written with: the frozen ones and the current one."""
    return sorted({*history_versions(event_type), schema_version(event_type)})


def avro_document(event_type: str, version: int) -> dict[str, Any]:
    """The self-contained Avro schema of ``event_type`` at ``version``, docs and markings included."""
    if version == schema_version(event_type):
        return raw_schema(event_type)
    return history_schema(event_type, version)


def published_path(event_type: str, version: int, rendition: Rendition = "avro") -> Path:
    """Where the published file of ``event_type`` ``version`` in ``rendition`` lives."""
    return PUBLISHED_DIR / event_type / f"v{version}{_SUFFIXES[rendition]}"


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_published() -> dict[Path, str]:
    """Every published file (path → text) as the sources and history give it now."""
    files: dict[Path, str] = {}
    for event_type in EVENT_TYPES:
        for version in published_versions(event_type):
            avro = avro_document(event_type, version)
            files[published_path(event_type, version)] = _text(avro)
            files[published_path(event_type, version, JSON_SCHEMA_SUFFIX)] = _text(json_schema(avro))
    return files


def _committed() -> set[Path]:
    return {path for path in PUBLISHED_DIR.glob("*/*") if path.is_file()}


def write_published() -> list[Path]:
    """Write every published file and delete any the contract no longer has; returns the paths written."""
    files = render_published()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for path in _committed() - files.keys():
        path.unlink()
    return sorted(files)


def stale_published() -> list[str]:
    """What differs between the committed published files and a fresh rendering; empty when they agree."""
    files = render_published()
    problems = [f"{path.relative_to(PUBLISHED_DIR)}: missing" for path in files if not path.exists()]
    problems += [f"{path.relative_to(PUBLISHED_DIR)}: differs from the sources" for path, text in files.items()
                 if path.exists() and path.read_text(encoding="utf-8") != text]
    problems += [f"{path.relative_to(PUBLISHED_DIR)}: not part of the contract" for path in _committed() - files.keys()]
    return [f"casehub/schemas/published/{p} (run `casehub schemas generate`)" for p in sorted(problems)]


def published_text(event_type: str, version: int, rendition: Rendition = "avro") -> str:
    """The committed published file of ``event_type`` ``version``; raises UnknownEventType if there is none."""
    check_event_type(event_type)
    path = published_path(event_type, version, rendition)
    if not path.exists():
        raise UnknownEventType(
            f"{event_type} has no schema version {version}", hint=f"published versions: {published_versions(event_type)}"
        )
    return path.read_text(encoding="utf-8")
