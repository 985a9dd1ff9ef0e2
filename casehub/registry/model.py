"""The registry's data model: a partner, its jurisdiction, its subscriptions and its disclosure level."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from casehub.core.topics import ORG_ID

WILDCARD = "*"
_PROVINCE = re.compile(r"^\d{2}$")
_AMPHOE = re.compile(r"^\d{4}$")
_TAMBON = re.compile(r"^\d{6}$")


class PartnerKind(StrEnum):
    """What kind of organisation a partner is; it fixes the shape of its id."""

    MSDHS_HQ = "msdhs-hq"
    HOTLINE = "hotline"
    PSO = "pso"
    TAMBON_CENTRE = "tambon_centre"
    LAO = "lao"
    HOSPITAL = "hospital"
    POLICE = "police"
    NGO = "ngo"
    PRIVATE = "private"


# the id prefix each kind must use (DESIGN.md, "Organisation ids")
ID_PATTERN_OF_KIND: dict[PartnerKind, re.Pattern[str]] = {
    PartnerKind.MSDHS_HQ: re.compile(r"^msdhs-hq$"),
    PartnerKind.HOTLINE: re.compile(r"^hotline-1300$"),
    PartnerKind.PSO: re.compile(r"^pso-\d{2}$"),
    PartnerKind.TAMBON_CENTRE: re.compile(r"^tc-\d{6}$"),
    PartnerKind.LAO: re.compile(r"^lao-"),
    PartnerKind.HOSPITAL: re.compile(r"^hosp-"),
    PartnerKind.POLICE: re.compile(r"^police-"),
    PartnerKind.NGO: re.compile(r"^ngo-"),
    PartnerKind.PRIVATE: re.compile(r"^private-"),
}


class Disclosure(StrEnum):
    """How much personal detail a partner receives (DESIGN.md, "route + project")."""

    FULL = "full"
    PSEUDONYMISED = "pseudonymised"
    AGGREGATE = "aggregate"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalisedName(_Frozen):
    """An organisation's name in Thai and English."""

    th: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Jurisdiction(_Frozen):
    """The area a partner serves: the whole country, or a union of provinces, amphoes and tambons (DOPA codes).

    In YAML: ``national``, or a mapping with any of ``provinces``, ``amphoes``, ``tambons``.
    DOPA codes nest (tambon ``TTTTTT`` lies in amphoe ``TTTT`` in province ``TT``), so
    coverage needs no geography lookup at run time.
    """

    national: bool = False
    provinces: tuple[str, ...] = ()
    amphoes: tuple[str, ...] = ()
    tambons: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _national_shorthand(cls, value: Any) -> Any:
        if value == "national":
            return {"national": True}
        if isinstance(value, str):
            raise ValueError("jurisdiction must be 'national' or a mapping of provinces/amphoes/tambons")
        return value

    @field_validator("provinces")
    @classmethod
    def _province_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return _check_codes(codes, _PROVINCE, "province", 2)

    @field_validator("amphoes")
    @classmethod
    def _amphoe_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return _check_codes(codes, _AMPHOE, "amphoe", 4)

    @field_validator("tambons")
    @classmethod
    def _tambon_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return _check_codes(codes, _TAMBON, "tambon", 6)

    @model_validator(mode="after")
    def _not_empty(self) -> Jurisdiction:
        if self.national and (self.provinces or self.amphoes or self.tambons):
            raise ValueError("a national jurisdiction lists no areas")
        if not (self.national or self.provinces or self.amphoes or self.tambons):
            raise ValueError("jurisdiction is empty: say 'national' or list provinces, amphoes or tambons")
        return self

    def covers(self, tambon_code: str) -> bool:
        """Whether this jurisdiction includes the tambon with DOPA code ``tambon_code``."""
        return (
            self.national
            or tambon_code in self.tambons
            or tambon_code[:4] in self.amphoes
            or tambon_code[:2] in self.provinces
        )

    def describe(self) -> str:
        """A short human description, e.g. ``national`` or ``provinces 50; tambons 500101 500102``."""
        if self.national:
            return "national"
        parts = [
            f"{label} {' '.join(codes)}"
            for label, codes in (("provinces", self.provinces), ("amphoes", self.amphoes), ("tambons", self.tambons))
            if codes
        ]
        return "; ".join(parts)


