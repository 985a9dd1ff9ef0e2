"""``casehub topics``: create and list the topics the partner registry implies."""

from __future__ import annotations

import json

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.ops.topic_plan import TopicSpec
from casehub.ops.topics import CREATED, WOULD_CREATE, TopicState, apply_topics, list_topics
from casehub.registry import load_registry


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@click.group()
def topics() -> None:
    """Provision the topics the partner registry implies: inbound and outbound per partner, and the hub's own."""


@topics.command("apply")
@click.option("--dry-run", is_flag=True, help="Say what would be created or changed; change nothing.")
@click.option("--alter-configs", is_flag=True, help="Also set planned configs that differ on existing topics.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def apply(dry_run: bool, alter_configs: bool, as_json: bool) -> None:
    """Create every missing topic (idempotent); raise too-low partition counts; report differences."""
    settings = _settings()
    report = apply_topics(settings, load_registry(settings), dry_run=dry_run, alter_configs=alter_configs)
    if as_json:
        document = {**report.summary(), "topics": [r.as_dict() for r in report.results]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    for result in report.results:
        if result.status in (CREATED, WOULD_CREATE):
            click.echo(f"{result.status:<13} {result.name} ({result.planned_partitions} partition(s))")
        for difference in result.differences:
            click.echo(f"{'differs':<13} {result.name}: {difference}")
        if result.partitions_increased:
            click.echo(f"{'grown':<13} {result.name}: partitions now {result.partitions}")
        if result.configs_altered:
            click.echo(f"{'altered':<13} {result.name}: planned configs set")
    summary = report.summary()
    verb = "would create" if dry_run else "created"
    click.echo(
        f"{summary['planned']} topics planned: {summary['created'] or summary['would_create']} {verb}, "
        f"{summary['present']} present, {summary['differing']} differ from the plan; "
        f"replication {report.replication} on {report.brokers} broker(s); {report.seconds:.1f} s"
    )


def _row(spec: TopicSpec, state: TopicState | None) -> dict[str, object]:
    return {
        "name": spec.name,
        "present": state is not None,
        "partitions": state.partitions if state else None,
        "planned_partitions": spec.partitions,
        "replication": state.replication if state else None,
        "configs": state.configs if state else None,
        "planned_configs": dict(spec.configs),
        "purpose": spec.purpose,
    }


@topics.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list topics the registry does not imply.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(show_all: bool, as_json: bool) -> None:
    """List the planned topics: present or missing, partitions, cleanup policy and retention."""
    settings = _settings()
    plan, states, others = list_topics(settings, load_registry(settings))
    rows = [_row(spec, states.get(spec.name)) for spec in plan]
    if as_json:
        document: dict[str, object] = {"topics": rows}
        if show_all:
            document["unplanned"] = others
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    width = max(len(spec.name) for spec in plan)
    click.echo(f"{'TOPIC':<{width}}  {'STATE':<8} {'PARTS':>5}  {'CLEANUP':<8} RETENTION.MS")
    for spec in plan:
        state = states.get(spec.name)
        configs = state.configs if state else spec.configs
        parts = str(state.partitions) if state else f"({spec.partitions})"
        click.echo(
            f"{spec.name:<{width}}  {'present' if state else 'MISSING':<8} {parts:>5}  "
            f"{configs.get('cleanup.policy', '-'):<8} {configs.get('retention.ms', '-')}"
        )
    missing = sum(1 for spec in plan if spec.name not in states)
    click.echo(f"{len(plan)} planned, {len(plan) - missing} present, {missing} missing")
    if show_all:
        for name in others:
            click.echo(f"{name:<{width}}  unplanned")
