"""``casehub schemas``: list, show and check the event contract; validate event files; freeze and generate."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from casehub.schemas.codec import decode
from casehub.schemas.compatibility import check_all
from casehub.schemas.exceptions import DecodeError, EventInvalid, FieldError, SchemaChanged
from casehub.schemas.generate import GENERATED, render_models
from casehub.schemas.loader import (
    EVENT_TYPES,
    HUB_WRITTEN,
    freeze,
    history_versions,
    raw_schema,
    schema_id,
    schema_version,
)
from casehub.schemas.markings import field_markings
from casehub.schemas.validation import validate_event

_TYPE = click.Choice(EVENT_TYPES)


@click.group()
def schemas() -> None:
    """The case event contract: Avro schemas, versions, personal-data markings."""


@schemas.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_types(as_json: bool) -> None:
    """Every event type with its current version and schema id."""
    for event_type in EVENT_TYPES:
        row = {
            "type": event_type,
            "version": schema_version(event_type),
            "schema_id": schema_id(event_type),
            "versions": history_versions(event_type),
            "written_by": "hub" if event_type in HUB_WRITTEN else "partners",
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(f"{event_type:<20} v{row['version']}  {row['schema_id']:<45} {row['written_by']}")


@schemas.command("show")
@click.argument("event_type", type=_TYPE)
def show(event_type: str) -> None:
    """The self-contained Avro schema of EVENT_TYPE (what is on the wire), as JSON."""
    click.echo(json.dumps(raw_schema(event_type), ensure_ascii=False, indent=2))


@schemas.command("markings")
@click.argument("event_type", type=_TYPE)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def markings(event_type: str, as_json: bool) -> None:
    """The markings of EVENT_TYPE's fields: pii, sensitivity, format, and disclose (level → rule)."""
    for marking in field_markings(event_type):
        if as_json:
            click.echo(json.dumps(asdict(marking)))
        else:
            flags = [f"{k}={v}" for k, v in asdict(marking).items() if k not in ("path", "disclose") and v]
            sent = ", ".join(f"{level}: {rule}" for level, rule in marking.disclose) or "sent to nobody"
            click.echo(f"{marking.path:<32} [{sent}] {' '.join(flags)}".rstrip())


def _problems(path: Path) -> list[FieldError]:
    try:
        decoded = decode(path.read_bytes(), [("content-type", b"application/cloudevents+json")])
        validate_event(decoded.event)
    except DecodeError as exc:
        return exc.errors or [FieldError("", exc.message)]
    except EventInvalid as exc:
        return exc.errors
    return []


@schemas.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check JSON CloudEvent FILES against the contract and its domain rules; exit 1 if any is invalid."""
    failed = 0
    for path in files:
        problems = _problems(path)
        failed += bool(problems)
        if as_json:
            click.echo(json.dumps({"file": str(path), "valid": not problems, "errors": [e.as_dict() for e in problems]},
                                  ensure_ascii=False))
        elif problems:
            click.echo(f"{path}: invalid")
            for problem in problems:
                click.echo(f"  {problem.field or '(record)'}: {problem.message}")
        else:
            click.echo(f"{path}: ok")
    if failed:
        raise SystemExit(1)


@schemas.command("check")
def check() -> None:
    """Every version pair compatible both ways (Apache avro), current schemas frozen, models generated."""
    problems = check_all()
    if GENERATED.read_text(encoding="utf-8") != render_models():
        problems.append("casehub/schemas/_generated.py is stale: run `casehub schemas generate`")
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {len(EVENT_TYPES)} event types, every version pair backward and forward compatible")


@schemas.command("freeze")
def freeze_all() -> None:
    """Write each current schema to avsc/history/<type>/v<N>.avsc (refuses a changed schema without a new version)."""
    for event_type in EVENT_TYPES:
        try:
            path = freeze(event_type)
        except SchemaChanged as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{event_type} v{schema_version(event_type)} -> {path}")


@schemas.command("generate")
def generate() -> None:
    """Regenerate the pydantic models (_generated.py) from the .avsc files."""
    GENERATED.write_text(render_models(), encoding="utf-8")
    click.echo(f"wrote {GENERATED}")
