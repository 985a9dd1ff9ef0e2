"""`casehub topics apply` against the real test broker: idempotent, configs really set, partitions only grow."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from casehub.cli.main import cli
from casehub.core.errors import TransportError
from casehub.core.settings import Settings
from casehub.ops.topics import CREATED, PRESENT, WOULD_CREATE, apply_topics
from casehub.registry import parse_registry

PARTNER = """\
  - id: {org}
    kind: ngo
    name: {{th: มูลนิธิทดสอบ, en: Test foundation}}
    jurisdiction: {{provinces: ['50']}}
    disclosure: pseudonymised
    {extra}
    subscriptions: [{{event_types: [referral.*]}}]
"""


@pytest.fixture
def broker_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test broker's settings with this test's own registry file."""
    return settings.model_copy(update={"registry_path": tmp_path / "partners.yaml"})


@pytest.fixture
def orgs(unique: str) -> list[str]:
    """Organisation ids no other test uses."""
    return [f"ngo-{unique}-a", f"ngo-{unique}-b"]


def write_registry(settings: Settings, orgs: list[str], extra: dict[str, str] | None = None) -> None:
    extra = extra or {}
    body = "".join(PARTNER.format(org=org, extra=extra.get(org, "")) for org in orgs)
    assert settings.registry_path is not None
    settings.registry_path.write_text(f"version: 1\npartners:\n{body}", encoding="utf-8")


def topic_configs(admin: KafkaAdminClient, topic: str, *keys: str) -> dict[str, str]:
    found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, list(keys))], config_filter="all")
    return {key: entry["value"] for key, entry in found["topic"][topic].items()}


def partition_count(admin: KafkaAdminClient, topic: str) -> int:
    [described] = admin.describe_topics([topic])
    return len(described["partitions"])


def load(settings: Settings):
    assert settings.registry_path is not None
    return parse_registry(settings.registry_path.read_text(encoding="utf-8"))


def test_apply_twice_creates_every_topic_once(broker_settings: Settings, orgs: list[str], admin) -> None:
    write_registry(broker_settings, orgs)
    registry = load(broker_settings)
    first = apply_topics(broker_settings, registry)
    mine = {f"partner.{org}.{side}" for org in orgs for side in ("inbound", "outbound")}
    statuses = {r.name: r.status for r in first.results}
    assert {statuses[name] for name in mine} == {CREATED}
    assert {"cases.events", "cases.state", "hub.dlq", "hub.audit", "stats.aggregates"} <= set(statuses)
    assert mine <= set(admin.list_topics())

    second = apply_topics(broker_settings, registry)
    assert second.count(CREATED) == 0
    assert {r.status for r in second.results} == {PRESENT}
    assert [r for r in second.results if r.name in mine and r.differences] == []
    for org in orgs:
        assert topic_configs(admin, f"partner.{org}.outbound", "retention.ms") == {"retention.ms": str(14 * 86_400_000)}
        assert topic_configs(admin, f"partner.{org}.inbound", "retention.ms") == {"retention.ms": str(7 * 86_400_000)}
        assert partition_count(admin, f"partner.{org}.inbound") == 1


def test_cases_state_is_really_compacted_and_cases_events_kept_forever(broker_settings: Settings, orgs, admin) -> None:
    write_registry(broker_settings, orgs[:1])
    report = apply_topics(broker_settings, load(broker_settings))
    hub = {r.name: r for r in report.results if not r.name.startswith("partner.")}
    assert all(not r.differences for r in hub.values()), [r.differences for r in hub.values()]
    assert topic_configs(admin, "cases.state", "cleanup.policy")["cleanup.policy"] == "compact"
    assert topic_configs(admin, "stats.aggregates", "cleanup.policy")["cleanup.policy"] == "compact"
    events = topic_configs(admin, "cases.events", "cleanup.policy", "retention.ms")
    assert events == {"cleanup.policy": "delete", "retention.ms": "-1"}
    assert topic_configs(admin, "hub.dlq", "retention.ms")["retention.ms"] == str(30 * 86_400_000)


