"""One Kafka connection configuration, built from Settings, rendered for kafka-python, aiokafka and faust alike.

Every casehub client connects through :func:`connection`: the bootstrap address, the security
protocol (SASL_SSL with SCRAM-SHA-512 by default), the CA every client trusts, an optional client
certificate, and the principal of the hub service that connects. A service's principal is
``casehub-<service>``; its password comes from CASEHUB_KAFKA_SASL_USERNAME/PASSWORD when set (a
deployment gives each service its own), else from the local cluster's credential store under
``<CASEHUB_HOME>/credentials`` that ``casehub broker up`` and ``casehub access apply`` fill.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from casehub.core.errors import ConfigError
from casehub.core.settings import Settings

Service = Literal["admin", "worker", "gateway", "webhooks", "operator", "simulator", "auditor"]
SERVICES: tuple[Service, ...] = ("admin", "worker", "gateway", "webhooks", "operator", "simulator", "auditor")
PRINCIPAL_PREFIX = "casehub-"


def principal_of(service: Service) -> str:
    """The SCRAM user name of a hub service."""
    return f"{PRINCIPAL_PREFIX}{service}"


# ---- the local cluster's files ----------------------------------------------------------------------
def credentials_folder(settings: Settings) -> Path:
    return settings.kafka_credentials_dir or settings.home / "credentials"


def read_local_password(settings: Settings, username: str) -> str | None:
    path = credentials_folder(settings) / f"{username}.json"
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text())["password"])
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not a credentials file", hint="delete it and run `casehub access apply`") from exc


def write_local_password(settings: Settings, username: str, password: str) -> Path:
    """Keep a hub service's password for the local cluster (mode 0600). Partners' passwords are never kept."""
    folder = credentials_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{username}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"username": username, "password": password}, handle)
    return path


def local_security_file(home: Path) -> Path:
    """Written by `casehub broker up`: the local cluster's client protocol (SASL_SSL, or PLAINTEXT with --insecure)."""
    return home / "broker" / "security.json"


def local_cluster_security(home: Path) -> dict[str, Any]:
    """What ``local_security_file`` says (security_protocol, sasl_mechanism, mtls_bootstrap); empty if none is up."""
    path = local_security_file(home)
    try:
        found = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def partner_bootstrap(settings: Settings) -> str:
    """The SASL_SSL address partners are told: the setting, else the one the hub's own services use."""
    return settings.kafka_partner_bootstrap or settings.bootstrap_servers()


def mtls_bootstrap(settings: Settings) -> str | None:
    """The mTLS listener partners with a client certificate connect to: the setting, else the local cluster's."""
    found = settings.kafka_mtls_bootstrap or local_cluster_security(settings.home).get("mtls_bootstrap")
    return str(found) if found else None


def tls_folder(home: Path) -> Path:
    """Where the development CA keeps its files (``casehub.access.tls`` writes them)."""
    return home / "tls"


def local_ca_file(settings: Settings) -> Path | None:
    """The CA clients trust: CASEHUB_KAFKA_SSL_CAFILE, else the local cluster's development CA if there is one."""
    if settings.kafka_ssl_cafile is not None:
        return settings.kafka_ssl_cafile
    local = tls_folder(settings.home) / "ca.pem"
    return local if local.exists() else None


# ---- the configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class KafkaConnection:
    """Everything a Kafka client needs to reach the cluster as one principal."""

    bootstrap: str
    security_protocol: str
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context that verifies the brokers against the CA (hostname included) and presents the client cert."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file:
            context.load_cert_chain(str(self.cert_file), str(self.key_file or self.cert_file))
        return context

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (admin, operator tools)."""
        config: dict[str, Any] = {"bootstrap_servers": self.bootstrap.split(","), "security_protocol": self.security_protocol}
        if self.uses_tls:
            config["ssl_check_hostname"] = True
            if self.ca_file:
                config["ssl_cafile"] = str(self.ca_file)
            if self.cert_file:
                config["ssl_certfile"] = str(self.cert_file)
                config["ssl_keyfile"] = str(self.key_file or self.cert_file)
        if self.uses_sasl:
            config["sasl_mechanism"] = self.sasl_mechanism
            config["sasl_plain_username"] = self.username
            config["sasl_plain_password"] = self.password
        return config

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients (SDK, gateway, webhooks)."""
        config: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.uses_tls:
            config["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            config["sasl_mechanism"] = self.sasl_mechanism
            config["sasl_plain_username"] = self.username
            config["sasl_plain_password"] = self.password
        return config

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for ``faust.App``: ``broker`` and ``broker_credentials``."""
        import faust

        credentials: Any = None
        if self.uses_sasl:
            credentials = faust.SASLCredentials(username=self.username, password=self.password,
                                                mechanism=self.sasl_mechanism, ssl_context=self.ssl_context())
        elif self.uses_tls:
            credentials = faust.SSLCredentials(self.ssl_context())
        return {"broker": [f"kafka://{server}" for server in self.bootstrap.split(",")], "broker_credentials": credentials}


def connection(settings: Settings, service: Service) -> KafkaConnection:
    """The connection of hub service ``service``: explicit settings first, else the local cluster's files."""
    bootstrap = settings.bootstrap_servers()
    protocol: str = settings.kafka_security_protocol
    if "kafka_security_protocol" not in settings.model_fields_set:
        protocol = local_cluster_security(settings.home).get("security_protocol") or protocol
    username = settings.kafka_sasl_username
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL") and not (username and password):
        username = username or principal_of(service)
        password = read_local_password(settings, username)
        if password is None:
            raise ConfigError(
                f"no Kafka credentials for {username}",
                hint="on the local cluster run `casehub broker up` and `casehub access apply`; elsewhere set "
                "CASEHUB_KAFKA_SASL_USERNAME and CASEHUB_KAFKA_SASL_PASSWORD",
            )
    return KafkaConnection(
        bootstrap=bootstrap, security_protocol=protocol, sasl_mechanism=settings.kafka_sasl_mechanism,
        username=username, password=password, ca_file=local_ca_file(settings),
        cert_file=settings.kafka_ssl_certfile, key_file=settings.kafka_ssl_keyfile,
    )


class ConnectFailureWatch(logging.Handler):
    """Hears what aiokafka and kafka-python log while a connection fails, so the error can say why in one line.

    Both libraries report a refused password or an untrusted certificate only in a log record and then raise a
    generic "unable to bootstrap"; ``with watch: ...`` and then ``watch.reason()``.
    """

    LOGGERS = ("aiokafka", "kafka")

    def __init__(self, conn: KafkaConnection) -> None:
        super().__init__(level=logging.DEBUG)
        self.conn = conn
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a log record that cannot format itself must not break the caller
            return

    def __enter__(self) -> ConnectFailureWatch:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def reason(self) -> str | None:
        """What went wrong, in words a partner can act on; None when the logs said nothing recognisable."""
        text = " ".join(self.messages)
        conn = self.conn
        if "Authentication failed" in text or "SaslAuthenticationFailed" in text or "invalid credentials" in text:
            return f"the cluster refused the credentials of {conn.username} ({conn.sasl_mechanism}): wrong or rotated password"
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return f"the brokers' certificate is not signed by the CA in {conn.ca_file or 'the system store'}"
        if conn.security_protocol == "PLAINTEXT" and ("Connection lost" in text or "reset" in text.lower()):
            return "the broker closed a PLAINTEXT connection: it expects TLS (security_protocol SASL_SSL or SSL)"
        if "ECONNREFUSED" in text or "Connect attempt" in text or "Unable connect" in text:
            return f"nothing answers at {conn.bootstrap}"
        return None
