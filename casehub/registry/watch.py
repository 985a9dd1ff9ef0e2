"""Notices when the registry file a process runs with becomes another valid registry (or a broken one)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from casehub.core.logging import get_logger
from casehub.registry.exceptions import RegistryError
from casehub.registry.loader import parse_registry
from casehub.registry.registry import Registry

log = get_logger(__name__)


class RegistryWatch:
    """The registry file a process runs with; :meth:`check` says when it became another valid registry.

    A file that does not validate is refused with the reason, logged once per content, and the running
    registry stays: a half-edited file never reaches the pipeline or the gateway.
    """

    def __init__(self, path: Path | None, registry: Registry) -> None:
        self.path = path  # None: the packaged registry, which does not change under a running process
        self.registry = registry
        self._seen_digest = registry.digest
        self._problem_digest: str | None = None
        self._stamp: tuple[int, int] | None = None  # (mtime ns, size) when last read: unchanged = not read again

    def check(self) -> Registry | None:
        """The new registry if the file changed into a valid one with other partners, else None."""
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
            if (stat.st_mtime_ns, stat.st_size) == self._stamp:
                return None  # the same file: a 1,400-partner registry is not read and hashed every few seconds
            self._stamp = (stat.st_mtime_ns, stat.st_size)
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            self._stamp = None
            self._refuse(f"cannot read it: {exc.strerror or exc}", digest=f"unreadable:{exc.errno}")
            return None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest == self._seen_digest:
            return None
        try:
            found = parse_registry(text, source=str(self.path))
        except RegistryError as exc:
            self._refuse(str(exc), digest=digest)
            return None
        self._seen_digest = digest
        if found.partners == self.registry.partners:
            return None  # another layout, the same partners
        return found

    def differences(self, found: Registry) -> dict[str, list[str]]:
        """Partner ids added, removed and changed in ``found`` against the running registry (50 of each at most)."""
        before, after = set(self.registry.partners), set(found.partners)
        changed = sorted(p for p in before & after if found.partners[p] != self.registry.partners[p])
        return {"added": sorted(after - before)[:50], "removed": sorted(before - after)[:50], "changed": changed[:50]}

    def _refuse(self, reason: str, *, digest: str) -> None:
        if digest != self._problem_digest:
            log.error("registry change refused: the running registry stays", source=str(self.path), reason=reason[:2000])
            self._problem_digest = digest
