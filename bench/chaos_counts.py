"""What a chaos run should deliver, what it did (read_committed, independently of the hub), and how fast it recovered."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition as AioTopicPartition
from kafka import KafkaConsumer, TopicPartition

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.registry import Disclosure, Registry

SAMPLE = 5
AUDIT_TOPIC = topics.HUB_AUDIT_ENTRIES
"""Where the worker writes its audit entries (``casehub audit seal``, not started here, seals them into hub.audit)."""
Delivery = tuple[str, str]
"""(topic, key): one record an event should produce; the key names the event (and, in hub.audit, the recipient)."""


def record_keys(topic: str, record: Any) -> list[str]:
    """What names the event(s) a record carries: its ce_id; the state's last event; in hub.audit, each delivery's
    event and recipient (a record per delivery, or per routed event listing its ``recipients``)."""
    if topic not in (AUDIT_TOPIC, topics.CASES_STATE):
        found = next((v for k, v in record.headers or [] if k == "ce_id"), None)
        return [found.decode(errors="replace")] if found is not None else []
    try:
        body = json.loads(record.value)
    except (TypeError, ValueError):
        return []
    if topic == topics.CASES_STATE:
        return [str(body.get("last_event_id"))]
    entries = [{**body, **r} for r in body["recipients"]] if isinstance(body.get("recipients"), list) else [body]
    return [f"{e.get('event_id')}>{e.get('recipient')}" for e in entries if e.get("decision") == "delivered"]


def expected_deliveries(registry: Registry, events: Iterable[dict[str, Any]]) -> dict[str, list[Delivery]]:
    """Per event id, the records it must produce exactly once: ``cases.events`` and ``cases.state`` (a new case each),
    and for every partner the registry routes it to, its outbound copy and its audit entry."""
    expected: dict[str, list[Delivery]] = {}
    for data in events:
        event_id = data["id"]
        found = [(topics.CASES_EVENTS, event_id), (topics.CASES_STATE, event_id)]
        for partner in registry.recipients(data["type"], data["issue_category"], data["location"]["tambon_code"]):
            if partner.disclosure is not Disclosure.AGGREGATE:
                found += [(topics.outbound(partner.id), event_id), (AUDIT_TOPIC, f"{event_id}>{partner.id}")]
        expected[event_id] = found
    return expected


def output_topics(registry: Registry) -> list[str]:
    return [topics.CASES_EVENTS, topics.CASES_STATE, AUDIT_TOPIC, *sorted(topics.outbound(p) for p in registry.partners)]


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                         isolation_level="read_committed", client_id="casehub-chaos-reader")


def _assign(consumer: KafkaConsumer, names: list[str]) -> list[TopicPartition]:
    partitions = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
    consumer.assign(partitions)
    return partitions


class DeliveryWatcher:
    """Follows the output topics (read_committed) from their ends and notes when each record first became visible.

    An aiokafka consumer in a thread of its own (the count at the end uses kafka-python: two clients, not one).
    """

    def __init__(self, settings: Settings, names: list[str]) -> None:
        self.settings, self.names = settings, names
        self.first_seen: dict[Delivery, float] = {}
        self.positions: dict[AioTopicPartition, int] = {}
        self.polls = 0
        self.partitions: list[AioTopicPartition] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._thread, name="chaos-watcher", daemon=True)

    def start(self, timeout: float = 60.0) -> None:
        consumer = _consumer(self.settings)
        try:
            self.partitions = [AioTopicPartition(t, p) for t in self.names
                               for p in sorted(consumer.partitions_for_topic(t) or ())]
        finally:
            consumer.close()
        self.thread.start()
        if not self.ready.wait(timeout) or self.error is not None:
            raise RuntimeError(f"the delivery watcher could not follow the output topics: {self.error!r}")

    def _thread(self) -> None:
        try:
            asyncio.run(self._follow())
        except Exception as exc:  # noqa: BLE001 - said by start(), or by behind() once the run is under way
            self.error = exc
            self.ready.set()

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(**connection(self.settings, "admin").aiokafka(), group_id=None,
                                    enable_auto_commit=False, isolation_level="read_committed",
                                    client_id="casehub-chaos-watcher")
        await consumer.start()
        try:
            partitions = self.partitions
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)  # resolve the end now: records produced from here on are the run's
            self.ready.set()
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                now = time.time()
                self.polls += 1
                for tp in partitions:
                    self.positions[tp] = await consumer.position(tp)
                for tp, records in batches.items():
                    for record in records:
                        for key in record_keys(tp.topic, record):
                            self.first_seen.setdefault((tp.topic, key), now)
        finally:
            await consumer.stop()

    def behind(self) -> dict[TopicPartition, tuple[int, int]]:
        """The partitions the watcher has not read to their last stable offset: (its position, that offset)."""
        consumer = _consumer(self.settings)
        try:
            ends = consumer.end_offsets([TopicPartition(tp.topic, tp.partition) for tp in self.positions])
        finally:
            consumer.close()
        return {tp: (self.positions[AioTopicPartition(tp.topic, tp.partition)], end) for tp, end in ends.items()
                if self.positions[AioTopicPartition(tp.topic, tp.partition)] < end}

    def missing(self, expected: Iterable[Delivery]) -> int:
        return sum(1 for delivery in expected if delivery not in self.first_seen)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)


def _read_all(settings: Settings, names: list[str], timeout: float) -> Iterator[tuple[str, Any]]:
    """Every record of ``names`` from the beginning to the last stable offset, read_committed, with its topic."""
    consumer = _consumer(settings)
    try:
        partitions = _assign(consumer, names)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in partitions):
            for tp, records in consumer.poll(timeout_ms=300, max_records=5000).items():
                for record in records:
                    yield tp.topic, record
        behind = [tp for tp in partitions if consumer.position(tp) < ends[tp]]
        if behind:
            raise RuntimeError(f"could not read {len(behind)} partition(s) to their end within {timeout:.0f} s")
    finally:
        consumer.close()


def count_committed(settings: Settings, names: list[str], timeout: float = 120.0) -> dict[str, Counter[str]]:
    """How often each key appears in ``names`` (read_committed, from the beginning), per topic."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for topic, record in _read_all(settings, names, timeout):
        for key in record_keys(topic, record):
            counts[topic][key] += 1
    return counts


