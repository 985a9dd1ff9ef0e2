"""The topic plan: every partner gets its two topics, the hub's own topics their chosen policies."""

from __future__ import annotations

import pytest

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.exceptions import TopicProvisioningError
from casehub.ops.topic_plan import plan_topics
from casehub.registry import load_registry, parse_registry

SMALL = """\
version: 1
partners:
  - id: hotline-1300
    kind: hotline
    name: {th: สายด่วน 1300, en: Hotline 1300}
    jurisdiction: national
    disclosure: full
    subscriptions: [{event_types: ['*']}]
  - id: ngo-quiet
    kind: ngo
    name: {th: มูลนิธิ, en: Quiet}
    jurisdiction: national
    disclosure: pseudonymised
    subscriptions: [{event_types: [referral.*]}]
  - id: ngo-loud
    kind: ngo
    name: {th: มูลนิธิ, en: Loud}
    jurisdiction: national
    disclosure: pseudonymised
    partitions: 4
    subscriptions: [{event_types: [referral.*]}]
"""


def by_name(settings: Settings, brokers: int = 1) -> dict:
    return {spec.name: spec for spec in plan_topics(parse_registry(SMALL), settings, brokers)}


def test_every_partner_gets_inbound_and_outbound_and_the_hub_its_own_topics() -> None:
    plan = by_name(Settings(topic_partitions=6))
    assert set(plan) == {
        "cases.events", "cases.state", "hub.dlq", "hub.audit", "hub.audit.entries", "stats.aggregates",
        "hub.subject.keys", "partner.hotline-1300.inbound", "partner.hotline-1300.outbound",
        "partner.ngo-quiet.inbound", "partner.ngo-quiet.outbound",
        "partner.ngo-loud.inbound", "partner.ngo-loud.outbound",
    }  # fmt: skip
    assert plan["cases.state"].configs["cleanup.policy"] == "compact"
    assert plan["cases.state"].partitions == plan["cases.events"].partitions == 6
    assert plan["cases.events"].configs["retention.ms"] == "-1"
    assert plan["hub.dlq"].configs["retention.ms"] == str(30 * 86_400_000)
    assert int(plan["hub.audit"].configs["retention.ms"]) >= 10 * 365 * 86_400_000
    assert plan["hub.audit.entries"].partitions == plan["hub.audit"].partitions  # entries P is sealed into audit P
    assert plan["partner.ngo-quiet.outbound"].configs["retention.ms"] == str(14 * 86_400_000)
    assert plan["partner.ngo-quiet.inbound"].configs["retention.ms"] == str(7 * 86_400_000)
    assert plan["partner.ngo-quiet.inbound"].partitions == 1
    assert plan["partner.hotline-1300.inbound"].partitions == 2
    assert plan["partner.ngo-loud.outbound"].partitions == 4


def test_replication_follows_the_cluster() -> None:
    single = by_name(Settings(), brokers=1)["cases.events"]
    assert (single.replication, single.configs["min.insync.replicas"]) == (1, "1")
    three = by_name(Settings(), brokers=3)["cases.events"]
    assert (three.replication, three.configs["min.insync.replicas"]) == (3, "2")
    two = by_name(Settings(), brokers=2)["cases.events"]
    assert (two.replication, two.configs["min.insync.replicas"]) == (2, "1")
    five = by_name(Settings(), brokers=5)["cases.events"]
    assert (five.replication, five.configs["min.insync.replicas"]) == (3, "2")
    with pytest.raises(TopicProvisioningError, match="replication factor 3 needs 3 brokers"):
        by_name(Settings(topic_replication=3), brokers=1)


def test_the_default_registry_plans_two_topics_per_partner() -> None:
    registry = load_registry(Settings())
    plan = plan_topics(registry, Settings(), 1)
    assert len(plan) == len(topics.HUB_TOPICS) + 1 + 2 * len(registry)  # + the data keys
    assert len({spec.name for spec in plan}) == len(plan)
    assert max(spec.partitions for spec in plan if spec.name.startswith("partner.")) <= 2


def test_the_data_keys_topic_is_compacted_so_that_an_erased_key_really_goes() -> None:
    keys = by_name(Settings())["hub.subject.keys"]
    assert keys.configs["cleanup.policy"] == "compact"
    # a tombstoned key is compacted away within the hour, the tombstone an hour later
    assert int(keys.configs["max.compaction.lag.ms"]) <= 3_600_000
    assert int(keys.configs["delete.retention.ms"]) <= 3_600_000
    assert int(keys.configs["segment.ms"]) <= 3_600_000
    assert float(keys.configs["min.cleanable.dirty.ratio"]) <= 0.01
