"""Errors of the partner registry, all under casehub.core.errors.RegistryError."""

from __future__ import annotations

from dataclasses import dataclass

from casehub.core.errors import RegistryError


@dataclass(frozen=True)
class Problem:
    """One contradiction in a registry file: where it is (line, path) and what is wrong."""

    line: int | None
    path: str
    message: str

    def describe(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RegistryInvalid(RegistryError):
    """The registry file contradicts itself; it is refused as a whole, naming every wrong line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        shown = problems[:20]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        lines = "\n  ".join(p.describe(source) for p in shown)
        super().__init__(
            f"partner registry {source} refused, {len(problems)} problem(s):\n  {lines}{more}",
            hint="fix the named lines and load again; nothing was loaded",
        )
        self.source = source
        self.problems = problems


class RegistryUnreadable(RegistryError):
    """The registry file is missing or is not YAML at all."""


class UnknownPartner(RegistryError, KeyError):
    """An organisation id that the registry does not know."""

    def __init__(self, org_id: str) -> None:
        RegistryError.__init__(
            self, f"unknown partner {org_id!r}", hint="`casehub partners list` shows the registered organisations"
        )
        self.org_id = org_id

    def __str__(self) -> str:
        return RegistryError.__str__(self)