def dead_letters(settings: Settings, event_ids: set[str], timeout: float = 120.0) -> dict[str, str]:
    """The events of ``event_ids`` in ``hub.dlq``, each with the stage and reason it was dead-lettered for."""
    found: dict[str, str] = {}
    for _topic, record in _read_all(settings, [topics.HUB_DLQ], timeout):
        headers = {k: v.decode(errors="replace") for k, v in record.headers or [] if v is not None}
        if headers.get("ce_id") in event_ids:
            found[headers["ce_id"]] = f"{headers.get('hub.error.stage')}: {headers.get('hub.error.reason', '')[:200]}"
    return found


@dataclass(frozen=True)
class TopicTally:
    """One output topic: records expected, delivered (at least once), delivered more than once, never delivered."""

    topic: str
    expected: int
    delivered: int
    duplicates: int
    lost: int
    unexpected: int
    lost_keys: tuple[str, ...] = ()  # the first few, to look for in the workers' logs
    duplicated_keys: tuple[str, ...] = ()


def tally(expected: dict[str, list[Delivery]], counts: dict[str, Counter[str]],
          sent_ids: Iterable[str] = ()) -> list[TopicTally]:
    """Compare; ``unexpected``: records of this run's events (``sent_ids``: unacknowledged ones too) no rule asked for."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for deliveries in expected.values():
        for topic, key in deliveries:
            wanted[topic].add(key)
    ours = set(sent_ids) | set(expected)
    result = []
    for topic in sorted(set(wanted) | {t for t, c in counts.items() if c}):
        seen = counts.get(topic, Counter())
        keys = wanted.get(topic, set())
        lost = sorted(k for k in keys if seen[k] == 0)
        twice = sorted(k for k in keys if seen[k] > 1)
        duplicates = sum(seen[k] - 1 for k in twice)
        unexpected = sum(n for k, n in seen.items() if k not in keys and k.split(">", 1)[0] in ours)
        if keys or unexpected:
            result.append(TopicTally(topic, len(keys), len(keys) - len(lost), duplicates, len(lost), unexpected,
                                     tuple(lost[:SAMPLE]), tuple(twice[:SAMPLE])))
    return result


# ---- timing ---------------------------------------------------------------------------------------------------
def delivered_at(expected: dict[str, list[Delivery]], seen: dict[Delivery, float]) -> dict[str, float | None]:
    """Per event, when its last expected record became visible (None: not all of them did)."""
    found: dict[str, float | None] = {}
    for event_id, deliveries in expected.items():
        times = [seen.get(d) for d in deliveries]
        found[event_id] = None if any(t is None for t in times) else max(t for t in times if t is not None)
    return found


@dataclass(frozen=True)
class Baseline:
    """End-to-end latency before the first disturbance, and the latency above which an event counts as held up."""

    events: int
    p50: float
    p99: float
    late_after: float


def baseline(sent_at: dict[str, float], arrived: dict[str, float | None], until: float, late_after: float) -> Baseline:
    """Latencies of the events sent and delivered before ``until`` (the first disturbance); ``late_after`` kept."""
    latencies = sorted(t - sent_at[e] for e, t in arrived.items() if t is not None and t < until)
    if not latencies:
        return Baseline(0, float("nan"), float("nan"), late_after)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Baseline(len(latencies), statistics.median(latencies), p99, late_after)


@dataclass(frozen=True)
class Recovery:
    """One disturbance: the events it caught (in flight when it struck, or sent before the next one), the worst
    latency among them, and how long until every one held up was delivered (0: none was; None: some never were)."""

    events: int
    held_up: int
    worst_latency: float | None
    recovered_after: float | None


def recovery(at: float, since: float, until: float, sent_at: dict[str, float], arrived: dict[str, float | None],
             late_after: float) -> Recovery:
    """The events sent in [``since``: the previous disturbance, ``until``: the next one) and not delivered before
    ``at``: those in flight when it struck, and those sent after it."""
    window = [e for e, t in sent_at.items() if since <= t < until and (arrived.get(e) is None or (arrived[e] or 0) > at)]
    latencies = [(arrived[e] or 0) - sent_at[e] for e in window if arrived.get(e) is not None]
    held = [e for e in window if arrived.get(e) is None or (arrived[e] or 0) - sent_at[e] > late_after]
    if any(arrived.get(e) is None for e in held):
        recovered: float | None = None
    else:
        recovered = max(((arrived[e] or 0) - at for e in held), default=0.0)
    return Recovery(len(window), len(held), max(latencies, default=None), recovered)
