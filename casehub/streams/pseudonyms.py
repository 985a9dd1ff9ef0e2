"""Per-recipient pseudonyms: each partner's subject tokens and case, event and referral references are keyed for that
partner alone, so two partners cannot join their feeds and no feed reverses another's.

Subject tokens and event references are HMACs (one-way). Case and referral references must come back: a
pseudonymised partner answers a referral or follows a case up by the reference it was given. They are AES-SIV
encryptions (deterministic, authenticated; ``cryptography``) under the recipient's key, which only the hub holds:
the same case always gets the same reference (per-case order holds), a forged or another partner's reference does
not decrypt, and no partner can reverse one.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehub.core.errors import ConfigError
from casehub.core.settings import Settings

SPACES: tuple[str, ...] = ("subject", "case", "event", "referral")
REVERSIBLE: frozenset[str] = frozenset({"case", "referral"})
"""Spaces whose pseudonyms the hub can turn back into the value (for what a partner sends back)."""
"""What a pseudonym stands for; each has its own HMAC domain, so equal inputs of two spaces never match."""
_SALT = b"casehub recipient pseudonyms"
_DIGEST_HEX = 32  # 128 bits: no collision among a nation's cases, and short enough to read out
MEMO_SIZE = 50_000
"""Pseudonyms kept once computed (about 10 MB): the recipients of the cases in progress."""


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
        # a case's events go to the same recipients again and again: each pseudonym is computed once (it is
        # deterministic), the most recent MEMO_SIZE of them kept
        self._memo: dict[tuple[str, str, str], str] = {}

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

    def _siv_key(self, recipient: str, space: str) -> bytes:
        key = self._keys.get(f"{space}\x00{recipient}")
        if key is None:
            info = f"casehub reversible {space} reference key v{self.version} for {recipient}".encode()
            key = HKDF(algorithm=hashes.SHA256(), length=64, salt=_SALT, info=info).derive(self._master)
            self._keys[f"{space}\x00{recipient}"] = key
        return key

    def pseudonym(self, recipient: str, space: str, value: str) -> str:
        """``<space>-v<version>-<…>``: ``value`` in ``space`` under ``recipient``'s key (HMAC, or AES-SIV if reversible)."""
        memo_key = (recipient, space, value)
        found = self._memo.get(memo_key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                del self._memo[next(iter(self._memo))]  # the oldest: dicts keep insertion order
            found = self._memo[memo_key] = self._pseudonym(recipient, space, value)
        return found

    def _pseudonym(self, recipient: str, space: str, value: str) -> str:
        if space not in SPACES:
            raise ConfigError(f"unknown pseudonym space {space!r}", hint=f"one of {', '.join(SPACES)}")
        if space in REVERSIBLE:
            sealed = AESSIV(self._siv_key(recipient, space)).encrypt(value.encode(), [space.encode()])
            return f"{space}-v{self.version}-{base64.b32encode(sealed).decode().rstrip('=').lower()}"
        mac = hmac.HMAC(self.key_for(recipient), hashes.SHA256())
        mac.update(space.encode() + b"\x00" + value.encode())
        return f"{space}-v{self.version}-{mac.finalize().hex()[:_DIGEST_HEX]}"

    def reveal(self, recipient: str, space: str, reference: str) -> str | None:
        """The value behind a reference the hub gave ``recipient``; None if it is not one (forged, another's, garbled)."""
        prefix = f"{space}-v{self.version}-"
        if space not in REVERSIBLE or not reference.startswith(prefix):
            return None
        text = reference[len(prefix):].upper()
        try:
            sealed = base64.b32decode(text + "=" * (-len(text) % 8))
            return AESSIV(self._siv_key(recipient, space)).decrypt(sealed, [space.encode()]).decode()
        except (InvalidTag, ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def is_reference(space: str, value: str | None) -> bool:
        """Whether ``value`` has the shape of a ``space`` reference (of any key version)."""
        return bool(value) and value.startswith(f"{space}-v")  # type: ignore[union-attr]

    def case_reference(self, recipient: str, case_id: str) -> str:
        """The case id as ``recipient`` knows it at the pseudonymised level (and the key of its outbound records)."""
        return self.pseudonym(recipient, "case", case_id)

    def subject_token(self, recipient: str, hub_token: str) -> str:
        """The subject as ``recipient`` knows it: the hub's own token, pseudonymised again under the recipient's key."""
        return self.pseudonym(recipient, "subject", hub_token)
