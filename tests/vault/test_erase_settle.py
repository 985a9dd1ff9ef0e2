"""An erasure stays done: a data key a worker writes back after its tombstone (a transaction that was open when
the erasure landed) is destroyed again, and a key of another person is left alone."""

from __future__ import annotations

from casehub.core.settings import Settings
from casehub.ops.kafka_io import writer
from casehub.rights.identity import SubjectId
from casehub.vault.erase import Erasure, erase, sweep
from casehub.vault.feed import reading_store, store_for
from casehub.vault.scopes import subject_scope


def test_a_key_written_back_after_its_erasure_is_destroyed_again(settings: Settings, unique: str) -> None:
    person, other = (SubjectId.other(settings, f"passport:{unique}-{n}") for n in ("a", "b"))
    keys = store_for(settings)
    erased, kept = keys.key_for(subject_scope(person.token)), keys.key_for(subject_scope(other.token))
    records = keys.records_for([erased, kept])
    with writer(settings, client_id=f"worker-like-{unique}") as producer:
        for topic, key, value in records:
            producer.send(topic, key=key, value=value)

    erasure = Erasure(f"er-{unique}", person, "test", "User:casehub-operator", destroyed=[erased.record_key.decode()])
    with writer(settings, client_id=f"late-worker-{unique}") as late:  # the worker's repeat lands after the erasure
        erase(settings, erasure, settle_seconds=0.0)
        topic, key, value = records[0]
        late.send(topic, key=key, value=value)
    with reading_store(settings) as store:
        assert store.get(erased.key_id) is not None  # written back: readable again until the sweep

    sweep(settings, erasure, 0.5)  # what `casehub subject erase` does after its transaction

    with reading_store(settings) as store:
        assert store.get(erased.key_id) is None
        assert store.get(kept.key_id) is not None
