"""``casehub partners key ORG`` / ``--operator``: issue an API key (shown once), list or revoke keys."""

from __future__ import annotations

import json

import click

from casehub.connectors.gateway.exceptions import UnknownOrganisation
from casehub.connectors.gateway.keys import OPERATORS, KeyRecord, KeyStore
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry import load_registry


def _record_json(record: KeyRecord) -> dict[str, str | None]:
    return {"key_id": record.key_id, "org": record.org, "created_at": record.created_at, "revoked_at": record.revoked_at}


@click.command("key")
@click.argument("org", required=False)
@click.option("--operator", "for_operators", is_flag=True,
              help="An operator key instead (the gateway's /metrics); it cannot act for any partner.")
@click.option("--revoke", is_flag=True, help="Revoke ORG's active keys (or only --key-id).")
@click.option("--key-id", default=None, help="With --revoke: only this key.")
@click.option("--list", "list_keys", is_flag=True, help="List ORG's keys (ids and dates; never the keys).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def key_command(org: str | None, for_operators: bool, revoke: bool, key_id: str | None, list_keys: bool, as_json: bool) -> None:
    """Issue an API key for partner ORG for the HTTP gateway. The key is shown ONCE; only its hash is stored.

    The key identifies the partner: everything sent with it has the source /partners/ORG. With --operator
    (and no ORG) the key is an operator's: it reads the gateway's /metrics and is refused everywhere else.
    """
    if (org is None) == (not for_operators):
        raise click.UsageError("name a partner ORG, or give --operator (not both)")
    org = OPERATORS if for_operators else str(org)
    settings = Settings()
    configure_logging(settings.log_level)
    store = KeyStore.for_settings(settings)
    if revoke or list_keys:
        records = store.revoke(org, key_id) if revoke else store.keys_of(org)
        if as_json:
            click.echo(json.dumps({"org": org, "keys": [_record_json(r) for r in records]}, indent=1))
            return
        if revoke and not records:
            raise click.ClickException(f"{org} has no active key{' ' + key_id if key_id else ''} to revoke")
        for record in records:
            state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
            click.echo(f"{record.key_id}  {record.org}  created {record.created_at}  {state}")
        if not records:
            click.echo(f"{org} has no keys")
        return
    if org != OPERATORS and org not in load_registry(settings):
        raise UnknownOrganisation(f"{org} is not in the partner registry", hint="`casehub partners list` shows who is")
    issued = store.issue(org)
    if as_json:
        click.echo(json.dumps({**_record_json(issued.record), "key": issued.secret}, indent=1))
        return
    whose, where = ("the hub's operators", "the operators' secrets") if org == OPERATORS else (org, "the partner's secrets")
    click.echo(f"API key for {whose} ({issued.record.key_id}); it is shown only now, store it in {where}:")
    click.echo(issued.secret)
