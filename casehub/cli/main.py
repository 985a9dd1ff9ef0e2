"""The ``casehub`` entry point: a click group whose verbs live in their own modules and load on demand."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from casehub.core.errors import HubError

# verb -> "module:attribute"; each module owns its verb and imports its heavy dependencies itself
COMMANDS: dict[str, str] = {
    "access": "casehub.access.cli:access",
    "asyncapi": "casehub.connectors.asyncapi.cli:asyncapi",
    "audit": "casehub.audit.cli:audit",
    "broker": "casehub.broker.cli:broker",
    "gateway": "casehub.connectors.gateway.cli:gateway",
    "import": "casehub.connectors.csv_import.cli:import_csv",
    "dlq": "casehub.ops.dlq_cli:dlq",
    "lag": "casehub.ops.watch_cli:lag",
    "partners": "casehub.registry.cli:partners",
    "schemas": "casehub.schemas.cli:schemas",
    "status": "casehub.ops.watch_cli:status",
    "simulate": "casehub.connectors.simulator.cli:simulate",
    "subject": "casehub.rights.cli:subject",
    "replay": "casehub.connectors.replay.cli:replay",
    "tail": "casehub.ops.watch_cli:tail",
    "topics": "casehub.ops.cli:topics",
    "webhooks": "casehub.connectors.webhooks.cli:webhooks",
    "worker": "casehub.streams.cli:worker",
}


class LazyGroup(click.Group):
    """Loads a verb's module only when that verb runs, so `casehub broker up` never imports faust."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="casehub")
def cli() -> None:
    """casehub: case events between Thailand's social-assistance agencies, on Apache Kafka."""


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; a HubError becomes one line on stderr and exit status 1."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except HubError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
