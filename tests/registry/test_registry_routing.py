"""Who receives an event, and who answers for a tambon, in the default registry."""

from __future__ import annotations

import geothai
import pytest

from casehub.core.settings import Settings
from casehub.registry import Disclosure, PartnerKind, Registry, load_registry, parse_registry
from casehub.registry.exceptions import UnknownPartner
from casehub.registry.generate import WHOLE_PROVINCES, default_sections, render

# Chang Khlan (500105) lies in Mueang Chiang Mai; Chang Moi (500104) is its neighbour
TAMBON, NEIGHBOUR = "500105", "500104"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(Settings(registry_path=None))


def ids(partners: list) -> set[str]:
    return {p.id for p in partners}


def test_the_default_registry_has_every_kind_of_partner(registry: Registry) -> None:
    assert registry.version >= 1
    kinds = {p.kind for p in registry.partners.values()}
    assert kinds == set(PartnerKind)
    assert {"msdhs-hq", "hotline-1300"} <= set(registry.partners)
    assert {p.id for p in registry.of_kind(PartnerKind.PSO)} == {f"pso-{p.code}" for p in geothai.provinces()}
    assert {p.disclosure for p in registry.partners.values()} == set(Disclosure)


def test_every_tambon_of_the_whole_provinces_has_a_centre_and_an_lao(registry: Registry) -> None:
    for province in WHOLE_PROVINCES:
        for district in geothai.districts(province):
            for tambon in geothai.subdistricts(district.code):
                units = registry.responsible_units(tambon.code)
                assert units.tambon_centre == f"tc-{tambon.code}"
                assert units.laos, tambon.code
                assert units.provincial_office == f"pso-{province}"


def test_an_event_reaches_its_tambon_centre_laos_province_and_national_subscribers(registry: Registry) -> None:
    got = ids(registry.recipients("case.reported", "family_violence", TAMBON))
    assert {f"tc-{TAMBON}", "pso-50", "msdhs-hq", "hotline-1300", "lao-city-500101", f"lao-sao-{TAMBON}"} <= got
    # OSCC and police of the province subscribe to family violence reports
    assert {"hosp-nakornping", "police-prov-50"} <= got
    assert f"tc-{NEIGHBOUR}" not in got
    assert not {"pso-40", "tc-400101", "hosp-khonkaen", "police-prov-40"} & got
    # the NGOs subscribe to referrals in their own categories only
    assert not {p for p in got if p.startswith(("ngo-fopdev", "ngo-cdpt", "private-"))}


def test_issue_category_and_event_type_select_subscribers(registry: Registry) -> None:
    elderly = ids(registry.recipients("referral.requested", "elderly", TAMBON))
    assert "ngo-fopdev" in elderly and "ngo-cdpt" not in elderly
    disability = ids(registry.recipients("referral.requested", "disability", TAMBON))
    assert "ngo-cdpt" in disability and "ngo-fopdev" not in disability
    assert "ngo-fopdev" not in ids(registry.recipients("case.reported", "elderly", TAMBON))
    trafficking = ids(registry.recipients("case.reported", "human_trafficking", "900101"))
    assert {"police-atpd", "police-prov-90"} <= trafficking


def test_a_tambon_outside_the_whole_provinces_reaches_its_pso_and_national_partners(registry: Registry) -> None:
    got = ids(registry.recipients("case.reported", "poverty", "650101"))
    assert "pso-65" in got and "msdhs-hq" in got
    assert not [p for p in got if p.startswith(("tc-", "lao-"))]
    assert registry.responsible_units("650101").tambon_centre is None


def test_an_unlocated_event_reaches_national_partners_only(registry: Registry) -> None:
    got = registry.recipients("case.reported", "poverty", None)
    assert got and all(p.jurisdiction.national for p in got)


def test_aggregate_partners_are_registered(registry: Registry) -> None:
    aggregate = {p.id for p in registry.partners.values() if p.disclosure is Disclosure.AGGREGATE}
    assert {"ngo-tdri", "lao-pao-50"} <= aggregate


def test_lao_and_tambon_are_many_to_many(registry: Registry) -> None:
    municipality = registry.get("lao-city-500101")
    assert len(municipality.jurisdiction.tambons) > 1
    shared = registry.responsible_units(TAMBON).laos
    assert set(shared) == {"lao-city-500101", f"lao-sao-{TAMBON}"}
    assert registry.responsible_units("500101").laos == ("lao-city-500101",)
    # one LAO covering several tambons, and several tambons with more than one LAO
    multi = [
        t
        for p in WHOLE_PROVINCES
        for d in geothai.districts(p)
        for t in geothai.subdistricts(d.code)
        if len(registry.responsible_units(t.code).laos) > 1
    ]
    assert len(multi) > 50


def test_an_amphoe_level_jurisdiction_covers_all_its_tambons() -> None:
    text = """\
version: 1
partners:
  - id: ngo-doi-saket-care
    kind: ngo
    name: {th: มูลนิธิ, en: Doi Saket care}
    jurisdiction: {amphoes: ['5005']}
    disclosure: pseudonymised
    subscriptions:
      - {event_types: [referral.*], issue_categories: ['*']}
"""
    registry = parse_registry(text)
    assert ids(registry.recipients("referral.requested", "poverty", "500501")) == {"ngo-doi-saket-care"}
    assert registry.recipients("referral.requested", "poverty", "500101") == []
    assert registry.recipients("case.closed", "poverty", "500501") == []


def test_get_of_an_unknown_org_is_a_registry_error(registry: Registry) -> None:
    with pytest.raises(UnknownPartner, match="unknown partner 'tc-999999'"):
        registry.get("tc-999999")


def test_the_generator_writes_a_registry_that_loads() -> None:
    registry = parse_registry(render(default_sections(("65",)), version=7), source="generated")
    assert registry.version == 7
    assert {f"tc-{t.code}" for d in geothai.districts("65") for t in geothai.subdistricts(d.code)} <= set(
        registry.partners
    )
