"""Commands the hub sends itself (escalate a case, expire dedupe state), on an internal topic only the worker writes.

Commands never travel on a path a partner can write: not as headers of partner records (intake removes every
``hub.*`` header a partner wrote) and not on the inbound or intake topics. The commands topic is co-partitioned with
the intake topic, so a command reaches the worker that owns the case's shard and runs in that partition's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from casehub.streams.exceptions import StageRejected
from casehub.streams.keys import shard_of_case

STAGE = "command"
COMMAND_HEADER = "hub.command"
ESCALATE = b"escalate"
EXPIRE = b"expire"


@dataclass(frozen=True, slots=True)
class Escalate:
    case_id: str


@dataclass(frozen=True, slots=True)
class Expire:
    until: datetime


def topic_name(app_id: str) -> str:
    return f"{app_id}-commands"


def parse(headers: list[tuple[str, bytes]], value: bytes | None) -> Escalate | Expire:
    """The command a record holds, or StageRejected naming what is wrong (the record then goes to ``hub.dlq``)."""
    kinds = [v for k, v in headers if k == COMMAND_HEADER]
    if len(kinds) != 1:
        raise StageRejected(f"a command record needs exactly one {COMMAND_HEADER} header, found {len(kinds)}", stage=STAGE)
    kind = kinds[0]
    if kind == ESCALATE:
        try:
            case_id = (value or b"").decode("ascii")
        except UnicodeDecodeError:
            raise StageRejected("escalate: the value is not an ASCII case id", stage=STAGE) from None
        if shard_of_case(case_id) is None:
            raise StageRejected("escalate: the value is not a case id issued by the hub", stage=STAGE)
        return Escalate(case_id)
    if kind == EXPIRE:
        try:
            until_ms = int(value or b"")
            return Expire(datetime.fromtimestamp(until_ms / 1000, UTC))
        except (ValueError, OverflowError, OSError):
            raise StageRejected("expire: the value is not a time in epoch milliseconds", stage=STAGE) from None
    raise StageRejected(f"unknown command kind (header {COMMAND_HEADER})", stage=STAGE)
