"""The hub at a glance: the broker, the topics, the dead letters, and the workers (faust group members)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from casehub.core import topics
from casehub.core.errors import HubError
from casehub.core.settings import Settings
from casehub.ops import dlq
from casehub.ops.lag import GroupInfo, groups, lag
from casehub.ops.topics import admin_client

WORKER_PROTOCOL = "faust"


@dataclass
class Status:
    """What `casehub status` reports; ``healthy`` is False when the broker is down or a hub topic is missing."""

    bootstrap: str
    broker: dict[str, Any] = field(default_factory=dict)
    topics: dict[str, Any] = field(default_factory=dict)
    dlq: dict[str, Any] = field(default_factory=dict)
    workers: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "bootstrap": self.bootstrap, "broker": self.broker, "topics": self.topics,
                "dlq": self.dlq, "workers": self.workers, "endpoints": self.endpoints, "problems": self.problems}


def _broker(settings: Settings, status: Status) -> list[str]:
    with admin_client(settings, "operator") as admin:
        cluster = admin.describe_cluster()
        names = sorted(admin.list_topics())
    status.broker = {"reachable": True, "cluster_id": cluster.get("cluster_id"),
                     "controller": cluster.get("controller_id"), "brokers": len(cluster.get("brokers", []))}
    return names


def _topics(names: list[str], status: Status) -> None:
    missing = [t for t in topics.HUB_TOPICS if t not in names]
    status.topics = {
        "total": len(names),
        "inbound": sum(1 for n in names if n.startswith("partner.") and n.endswith(".inbound")),
        "outbound": sum(1 for n in names if n.startswith("partner.") and n.endswith(".outbound")),
        "hub_missing": missing,
    }
    if missing:
        status.problems.append(f"hub topics missing: {', '.join(missing)} (run `casehub topics apply`)")


def _workers(settings: Settings, status: Status, worker_groups: list[GroupInfo]) -> None:
    behind: dict[str, int] = {}
    if worker_groups:
        for row in lag(settings, [g.group for g in worker_groups]):
            behind[row.group] = behind.get(row.group, 0) + row.lag
    for group in worker_groups:
        status.workers.append({"group": group.group, "state": group.state, "members": len(group.members),
                               "clients": [f"{client}@{host.lstrip('/')}" for client, host in group.members],
                               "lag": behind.get(group.group, 0)})


def probe(url: str, timeout: float = 3.0) -> dict[str, Any]:
    """GET ``url`` (a worker's metrics or web endpoint): up or not, and the HTTP status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - operator-given http URL
            return {"url": url, "up": True, "status": response.status}
    except (urllib.error.URLError, OSError) as exc:
        return {"url": url, "up": False, "error": str(getattr(exc, "reason", exc))}


def collect(settings: Settings, *, endpoints: Sequence[str] = (), scan_dlq: bool = True) -> Status:
    """Ask the cluster; a broker that cannot be reached is reported, not raised."""
    status = Status(settings.bootstrap_servers())
    try:
        names = _broker(settings, status)
    except HubError as exc:
        status.broker = {"reachable": False, "error": str(exc)}
        status.problems.append("broker unreachable")
        return status
    _topics(names, status)
    if topics.HUB_DLQ in names and scan_dlq:
        scan = dlq.scan(settings)
        status.dlq = {"dead_letters": len(scan.letters), "pending": len(scan.pending), "redrive_markers": scan.markers}
    all_groups = groups(settings)
    _workers(settings, status, [g for g in all_groups if g.protocol == WORKER_PROTOCOL or
                                (g.state == "Empty" and g.group == settings.worker_id)])
    if not any(w["members"] for w in status.workers):
        status.problems.append("no worker is running (no member in a faust consumer group)")
    status.endpoints = [probe(url) for url in endpoints]
    status.problems += [f"endpoint down: {e['url']}" for e in status.endpoints if not e["up"]]
    return status