def test_dry_run_changes_nothing(broker_settings: Settings, orgs: list[str], admin) -> None:
    write_registry(broker_settings, orgs)
    report = apply_topics(broker_settings, load(broker_settings), dry_run=True)
    mine = [r for r in report.results if r.name.startswith("partner.")]
    assert {r.status for r in mine} == {WOULD_CREATE}
    assert not {r.name for r in mine} & set(admin.list_topics())


def test_partitions_grow_with_the_registry_and_never_shrink(broker_settings: Settings, orgs, admin) -> None:
    org = orgs[0]
    write_registry(broker_settings, [org])
    apply_topics(broker_settings, load(broker_settings))
    assert partition_count(admin, f"partner.{org}.outbound") == 1

    write_registry(broker_settings, [org], {org: "partitions: 3"})
    grown = {r.name: r for r in apply_topics(broker_settings, load(broker_settings)).results}
    assert grown[f"partner.{org}.outbound"].partitions_increased
    assert grown[f"partner.{org}.outbound"].differences == ["partitions 1 < planned 3"]
    assert partition_count(admin, f"partner.{org}.outbound") == 3

    write_registry(broker_settings, [org])
    kept = {r.name: r for r in apply_topics(broker_settings, load(broker_settings)).results}
    assert kept[f"partner.{org}.outbound"].differences == ["partitions 3 > planned 1 (never decreased)"]
    assert not kept[f"partner.{org}.outbound"].partitions_increased
    assert partition_count(admin, f"partner.{org}.outbound") == 3


def test_config_drift_is_reported_and_altered_only_on_request(broker_settings: Settings, orgs, admin) -> None:
    org = orgs[0]
    topic = f"partner.{org}.inbound"
    admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1, "configs": {"retention.ms": "1000"}}})
    write_registry(broker_settings, [org])
    reported = {r.name: r for r in apply_topics(broker_settings, load(broker_settings)).results}
    assert reported[topic].status == PRESENT
    assert f"retention.ms=1000 != planned {7 * 86_400_000}" in reported[topic].differences
    assert topic_configs(admin, topic, "retention.ms")["retention.ms"] == "1000"

    altered = {r.name: r for r in apply_topics(broker_settings, load(broker_settings), alter_configs=True).results}
    assert altered[topic].configs_altered
    # the controller accepted the change; the broker applies it from the metadata log a moment later
    deadline = time.monotonic() + 15
    while topic_configs(admin, topic, "retention.ms")["retention.ms"] != str(7 * 86_400_000) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert topic_configs(admin, topic, "retention.ms")["retention.ms"] == str(7 * 86_400_000)


def test_topics_cli_apply_and_list_json(broker_settings: Settings, orgs: list[str]) -> None:
    write_registry(broker_settings, orgs[:1])
    env = {
        "CASEHUB_HOME": str(broker_settings.home),
        "CASEHUB_BROKER_PORT": str(broker_settings.broker_port),
        "CASEHUB_REGISTRY_PATH": str(broker_settings.registry_path),
    }
    runner = CliRunner(env=env)
    applied = json.loads(runner.invoke(cli, ["topics", "apply", "--json"], catch_exceptions=False).stdout)
    statuses = {t["name"]: t["status"] for t in applied["topics"]}
    assert statuses[f"partner.{orgs[0]}.outbound"] == CREATED
    assert applied["planned"] == 9  # 7 hub topics (the keys topic among them) and the partner's two

    listed = json.loads(runner.invoke(cli, ["topics", "list", "--json"], catch_exceptions=False).stdout)
    rows = {row["name"]: row for row in listed["topics"]}
    assert rows[f"partner.{orgs[0]}.inbound"]["present"] is True
    assert rows["cases.state"]["configs"]["cleanup.policy"] == "compact"

    human = runner.invoke(cli, ["topics", "apply"], catch_exceptions=False).stdout
    assert "9 topics planned: 0 created, 9 present" in human


def test_an_unreachable_cluster_is_a_clear_transport_error(broker_settings: Settings, orgs: list[str]) -> None:
    write_registry(broker_settings, orgs[:1])
    nowhere = broker_settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:1"})
    with pytest.raises(TransportError, match="Kafka connect \\(admin\\) failed"):
        apply_topics(nowhere, load(nowhere), dry_run=True)
