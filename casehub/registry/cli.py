"""``casehub partners``: show the partner registry (issue 5 adds ``partners key``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from casehub.connectors.asyncapi.cli import partner_asyncapi
from casehub.connectors.gateway.keys_cli import key_command
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry.exceptions import RegistryInvalid
from casehub.registry.loader import load_registry
from casehub.registry.model import Jurisdiction, Partner, PartnerKind, Subscription
from casehub.registry.registry import Registry


def _registry() -> Registry:
    settings = Settings()
    configure_logging(settings.log_level)
    return load_registry(settings)


def jurisdiction_json(area: Jurisdiction) -> str | dict[str, list[str]]:
    """A jurisdiction as it is written in the YAML: ``"national"`` or the non-empty area lists."""
    if area.national:
        return "national"
    return {
        field: list(codes)
        for field, codes in (("provinces", area.provinces), ("amphoes", area.amphoes), ("tambons", area.tambons))
        if codes
    }


def partner_json(partner: Partner) -> dict[str, Any]:
    """One partner as plain JSON data."""
    return {
        "id": partner.id,
        "kind": partner.kind.value,
        "name": {"th": partner.name.th, "en": partner.name.en},
        "jurisdiction": jurisdiction_json(partner.jurisdiction),
        "disclosure": partner.disclosure.value,
        "subscriptions": [
            {"event_types": list(rule.event_types), "issue_categories": list(rule.issue_categories)}
            for rule in partner.subscriptions
        ],
        "sensitive_access": sorted(partner.sensitive_access),
        "webhook_url": partner.webhook_url,
        "partitions": partner.partitions,
    }


def _rule_text(rule: Subscription) -> str:
    return f"{','.join(rule.event_types)} [{','.join(rule.issue_categories)}]"


def _subscriptions_text(partner: Partner) -> str:
    return "; ".join(_rule_text(rule) for rule in partner.subscriptions) or "-"


@click.group()
def partners() -> None:
    """The partner registry: which organisations exist, what they receive and how much personal detail."""


partners.add_command(key_command)  # `casehub partners key ORG`: API keys of the HTTP gateway (issue 5)
partners.add_command(partner_asyncapi)  # `casehub partners asyncapi ORG`: its AsyncAPI 3.0 document


@partners.command("list")
@click.option("--kind", type=click.Choice([k.value for k in PartnerKind]), default=None, help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_partners(kind: str | None, as_json: bool) -> None:
    """List partners: id, kind, name, jurisdiction, disclosure, subscriptions."""
    registry = _registry()
    chosen = sorted(registry.partners.values(), key=lambda p: p.id)
    if kind is not None:
        chosen = [p for p in chosen if p.kind.value == kind]
    if as_json:
        document = {
            "version": registry.version,
            "digest": registry.digest,
            "partners": [partner_json(p) for p in chosen],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    rows = [
        (p.id, p.kind.value, p.name.en, p.jurisdiction.describe(), p.disclosure.value, _subscriptions_text(p))
        for p in chosen
    ]
    header = ("ID", "KIND", "NAME", "JURISDICTION", "DISCLOSURE", "SUBSCRIPTIONS")
    widths = [min(48, max(len(row[i]) for row in [header, *rows])) for i in range(5)]
    for row in [header, *rows]:
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row[:5])]
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)) + "  " + row[5])
    click.echo(f"{len(rows)} partner(s); registry version {registry.version} ({registry.source})")


@partners.command("show")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_partner(org: str, as_json: bool) -> None:
    """Show one partner in full, with the responsible units of its tambons."""
    registry = _registry()
    partner = registry.get(org)
    if as_json:
        click.echo(json.dumps(partner_json(partner), ensure_ascii=False, indent=1))
        return
    click.echo(f"{partner.id}  ({partner.kind.value})")
    click.echo(f"  name          {partner.name.th}")
    click.echo(f"                {partner.name.en}")
    click.echo(f"  jurisdiction  {partner.jurisdiction.describe()}")
    click.echo(f"  disclosure    {partner.disclosure.value}")
    click.echo(f"  s26 access    {', '.join(sorted(partner.sensitive_access)) or '-'}")
    click.echo(f"  webhook       {partner.webhook_url or '-'}")
    if partner.partitions is not None:
        click.echo(f"  partitions    {partner.partitions} (inbound and outbound topics)")
    click.echo("  subscriptions")
    for rule in partner.subscriptions:
        click.echo(f"    - {_rule_text(rule)}")
    for tambon in partner.jurisdiction.tambons:
        shared = [lao for lao in registry.responsible_units(tambon).laos if lao != partner.id]
        if partner.kind is PartnerKind.LAO and shared:
            click.echo(f"  tambon {tambon} shared with {', '.join(shared)}")


@partners.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check_registry(path: Path | None, as_json: bool) -> None:
    """Validate a registry file (default: the configured one) before deploying it; exit 1 naming each wrong line."""
    settings = Settings()
    configure_logging(settings.log_level)
    if path is not None:
        settings = settings.model_copy(update={"registry_path": path})
    try:
        registry = load_registry(settings)
    except RegistryInvalid as exc:
        if not as_json:
            raise
        problems = [{"line": p.line, "path": p.path, "message": p.message} for p in exc.problems]
        click.echo(json.dumps({"ok": False, "source": exc.source, "problems": problems}, ensure_ascii=False, indent=1))
        raise SystemExit(1) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "source": registry.source,
                    "version": registry.version,
                    "partners": len(registry),
                    "digest": registry.digest,
                }
            )
        )
        return
    click.echo(
        f"ok: {registry.source}: version {registry.version}, {len(registry)} partners, sha256 {registry.digest[:12]}"
    )


def _register_access_verbs() -> None:
    """`partners credentials` and `partners certificate` live with the access package (they talk to the cluster)."""
    from casehub.access.cli import certificate, credentials

    partners.add_command(credentials)
    partners.add_command(certificate)


_register_access_verbs()
