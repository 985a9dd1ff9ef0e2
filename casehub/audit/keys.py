"""The audit log's Ed25519 keys: the hub's signing key (from Settings, or made once under the home) and verify keys.

``CASEHUB_AUDIT_SIGNING_KEY`` (PEM, PKCS#8) or ``CASEHUB_AUDIT_SIGNING_KEY_FILE`` is how a deployment gives the key; a local cluster without it gets one
made on first use in ``<home>/audit/signing-key.pem`` (mode 0600). Every signing key's public half is published
in ``<home>/audit/verify-keys/<key id>.pem``, so records signed before a rotation still verify; auditors can
also pass verify keys of their own.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from casehub.audit.chain import key_id
from casehub.audit.exceptions import AuditKeyError
from casehub.core.settings import Settings


def audit_folder(settings: Settings) -> Path:
    return settings.home / "audit"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _load_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"the audit signing key in {where} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the audit signing key in {where} is not an Ed25519 key")
    return key


def publish_verify_key(settings: Settings, public_key: Ed25519PublicKey) -> Path:
    """Write the public half where `casehub audit verify` finds it; idempotent."""
    path = audit_folder(settings) / "verify-keys" / f"{key_id(public_key)}.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(public_key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The key every hub service seals audit records with."""
    if settings.audit_signing_key is not None:
        key = _load_private(settings.audit_signing_key.get_secret_value().encode(), "CASEHUB_AUDIT_SIGNING_KEY")
    elif settings.audit_signing_key_file is not None:
        try:
            pem = settings.audit_signing_key_file.read_bytes()
        except OSError as exc:
            raise AuditKeyError(f"cannot read CASEHUB_AUDIT_SIGNING_KEY_FILE: {exc}") from exc
        key = _load_private(pem, str(settings.audit_signing_key_file))
    else:
        path = audit_folder(settings) / "signing-key.pem"
        if path.exists():
            key = _load_private(path.read_bytes(), str(path))
        else:
            key = Ed25519PrivateKey.generate()
            _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    publish_verify_key(settings, key.public_key())
    return key


def load_verify_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AuditKeyError(f"cannot read the audit verify key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} is not an Ed25519 public key")
    return key


def verify_keys(settings: Settings, extra: tuple[Path, ...] = ()) -> dict[str, Ed25519PublicKey]:
    """Every verify key known: the published ones under the home, and any given, by key id."""
    paths = sorted((audit_folder(settings) / "verify-keys").glob("*.pem")) + list(extra)
    keys = {}
    for path in paths:
        key = load_verify_key(path)
        keys[key_id(key)] = key
    if not keys:
        raise AuditKeyError(f"no audit verify key under {audit_folder(settings) / 'verify-keys'}",
                            hint="pass --verify-key FILE with the hub's published audit key")
    return keys
