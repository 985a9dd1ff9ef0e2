"""The dead-letter topic for operators: read it, group it by stage and reason, and re-drive records after a fix.

A re-drive sends the record unchanged (key, value, its own headers) back to the topic it failed on
(``hub.error.topic``), carrying ``hub.error.attempts`` so a second failure comes back counted, and
writes, in ONE Kafka transaction, a marker to ``hub.dlq`` (``hub.redrive.of = P:O``) and a ``hub.audit``
record. The markers make a repeated re-drive skip what was already sent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError

from casehub.core import topics
from casehub.core.errors import wrap_kafka_error
from casehub.core.settings import Settings
from casehub.ops import operator_audit
from casehub.ops.exceptions import BadSelection, RecordNotFound
from casehub.ops.kafka_io import REQUEST_TIMEOUT_MS, Span, read_spans, reader, whole_topic, writer
from casehub.streams.dlq import HEADER_PREFIX, read_error, redrive_key, sign_redrive
from casehub.vault.feed import reading_store
from casehub.vault.reading import open_record

REDRIVE_PREFIX = "hub.redrive."
MARKER_HEADER = REDRIVE_PREFIX + "of"
Headers = list[tuple[str, bytes]]


def coordinates(partition: int, offset: int) -> str:
    return f"{partition}:{offset}"


def parse_coordinates(text: str) -> tuple[int, int]:
    """``PARTITION:OFFSET`` of a record in ``hub.dlq``."""
    try:
        partition, offset = (int(part) for part in text.split(":", 1))
    except ValueError:
        raise BadSelection(f"{text!r}: expected PARTITION:OFFSET, e.g. 0:42") from None
    return partition, offset


def reason_class(reason: str) -> str:
    """The reason with what differs per record (event and case ids, quoted values, numbers) blanked, for grouping."""
    text = re.sub(r"^([a-z_]+\.[a-z_]+) \S+:", r"\1 <id>:", reason)
    text = re.sub(r"CASE-\d{8}-[0-9A-Z]{10}", "<case>", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b\d[\d.:-]{2,}\b", "<n>", text)
    return text[:200]


@dataclass
class DeadLetter:
    """One record in ``hub.dlq`` and whether (by which re-drives) it was sent back already."""

    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    error: dict[str, str]
    redriven_by: list[str] = field(default_factory=list)
    unreadable: str | None = None
    """Why the value cannot be given back (its subject was erased: ``[erased]: ...``); None when it can."""

    @property
    def coordinates(self) -> str:
        return coordinates(self.partition, self.offset)

    @property
    def stage(self) -> str:
        return self.error.get("stage", "?")

    @property
    def reason(self) -> str:
        return self.error.get("reason", "")

    @property
    def attempts(self) -> int:
        try:
            return int(self.error.get("attempts", "1"))
        except ValueError:
            return 1

    def redrive_headers(self, redrive_id: str, key: bytes) -> Headers:
        """The record's own headers, then its attempt count and the re-drive's provenance, signed for intake."""
        own = [(k, v) for k, v in self.headers if not k.startswith((HEADER_PREFIX, REDRIVE_PREFIX))]
        headers = [
            *own,
            (HEADER_PREFIX + "attempts", str(self.attempts).encode()),
            (REDRIVE_PREFIX + "id", redrive_id.encode()),
            (REDRIVE_PREFIX + "dlq", self.coordinates.encode()),
        ]
        return [*headers, sign_redrive(key, headers, self.value)]


@dataclass
class Scan:
    """Everything in ``hub.dlq``: dead letters, and how many re-drive markers were seen."""

    letters: list[DeadLetter]
    markers: int

    @property
    def pending(self) -> list[DeadLetter]:
        return [d for d in self.letters if not d.redriven_by]


def scan(settings: Settings, *, topic: str = topics.HUB_DLQ) -> Scan:
    """Read ``hub.dlq`` up to its end now (no consumer group) and match markers to the dead letters they re-drove."""
    letters: dict[str, DeadLetter] = {}
    redriven: dict[str, list[str]] = defaultdict(list)
    markers = 0
    with reader(settings, client_id="casehub-dlq") as consumer, reading_store(settings) as store:
        for record in read_spans(consumer, topic, whole_topic(consumer, topic)):
            # a dead letter's value is sealed under its subject's data key: opened here, byte for byte
            opened = open_record(record.value, list(record.headers or []), store)
            headers = opened.headers
            marker = next((v for k, v in headers if k == MARKER_HEADER), None)
            if marker is not None:
                markers += 1
                redrive_id = next((v for k, v in headers if k == REDRIVE_PREFIX + "id"), b"?").decode()
                redriven[marker.decode()].append(redrive_id)
                continue
            letter = DeadLetter(record.partition, record.offset, record.timestamp, record.key, opened.value, headers,
                                read_error(headers), unreadable=opened.problem)
            letters[letter.coordinates] = letter
    for where, ids in redriven.items():
        if where in letters:
            letters[where].redriven_by = ids
    return Scan(list(letters.values()), markers)


@dataclass
class Group:
    """Dead letters of one stage with one kind of reason."""

    stage: str
    reason: str
    count: int = 0
    redriven: int = 0
    exceptions: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    example: str = ""
    first: int = 0
    last: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "reason": self.reason, "count": self.count, "redriven": self.redriven,
                "pending": self.count - self.redriven, "exceptions": sorted(self.exceptions),
                "topics": sorted(self.topics), "example": self.example, "first_ms": self.first, "last_ms": self.last}


def grouped(letters: Iterable[DeadLetter]) -> list[Group]:
    """Groups by (stage, reason class), largest first."""
    groups: dict[tuple[str, str], Group] = {}
    for letter in letters:
        reason = reason_class(letter.reason)
        group = groups.get((letter.stage, reason))
        if group is None:
            group = groups[(letter.stage, reason)] = Group(letter.stage, reason, example=letter.coordinates,
                                                            first=letter.timestamp)
        group.count += 1
        group.redriven += bool(letter.redriven_by)
        group.exceptions.add(letter.error.get("exception", "?"))
        group.topics.add(letter.error.get("topic", "?"))
        group.first = min(group.first, letter.timestamp)
        group.last = max(group.last, letter.timestamp)
    return sorted(groups.values(), key=lambda g: (-g.count, g.stage, g.reason))


def fetch(settings: Settings, partition: int, offset: int, *, topic: str = topics.HUB_DLQ) -> Any:
    """The record at ``partition:offset`` of ``topic`` (a dead letter or a marker)."""
    with reader(settings, client_id="casehub-dlq-show") as consumer:
        tp = TopicPartition(topic, partition)
        if partition not in (consumer.partitions_for_topic(topic) or set()):
            raise RecordNotFound(f"{topic} has no partition {partition}")
        first = consumer.beginning_offsets([tp], timeout_ms=REQUEST_TIMEOUT_MS)[tp]
        end = consumer.end_offsets([tp], timeout_ms=REQUEST_TIMEOUT_MS)[tp]
        if not first <= offset < end:
            raise RecordNotFound(f"{topic} partition {partition} holds offsets {first}..{end - 1}, not {offset}")
        for record in read_spans(consumer, topic, {partition: Span(partition, offset, offset + 1)}):
            if record.offset == offset:
                return record
    raise RecordNotFound(f"{topic} {partition}:{offset} is not a record (a transaction marker or an aborted write)")


def select(letters: Sequence[DeadLetter], *, stages: Sequence[str] = (), reasons: Sequence[str] = (),
           offsets: Sequence[str] = (), include_redriven: bool = False) -> tuple[list[DeadLetter], list[DeadLetter]]:
    """The dead letters matching every given criterion (stage exact, reason substring, coordinates), and those
    among them already re-driven (left out unless ``include_redriven``)."""
    wanted = {coordinates(*parse_coordinates(o)) for o in offsets}
    known = {d.coordinates for d in letters}
    missing = wanted - known
    if missing:
        raise BadSelection(f"no dead letter at {', '.join(sorted(missing))} (`casehub dlq list` shows what there is)")
    chosen = [
        d for d in letters
        if (not stages or d.stage in stages)
        and (not reasons or any(r.lower() in d.reason.lower() for r in reasons))
        and (not wanted or d.coordinates in wanted)
    ]
    already = [d for d in chosen if d.redriven_by]
    if not include_redriven:
        chosen = [d for d in chosen if not d.redriven_by]
    return chosen, already


@dataclass
class RedriveReport:
    """What a re-drive sent back, and what it left alone."""

    id: str
    sent: list[DeadLetter]
    already: list[DeadLetter]
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "dry_run": self.dry_run, "sent": len(self.sent), "already_redriven": len(self.already),
            "records": [{"dlq": d.coordinates, "topic": d.error.get("topic"), "stage": d.stage,
                         "attempts": d.attempts} for d in self.sent],
            "skipped": [{"dlq": d.coordinates, "redriven_by": d.redriven_by} for d in self.already],
        }


def redrive(settings: Settings, chosen: Sequence[DeadLetter], already: Sequence[DeadLetter], *, operator: str,
            criteria: dict[str, Any], dry_run: bool = False, dlq_topic: str = topics.HUB_DLQ) -> RedriveReport:
    """Send ``chosen`` back to their original topics with markers and an audit record, all in one transaction."""
    redrive_id = operator_audit.new_id("rd")
    report = RedriveReport(redrive_id, list(chosen), list(already), dry_run)
    bad = [d.coordinates for d in chosen if not d.error.get("topic")]
    if bad:
        raise BadSelection(f"dead letters {', '.join(bad)} do not say which topic they came from (no hub.error.topic)")
    gone = [f"{d.coordinates} ({d.unreadable})" for d in chosen if d.unreadable]
    if gone:
        raise BadSelection(f"dead letters {', '.join(gone)} cannot be re-driven: their subject was erased, so "
                           "nothing of them is left to send", hint="leave them out (--offset, --stage, --reason)")
    if dry_run or not chosen:
        return report
    audit = operator_audit.action_record(
        "redrive", redrive_id, operator=operator, criteria=criteria,
        records=[{"dlq": d.coordinates, "topic": d.error["topic"], "partition": d.error.get("partition"),
                  "offset": d.error.get("offset"), "stage": d.stage, "attempts": d.attempts} for d in chosen],
        count=len(chosen), already_redriven=[d.coordinates for d in already],
    )
    # the worker's intake keeps a re-drive's hub.* headers only with this signature (it drops partners' hub.* headers)
    key = redrive_key(settings.pseudonym_key.get_secret_value().encode())
    with writer(settings, client_id=f"casehub-{redrive_id}", transactional_id="casehub-ops-redrive") as producer:
        try:
            producer.init_transactions()
            producer.begin_transaction()
            for letter in chosen:
                producer.send(letter.error["topic"], key=letter.key, value=letter.value,
                              headers=letter.redrive_headers(redrive_id, key))
                producer.send(dlq_topic, key=f"redrive:{letter.coordinates}".encode(), value=b"",
                              headers=[(MARKER_HEADER, letter.coordinates.encode()),
                                       (REDRIVE_PREFIX + "id", redrive_id.encode())])
            topic, key, value, headers = audit
            producer.send(topic, key=key, value=value, headers=headers)
            producer.commit_transaction()
        except KafkaError as exc:
            raise wrap_kafka_error(exc, "re-drive") from exc
    return report
