"""The Python SDK for partners on Kafka: a validating Producer and a commit-after-handling Consumer."""

from casehub.connectors.sdk.consumer import Consumer, Handler, Received
from casehub.connectors.sdk.credentials import PartnerCredentials
from casehub.connectors.sdk.exceptions import ConsumerFailed, HandlerFailed, ProducerFailed, UndecodableRecord
from casehub.connectors.sdk.producer import Producer, Sent, check

__all__ = [
    "Consumer",
    "ConsumerFailed",
    "Handler",
    "HandlerFailed",
    "PartnerCredentials",
    "Producer",
    "ProducerFailed",
    "Received",
    "Sent",
    "UndecodableRecord",
    "check",
]
