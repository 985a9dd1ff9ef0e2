"""Where simulated cases happen: real DOPA tambons, provinces weighted by registered population."""

from __future__ import annotations

import random
from dataclasses import dataclass

from casehub.core import geography
from casehub.core.geography import Place
from casehub.registry import Registry

# Registered population by DOPA province code, thousands (DOPA civil registration, about 2022, rounded).
# Only the proportions matter: hotline 1300 calls come from where people live.
PROVINCE_POPULATION_K: dict[str, int] = {
    "10": 5494, "11": 1360, "12": 1290, "13": 1190, "14": 820, "15": 276, "16": 755, "17": 209, "18": 326,
    "19": 645, "20": 1590, "21": 760, "22": 537, "23": 230, "24": 730, "25": 497, "26": 261, "27": 566,
    "30": 2630, "31": 1580, "32": 1390, "33": 1470, "34": 1870, "35": 537, "36": 1130, "37": 378, "38": 424,
    "39": 510, "40": 1790, "41": 1580, "42": 640, "43": 520, "44": 960, "45": 1300, "46": 980, "47": 1150,
    "48": 720, "49": 350, "50": 1790, "51": 400, "52": 740, "53": 450, "54": 440, "55": 480, "56": 470,
    "57": 1300, "58": 285, "60": 1060, "61": 330, "62": 730, "63": 670, "64": 590, "65": 850, "66": 530,
    "67": 990, "70": 870, "71": 900, "72": 850, "73": 920, "74": 590, "75": 190, "76": 485, "77": 560,
    "80": 1550, "81": 480, "82": 270, "83": 420, "84": 1070, "85": 195, "86": 510, "90": 1450, "91": 325,
    "92": 645, "93": 525, "94": 730, "95": 540, "96": 810,
}

LocationForm = str
"""How a partner gives the place: ``tambon_code``, ``address_text`` (with the postal code) or ``postal_code`` alone."""


@dataclass(frozen=True, slots=True)
class GivenLocation:
    """A location as a partner writes it, and the one tambon it means."""

    place: Place
    form: LocationForm
    address_text: str | None = None
    postal_code: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The ``casehub.Location`` fields a partner fills (the hub fills the rest)."""
        if self.form == "tambon_code":
            return {"tambon_code": self.place.tambon_code}
        return {"address_text": self.address_text, "postal_code": self.postal_code}


class PlacePicker:
    """Draws tambons: a province by population among those the registry serves, then a tambon of it uniformly.

    ``local`` draws only tambons with a local unit in the registry (a tambon centre or an LAO naming the
    tambon), so the case has local reporters, owners and recipients, and a second channel can report it.
    """

    def __init__(self, registry: Registry, provinces: tuple[str, ...] | None = None) -> None:
        owned = [code for code in geography.province_codes() if f"pso-{code}" in registry]
        if provinces:
            owned = [code for code in owned if code in provinces]
        self.provinces: tuple[str, ...] = tuple(owned)
        self._weights = [PROVINCE_POPULATION_K.get(code, 500) for code in self.provinces]
        local: dict[str, set[str]] = {}
        for partner in registry.partners.values():
            if partner.kind.value in ("tambon_centre", "lao"):
                for code in partner.jurisdiction.tambons:
                    if code[:2] in self.provinces and geography.tambon(code) is not None:
                        local.setdefault(code[:2], set()).add(code)
        self.local_provinces: tuple[str, ...] = tuple(sorted(local))
        self._local_weights = [PROVINCE_POPULATION_K.get(code, 500) for code in self.local_provinces]
        self._local_tambons = {code: tuple(sorted(found)) for code, found in local.items()}

    def tambon(self, rng: random.Random, *, local: bool = False) -> Place:
        """One real tambon; its province has a provincial office in the registry, so the case has an owner."""
        if local and self.local_provinces:
            province = rng.choices(self.local_provinces, weights=self._local_weights)[0]
            place = geography.tambon(rng.choice(self._local_tambons[province]))
            assert place is not None  # checked when the picker was built
            return place
        province = rng.choices(self.provinces, weights=self._weights)[0]
        return rng.choice(geography.tambons_of_province(province))

    def given(self, place: Place, rng: random.Random, *, text_share: float = 0.25, postal_share: float = 0.05) -> GivenLocation:
        """The place as a caller states it: mostly the tambon code, sometimes address text or a postal code alone.

        Text and postal forms are used only when they resolve to exactly this one tambon (as validation requires).
        """
        draw = rng.random()
        if draw < postal_share:
            unique = [code for code in place.postal_codes if len(geography.resolve_location(None, code)) == 1]
            if unique:
                return GivenLocation(place, "postal_code", postal_code=unique[0])
        elif draw < postal_share + text_share:
            text = address_text(place, rng)
            postal = place.postal_codes[0] if place.postal_codes and rng.random() < 0.7 else None
            if geography.resolve_location(text, postal) == [place]:
                return GivenLocation(place, "address_text", address_text=text, postal_code=postal)
        return GivenLocation(place, "tambon_code")


def address_text(place: Place, rng: random.Random) -> str:
    """``45/2 หมู่ 3 ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี`` (แขวง/เขต in Bangkok), as a caseworker types it."""
    house = f"{rng.randint(1, 299)}" + (f"/{rng.randint(1, 30)}" if rng.random() < 0.3 else "")
    if place.province_code == "10":
        return f"{house} แขวง{place.tambon_name_th} เขต{place.amphoe_name_th} {place.province_name_th}"
    village = rng.randint(1, 15)
    return f"{house} หมู่ {village} ต.{place.tambon_name_th} อ.{place.amphoe_name_th} จ.{place.province_name_th}"
