"""A partner's own Kafka identity: the JSON `casehub partners credentials ORG --json` prints, or an mTLS certificate."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casehub.core.errors import ConfigError
from casehub.core.kafka_connection import KafkaConnection, local_ca_file
from casehub.core.settings import Settings

FIELDS = ("org", "username", "password", "bootstrap", "security_protocol", "sasl_mechanism", "ca_pem")


@dataclass(frozen=True)
class PartnerCredentials:
    """What a partner connects with. ``PartnerCredentials.load("lao-840502.json")``."""

    org: str
    bootstrap: str
    security_protocol: str
    ca_pem: str
    username: str | None = None
    password: str | None = None
    sasl_mechanism: str | None = None
    cert_file: Path | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PartnerCredentials:
        missing = [name for name in FIELDS if not data.get(name)]
        if missing:
            raise ConfigError(f"partner credentials lack {', '.join(missing)}",
                              hint="use the JSON printed by `casehub partners credentials ORG --json`")
        return cls(org=data["org"], bootstrap=data["bootstrap"], security_protocol=data["security_protocol"],
                   ca_pem=data["ca_pem"], username=data["username"], password=data["password"],
                   sasl_mechanism=data["sasl_mechanism"])

    @classmethod
    def load(cls, path: str | Path) -> PartnerCredentials:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read partner credentials {path}: {exc}",
                              hint="save the JSON of `casehub partners credentials ORG --json` there") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path} is not a credentials object", hint="expected the JSON of `casehub partners credentials`")
        return cls.from_mapping(data)

    @classmethod
    def certificate(cls, org: str, bootstrap: str, pem_file: str | Path) -> PartnerCredentials:
        """An mTLS identity: ``pem_file`` holds the key and chain `casehub partners certificate ORG` issued."""
        pem = Path(pem_file).read_text()
        ca = pem[pem.rindex("-----BEGIN CERTIFICATE-----"):]
        return cls(org=org, bootstrap=bootstrap, security_protocol="SSL", ca_pem=ca, cert_file=Path(pem_file))

    def connection(self) -> KafkaConnection:
        """The connection configuration for casehub's clients (the CA is written to a file the clients can load)."""
        digest = hashlib.sha256(self.ca_pem.encode()).hexdigest()[:16]
        ca_file = Path(tempfile.gettempdir()) / f"casehub-ca-{digest}.pem"
        if not ca_file.exists():
            ca_file.write_text(self.ca_pem)
        return KafkaConnection(bootstrap=self.bootstrap, security_protocol=self.security_protocol,
                               sasl_mechanism=self.sasl_mechanism, username=self.username, password=self.password,
                               ca_file=ca_file, cert_file=self.cert_file)


def partner_connection(settings: Settings, org: str, credentials: PartnerCredentials | None) -> KafkaConnection:
    """The SDK's connection: the partner's credentials, or CASEHUB_KAFKA_* settings naming the partner itself."""
    if credentials is not None:
        if credentials.org != org:
            raise ConfigError(f"these credentials are {credentials.org}'s, not {org}'s",
                              hint="each partner connects with its own credentials")
        return credentials.connection()
    if settings.kafka_sasl_username and settings.kafka_sasl_password:
        protocol = settings.kafka_security_protocol
        return KafkaConnection(bootstrap=settings.bootstrap_servers(), security_protocol=protocol,
                               sasl_mechanism=settings.kafka_sasl_mechanism, username=settings.kafka_sasl_username,
                               password=settings.kafka_sasl_password.get_secret_value(),
                               ca_file=local_ca_file(settings))
    if settings.kafka_ssl_certfile:
        return KafkaConnection(bootstrap=settings.bootstrap_servers(), security_protocol="SSL",
                               ca_file=local_ca_file(settings),
                               cert_file=settings.kafka_ssl_certfile, key_file=settings.kafka_ssl_keyfile)
    raise ConfigError(
        f"no Kafka credentials for {org}",
        hint="pass credentials=PartnerCredentials.load('<org>.json') (from `casehub partners credentials ORG --json`), "
        "or set CASEHUB_KAFKA_SASL_USERNAME / CASEHUB_KAFKA_SASL_PASSWORD / CASEHUB_KAFKA_SSL_CAFILE",
    )
