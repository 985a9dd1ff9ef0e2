"""YAML to plain data that remembers the line of every value, so a wrong value can be named by its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml composes the 10k-line default registry in a fraction of the pure-Python time
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]

_NULL = "tag:yaml.org,2002:null"


@dataclass
class LocatedData:
    """The document as plain Python data, and the 1-based line of each path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest recorded ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def compose_located(text: str) -> LocatedData:
    """Parse one YAML document; every scalar stays a string (a code such as ``0101`` keeps its zero), nulls become None.

    Raises ``yaml.YAMLError`` when the text is not YAML.
    """
    node = yaml.compose(text, Loader=_Loader)
    located = LocatedData(data=None)
    if node is not None:
        located.data = _convert(node, (), located)
    return located


def _convert(node: yaml.Node, path: Path, located: LocatedData) -> Any:
    located.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                located.duplicates.append(((*path, key), key_node.start_mark.line + 1))
                continue
            result[key] = _convert(value_node, (*path, key), located)
            if isinstance(value_node, yaml.CollectionNode):
                # a block under a key is blamed on the key's line, not on its first child's
                located.lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), located) for index, item in enumerate(node.value)]
    if node.tag == _NULL:
        return None
    return node.value
