"""The topics the registry implies, with partition counts, retention and compaction chosen on purpose.

See casehub/ops/README.md for the table and the reasons. The plan is pure: it looks
at the registry, the settings and the number of brokers, never at the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from casehub.core import topics
from casehub.core.limits import DLQ_MAX_MESSAGE_BYTES
from casehub.core.settings import Settings
from casehub.ops.exceptions import TopicProvisioningError
from casehub.registry import Partner, PartnerKind, Registry

DAY_MS = 24 * 60 * 60 * 1000
FOREVER = "-1"

CASES_EVENTS_RETENTION = FOREVER  # the canonical history: replay and re-projection start here
AUDIT_RETENTION_MS = 3653 * DAY_MS  # ten years: PDPA accountability, the longest civil limitation (CCC s193/30)
AUDIT_ENTRIES_RETENTION_MS = 7 * DAY_MS  # sealed into hub.audit within seconds; a week covers a long worker outage
INTERNAL_RETENTION_MS = 7 * DAY_MS  # the worker's intake, cells and commands topics: read within seconds, like inbound
DLQ_RETENTION_MS = 30 * DAY_MS  # a month to notice, fix and re-drive a dead letter
OUTBOUND_RETENTION_MS = 14 * DAY_MS  # a partner offline for two weeks still catches up; older: `casehub replay`
INBOUND_RETENTION_MS = 7 * DAY_MS  # the pipeline reads inbound within seconds; a week covers a long outage
COMPACTED_SEGMENT_MS = DAY_MS  # roll daily so the cleaner can compact yesterday's case states
# the data keys: an erased subject's key must really go, so segments roll often, any tombstone makes a segment
# worth cleaning, a key is compacted away within the hour, and the tombstone itself is gone an hour after that
KEYS_SEGMENT_MS = 10 * 60 * 1000
KEYS_MAX_COMPACTION_LAG_MS = 60 * 60 * 1000
KEYS_DELETE_RETENTION_MS = 60 * 60 * 1000
KEYS_PARTITIONS = 1  # one record per subject or case key: small

# partners that carry a large share of national traffic get a second partition
BUSY_PARTNER_KINDS = frozenset({PartnerKind.HOTLINE, PartnerKind.MSDHS_HQ})
PARTNER_PARTITIONS = 1
BUSY_PARTNER_PARTITIONS = 2
DLQ_PARTITIONS = 1  # low volume; one partition keeps the dead letters in the order an operator reads them
AGGREGATE_PARTITIONS = 1  # one record per (tambon, category, period) cell; tiny


@dataclass(frozen=True)
class TopicSpec:
    """One topic as it should exist: name, partitions, replicas, topic-level configs, and why."""

    name: str
    partitions: int
    replication: int
    configs: Mapping[str, str] = field(default_factory=dict)
    purpose: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "partitions": self.partitions,
            "replication": self.replication,
            "configs": dict(self.configs),
            "purpose": self.purpose,
        }


def replication_for(settings: Settings, brokers: int) -> int:
    """settings.topic_replication, else min(3, brokers): replication follows the cluster with nothing to remember."""
    wanted = settings.topic_replication or min(3, brokers)
    if wanted > brokers:
        raise TopicProvisioningError(
            f"replication factor {wanted} needs {wanted} brokers; the cluster has {brokers}",
            hint="lower CASEHUB_TOPIC_REPLICATION or start more brokers (`casehub broker up --nodes 3`)",
        )
    return wanted


def plan_topics(registry: Registry, settings: Settings, brokers: int) -> list[TopicSpec]:
    """Every topic the registry implies: the hub's own, then inbound and outbound per partner (by id)."""
    replication = replication_for(settings, brokers)
    durable = {"min.insync.replicas": "2" if replication >= 3 else "1"}
    case_partitions = settings.topic_partitions

    def spec(name: str, partitions: int, purpose: str, **configs: str) -> TopicSpec:
        merged = {**durable, **{key.replace("_", "."): value for key, value in configs.items()}}
        return TopicSpec(name, partitions, replication, merged, purpose)

    plan = [
        spec(
            topics.CASES_EVENTS,
            case_partitions,
            "canonical case events, kept forever for replay",
            cleanup_policy="delete",
            retention_ms=CASES_EVENTS_RETENTION,
            retention_bytes=FOREVER,
        ),
        spec(
            topics.CASES_STATE,
            case_partitions,
            "current state per case id (compacted, co-partitioned with cases.events)",
            cleanup_policy="compact",
            segment_ms=str(COMPACTED_SEGMENT_MS),
            min_cleanable_dirty_ratio="0.1",
        ),
        spec(
            topics.HUB_DLQ,
            DLQ_PARTITIONS,
            "dead letters, unchanged, with hub.error.* headers",
            cleanup_policy="delete",
            retention_ms=str(DLQ_RETENTION_MS),
            max_message_bytes=str(DLQ_MAX_MESSAGE_BYTES),  # any record a partner topic took fits, with its error headers
        ),
        spec(
            topics.HUB_AUDIT,
            case_partitions,
            "disclosure log: one record per delivery, replay and re-drive",
            cleanup_policy="delete",
            retention_ms=str(AUDIT_RETENTION_MS),
            retention_bytes=FOREVER,
        ),
        spec(
            topics.HUB_AUDIT_ENTRIES,
            case_partitions,  # entries partition P is sealed into hub.audit partition P
            "audit entries of every service, before the worker chains and signs them into hub.audit",
            cleanup_policy="delete",
            retention_ms=str(AUDIT_ENTRIES_RETENTION_MS),
        ),
        spec(
            topics.HUB_SUBJECT_KEYS,
            KEYS_PARTITIONS,
            "per-subject data keys wrapped by the master key (compacted; erasure tombstones them); hub only",
            cleanup_policy="compact",
            segment_ms=str(KEYS_SEGMENT_MS),
            min_cleanable_dirty_ratio="0.01",
            max_compaction_lag_ms=str(KEYS_MAX_COMPACTION_LAG_MS),
            delete_retention_ms=str(KEYS_DELETE_RETENTION_MS),
        ),
        spec(
            topics.STATS_AGGREGATES,
            AGGREGATE_PARTITIONS,
            "latest count per tambon, category and period (compacted)",
            cleanup_policy="compact",
            segment_ms=str(COMPACTED_SEGMENT_MS),
        ),
    ]
    for partner in sorted(registry.partners.values(), key=lambda p: p.id):
        partitions = partner_partitions(partner)
        plan.append(
            spec(
                topics.inbound(partner.id),
                partitions,
                f"what {partner.id} publishes",
                cleanup_policy="delete",
                retention_ms=str(INBOUND_RETENTION_MS),
            )
        )
        plan.append(
            spec(
                topics.outbound(partner.id),
                partitions,
                f"what the hub delivers to {partner.id} ({partner.disclosure.value})",
                cleanup_policy="delete",
                retention_ms=str(OUTBOUND_RETENTION_MS),
            )
        )
    return plan


def partner_partitions(partner: Partner) -> int:
    """The registry's ``partitions`` if set; else 1 per partner topic (thousands of partners), 2 for hotline and HQ."""
    if partner.partitions is not None:
        return partner.partitions
    return BUSY_PARTNER_PARTITIONS if partner.kind in BUSY_PARTNER_KINDS else PARTNER_PARTITIONS
