"""Who gets webhooks: partners with a ``webhook_url`` and an issued secret, re-read when the registry or secrets change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from casehub.connectors.webhooks.exceptions import WebhookConfigError
from casehub.connectors.webhooks.secrets import SecretStore
from casehub.core import topics
from casehub.core.errors import ConfigError
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.registry import Registry
from casehub.registry.loader import load_registry

log = get_logger(__name__)


@dataclass(frozen=True)
class Target:
    """A partner the dispatcher delivers to: its outbound topic, URL and signing secret."""

    org: str
    topic: str
    url: str
    secret: SecretStr


def targets_of(registry: Registry, store: SecretStore, orgs: Iterable[str] | None = None, *,
               required: bool = True) -> list[Target]:
    """Partners registered with a webhook URL and a secret (``orgs`` narrows them; each named one must qualify).

    With ``required``, finding none is a WebhookConfigError; otherwise an empty list (a dispatcher waiting for one).
    """
    wanted = set(orgs or ())
    chosen: list[Target] = []
    for org in sorted(wanted) if wanted else sorted(registry.partners):
        partner = registry.get(org)
        if partner.webhook_url is None:
            if wanted:
                raise WebhookConfigError(f"{org} has no webhook_url in the registry")
            continue
        secret = store.get(org)
        if secret is None:
            if wanted and required:
                raise WebhookConfigError(f"{org} has no webhook secret", hint=f"issue one: casehub webhooks secret {org}")
            log.warning("webhook partner waiting: no secret issued", partner=org)
            continue
        chosen.append(Target(org, topics.outbound(org), partner.webhook_url, secret))
    if not chosen and required:
        raise WebhookConfigError("no partner to deliver webhooks to",
                                 hint="set webhook_url in the registry and run `casehub webhooks secret ORG`")
    return chosen


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class TargetSource:
    """The current targets; the registry and the secret store are read again only when their files change.

    Lets an operator issue a secret or add a ``webhook_url`` without restarting the dispatcher.
    """

    def __init__(self, settings: Settings, orgs: Iterable[str] | None = None) -> None:
        self.settings = settings
        self.orgs = tuple(orgs or ())
        self.store = SecretStore.from_settings(settings)
        self._registry = load_registry(settings)
        self._stamps = self._current_stamps()
        self._targets = targets_of(self._registry, self.store, self.orgs, required=False)

    def _current_stamps(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        return _stamp(Path(self._registry.source)), _stamp(self.store.path)

    def current(self) -> list[Target]:
        """Targets now; a registry that became invalid is reported and the last good one kept."""
        stamps = self._current_stamps()
        if stamps != self._stamps:
            try:
                if stamps[0] != self._stamps[0]:
                    self._registry = load_registry(self.settings)
                self._targets = targets_of(self._registry, self.store, self.orgs, required=False)
            except ConfigError as exc:
                log.error("webhook targets not refreshed; keeping the previous ones", error=str(exc))
            self._stamps = stamps
        return list(self._targets)
