"""Personal fields of an event (the .avsc ``pii`` markings ``direct`` and ``free_text``) sealed and opened in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from casehub.schemas.markings import field_markings
from casehub.vault.exceptions import Erased
from casehub.vault.keystore import DataKey, DataKeyStore
from casehub.vault.tokens import ERASED, is_token, open_text, seal_text

PERSONAL = ("direct", "free_text")
"""What is encrypted: direct identifiers and free text. Quasi identifiers (birth date, tambon) stay readable: the
hub routes, enriches and counts by them, and alone they name nobody."""


@cache
def personal_paths(event_type: str) -> tuple[tuple[str, ...], ...]:
    """The dotted paths of ``event_type``'s personal fields, split (``("subject", "citizen_id")``)."""
    try:
        markings = field_markings(event_type)
    except Exception:  # noqa: BLE001 - an unknown type has no marked fields; the caller validated it already
        return ()
    return tuple(tuple(m.path.split(".")) for m in markings if m.pii in PERSONAL and "[]" not in m.path)


def seal_fields(event_type: str, data: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """A copy of ``data`` with every personal string field sealed under ``key`` (``data`` itself is untouched)."""
    out = dict(data)
    for path in personal_paths(event_type):
        parent: dict[str, Any] | None = out
        for name in path[:-1]:  # copy each record on the way, so the caller's dicts keep their plaintext
            child = parent.get(name) if parent is not None else None
            if not isinstance(child, dict):
                parent = None
                break
            parent[name] = parent = dict(child)
        if parent is None:
            continue
        value = parent.get(path[-1])
        if isinstance(value, str) and value and not is_token(value):
            parent[path[-1]] = seal_text(key, ".".join(path), value)
    return out


@dataclass
class Opened:
    """An event's data with its fields opened; ``erased``: paths whose key was destroyed; ``keys``: key ids met."""

    data: dict[str, Any]
    erased: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)


def open_fields(data: dict[str, Any], store: DataKeyStore, *, erased_as: str | None = ERASED) -> Opened:
    """A copy of ``data`` with every token opened; a field of an erased subject becomes ``erased_as``.

    Raises Tampered for a token that does not open under its (existing) key.
    """
    opened = Opened({})
    opened.data = _open(data, "", store, opened, erased_as)
    return opened


def _open(node: dict[str, Any], prefix: str, store: DataKeyStore, opened: Opened, erased_as: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in node.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            out[name] = _open(value, f"{path}.", store, opened, erased_as)
        elif is_token(value):
            opened.keys.add(value[7:].split(":", 1)[0])
            try:
                out[name] = open_text(store, path, value)
            except Erased:
                opened.erased.append(path)
                out[name] = erased_as
        else:
            out[name] = value
    return out


def has_tokens(data: dict[str, Any]) -> bool:
    """Whether any field of ``data`` is sealed."""
    return any(has_tokens(v) if isinstance(v, dict) else is_token(v) for v in data.values())
