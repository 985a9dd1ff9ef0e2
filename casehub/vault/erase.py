"""``casehub subject erase``: destroy every data key of a person and of their cases, and say so in ``hub.audit``.

What was sealed under those keys (cases.events fields, intake records, dead letters) cannot be read by anyone from
then on; the keys topic is compacted, so the wrapped keys themselves are gone within the hour. What partners already
received (their outbound topics) was lawfully delivered and stays theirs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaError

from casehub.core import topics
from casehub.core.errors import wrap_kafka_error
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.ops import operator_audit
from casehub.ops.kafka_io import writer
from casehub.rights.identity import SubjectId
from casehub.rights.lineage import HubTopics, trace
from casehub.vault.feed import reading_store
from casehub.vault.scopes import case_scope, subject_scope

log = get_logger(__name__)
SETTLE_SECONDS = 6.0
"""Longer than a worker's look at the keys topic (2 s) plus a commit: a worker repeats a key it made until it sees
the key committed, so a transaction that was open when the tombstones landed can write the key once more."""
SETTLE_ROUNDS = 3


@dataclass
class Erasure:
    """What one erasure found and destroyed."""

    id: str
    subject: SubjectId
    reason: str
    operator: str
    cases: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    """Keys-topic record keys tombstoned: ``<scope>:<key id>``."""
    dead_letters: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "subject": {"kind": self.subject.kind, "masked": self.subject.masked,
                                           "token": self.subject.token},
                "reason": self.reason, "operator": self.operator, "cases": self.cases,
                "keys_destroyed": self.destroyed, "dead_letters": self.dead_letters}


def plan_erasure(settings: Settings, person: SubjectId, *, reason: str, where: HubTopics | None = None) -> Erasure:
    """The person's cases (as `casehub subject report` finds them) and every data key of them and of the person."""
    found = trace(settings, person, where)
    erasure = Erasure(operator_audit.new_id("er"), person, reason, operator_audit.operator_principal(settings),
                      cases=found.cases, dead_letters=list(found.dead_letters))
    scopes = {subject_scope(person.token), *(case_scope(case_id) for case_id in found.cases)}
    with reading_store(settings) as store:
        erasure.destroyed = sorted(key.record_key.decode() for key in store.keys_of(scopes))
    return erasure


def erase(settings: Settings, erasure: Erasure, *, settle_seconds: float | None = None) -> None:
    """Tombstone every key of ``erasure`` and write its audit entry, in one transaction (both or neither); then
    make sure no worker wrote one of them back."""
    topic, key, value, headers = operator_audit.action_record(
        "erase", erasure.id, operator=erasure.operator, subject_token=erasure.subject.token,
        subject_kind=erasure.subject.kind, reason=erasure.reason, cases=erasure.cases,
        keys_destroyed=erasure.destroyed, count=len(erasure.destroyed), dead_letters=erasure.dead_letters,
    )
    with writer(settings, client_id=f"casehub-{erasure.id}", transactional_id="casehub-ops-erase") as producer:
        try:
            producer.init_transactions()
            producer.begin_transaction()
            for record_key in erasure.destroyed:
                producer.send(topics.HUB_SUBJECT_KEYS, key=record_key.encode(), value=None)
            producer.send(topic, key=key, value=value, headers=headers)
            producer.commit_transaction()
        except KafkaError as exc:
            raise wrap_kafka_error(exc, "erase") from exc
    sweep(settings, erasure, SETTLE_SECONDS if settle_seconds is None else settle_seconds)


def sweep(settings: Settings, erasure: Erasure, seconds: float) -> None:
    """Tombstone again any destroyed key a worker wrote back after the erasure (see SETTLE_SECONDS)."""
    destroyed = set(erasure.destroyed)
    for _ in range(SETTLE_ROUNDS if destroyed and seconds > 0 else 0):
        time.sleep(seconds)
        with reading_store(settings) as store:
            back = sorted(k.record_key.decode() for k in store.keys_of({k.split(":", 1)[0] for k in destroyed})
                          if k.record_key.decode() in destroyed)
        if not back:
            return
        log.warning("erased data keys were written back by a worker; destroying them again", keys=back,
                    erasure=erasure.id)
        with writer(settings, client_id=f"casehub-{erasure.id}-settle") as producer:
            try:
                for record_key in back:
                    producer.send(topics.HUB_SUBJECT_KEYS, key=record_key.encode(), value=None)
                producer.flush()
            except KafkaError as exc:
                raise wrap_kafka_error(exc, "erase (settle)") from exc
