"""``casehub schemas``: list, show and check the event contract; validate event files; freeze and generate."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.compatibility import check_all
from casehub.schemas.dataschema import JSON_SCHEMA_SUFFIX, Rendition, avro_schema_url, json_schema_url
from casehub.schemas.exceptions import DecodeError, EventInvalid, FieldError, SchemaChanged, UnknownEventType
from casehub.schemas.generate import GENERATED, render_models
from casehub.schemas.loader import EVENT_TYPES, HUB_WRITTEN, freeze, schema_version
from casehub.schemas.markings import field_markings
from casehub.schemas.publish import published_text, published_versions, stale_published, write_published
from casehub.schemas.validation import validate_event

_TYPE = click.Choice(EVENT_TYPES)


@click.group()
def schemas() -> None:
    """The case event contract: Avro schemas, versions, personal-data markings."""


@schemas.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_types(as_json: bool) -> None:
    """Every event type with its current version and the URLs of its schemas (CASEHUB_PUBLIC_URL + /v1/schemas/...)."""
    base = Settings().public_base_url()
    for event_type in EVENT_TYPES:
        row = {
            "type": event_type,
            "version": schema_version(event_type),
            "dataschema": avro_schema_url(base, event_type),
            "json_schema": json_schema_url(base, event_type),
            "versions": published_versions(event_type),
            "written_by": "hub" if event_type in HUB_WRITTEN else "partners",
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(f"{event_type:<20} v{row['version']}  {row['dataschema']:<60} {row['written_by']}")


@schemas.command("show")
@click.argument("event_type", type=_TYPE)
@click.option("--version", "version", type=int, default=None, help="A published version; default: the current one.")
@click.option("--json-schema", "as_json_schema", is_flag=True, help="The JSON Schema of the JSON form instead.")
def show(event_type: str, version: int | None, as_json_schema: bool) -> None:
    """The published, self-contained Avro schema of EVENT_TYPE (what is on the wire), as JSON."""
    rendition: Rendition = JSON_SCHEMA_SUFFIX if as_json_schema else "avro"
    try:
        text = published_text(event_type, schema_version(event_type) if version is None else version, rendition)
    except UnknownEventType as exc:
        raise click.ClickException(f"{exc.message} ({exc.hint})") from exc
    click.echo(text, nl=False)


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
    """Every version pair compatible both ways (Apache avro), current schemas frozen, models and published schemas
    generated."""
    problems = check_all()
    if GENERATED.read_text(encoding="utf-8") != render_models():
        problems.append("casehub/schemas/_generated.py is stale: run `casehub schemas generate`")
    problems += stale_published()
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
    """Regenerate the pydantic models (_generated.py) and the published schemas (published/) from the .avsc files."""
    GENERATED.write_text(render_models(), encoding="utf-8")
    click.echo(f"wrote {GENERATED}")
    written = write_published()
    click.echo(f"wrote {len(written)} published schemas under {written[0].parent.parent}")
