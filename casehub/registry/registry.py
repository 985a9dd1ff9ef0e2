"""The loaded registry: partners by id, indexed by area so routing an event costs a few dict lookups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from casehub.registry.exceptions import UnknownPartner
from casehub.registry.model import Partner, PartnerKind


@dataclass(frozen=True)
class ResponsibleUnits:
    """The organisations answerable for a tambon (DESIGN.md, "enrich"): org ids, or None where none is registered."""

    tambon_centre: str | None
    laos: tuple[str, ...]
    provincial_office: str | None


class Registry:
    """An immutable, validated registry. Build it with ``casehub.registry.load_registry``."""

    def __init__(self, version: int, partners: Iterable[Partner], *, source: str, digest: str) -> None:
        self.version = version
        self.source = source
        self.digest = digest
        self.partners: dict[str, Partner] = {partner.id: partner for partner in partners}
        national: list[Partner] = []
        by_province: dict[str, list[Partner]] = defaultdict(list)
        by_amphoe: dict[str, list[Partner]] = defaultdict(list)
        by_tambon: dict[str, list[Partner]] = defaultdict(list)
        for partner in sorted(self.partners.values(), key=lambda p: p.id):
            area = partner.jurisdiction
            if area.national:
                national.append(partner)
            for code in area.provinces:
                by_province[code].append(partner)
            for code in area.amphoes:
                by_amphoe[code].append(partner)
            for code in area.tambons:
                by_tambon[code].append(partner)
        self._national = tuple(national)
        self._by_province = {code: tuple(found) for code, found in by_province.items()}
        self._by_amphoe = {code: tuple(found) for code, found in by_amphoe.items()}
        self._by_tambon = {code: tuple(found) for code, found in by_tambon.items()}
        self._covering: dict[str, tuple[Partner, ...]] = {}
        # (event type, category, tambon) repeats all day long; the answer never changes for a loaded registry
        self._selected = lru_cache(maxsize=65_536)(self._select)

    def __len__(self) -> int:
        return len(self.partners)

    def __contains__(self, org_id: object) -> bool:
        return org_id in self.partners

    def get(self, org_id: str) -> Partner:
        """The partner with this id; raises ``UnknownPartner`` (a RegistryError) if there is none."""
        try:
            return self.partners[org_id]
        except KeyError:
            raise UnknownPartner(org_id) from None

    def covering(self, tambon_code: str | None) -> tuple[Partner, ...]:
        """Every partner whose jurisdiction includes the tambon (national ones first); national only if None."""
        if tambon_code is None:
            return self._national
        found = self._covering.get(tambon_code)
        if found is None:
            # a partner may list the same tambon via several levels: keep each once, in order
            seen: dict[str, Partner] = {}
            for group in (
                self._national,
                self._by_province.get(tambon_code[:2], ()),
                self._by_amphoe.get(tambon_code[:4], ()),
                self._by_tambon.get(tambon_code, ()),
            ):
                for partner in group:
                    seen.setdefault(partner.id, partner)
            found = tuple(seen.values())
            self._covering[tambon_code] = found
        return found

    def recipients(self, event_type: str, issue_category: str | None, tambon_code: str | None) -> list[Partner]:
        """The partners that receive an event: a subscription rule selects it AND the jurisdiction covers its tambon.

        ``tambon_code`` None (an event not yet located) reaches national partners only.
        """
        return list(self._selected(event_type, issue_category, tambon_code))

    def _select(self, event_type: str, issue_category: str | None, tambon_code: str | None) -> tuple[Partner, ...]:
        return tuple(p for p in self.covering(tambon_code) if p.subscribes(event_type, issue_category))

    def responsible_units(self, tambon_code: str) -> ResponsibleUnits:
        """The tambon centre, the local administrations (LAOs naming this tambon) and the provincial office."""
        centre = f"tc-{tambon_code}"
        office = f"pso-{tambon_code[:2]}"
        laos = tuple(p.id for p in self._by_tambon.get(tambon_code, ()) if p.kind is PartnerKind.LAO)
        return ResponsibleUnits(
            tambon_centre=centre if centre in self.partners else None,
            laos=laos,
            provincial_office=office if office in self.partners else None,
        )

    def of_kind(self, kind: PartnerKind) -> list[Partner]:
        """The partners of one kind, sorted by id."""
        return sorted((p for p in self.partners.values() if p.kind is kind), key=lambda p: p.id)
