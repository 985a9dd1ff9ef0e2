"""Errors of the AsyncAPI documents, under casehub.core.errors' families (the gateway answers with ``status``)."""

from __future__ import annotations

from casehub.core.errors import BrokerError, ConfigError


class AsyncApiUnavailable(BrokerError):
    """What the document describes (the cluster's size) could not be learned from Kafka."""

    status = 503
    code = "kafka_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class ListenerUnknown(ConfigError):
    """A partner authenticates with a client certificate, but the address of the mTLS listener is not known."""

    status = 503
    code = "not_configured"
