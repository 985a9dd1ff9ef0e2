"""A real gateway for tests: uvicorn serving create_app() in a thread on a free loopback port."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from casehub.connectors.gateway.app import EVENT_LOOP, create_app
from casehub.connectors.gateway.keys import KeyStore
from casehub.core.settings import Settings
from casehub.registry import Registry, parse_registry
from tests.kafka_helpers import kafka_identity
from tests.streams.harness import free_port


@dataclass
class GatewayServer:
    """One running gateway and the key store its partners' keys live in."""

    settings: Settings
    registry: Registry
    port: int = field(default_factory=free_port)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keys(self) -> KeyStore:
        return KeyStore.for_settings(self.settings)

    def key_for(self, org: str) -> str:
        """A freshly issued key of ``org``."""
        return self.keys.issue(org).secret

    def client(self, org: str | None = None, *, key: str | None = None) -> httpx.Client:
        """An HTTP client authenticated as ``org`` (or with ``key``; neither: anonymous)."""
        secret = key if key is not None else (self.key_for(org) if org else None)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def start(self, *, ready_timeout: float = 60.0, wait_view: bool = True) -> None:
        app = create_app(self.settings, registry=self.registry)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on",
                                loop=EVENT_LOOP)  # as `casehub gateway` runs it
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"gateway-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.server.started and (not wait_view or self.view_ready()):
                return
            if not self.thread.is_alive():
                raise AssertionError("the gateway thread exited during start-up")
            time.sleep(0.1)
        raise AssertionError(f"the gateway did not start within {ready_timeout} s")

    def view_ready(self) -> bool:
        return bool(httpx.get(f"{self.url}/healthz", timeout=10).json().get("cases_view_ready"))

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=30)


def gateway_settings(settings: Settings, home: Path, registry_path: Path, **overrides: object) -> Settings:
    """Settings of a test gateway: the shared test broker, its own home (keys, upload ledger) and registry."""
    return settings.model_copy(
        update={**kafka_identity(settings), "home": home, "registry_path": registry_path, **overrides}
    )


def load(path: Path) -> Registry:
    return parse_registry(path.read_text(), source=str(path))
