"""Creates the topics the registry implies, idempotently and in batches, with kafka-python's admin client.

Existing topics are reported as present; one whose partitions or configs differ from
the plan is reported, its partitions raised if it has fewer (never lowered) and its
configs left alone unless the operator asks for them to be altered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import Service, connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.ops.exceptions import TopicProvisioningError
from casehub.ops.topic_plan import TopicSpec, plan_topics
from casehub.registry import Registry

CREATE_BATCH = 200  # topics per CreateTopics request: bounded request size and controller work per round trip
DESCRIBE_BATCH = 500
REQUEST_TIMEOUT_MS = 120_000
READY_TIMEOUT_S = 300.0  # thousands of new partitions on one broker take tens of seconds to get leaders
READY_POLL_S = 0.5

CREATED, WOULD_CREATE, PRESENT = "created", "would-create", "present"


@dataclass
class TopicResult:
    """What apply found or did for one planned topic."""

    name: str
    status: str  # created | would-create | present
    planned_partitions: int
    partitions: int  # after apply (planned count for a created topic)
    differences: list[str] = field(default_factory=list)
    partitions_increased: bool = False
    configs_altered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ApplyReport:
    """The outcome of one `topics apply`."""

    dry_run: bool
    brokers: int
    replication: int
    results: list[TopicResult]
    seconds: float

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def differing(self) -> list[TopicResult]:
        return [r for r in self.results if r.differences]

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "brokers": self.brokers,
            "replication": self.replication,
            "planned": len(self.results),
            "created": self.count(CREATED),
            "would_create": self.count(WOULD_CREATE),
            "present": self.count(PRESENT),
            "differing": len(self.differing),
            "partitions_increased": sum(r.partitions_increased for r in self.results),
            "configs_altered": sum(r.configs_altered for r in self.results),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class TopicState:
    """A topic as the cluster has it: partitions, replicas and the values of the planned config keys."""

    name: str
    partitions: int
    replication: int
    configs: dict[str, str]


@contextmanager
def admin_client(settings: Settings, service: Service = "admin") -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client for the configured cluster; its errors become casehub TransportErrors."""
    try:
        client = KafkaAdminClient(
            **connection(settings, service).kafka_python(),
            client_id="casehub-ops",
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            bootstrap_timeout_ms=15_000,
        )
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "connect (admin)") from exc
    try:
        yield client
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "admin request") from exc
    finally:
        client.close()


def broker_count(client: KafkaAdminClient) -> int:
    return len(client.describe_cluster()["brokers"])


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def describe(client: KafkaAdminClient, specs: Sequence[TopicSpec]) -> dict[str, TopicState]:
    """The cluster's view of the planned topics that exist (partitions, replicas, planned config keys)."""
    states: dict[str, TopicState] = {}
    for batch in _batches(list(specs), DESCRIBE_BATCH):
        metadata = {t["name"]: t for t in client.describe_topics([s.name for s in batch]) if t["error_code"] == 0}
        present = [s for s in batch if s.name in metadata]
        if not present:
            continue
        resources = [ConfigResource(ConfigResourceType.TOPIC, s.name, list(s.configs)) for s in present]
        configs = client.describe_configs(resources, config_filter="all").get("topic", {})
        for spec in present:
            partitions = metadata[spec.name]["partitions"]
            states[spec.name] = TopicState(
                name=spec.name,
                partitions=len(partitions),
                replication=min((len(p["replica_nodes"]) for p in partitions), default=0),
                configs={key: entry["value"] for key, entry in configs.get(spec.name, {}).items()},
            )
    return states


def differences(spec: TopicSpec, state: TopicState) -> list[str]:
    """How an existing topic departs from its plan, in words an operator can act on."""
    found = []
    if state.partitions < spec.partitions:
        found.append(f"partitions {state.partitions} < planned {spec.partitions}")
    elif state.partitions > spec.partitions:
        found.append(f"partitions {state.partitions} > planned {spec.partitions} (never decreased)")
    if state.replication != spec.replication:
        found.append(f"replication {state.replication} != planned {spec.replication} (needs a reassignment)")
    for key, wanted in spec.configs.items():
        actual = state.configs.get(key)
        if actual != wanted:
            found.append(f"{key}={actual} != planned {wanted}")
    return found


