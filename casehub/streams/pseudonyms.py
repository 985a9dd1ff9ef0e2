"""Per-recipient pseudonyms: each partner's subject tokens and case, event and referral references are HMACs under a
key derived for that partner alone, so two partners cannot join their feeds and no feed reverses another's."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehub.core.errors import ConfigError
from casehub.core.settings import Settings

SPACES: tuple[str, ...] = ("subject", "case", "event", "referral")
"""What a pseudonym stands for; each has its own HMAC domain, so equal inputs of two spaces never match."""
_SALT = b"casehub recipient pseudonyms"
_DIGEST_HEX = 32  # 128 bits: no collision among a nation's cases, and short enough to read out


class Pseudonyms:
    """Derives one HMAC key per recipient (HKDF-SHA256 over the hub's pseudonym key) and pseudonymises values with it.

    ``version`` is the key version: it is part of the derivation and of every pseudonym (``case-v1-…``), so after
    a key rotation partners can tell the new pseudonyms from the old ones.
    """

    def __init__(self, master_key: bytes, *, version: int = 1) -> None:
        if not master_key:
            raise ConfigError("the pseudonym key is empty", hint="set CASEHUB_PSEUDONYM_KEY to a secret")
        if version < 1:
            raise ConfigError(f"pseudonym key version {version} is not a positive number",
                              hint="set CASEHUB_PSEUDONYM_KEY_VERSION to 1, 2, …")
        self._master = master_key
        self.version = version
        self._keys: dict[str, bytes] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonyms:
        """The hub's pseudonyms: ``CASEHUB_PSEUDONYM_KEY`` and ``CASEHUB_PSEUDONYM_KEY_VERSION``."""
        return cls(settings.pseudonym_key.get_secret_value().encode(), version=settings.pseudonym_key_version)

    def key_for(self, recipient: str) -> bytes:
        """The 256-bit key of ``recipient`` (an org id): HKDF of the hub's key, bound to the org and key version."""
        key = self._keys.get(recipient)
        if key is None:
            info = f"casehub pseudonym key v{self.version} for {recipient}".encode()
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(self._master)
            self._keys[recipient] = key
        return key

    def pseudonym(self, recipient: str, space: str, value: str) -> str:
        """``<space>-v<version>-<32 hex>``: the HMAC-SHA256 of ``value`` in ``space`` under ``recipient``'s key."""
        if space not in SPACES:
            raise ConfigError(f"unknown pseudonym space {space!r}", hint=f"one of {', '.join(SPACES)}")
        mac = hmac.HMAC(self.key_for(recipient), hashes.SHA256())
        mac.update(space.encode() + b"\x00" + value.encode())
        return f"{space}-v{self.version}-{mac.finalize().hex()[:_DIGEST_HEX]}"

    def case_reference(self, recipient: str, case_id: str) -> str:
        """The case id as ``recipient`` knows it at the pseudonymised level (and the key of its outbound records)."""
        return self.pseudonym(recipient, "case", case_id)

    def subject_token(self, recipient: str, hub_token: str) -> str:
        """The subject as ``recipient`` knows it: the hub's own token, pseudonymised again under the recipient's key."""
        return self.pseudonym(recipient, "subject", hub_token)