def _check_codes(codes: tuple[str, ...], pattern: re.Pattern[str], what: str, digits: int) -> tuple[str, ...]:
    for code in codes:
        if not pattern.match(code):
            raise ValueError(f"{what} code {code!r} is not {digits} digits")
    if len(set(codes)) != len(codes):
        raise ValueError(f"a {what} code is listed twice")
    return codes


class Subscription(_Frozen):
    """One subscription rule: these event types, in these issue categories.

    ``*`` matches everything; ``referral.*`` matches every type starting with ``referral.``.
    """

    event_types: tuple[str, ...] = Field(min_length=1)
    issue_categories: tuple[str, ...] = (WILDCARD,)

    def matches(self, event_type: str, issue_category: str | None) -> bool:
        """Whether an event of ``event_type`` in ``issue_category`` falls under this rule."""
        if not any(_type_matches(pattern, event_type) for pattern in self.event_types):
            return False
        if WILDCARD in self.issue_categories:
            return True
        return issue_category is not None and issue_category in self.issue_categories


def _type_matches(pattern: str, event_type: str) -> bool:
    if pattern in (WILDCARD, event_type):
        return True
    return pattern.endswith(".*") and event_type.startswith(pattern[:-1])


class Partner(_Frozen):
    """One organisation: who it is, where it works, what it receives and how much personal detail."""

    id: str
    kind: PartnerKind
    name: LocalisedName
    jurisdiction: Jurisdiction
    subscriptions: tuple[Subscription, ...] = ()
    disclosure: Disclosure
    webhook_url: str | None = None
    sensitive_access: frozenset[str] = frozenset()
    partitions: int | None = Field(default=None, ge=1, le=24)
    """Partitions of this partner's inbound and outbound topics; unset = the default for its kind (ops/README.md)."""
    auth: Literal["scram", "mtls"] = "scram"
    """How the partner authenticates to Kafka: a SCRAM-SHA-512 password, or a client certificate of the hub's CA."""

    @field_validator("id")
    @classmethod
    def _org_id(cls, value: str) -> str:
        if not ORG_ID.match(value):
            raise ValueError(
                f"organisation id {value!r} does not follow the rules "
                "(msdhs-hq, hotline-1300, pso-PP, tc-TTTTTT, lao-/hosp-/police-/ngo-/private-<lowercase slug>)"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"webhook_url {value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _id_fits_kind(self) -> Partner:
        if not ID_PATTERN_OF_KIND[self.kind].match(self.id):
            raise ValueError(f"id {self.id!r} does not fit kind {self.kind.value!r}")
        return self

    def required_jurisdiction(self) -> Jurisdiction | None:
        """The jurisdiction a provincial office or tambon centre must have: the area its id names."""
        if self.kind is PartnerKind.PSO:
            return Jurisdiction(provinces=(self.id[4:],))
        if self.kind is PartnerKind.TAMBON_CENTRE:
            return Jurisdiction(tambons=(self.id[3:],))
        return None

    def subscribes(self, event_type: str, issue_category: str | None) -> bool:
        """Whether any of this partner's subscription rules selects the event."""
        return any(rule.matches(event_type, issue_category) for rule in self.subscriptions)

    def covers(self, tambon_code: str) -> bool:
        """Whether the tambon lies in this partner's jurisdiction."""
        return self.jurisdiction.covers(tambon_code)

    def may_see(self, sensitivity_tag: str) -> bool:
        """Whether this partner may receive fields tagged with a PDPA s26 sensitivity tag."""
        return sensitivity_tag in self.sensitive_access


class RegistryDocument(_Frozen):
    """The whole YAML file: a version that operators raise at every edit, and the partners."""

    version: int = Field(ge=1)
    partners: tuple[Partner, ...]
