"""What one running gateway holds: settings, registry, keys, limiter, Kafka writer, case view, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fastapi import Request

from casehub.connectors.csv_import.ledger import ledger_dir
from casehub.connectors.gateway.case_references import CaseReferences
from casehub.connectors.gateway.case_view import CasesView
from casehub.connectors.gateway.keys import KeyStore
from casehub.connectors.gateway.metrics import GatewayMetrics
from casehub.connectors.gateway.producer import EventWriter
from casehub.connectors.gateway.ratelimit import RateLimiter
from casehub.connectors.gateway.submission import RecentIds
from casehub.core.settings import Settings
from casehub.registry import Registry
from casehub.streams.pseudonyms import Pseudonyms


@dataclass
class Gateway:
    """The gateway's parts, shared by every request (``app.state.gateway``)."""

    settings: Settings
    registry: Registry
    keys: KeyStore
    writer: EventWriter
    cases: CasesView
    limiter: RateLimiter
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    recent: RecentIds = field(default_factory=RecentIds)

    @cached_property
    def references(self) -> CaseReferences:
        """Finds a case by the id the caller knows (pseudonymised partners have their own case references)."""
        return CaseReferences(self.cases, Pseudonyms.from_settings(self.settings))

    @property
    def uploads_dir(self) -> Path:
        """Where the CSV upload ledger lives (shared with `casehub import`)."""
        return ledger_dir(self.settings)


def gateway_of(request: Request) -> Gateway:
    """The running gateway of a request."""
    hub: Gateway = request.app.state.gateway
    return hub
