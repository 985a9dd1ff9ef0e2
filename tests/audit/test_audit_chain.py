"""The chain on its own: a sealed sequence verifies; an edit, a removal, an insertion or a foreign key breaks it there."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from casehub.audit.chain import ChainHead, key_id, seal
from casehub.audit.verify import AuditRecord, verify_partition


def _chain(signer: Ed25519PrivateKey, count: int, partition: int = 2) -> list[AuditRecord]:
    head = ChainHead(partition)
    records = []
    for offset in range(count):
        value = f'{{"decision":"delivered","recipient":"tc-840502","n":{offset}}}'.encode()
        headers, head = seal(head, signer, b"case-1", value, [("content-type", b"application/json")])
        records.append(AuditRecord(partition, offset * 2, b"case-1", value, headers))  # markers take odd offsets
    return records


def test_a_sealed_chain_verifies() -> None:
    signer = Ed25519PrivateKey.generate()
    verdict = verify_partition(2, _chain(signer, 5), {key_id(signer.public_key()): signer.public_key()})
    assert verdict.ok and verdict.checked == 5 and (verdict.first_seq, verdict.last_seq) == (0, 4)


def test_edit_removal_insertion_and_a_foreign_key_each_break_the_chain_at_that_record() -> None:
    signer = Ed25519PrivateKey.generate()
    keys = {key_id(signer.public_key()): signer.public_key()}
    records = _chain(signer, 5)

    edited = list(records)
    edited[2] = replace(records[2], value=records[2].value.replace(b"tc-840502", b"tc-000000"))  # type: ignore[union-attr]
    broken = verify_partition(2, edited, keys).broken
    assert broken is not None and broken.offset == 4 and "edited or forged" in broken.reason

    removed = records[:2] + records[3:]
    broken = verify_partition(2, removed, keys).broken
    assert broken is not None and broken.offset == 6 and "missing" in broken.reason

    forger = Ed25519PrivateKey.generate()
    foreign = _chain(forger, 1)[0]
    inserted = records[:3] + [replace(foreign, offset=5)] + records[3:]
    broken = verify_partition(2, inserted, keys).broken
    assert broken is not None and broken.offset == 5 and "unknown key" in broken.reason

    unsealed = records[:1] + [AuditRecord(2, 1, b"case-1", b"{}", [("content-type", b"application/json")])]
    broken = verify_partition(2, unsealed, keys).broken
    assert broken is not None and broken.offset == 1 and "not sealed" in broken.reason

    head_trimmed = records[2:]
    broken = verify_partition(2, head_trimmed, keys).broken
    assert broken is not None and broken.offset == 4 and "at the start" in broken.reason
    assert verify_partition(2, head_trimmed, keys, anchored_at_start=False).ok


def test_a_record_moved_to_another_partition_does_not_verify() -> None:
    signer = Ed25519PrivateKey.generate()
    keys = {key_id(signer.public_key()): signer.public_key()}
    moved = [replace(record, partition=3) for record in _chain(signer, 2)]
    assert not verify_partition(3, moved, keys).ok
