"""``casehub asyncapi`` (the whole hub) and ``casehub partners asyncapi ORG`` (one partner): AsyncAPI 3.0 documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings

# the document modules import the schema models: they load only when a document is written, so the verbs that
# share the `partners` group stay quick


def _options(command: Any) -> Any:
    command = click.option("--brokers", type=click.IntRange(min=1), default=None,
                           help="Describe a cluster of N brokers (replicas follow the topic plan) without asking it; "
                           "default: ask the cluster.")(command)
    command = click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None,
                           help="Default: json if --out ends in .json, else yaml.")(command)
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write the document here instead of standard output.")(command)


def _brokers(settings: Settings, given: int | None) -> int:
    """``--brokers``, else the number of brokers the cluster reports."""
    if given is not None:
        return given
    from casehub.connectors.asyncapi.exceptions import AsyncApiUnavailable
    from casehub.core.errors import HubError
    from casehub.ops.topics import admin_client, broker_count

    try:
        with admin_client(settings) as client:
            return broker_count(client)
    except HubError as exc:  # unreachable, or no credentials to ask with
        offline = "pass --brokers N to describe a cluster of N brokers without asking it"
        raise AsyncApiUnavailable(f"cannot ask the cluster how many brokers it has: {exc.message}",
                                  hint=f"{exc.hint}; or {offline}" if exc.hint else offline) from exc


def _emit(document: dict[str, Any], out: Path | None, fmt: str | None) -> None:
    from casehub.connectors.asyncapi.base import render

    chosen = fmt or ("json" if out is not None and out.suffix == ".json" else "yaml")
    text = render(document, "json" if chosen == "json" else "yaml")
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    messages = len(document["components"]["messages"])
    addresses = ", ".join(channel["address"] for channel in document["channels"].values())
    click.echo(f"wrote {out} (AsyncAPI {document['asyncapi']}, {chosen}, {len(text):,} bytes): "
               f"{len(document['channels'])} channel(s) {addresses}; {messages} message(s)")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@click.command("asyncapi")
@_options
def asyncapi(out: Path | None, fmt: str | None, brokers: int | None) -> None:
    """The AsyncAPI 3.0 document of the whole hub: partner topic families ({org}) and the hub's own topics."""
    from casehub.connectors.asyncapi.base import context
    from casehub.connectors.asyncapi.hub import hub_document
    from casehub.registry import load_registry

    settings = _settings()
    registry = load_registry(settings)
    _emit(hub_document(context(settings, registry, brokers=_brokers(settings, brokers))), out, fmt)


@click.command("asyncapi")
@click.argument("org")
@_options
def partner_asyncapi(org: str, out: Path | None, fmt: str | None, brokers: int | None) -> None:
    """The AsyncAPI 3.0 document of partner ORG: its inbound and outbound topics, messages, servers and security."""
    from casehub.connectors.asyncapi.base import context
    from casehub.connectors.asyncapi.partner import partner_document
    from casehub.registry import load_registry

    settings = _settings()
    registry = load_registry(settings)
    registry.get(org)  # an unknown org fails before the cluster is asked anything
    _emit(partner_document(context(settings, registry, brokers=_brokers(settings, brokers)), org), out, fmt)