def apply_topics(
    settings: Settings, registry: Registry, *, dry_run: bool = False, alter_configs: bool = False
) -> ApplyReport:
    """Create what is missing, raise partition counts that are too low, report every other difference."""
    log = get_logger(__name__)
    started = time.perf_counter()
    with admin_client(settings) as client:
        brokers = broker_count(client)
        plan = plan_topics(registry, settings, brokers)
        states = describe(client, plan)
        results: list[TopicResult] = []
        missing: list[TopicSpec] = []
        for spec in plan:
            state = states.get(spec.name)
            if state is None:
                missing.append(spec)
                results.append(TopicResult(spec.name, WOULD_CREATE, spec.partitions, 0))
            else:
                results.append(
                    TopicResult(spec.name, PRESENT, spec.partitions, state.partitions, differences(spec, state))
                )
        if not dry_run:
            created = _create(client, missing)
            by_name = {r.name: r for r in results}
            for name in created:
                by_name[name].status = CREATED
                by_name[name].partitions = by_name[name].planned_partitions
            for name in set(s.name for s in missing) - created:  # created by someone else meanwhile
                by_name[name].status = PRESENT
            _raise_partitions(client, plan, states, by_name)
            if alter_configs:
                _alter_configs(client, plan, states, by_name)
    report = ApplyReport(dry_run, brokers, plan[0].replication, results, time.perf_counter() - started)
    log.info("topics applied", **report.summary())
    return report


def _create(client: KafkaAdminClient, missing: Sequence[TopicSpec]) -> set[str]:
    """Create in batches; a topic that appeared meanwhile is not an error. Returns the names this call created."""
    created: set[str] = set()
    failures: list[str] = []
    for batch in _batches(list(missing), CREATE_BATCH):
        request = {
            s.name: {"num_partitions": s.partitions, "replication_factor": s.replication, "configs": dict(s.configs)}
            for s in batch
        }
        response = client.create_topics(request, timeout_ms=REQUEST_TIMEOUT_MS, raise_errors=False)
        for topic in response["topics"]:
            code = topic["error_code"]
            if code == 0:
                created.add(topic["name"])
            elif code != TopicAlreadyExistsError.errno:
                failures.append(f"{topic['name']}: {topic.get('error_message') or code}")
    if failures:
        raise TopicProvisioningError(
            f"{len(failures)} topic(s) could not be created: " + "; ".join(failures[:10]),
            hint="see the broker's log; nothing else was changed",
        )
    _wait_until_led(client, sorted(created))
    return created


def _wait_until_led(client: KafkaAdminClient, names: list[str]) -> None:
    """Wait until every partition of the new topics has a leader, asking only about those still pending.

    (kafka-python's wait_for_topics re-describes every topic ten times a second, which with
    thousands of new topics slows the very broker it is waiting for.)
    """
    pending = names
    deadline = time.monotonic() + READY_TIMEOUT_S
    while pending:
        ready = set()
        for batch in _batches(pending, DESCRIBE_BATCH):
            for topic in client.describe_topics(list(batch)):
                partitions = topic.get("partitions") or []
                if topic["error_code"] == 0 and partitions and all(p["leader_id"] >= 0 for p in partitions):
                    ready.add(topic["name"])
        pending = [name for name in pending if name not in ready]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TopicProvisioningError(
                f"{len(pending)} new topic(s) have no leader after {READY_TIMEOUT_S:.0f} s: {', '.join(pending[:5])}",
                hint="the topics exist; run `casehub topics apply` again later, or check the broker's log",
            )
        time.sleep(READY_POLL_S)


def _raise_partitions(
    client: KafkaAdminClient, plan: Sequence[TopicSpec], states: dict[str, TopicState], results: dict[str, TopicResult]
) -> None:
    grow = {s.name: s.partitions for s in plan if s.name in states and states[s.name].partitions < s.partitions}
    if not grow:
        return
    client.create_partitions(grow, timeout_ms=REQUEST_TIMEOUT_MS)
    for name, count in grow.items():
        results[name].partitions = count
        results[name].partitions_increased = True


def _alter_configs(
    client: KafkaAdminClient, plan: Sequence[TopicSpec], states: dict[str, TopicState], results: dict[str, TopicResult]
) -> None:
    """Set only the planned keys that differ (incremental alter); other topic settings stay as they are."""
    resources = []
    for spec in plan:
        state = states.get(spec.name)
        if state is None:
            continue
        changed = {k: v for k, v in spec.configs.items() if state.configs.get(k) != v}
        if changed:
            resources.append(ConfigResource(ConfigResourceType.TOPIC, spec.name, changed))
    for batch in _batches(resources, DESCRIBE_BATCH):
        client.alter_configs(list(batch), incremental=True)
        for resource in batch:
            results[resource.name].configs_altered = True


def list_topics(settings: Settings, registry: Registry) -> tuple[list[TopicSpec], dict[str, TopicState], list[str]]:
    """The plan, the state of its topics that exist, and the cluster's other (non-internal) topics."""
    with admin_client(settings) as client:
        plan = plan_topics(registry, settings, broker_count(client))
        states = describe(client, plan)
        planned = {s.name for s in plan}
        others = sorted(t for t in client.list_topics() if t not in planned and not t.startswith("__"))
    return plan, states, others
