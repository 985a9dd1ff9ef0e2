"""Reads and validates the registry YAML; a file that contradicts itself is refused naming each wrong line."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

import geothai
import yaml
from pydantic import ValidationError

from casehub.core import geography
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.registry import catalogue
from casehub.registry.exceptions import Problem, RegistryInvalid, RegistryUnreadable
from casehub.registry.model import WILDCARD, Disclosure, RegistryDocument
from casehub.registry.registry import Registry
from casehub.registry.yamlnodes import LocatedData, compose_located

DEFAULT_REGISTRY = "partners.yaml"


def default_registry_path() -> Path:
    """The registry shipped with casehub (casehub/registry/partners.yaml)."""
    return Path(str(files("casehub.registry").joinpath(DEFAULT_REGISTRY)))


def load_registry(settings: Settings) -> Registry:
    """Load ``settings.registry_path`` (or the packaged default); raises RegistryInvalid / RegistryUnreadable."""
    path = settings.registry_path or default_registry_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryUnreadable(
            f"cannot read partner registry {path}: {exc.strerror or exc}", hint="check CASEHUB_REGISTRY_PATH"
        ) from exc
    registry = parse_registry(text, source=str(path))
    # the logger is made here, not at import, so it follows the configuration the entry point chose
    get_logger(__name__).info("registry loaded", source=str(path), version=registry.version, partners=len(registry))
    return registry


def parse_registry(text: str, *, source: str = "<registry>") -> Registry:
    """Validate registry YAML text and build the indexed Registry; nothing partial is ever returned."""
    try:
        located = compose_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RegistryInvalid(source, [Problem(line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from exc
    problems = [
        Problem(line, _format_path(path, located), f"key {path[-1]!r} is given twice")
        for path, line in located.duplicates
    ]
    if not isinstance(located.data, dict):
        raise RegistryInvalid(
            source, [*problems, Problem(1, "", "the registry must be a mapping with version and partners")]
        )
    try:
        document = RegistryDocument.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, located))
        raise RegistryInvalid(source, problems) from None
    problems.extend(_contradictions(document, located))
    if problems:
        raise RegistryInvalid(source, sorted(problems, key=lambda p: (p.line or 0, p.path)))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Registry(document.version, document.partners, source=source, digest=digest)


def _pydantic_problems(exc: ValidationError, located: LocatedData) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = tuple(part for part in error["loc"] if isinstance(part, str | int))
        # pydantic appends validator names (e.g. 'function-after[...]') to locations; keep only real keys
        yaml_path = _longest_known_prefix(path, located)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = f"{path[-1]!r} is required"
        elif error["type"] == "extra_forbidden":
            message = f"unknown key {path[-1]!r}"
        elif error["type"] == "enum":
            message = f"{error['input']!r} is not one of {error['ctx']['expected']}"
        problems.append(Problem(located.line_of(yaml_path), _format_path(path, located), message))
    return problems


def _longest_known_prefix(path: tuple[str | int, ...], located: LocatedData) -> tuple[str | int, ...]:
    for end in range(len(path), -1, -1):
        if tuple(path[:end]) in located.lines:
            return tuple(path[:end])
    return ()


def _format_path(path: tuple[str | int, ...], located: LocatedData) -> str:
    text = ""
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
            if index == 1 and path[0] == "partners":
                org = _partner_id_at(located, part)
                if org:
                    text += f" ({org})"
        else:
            text += f".{part}" if text else part
    return text


def _partner_id_at(located: LocatedData, index: int) -> str | None:
    partners = located.data.get("partners") if isinstance(located.data, dict) else None
    if isinstance(partners, list) and index < len(partners) and isinstance(partners[index], dict):
        org = partners[index].get("id")
        return org if isinstance(org, str) else None
    return None


def _contradictions(document: RegistryDocument, located: LocatedData) -> list[Problem]:
    """The checks that need the whole file or the outside world: unique ids, real DOPA codes, known vocabularies."""
    problems: list[Problem] = []

    def problem(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(located.line_of(path), _format_path(path, located), message))

    known_types = catalogue.event_types()
    known_categories = catalogue.issue_categories()
    known_tags = catalogue.sensitivity_tags()
    first_seen: dict[str, int] = {}
    for index, partner in enumerate(document.partners):
        here: tuple[str | int, ...] = ("partners", index)
        if partner.id in first_seen:
            problem(
                (*here, "id"),
                f"duplicate id {partner.id!r} (first defined at line {located.line_of(('partners', first_seen[partner.id], 'id'))})",
            )
        else:
            first_seen[partner.id] = index
        area = partner.jurisdiction
        required = partner.required_jurisdiction()
        if required is not None and area != required:
            problem((*here, "jurisdiction"), f"{partner.id} must have jurisdiction {required.describe()}")
        for field, codes, exists in (
            ("provinces", area.provinces, geothai.province),
            ("amphoes", area.amphoes, geothai.district),
            ("tambons", area.tambons, geography.tambon),
        ):
            for position, code in enumerate(codes):
                if exists(code) is None:
                    problem((*here, "jurisdiction", field, position), f"unknown {field[:-1]} code {code!r}")
        for rule_index, rule in enumerate(partner.subscriptions):
            rule_path = (*here, "subscriptions", rule_index)
            for position, pattern in enumerate(rule.event_types):
                if not _selects_known_type(pattern, known_types):
                    problem((*rule_path, "event_types", position), f"unknown event type {pattern!r}")
            for position, category in enumerate(rule.issue_categories):
                if category != WILDCARD and category not in known_categories:
                    problem((*rule_path, "issue_categories", position), f"unknown issue category {category!r}")
        for tag in sorted(partner.sensitive_access - known_tags):
            problem(
                (*here, "sensitive_access"), f"unknown sensitivity tag {tag!r} (known: {', '.join(sorted(known_tags))})"
            )
        if partner.sensitive_access and partner.disclosure is not Disclosure.FULL:
            problem(
                (*here, "sensitive_access"),
                f"a {partner.disclosure.value} partner may not receive s26 sensitive fields",
            )
    return problems


def _selects_known_type(pattern: str, known_types: frozenset[str]) -> bool:
    if pattern == WILDCARD or pattern in known_types:
        return True
    return pattern.endswith(".*") and any(t.startswith(pattern[:-1]) for t in known_types)
