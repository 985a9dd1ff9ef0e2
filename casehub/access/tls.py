"""The development certificate authority: a CA, the brokers' certificate and partners' client certificates (PEM).

Everything is made with the ``cryptography`` package, kept under ``<CASEHUB_HOME>/tls`` and reused:
``ca.pem`` (what every client trusts), ``ca-key.pem`` (never leaves the hub), ``broker.pem`` (the
brokers' PKCS#8 key and certificate chain, the PEM key store Kafka reads).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from casehub.access.exceptions import CertificateError
from casehub.core.kafka_connection import tls_folder

BROKER_COMMON_NAME = "casehub-broker"
# loopback for the local cluster, the compose service names for docker/compose.yaml
BROKER_HOSTNAMES = ("localhost", "kafka-1", "kafka-2", "kafka-3")
BROKER_ADDRESSES = ("127.0.0.1", "::1")
CA_DAYS = 3650
LEAF_DAYS = 825


@dataclass(frozen=True)
class TlsFiles:
    """Where the development CA keeps its files."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def broker_keystore(self) -> Path:
        return self.folder / "broker.pem"


def tls_files(home: Path) -> TlsFiles:
    return TlsFiles(tls_folder(home))


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _pkcs8(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ensure_ca(files: TlsFiles) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The CA certificate and key, made on first use."""
    if files.ca_cert.exists() and files.ca_key.exists():
        try:
            cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
            key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise CertificateError(f"the development CA in {files.folder} cannot be read: {exc}",
                                   hint=f"delete {files.folder} to make a new one (then restart the cluster)") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CertificateError(f"{files.ca_key} is not an RSA key", hint=f"delete {files.folder} to make a new one")
        return cert, key
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("casehub development CA"))
        .issuer_name(_name("casehub development CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _pkcs8(key))
    files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _leaf(common_name: str, ca: tuple[x509.Certificate, rsa.RSAPrivateKey], *, server: bool) -> tuple[bytes, bytes]:
    ca_cert, ca_key = ca
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        names: list[x509.GeneralName] = [x509.DNSName(host) for host in BROKER_HOSTNAMES]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in BROKER_ADDRESSES]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return _pkcs8(key), cert.public_bytes(serialization.Encoding.PEM)


def ensure_broker_keystore(files: TlsFiles) -> Path:
    """The brokers' PEM key store (key, certificate, CA certificate), made on first use; its path."""
    ca = ensure_ca(files)
    if files.broker_keystore.exists():
        return files.broker_keystore
    key, cert = _leaf(BROKER_COMMON_NAME, ca, server=True)
    _write_private(files.broker_keystore, key + cert + files.ca_cert.read_bytes())
    return files.broker_keystore


def issue_client_certificate(files: TlsFiles, common_name: str, path: Path) -> Path:
    """A new client certificate for ``common_name`` (a partner's org id), signed by the CA, written with its key to ``path``.

    The hub keeps no copy of the key.

    The broker's ``ssl.principal.mapping.rules`` turns the subject ``CN=<org>`` into principal ``User:<org>``.
    """
    ca = ensure_ca(files)
    key, cert = _leaf(common_name, ca, server=False)
    _write_private(path, key + cert + files.ca_cert.read_bytes())
    return path
