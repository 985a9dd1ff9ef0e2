"""Check a partition's audit chain record by record and name the first record that breaks it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from casehub.audit.chain import GENESIS, Headers, read_link, record_digest, signature_valid


@dataclass(frozen=True)
class AuditRecord:
    """One record of an audit partition as read back from Kafka."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True)
class Break:
    """The first record at which a chain stops verifying, and why."""

    partition: int
    offset: int
    reason: str

    def describe(self) -> str:
        return f"partition {self.partition}, offset {self.offset}: {self.reason}"


@dataclass(frozen=True)
class PartitionVerdict:
    """How one partition's chain verified: records checked, the sequence range, and the first break if any."""

    partition: int
    checked: int
    first_seq: int | None
    last_seq: int | None
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, object]:
        return {"partition": self.partition, "checked": self.checked, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "ok": self.ok,
                "broken": None if self.broken is None else {"offset": self.broken.offset, "reason": self.broken.reason}}


def verify_partition(partition: int, records: Iterable[AuditRecord], keys: Mapping[str, Ed25519PublicKey], *,
                     anchored_at_start: bool = True) -> PartitionVerdict:
    """Walk ``records`` (one partition, offset order) and stop at the first one that breaks the chain.

    ``anchored_at_start``: the first record must be the chain's first (sequence 0). Off when verifying from a
    time (``--since``): the first record read is then trusted as the anchor once its signature holds.
    """
    checked = 0
    first_seq: int | None = None
    expected_seq: int | None = 0 if anchored_at_start else None
    previous_digest: bytes | None = GENESIS if anchored_at_start else None

    def verdict(broken: Break | None) -> PartitionVerdict:
        last = None if expected_seq is None or first_seq is None else expected_seq - 1
        return PartitionVerdict(partition, checked, first_seq, last, broken)

    for record in records:
        link = read_link(record.headers)
        if link is None:
            return verdict(Break(partition, record.offset, "not sealed: the chain headers are missing or malformed "
                                                           "(a record the hub did not write)"))
        public_key = keys.get(link.key_id)
        if public_key is None:
            return verdict(Break(partition, record.offset, f"signed with an unknown key {link.key_id}"))
        digest = record_digest(partition, link.seq, link.prev, record.key, record.value, record.headers)
        if not signature_valid(public_key, link.signature, digest):
            return verdict(Break(partition, record.offset, "signature does not match the record: edited or forged"))
        if expected_seq is not None and link.seq != expected_seq:
            if link.seq > expected_seq:
                missing = link.seq - expected_seq
                where = "at the start of the partition" if checked == 0 else "before it"
                reason = f"sequence {link.seq} where {expected_seq} was due: {missing} record(s) missing {where}"
            else:
                reason = f"sequence {link.seq} where {expected_seq} was due: a record inserted or repeated"
            return verdict(Break(partition, record.offset, reason))
        if previous_digest is not None and link.prev != previous_digest:
            return verdict(Break(partition, record.offset,
                                 "previous-record hash does not match the record before it: removed or inserted"))
        if first_seq is None:
            first_seq = link.seq
        checked += 1
        expected_seq = link.seq + 1
        previous_digest = digest
    return verdict(None)
