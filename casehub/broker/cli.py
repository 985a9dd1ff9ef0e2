"""``casehub broker``: start, stop and inspect the local Kafka cluster."""

from __future__ import annotations

import json

import click

from casehub.access.tls import tls_files
from casehub.broker.cluster import LocalCluster
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings


def _cluster(nodes: int | None = None, *, insecure: bool = False) -> LocalCluster:
    settings = Settings()
    configure_logging(settings.log_level)
    return LocalCluster(settings, nodes, insecure=insecure)


@click.group()
def broker() -> None:
    """Run Apache Kafka (KRaft) locally on loopback: jars from Maven Central, logs under <CASEHUB_HOME>/broker/logs."""


@broker.command()
@click.option("--nodes", type=click.Choice(["1", "3"]), default=None, help="1 combined node, or a 3-voter quorum.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the cluster to answer.")
@click.option("--insecure", is_flag=True, help="PLAINTEXT, no authentication, no ACLs: anyone on this machine reads everything.")
def up(nodes: str | None, timeout: float, insecure: bool) -> None:
    """Start the cluster (idempotent): TLS, SCRAM-SHA-512 and ACLs unless --insecure; print its bootstrap address."""
    if insecure:
        click.echo("warning: --insecure: PLAINTEXT listeners without authentication or ACLs; never hold real data in it",
                   err=True)
    cluster = _cluster(int(nodes) if nodes else None, insecure=insecure)
    bootstrap = cluster.up(timeout=timeout)
    if insecure:
        click.echo(f"kafka up (INSECURE, PLAINTEXT): {len(cluster.nodes)} node(s), bootstrap {bootstrap}, logs {cluster.logs_dir}")
        return
    ca = tls_files(cluster.settings.home).ca_cert
    click.echo(f"kafka up: {len(cluster.nodes)} node(s), bootstrap {bootstrap} (SASL_SSL, SCRAM-SHA-512), "
               f"mTLS {cluster.mtls_bootstrap}, CA {ca}, logs {cluster.logs_dir}")


@broker.command()
@click.option("--purge", is_flag=True, help="Also delete the cluster's data.")
def down(purge: bool) -> None:
    """Stop exactly the nodes `up` started (by process id)."""
    stopped = _cluster().down(purge=purge)
    click.echo(f"kafka down: stopped {len(stopped)} node(s)" + (", data purged" if purge else ""))


@broker.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Say which nodes run."""
    cluster = _cluster()
    nodes = cluster.status()
    if as_json:
        click.echo(json.dumps({"bootstrap": cluster.bootstrap if nodes else None,
                               "nodes": [n.__dict__ for n in nodes]}))
        return
    if not nodes:
        click.echo("kafka: not running (start it with `casehub broker up`)")
        return
    for node in nodes:
        click.echo(f"node {node.node_id}: pid {node.pid} {node.bootstrap} {'running' if node.alive else 'DEAD'}")
    click.echo(f"logs: {cluster.logs_dir}")
