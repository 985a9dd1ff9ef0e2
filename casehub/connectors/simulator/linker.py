"""Learns the case ids the hub assigns to simulated reports, by reading them back from ``cases.events``."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from casehub.connectors.simulator.exceptions import SimulatorSendError
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings

log = get_logger(__name__)


class CaseLinker:
    """Maps the simulator's stand-in case ids to the hub's, as partners learn them: from the hub's own stream.

    Open it before the first report is written (it reads ``cases.events`` from its end at that moment).
    A report the hub accepted appears there as ``case.reported`` with the partner's ``ce_source`` and ``ce_id``
    and the assigned case id in ``ce_subject``.
    """

    def __init__(self, settings: Settings, *, timeout: float = 30.0, topic: str = topics.CASES_EVENTS) -> None:
        self.timeout = timeout
        self._expected: dict[str, tuple[str, str]] = {}
        self._assigned: dict[tuple[str, str], str] = {}
        self._given_up: set[str] = set()
        self._second_reports: dict[str, list[tuple[str, str]]] = {}
        self._last_actor: dict[str, tuple[str, str]] = {}
        self._watched: set[tuple[str, str]] = set()
        self._processed: set[tuple[str, str]] = set()
        try:
            self._consumer = KafkaConsumer(**connection(settings, "simulator").kafka_python(), client_id="casehub-simulator-linker",
                                           group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                                           bootstrap_timeout_ms=10_000)
            partitions = self._consumer.partitions_for_topic(topic) or set()
            if not partitions:
                raise SimulatorSendError(f"topic {topic} does not exist", hint="run `casehub topics apply` first")
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            self._consumer.assign(assigned)
            self._consumer.seek_to_end(*assigned)
            for partition in assigned:  # resolve the end offsets now, before any report is written
                self._consumer.position(partition)
        except KafkaError as exc:
            raise SimulatorSendError(f"cannot read {topic} at {settings.bootstrap_servers()}: {exc}",
                                     hint="check that the cluster is up (`casehub broker status`)") from exc

    def expect(self, case_ref: str, inbound_topic: str, report_id: str) -> None:
        """Case ``case_ref`` was reported by the owner of ``inbound_topic`` with event id ``report_id``."""
        org = topics.org_of_inbound(inbound_topic) or ""
        self._expected[case_ref] = (topics.event_source(org), report_id)

    def expect_second_report(self, case_ref: str, inbound_topic: str, report_id: str) -> None:
        """Another channel reported case ``case_ref`` again (event ``report_id``).

        Its case's next follow-up waits until the hub has that report too. They travel through different
        partners' topics, so a closure sent right after it could otherwise be processed first, and the
        report would then rightly open a new case instead of joining the closed one.
        """
        org = topics.org_of_inbound(inbound_topic) or ""
        self._second_reports.setdefault(case_ref, []).append((topics.event_source(org), report_id))

    def case_id(self, case_ref: str, *, before_waiting: Callable[[], None] | None = None) -> str | None:
        """The hub's case id for ``case_ref``: waits up to ``timeout`` for the hub to process its reports, else None."""
        key = self._expected.get(case_ref)
        if key is None or case_ref in self._given_up:
            return None
        reports = [key, *self._second_reports.get(case_ref, [])]
        if all(report in self._assigned for report in reports):
            return self._settled(case_ref, key)
        if before_waiting is not None:
            before_waiting()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self._read(timeout_ms=200)
            if all(report in self._assigned for report in reports):
                return self._settled(case_ref, key)
        if key in self._assigned:  # a second report the hub never showed (dead-lettered): the case goes on
            return self._settled(case_ref, key)
        self._given_up.add(case_ref)
        log.warning("the hub did not open the simulated case in time", case_ref=case_ref, event_id=key[1],
                    timeout_seconds=self.timeout)
        return None

    def hand_off(self, case_ref: str, inbound_topic: str, event_id: str, *,
                 before_waiting: Callable[[], None] | None = None) -> None:
        """Partner ``inbound_topic``'s event ``event_id`` about ``case_ref`` is next: if another partner acted last,
        wait until the hub processed that partner's event first.

        A partner acts on what the hub delivered to it, and the hub checks each sender's rights against the
        case's state (the owner a triage set, the recipient a referral named). Events of different partners
        travel through different topics, so one sent right after another could otherwise be processed first.
        """
        source = topics.event_source(topics.org_of_inbound(inbound_topic) or "")
        previous = self._last_actor.get(case_ref)
        if previous is not None and previous[0] != source and previous not in self._processed:
            if before_waiting is not None:
                before_waiting()
            deadline = time.monotonic() + self.timeout
            while previous not in self._processed and time.monotonic() < deadline:
                self._read(timeout_ms=200)
            if previous not in self._processed:
                log.warning("the hub did not process the previous partner's event in time", case_ref=case_ref,
                            event_id=previous[1], timeout_seconds=self.timeout)
        if previous is not None:
            self._processed.discard(previous)
            self._watched.discard(previous)
        self._last_actor[case_ref] = (source, event_id)
        self._watched.add((source, event_id))

    def _settled(self, case_ref: str, key: tuple[str, str]) -> str:
        self._second_reports.pop(case_ref, None)
        return self._assigned[key]

    def _read(self, *, timeout_ms: int) -> None:
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms)
        except KafkaError as exc:
            raise SimulatorSendError(f"reading {topics.CASES_EVENTS} failed: {type(exc).__name__}: {exc}") from exc
        for records in batches.values():
            for record in records:
                headers = {name: value for name, value in record.headers or ()}
                seen = (headers.get("ce_source", b"").decode(), headers.get("ce_id", b"").decode())
                if seen in self._watched:
                    self._watched.discard(seen)
                    self._processed.add(seen)
                if headers.get("ce_type") != b"case.reported" or not headers.get("ce_subject"):
                    continue
                self._assigned[seen] = headers["ce_subject"].decode()

    def close(self) -> None:
        """Stop reading."""
        self._consumer.close()
