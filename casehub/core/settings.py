"""The single ``Settings`` object: typed configuration from ``CASEHUB_*`` environment variables.

Entry points build one ``Settings()`` and pass it down; no other module reads
the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casehub.core.errors import ConfigError

DEVELOPMENT_PSEUDONYM_KEY = "casehub-development-pseudonym-key"
"""Published with casehub: fine for a cluster on this machine, never for one holding real people's data."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _default_cache() -> Path:
    return Path.home() / ".cache" / "casehub"


class Settings(BaseSettings):
    """Everything casehub can be configured with. Environment: ``CASEHUB_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CASEHUB_", env_file=".env", extra="ignore")

    # where local state lives: broker data and logs, worker tables, issued keys
    home: Path = Field(default=Path(".casehub"), description="Runtime state folder")
    cache_dir: Path = Field(default_factory=_default_cache, description="Downloaded Kafka jars, reused across runs")
    log_level: str = "INFO"

    # Kafka: an existing cluster, or the local one that `casehub broker up` starts
    kafka_bootstrap: str | None = Field(default=None, description="Existing cluster; unset = the local broker")
    kafka_partner_bootstrap: str | None = Field(
        default=None, description="The SASL_SSL address partners are told (credentials, AsyncAPI) when they reach the "
        "cluster by another name than the hub's services do; unset = the hub's bootstrap",
    )
    kafka_mtls_bootstrap: str | None = Field(
        default=None, description="The cluster's mTLS listener (partners with auth: mtls), as documented to them; unset = "
        "the local cluster's",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="SASL_SSL", description="The local cluster's own choice (security.json) wins when bootstrap is unset"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(default=None, description="Unset = casehub-<service>, password from <home>/credentials")
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(default=None, description="CA the brokers' certificates chain to; unset = <home>/tls/ca.pem")
    kafka_ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM) for mTLS")
    kafka_ssl_keyfile: Path | None = Field(default=None, description="Its private key (PEM); unset = inside the cert file")
    kafka_credentials_dir: Path | None = Field(
        default=None, description="Hub services' Kafka passwords for the local cluster; unset = <home>/credentials"
    )
    broker_port: int = Field(default=19092, description="First port of the local cluster (broker, then controller)")
    broker_nodes: int = Field(default=1, description="Nodes of the local cluster: 1, or a 3-voter quorum")
    broker_heap: str = Field(
        default="2g",
        description="Java heap of each local broker node (-Xms = -Xmx). The registry's ~2,800 topics and a bench's "
        "transactions keep ~430 MB live and 800 MB in use: 512m ran out of memory within minutes",
    )

    # topics
    topic_partitions: int = 6
    topic_replication: int | None = Field(default=None, description="Unset = 1 on one node, 3 on three")

    # partners and personal data
    registry_path: Path | None = Field(default=None, description="Partner registry YAML; unset = the packaged default")
    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    pseudonym_key_version: int = Field(
        default=1, ge=1, description="Version of CASEHUB_PSEUDONYM_KEY: part of every per-recipient pseudonym; raise it "
        "when the key is rotated",
    )
    audit_sealer_id: str = Field(default="casehub-audit", description="Consumer group of `casehub audit seal`: "
                                 "one per cluster, the only writer of hub.audit")
    audit_sealer_web_port: int = Field(default=6067, description="Port of the sealer's faust status server")
    audit_signing_key_file: Path | None = Field(
        default=None, description="File holding that key (PEM), e.g. a mounted secret; read when the key is unset",
    )
    audit_signing_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key (PEM) that seals hub.audit records; unset = made once under "
        "<home>/audit (local clusters only)",
    )

    master_key: SecretStr | None = Field(
        default=None, description="Master key (32 bytes, hex or base64) that wraps the per-subject data keys of "
        "hub.subject.keys; unset = CASEHUB_MASTER_KEY_FILE, else made once under <home>/secrets (local clusters only)",
    )
    master_key_file: Path | None = Field(
        default=None, description="File holding the master key (hex or base64), e.g. a mounted secret; read when "
        "CASEHUB_MASTER_KEY is unset",
    )

    # stream worker
    worker_id: str = "casehub"
    worker_web_port: int = 6066
    worker_web_host: str = Field(default="127.0.0.1", description="Address faust's status web server listens on")
    worker_metrics_port: int = Field(default=9466, description="Prometheus /metrics of the worker; 0 = off")
    worker_metrics_host: str = Field(default="127.0.0.1", description="Address the metrics server listens on")
    worker_data_dir: Path | None = Field(default=None, description="RocksDB tables; unset = <home>/worker")
    processing_guarantee: Literal["exactly_once", "at_least_once"] = "exactly_once"
    dedupe_retention_hours: float = 24 * 7
    near_duplicate_window_hours: float = 72
    worker_partitions: int = Field(
        default=2,
        ge=1,
        description="Partitions of the worker group's own topics (intake, aggregate cells, table changelogs): the most "
        "workers that can share the pipeline. Each one a worker owns costs a Kafka transaction per commit; fixed once "
        "the group has state",
    )
    worker_commit_interval: float = Field(
        default=0.05,
        description="Seconds between transaction commits: outputs wait for it to become visible (each hop waits up "
        "to one interval), and each commit holds processing for a few ms",
    )
    worker_linger_ms: int = Field(default=5, description="Producer batching delay: fewer, larger requests to the broker")
    worker_event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The worker's event loops (its agents' and its consumer thread's): uvloop's, in C, or Python's own "
        "asyncio loop",
    )
    worker_session_timeout: float = Field(default=10.0, description="Seconds before a dead worker's partitions move")
    worker_instance_id: str | None = Field(
        default=None,
        description="Static group membership (group.instance.id, unique per worker process): a worker restarted within "
        "the session timeout gets its partitions back without a rebalance. Unset = <worker_id>-<hostname>-<hash of its "
        "data dir>, stable across restarts; empty = dynamic membership (a clean stop hands partitions over at once)",
    )
    worker_group_size: int = Field(
        default=1, ge=1,
        description="Workers expected to share the group: each table partition gets min(2, size - 1) standby "
        "replicas on the other workers, so a worker's partitions move without restoring their tables first",
    )
    sla_high_risk_seconds: int = Field(default=3600, description="High risk: assign within 1 h (Primero default)")
    sla_standard_seconds: int = Field(default=3 * 3600, description="Other cases: assign within 3 h")
    escalation_check_seconds: float = Field(default=5.0, description="How often the SLA timer looks for missed deadlines")
    registry_refresh_seconds: float = Field(
        default=10.0, gt=0, description="How often the gateway reads the registry file and swaps in a changed, valid one"
    )
    expiry_check_seconds: float = Field(
        default=3600.0, description="How often a worker deletes dedupe state older than the retention and the window"
    )

    # HTTP gateway
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_rate_per_minute: int = 600
    gateway_max_batch: int = Field(default=500, description="Most events one POST /v1/events may carry")
    gateway_max_upload_bytes: int = Field(default=5_000_000, description="Largest CSV upload or event batch body")
    gateway_keepalive_seconds: float = Field(default=15.0, description="SSE comment interval that keeps proxies open")
    public_url: str | None = Field(
        default=None, description="Base URL partners reach the gateway at (e.g. https://casehub.example.go.th): every "
        "ce_dataschema names a schema under it; unset = http://<gateway_host>:<gateway_port>",
    )

    # webhook delivery (casehub webhooks)
    webhook_group_id: str = Field(default="casehub-webhooks", description="Consumer group of the webhook dispatcher")
    webhook_secrets_path: Path | None = Field(default=None, description="Signing secrets; unset = <home>/webhooks/secrets.json")
    webhook_timeout_seconds: float = Field(default=10.0, description="One POST's connect + read timeout")
    webhook_max_attempts: int = Field(default=8, ge=1, description="Attempts before an event is dead-lettered")
    webhook_backoff_initial_seconds: float = Field(default=1.0, ge=0, description="Backoff cap of the first retry")
    webhook_backoff_max_seconds: float = Field(default=300.0, ge=0, description="Largest wait between attempts (and Retry-After)")
    webhook_max_in_flight: int = Field(default=256, ge=1, description="Events read but not yet delivered or dead-lettered")
    webhook_refresh_seconds: float = Field(default=10.0, gt=0, description="How often the dispatcher looks for new secrets/URLs")
    webhook_metrics_port: int = Field(default=9467, description="Prometheus /metrics of the webhook dispatcher; 0 = off")
    webhook_metrics_host: str = Field(default="127.0.0.1", description="Address the dispatcher's metrics server listens on")

    @field_validator("broker_nodes")
    @classmethod
    def _one_or_three(cls, value: int) -> int:
        if value not in (1, 3):
            raise ValueError("the local cluster has 1 node or 3 (a quorum of three voters)")
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not a base URL such as https://casehub.example.go.th (http or https, no query)")
        return value.strip().rstrip("/")

    def public_base_url(self) -> str:
        """The hub's public URL without a trailing slash: CASEHUB_PUBLIC_URL, else the gateway's own local address."""
        if self.public_url:
            return self.public_url
        host = self.gateway_host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"  # listening on every interface: this machine reaches it on loopback
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.gateway_port}"

    def bootstrap_servers(self) -> str:
        """The bootstrap address: CASEHUB_KAFKA_BOOTSTRAP, else the running local cluster, else its default port."""
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        marker = self.home / "broker" / "bootstrap"
        if marker.exists():
            return marker.read_text().strip()
        return f"127.0.0.1:{self.broker_port}"

    def require_secret_pseudonym_key(self) -> None:
        """Refuse the published development key unless every bootstrap server is on this machine.

        Subject tokens are keyed HMACs of citizen ids; with a key anyone can read, a partner could
        enumerate the 13-digit ids and reverse them. A cluster elsewhere is taken to hold real data.
        """
        if self.pseudonym_key.get_secret_value() != DEVELOPMENT_PSEUDONYM_KEY:
            return
        hosts = {address.strip().rsplit(":", 1)[0].strip("[]") for address in self.bootstrap_servers().split(",")}
        if hosts <= LOCAL_HOSTS:
            return
        raise ConfigError(
            f"CASEHUB_PSEUDONYM_KEY is casehub's published development key, and the cluster ({self.bootstrap_servers()}) "
            "is not on this machine: subject tokens made with it can be reversed",
            hint="set CASEHUB_PSEUDONYM_KEY to a secret kept in the hub (e.g. `openssl rand -hex 32`)",
        )
