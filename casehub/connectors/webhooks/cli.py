"""``casehub webhooks``: issue partners' signing secrets, list webhook partners, run the dispatcher."""

from __future__ import annotations

import asyncio
import json
import signal

import click

from casehub.connectors.webhooks.secrets import SecretStore
from casehub.core import topics
from casehub.core.logging import configure_logging, get_logger
from casehub.core.settings import Settings
from casehub.registry.loader import load_registry


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@click.group()
def webhooks() -> None:
    """Signed webhook delivery of partners' outbound events (Standard Webhooks: webhook-id/-timestamp/-signature)."""


@webhooks.command("secret")
@click.argument("org")
@click.option("--rotate", is_flag=True, help="Replace the partner's secret (the old one stops verifying at once).")
def secret(org: str, rotate: bool) -> None:
    """Issue (or show) partner ORG's signing secret; give it to the partner over a safe channel."""
    settings = _settings()
    partner = load_registry(settings).get(org)
    value, new = SecretStore.from_settings(settings).issue(org, rotate=rotate)
    click.echo(value.get_secret_value())
    status = "issued" if new else "already issued (use --rotate to replace it)"
    click.echo(f"{org}: webhook secret {status}", err=True)
    if partner.webhook_url is None:
        click.echo(f"note: {org} has no webhook_url in the registry; nothing is delivered until it has one", err=True)


@webhooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_webhooks(as_json: bool) -> None:
    """Partners with a webhook URL: their outbound topic and whether a secret is issued (never the secret)."""
    settings = _settings()
    registry = load_registry(settings)
    issued = SecretStore.from_settings(settings).issued()
    rows = [
        {"org": p.id, "url": p.webhook_url, "topic": topics.outbound(p.id), "secret_issued_at": issued.get(p.id)}
        for p in sorted(registry.partners.values(), key=lambda p: p.id)
        if p.webhook_url
    ]
    if as_json:
        click.echo(json.dumps({"partners": rows}, ensure_ascii=False, indent=1))
        return
    for row in rows:
        state = f"secret issued {row['secret_issued_at']}" if row["secret_issued_at"] else "NO SECRET (not delivered)"
        click.echo(f"{row['org']:<24} {row['url']}  {state}")
    click.echo(f"{len(rows)} webhook partner(s)")


@webhooks.command("run")
@click.option("--org", "orgs", multiple=True, help="Only these partners (repeatable); default: every webhook partner with a secret.")
def run(orgs: tuple[str, ...]) -> None:
    """Deliver outbound events to partners' URLs until SIGTERM or Ctrl-C (offsets committed after delivery).

    Secrets issued and webhook URLs added while it runs are picked up within CASEHUB_WEBHOOK_REFRESH_SECONDS.
    Prometheus metrics on http://127.0.0.1:9467/metrics (CASEHUB_WEBHOOK_METRICS_PORT, 0 = off).
    """
    from casehub.connectors.webhooks.dispatcher import Dispatcher
    from casehub.connectors.webhooks.metrics import WebhookMetrics
    from casehub.connectors.webhooks.targets import TargetSource

    settings = _settings()
    source = TargetSource(settings, orgs)
    chosen = source.current()
    get_logger(__name__).info("webhook dispatcher starting", group=settings.webhook_group_id,
                              partners=[t.org for t in chosen], bootstrap=settings.bootstrap_servers())

    metrics = WebhookMetrics()
    metrics.serve(settings)

    async def serve() -> None:
        dispatcher = Dispatcher(settings, chosen, refresh=source.current, metrics=metrics)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, dispatcher.stop)
        await dispatcher.start()
        await dispatcher.run()

    asyncio.run(serve())
