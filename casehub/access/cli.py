"""``casehub access`` and the partner credential verbs: users and ACLs from the registry; a partner's way in."""

from __future__ import annotations

import json
from pathlib import Path

import click

from casehub.access.acls import MANAGED_SERVICES
from casehub.access.apply import apply_access, set_partner_password
from casehub.access.exceptions import CredentialsRefused
from casehub.access.tls import issue_client_certificate, tls_files
from casehub.core.kafka_connection import local_ca_file, mtls_bootstrap, partner_bootstrap
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry import Registry, load_registry


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@click.group()
def access() -> None:
    """Kafka principals and ACLs, generated from the partner registry (see casehub/ops/README.md)."""


@access.command("apply")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def apply(dry_run: bool, as_json: bool) -> None:
    """Create hub service users and every ACL the registry implies; remove those of partners no longer in it."""
    settings = _settings()
    registry = load_registry(settings)
    report = apply_access(settings, registry, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=1))
        return
    verb = "would " if dry_run else ""
    for user in report.users_created:
        click.echo(f"{verb}create user  {user}")
    for user in report.users_removed:
        click.echo(f"{verb}remove user  {user}")
    for grant in report.acls_added[:20]:
        click.echo(f"{verb}allow        {grant.describe()}")
    for grant in report.acls_removed[:20]:
        click.echo(f"{verb}revoke       {grant.describe()}")
    hidden = max(0, len(report.acls_added) - 20) + max(0, len(report.acls_removed) - 20)
    if hidden:
        click.echo(f"... and {hidden} more (--json lists all)")
    click.echo(f"{report.acls_total} ACLs planned for {report.partners} partners and {len(MANAGED_SERVICES)} hub services: "
               f"{len(report.acls_added)} {'would be ' if dry_run else ''}added, "
               f"{len(report.acls_removed)} {'would be ' if dry_run else ''}removed; "
               f"{report.seconds:.1f} s")


def _partner(registry: Registry, org: str) -> None:
    if org not in registry.partners:
        raise CredentialsRefused(f"{org} is not in the partner registry ({registry.source})",
                                 hint="add it to the registry, then `casehub topics apply` and `casehub access apply`")


@click.command("credentials")
@click.argument("org")
@click.option("--rotate", is_flag=True, help="Issue a new password; the old one stops working at once.")
@click.option("--json", "as_json", is_flag=True, help="The JSON a partner's client (or the SDK) loads.")
def credentials(org: str, rotate: bool, as_json: bool) -> None:
    """Print, once, what partner ORG needs to connect to Kafka: its SCRAM user and password, the bootstrap and the CA."""
    settings = _settings()
    registry = load_registry(settings)
    _partner(registry, org)
    if registry.partners[org].auth == "mtls":
        raise CredentialsRefused(f"{org} authenticates with a client certificate (auth: mtls)",
                                 hint=f"`casehub partners certificate {org}` issues one")
    password = set_partner_password(settings, org, rotate=rotate)
    ca = local_ca_file(settings)
    document = {
        "org": org, "username": org, "password": password, "bootstrap": partner_bootstrap(settings),
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "ca_pem": ca.read_text() if ca else "",
    }
    if as_json:
        click.echo(json.dumps(document))
        return
    click.echo(f"Kafka credentials of {org} (shown once; casehub keeps only the salted hash):")
    for key in ("username", "password", "bootstrap", "security_protocol", "sasl_mechanism"):
        click.echo(f"  {key:<18} {document[key]}")
    click.echo(f"  {'ca':<18} {ca}")
    click.echo(f"Consumer groups must start with '{org}.'.")


@click.command("certificate")
@click.argument("org")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the key and certificate chain (PEM); default ./<org>.pem.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def certificate(org: str, out: Path | None, as_json: bool) -> None:
    """Issue partner ORG (auth: mtls) a client certificate CN=<org> from the hub's CA; the key is written once, to --out."""
    settings = _settings()
    registry = load_registry(settings)
    _partner(registry, org)
    if registry.partners[org].auth != "mtls":
        raise CredentialsRefused(f"{org} authenticates with SCRAM (the registry says auth: scram)",
                                 hint=f"set `auth: mtls` for {org} in the registry, or use `casehub partners credentials {org}`")
    path = issue_client_certificate(tls_files(settings.home), org, out or Path(f"{org}.pem"))
    document = {"org": org, "certificate_file": str(path),
                "bootstrap": mtls_bootstrap(settings),
                "security_protocol": "SSL", "ca_pem": tls_files(settings.home).ca_cert.read_text()}
    if as_json:
        click.echo(json.dumps(document))
        return
    click.echo(f"client certificate of {org} (CN={org}) written to {path}: key and chain, keep it secret")
    click.echo(f"  bootstrap (mTLS)   {document['bootstrap']}")
