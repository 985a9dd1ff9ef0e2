"""Reads ``hub.subject.keys`` into a DataKeyStore: whole at start, then what is new (tombstones drop keys)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from casehub.core import topics
from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import Service, connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.vault.exceptions import MissingKeysTopic, VaultError
from casehub.vault.keystore import DataKeyStore
from casehub.vault.master import MasterKey

log = get_logger(__name__)
CATCH_UP_SECONDS = 30.0


class KeyFeed:
    """A group-less consumer of the keys topic that applies every record to ``store``.

    ``committed``: read_committed (the view that confirms pending keys and picks each scope's current key);
    otherwise read_uncommitted, which never waits behind an open transaction: for finding the key of a record
    already read (its key was written before or with it).
    """

    def __init__(self, settings: Settings, store: DataKeyStore, *, service: Service, committed: bool,
                 client_id: str = "casehub-vault") -> None:
        self.settings = settings
        self.store = store
        self.service = service
        self.committed = committed
        self.client_id = client_id
        self._consumer: KafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = threading.Lock()

    def _open(self) -> KafkaConsumer:
        if self._consumer is None:
            try:
                consumer = KafkaConsumer(
                    **connection(self.settings, self.service).kafka_python(), client_id=self.client_id,
                    group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                    isolation_level="read_committed" if self.committed else "read_uncommitted",
                )
            except KafkaError as exc:
                raise wrap_kafka_error(exc, "connect") from exc
            found = consumer.partitions_for_topic(self.store.topic)
            if not found:
                consumer.close()
                raise MissingKeysTopic(f"topic {self.store.topic} does not exist",
                                 hint="`casehub topics apply` creates it (and `casehub access apply` its ACLs)")
            self._partitions = [TopicPartition(self.store.topic, p) for p in sorted(found)]
            consumer.assign(self._partitions)
            consumer.seek_to_beginning(*self._partitions)
            self._consumer = consumer
        return self._consumer

    def catch_up(self, timeout: float = CATCH_UP_SECONDS) -> int:
        """Read every record up to the end the topic has now; returns how many were applied."""
        with self._lock:
            try:
                return self._catch_up(timeout)
            except KafkaError as exc:
                raise wrap_kafka_error(exc, "read") from exc

    def _catch_up(self, timeout: float) -> int:
        consumer = self._open()
        end = consumer.end_offsets(self._partitions)
        todo = {tp for tp in self._partitions if consumer.position(tp) < end[tp]}
        applied = 0
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise VaultError(f"reading {self.store.topic} did not reach its end in {timeout:.0f} s",
                                 hint="is the cluster up? an open transaction holds read_committed readers back")
            for records in consumer.poll(timeout_ms=200, max_records=5000).values():
                for record in records:
                    self.store.apply(record.key, record.value, committed=self.committed)
                    applied += 1
            todo = {tp for tp in todo if consumer.position(tp) < end[tp]}
        return applied

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None


def store_for(settings: Settings) -> DataKeyStore:
    """An empty store under the hub's master key."""
    return DataKeyStore(MasterKey.from_settings(settings))


@contextmanager
def reading_store(settings: Settings, *, service: Service = "operator", topic: str = topics.HUB_SUBJECT_KEYS,
                  ) -> Iterator[DataKeyStore]:
    """For a tool: every key there is now (uncommitted ones too: a record the tool reads may need one), and a
    fresh look on a miss."""
    store = DataKeyStore(MasterKey.from_settings(settings), topic=topic)
    feed = KeyFeed(settings, store, service=service, committed=False, client_id="casehub-vault-reader")
    try:
        try:
            feed.catch_up()
            store.lookup = feed.catch_up
        except MissingKeysTopic as exc:  # a cluster set up before the vault: nothing was sealed there
            log.warning("no data keys to read", error=exc.message)
        yield store
    finally:
        feed.close()
