"""The ACL plan: which principal may do what, derived from the partner registry and the hub's services.

Each partner ``<org>`` (SCRAM user or mTLS certificate ``CN=<org>``) may write its inbound topic, read its
outbound topic (and ``stats.aggregates`` at the aggregate level) and use consumer groups named ``<org>.*``;
nothing else. Hub services each get what their work needs (casehub/ops/README.md states the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from casehub.core import topics
from casehub.core.kafka_connection import Service, principal_of
from casehub.core.settings import Settings
from casehub.registry import Registry
from casehub.registry.model import Disclosure

ResourceKind = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS", "IDEMPOTENT_WRITE"]
CLUSTER_NAME = "kafka-cluster"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW rule for any host."""

    principal: str
    resource: ResourceKind
    name: str
    pattern: Pattern
    operation: Operation

    def describe(self) -> str:
        star = "*" if self.pattern == "PREFIXED" else ""
        return f"User:{self.principal} {self.operation} {self.resource} {self.name}{star}"


def _grants(principal: str, resource: ResourceKind, name: str, pattern: Pattern, *operations: Operation) -> list[Grant]:
    return [Grant(principal, resource, name, pattern, operation) for operation in operations]


def partner_grants(org: str, disclosure: Disclosure) -> list[Grant]:
    """Exactly what partner ``org`` may do."""
    grants = [
        *_grants(org, "TOPIC", topics.inbound(org), "LITERAL", "WRITE", "DESCRIBE"),
        *_grants(org, "TOPIC", topics.outbound(org), "LITERAL", "READ", "DESCRIBE"),
        *_grants(org, "GROUP", f"{org}.", "PREFIXED", "READ"),
    ]
    if disclosure is Disclosure.AGGREGATE:
        grants += _grants(org, "TOPIC", topics.STATS_AGGREGATES, "LITERAL", "READ", "DESCRIBE")
    return grants


def service_grants(service: Service, settings: Settings) -> list[Grant]:
    """What each hub service's principal may do. The admin is a super user and needs none."""
    who = principal_of(service)
    grants: list[Grant] = []
    if service == "worker":
        worker = settings.worker_id  # faust names its group, internal topics and transactional ids after it
        grants += _grants(who, "TOPIC", "partner.", "PREFIXED", "READ", "WRITE", "DESCRIBE")
        for name in topics.HUB_TOPICS:
            if name != topics.HUB_AUDIT:  # only the auditor writes the sealed log
                grants += _grants(who, "TOPIC", name, "LITERAL", "READ", "WRITE", "DESCRIBE")
        # the data keys: made with the first record sealed under them, read back, dropped when tombstoned
        grants += _grants(who, "TOPIC", topics.HUB_SUBJECT_KEYS, "LITERAL", "READ", "WRITE", "DESCRIBE")
        grants += _grants(who, "TOPIC", worker, "PREFIXED", "CREATE", "READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS")
        grants += _grants(who, "GROUP", worker, "PREFIXED", "READ", "DESCRIBE")
        grants += _grants(who, "TRANSACTIONAL_ID", worker, "PREFIXED", "WRITE", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "DESCRIBE", "IDEMPOTENT_WRITE")
    elif service == "gateway":
        # writes partners' inbound topics for HTTP partners, streams their outbound topics, reads case state
        grants += _grants(who, "TOPIC", "partner.", "PREFIXED", "READ", "WRITE", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.CASES_STATE, "LITERAL", "READ", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.HUB_AUDIT_ENTRIES, "LITERAL", "WRITE", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "IDEMPOTENT_WRITE")
    elif service == "webhooks":
        grants += _grants(who, "TOPIC", "partner.", "PREFIXED", "READ", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.HUB_DLQ, "LITERAL", "WRITE", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.HUB_AUDIT_ENTRIES, "LITERAL", "WRITE", "DESCRIBE")
        grants += _grants(who, "GROUP", settings.webhook_group_id, "PREFIXED", "READ", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "IDEMPOTENT_WRITE")
    elif service == "operator":
        # tail, lag, status, dlq list/show/redrive, replay: read anything, write re-drives, replays and audit records
        grants += _grants(who, "TOPIC", "*", "LITERAL", "READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS")
        grants += _grants(who, "GROUP", "*", "LITERAL", "READ", "DESCRIBE")
        grants += _grants(who, "TRANSACTIONAL_ID", "casehub-ops", "PREFIXED", "WRITE", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "DESCRIBE", "IDEMPOTENT_WRITE")
    elif service == "auditor":
        # `casehub audit seal`: reads every service's entries, is the only writer of the sealed log
        sealer = settings.audit_sealer_id
        grants += _grants(who, "TOPIC", topics.HUB_AUDIT_ENTRIES, "LITERAL", "READ", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.HUB_AUDIT, "LITERAL", "READ", "WRITE", "DESCRIBE")
        grants += _grants(who, "TOPIC", sealer, "PREFIXED", "READ", "WRITE", "DESCRIBE")
        grants += _grants(who, "GROUP", sealer, "PREFIXED", "READ", "DESCRIBE")
        grants += _grants(who, "TRANSACTIONAL_ID", sealer, "PREFIXED", "WRITE", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "DESCRIBE", "IDEMPOTENT_WRITE")
    elif service == "simulator":
        # simulated partner traffic for demos and tests: never on a cluster with real partners
        grants += _grants(who, "TOPIC", "partner.", "PREFIXED", "WRITE", "DESCRIBE")
        grants += _grants(who, "TOPIC", topics.CASES_EVENTS, "LITERAL", "READ", "DESCRIBE")
        grants += _grants(who, "CLUSTER", CLUSTER_NAME, "LITERAL", "IDEMPOTENT_WRITE")
    return grants


MANAGED_SERVICES: tuple[Service, ...] = ("worker", "gateway", "webhooks", "operator", "simulator", "auditor")


def plan_grants(registry: Registry, settings: Settings) -> set[Grant]:
    """Every ALLOW rule the cluster should hold for this registry."""
    plan: set[Grant] = set()
    for partner in registry.partners.values():
        plan.update(partner_grants(partner.id, partner.disclosure))
    for service in MANAGED_SERVICES:
        plan.update(service_grants(service, settings))
    return plan
