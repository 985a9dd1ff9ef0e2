"""Errors the partner SDK raises: Kafka failures as TransportErrors, handler and record failures by name."""

from __future__ import annotations

from typing import Any

from casehub.core.errors import ContractError, HubError, TransportError


class ProducerFailed(TransportError):
    """The inbound topic did not acknowledge a record (the cluster is unreachable, the topic missing, not authorised)."""


class ConsumerFailed(TransportError):
    """Reading the outbound topic or committing a position failed."""


class HandlerFailed(HubError):
    """The partner's handler raised: the event's offset stays uncommitted, so the group receives it again."""

    def __init__(self, message: str, *, topic: str, partition: int, offset: int, event_id: str, **context: Any) -> None:
        super().__init__(message, hint="fix the handler and restart; the event will be delivered again", **context)
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.event_id = event_id


class UndecodableRecord(ContractError):
    """A record on the outbound topic is not a case event this SDK can read (an older SDK, or a foreign writer)."""

    def __init__(self, message: str, *, topic: str, partition: int, offset: int, **context: Any) -> None:
        super().__init__(message, hint="upgrade the casehub SDK, or pass skip_undecodable=True to log and move on", **context)
        self.topic = topic
        self.partition = partition
        self.offset = offset
