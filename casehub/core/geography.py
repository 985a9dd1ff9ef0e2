"""DOPA geography (tambon → amphoe → province, Thai and English names) over the ``geothai`` package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geothai

TAMBON_CODE = re.compile(r"^\d{6}$")
POSTAL_CODE = re.compile(r"^\d{5}$")

# Level markers people write before a name: ต./ตำบล/แขวง, อ./อำเภอ/เขต, จ./จังหวัด, and English suffixes.
# Six tambon names contain a marker (หลักเขต, สามตำบล, จ.ป.ร.), so markers that start a word are tried first;
# markers anywhere catch text typed without spaces (ตำบลบ้านใต้อำเภอเกาะพะงัน).
_MARKERS = r"(ตำบล|แขวง|ต\.|อำเภอ|เขต|อ\.|จังหวัด|จ\.)"
_MARKER_AT_WORD = re.compile(r"(?<![^\s,])" + _MARKERS)
_MARKER_ANYWHERE = re.compile(_MARKERS)
_LEVEL_OF_MARKER = {
    "ตำบล": "tambon",
    "แขวง": "tambon",
    "ต.": "tambon",
    "อำเภอ": "amphoe",
    "เขต": "amphoe",
    "อ.": "amphoe",
    "จังหวัด": "province",
    "จ.": "province",
}
_ENGLISH_PART = re.compile(r"^(?P<name>.+?)\s+(?P<level>sub-?district|tambon|khwaeng|district|amphoe|khet|province)$", re.I)
_ENGLISH_LEVEL = {
    "subdistrict": "tambon",
    "sub-district": "tambon",
    "tambon": "tambon",
    "khwaeng": "tambon",
    "district": "amphoe",
    "amphoe": "amphoe",
    "khet": "amphoe",
    "province": "province",
}
_POSTAL_IN_TEXT = re.compile(r"(?<!\d)(\d{5})(?!\d)")


@dataclass(frozen=True, slots=True)
class Place:
    """One tambon (ตำบล/แขวง) with its amphoe (อำเภอ/เขต) and province (จังหวัด), codes and names."""

    tambon_code: str
    tambon_name_th: str
    tambon_name_en: str
    amphoe_code: str
    amphoe_name_th: str
    amphoe_name_en: str
    province_code: str
    province_name_th: str
    province_name_en: str
    postal_codes: tuple[str, ...]

    def label_th(self) -> str:
        """``ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี (840502)``: how a Thai caseworker writes the place."""
        return f"ต.{self.tambon_name_th} อ.{self.amphoe_name_th} จ.{self.province_name_th} ({self.tambon_code})"

    def label(self) -> str:
        """Both languages, for error messages partners' developers read."""
        return f"{self.tambon_code} {self.tambon_name_en} / {self.amphoe_name_en} / {self.province_name_en} ({self.label_th()})"


@lru_cache(maxsize=16384)
def tambon(code: str) -> Place | None:
    """The place with DOPA tambon code ``code`` (6 digits), or None if no current tambon has it."""
    if not TAMBON_CODE.match(code or ""):
        return None
    address = geothai.address(code)
    if address is None:
        return None
    return Place(
        tambon_code=address.subdistrict.code,
        tambon_name_th=address.subdistrict.name_th,
        tambon_name_en=address.subdistrict.name_en,
        amphoe_code=address.district.code,
        amphoe_name_th=address.district.name_th,
        amphoe_name_en=address.district.name_en,
        province_code=address.province.code,
        province_name_th=address.province.name_th,
        province_name_en=address.province.name_en,
        postal_codes=tuple(address.subdistrict.postal_codes),
    )


@lru_cache(maxsize=128)
def tambons_of_province(province_code: str) -> tuple[Place, ...]:
    """Every tambon of a province (2-digit DOPA code), sorted by code; empty for an unknown province."""
    places: list[Place] = []
    for district in geothai.districts(province_code):
        for sub in geothai.subdistricts(district.code):
            place = tambon(sub.code)
            if place is not None:
                places.append(place)
    return tuple(places)


@lru_cache(maxsize=1024)
def tambons_in_amphoe(amphoe_code: str) -> int:
    """How many tambons amphoe ``amphoe_code`` (4-digit DOPA code) has; 0 for an unknown amphoe."""
    return len(geothai.subdistricts(amphoe_code)) if re.fullmatch(r"\d{4}", amphoe_code or "") else 0


@lru_cache(maxsize=1)
def province_codes() -> tuple[str, ...]:
    """The 77 DOPA province codes."""
    return tuple(p.code for p in geothai.provinces())


def _parts_by_marker(text: str, markers: re.Pattern[str]) -> dict[str, str]:
    """Split Thai address text on its level markers: ``ต.บ้านใต้ อ.เกาะพะงัน`` → {tambon: บ้านใต้, amphoe: เกาะพะงัน}."""
    pieces = markers.split(text)
    parts: dict[str, str] = {}
    for marker, value in zip(pieces[1::2], pieces[2::2], strict=True):
        name = _POSTAL_IN_TEXT.sub("", value).strip(" ,")
        # the name ends where the next free-text part (a comma or a space) starts
        name = re.split(r"[,\s]", name, maxsplit=1)[0] if name else ""
        if name:
            parts.setdefault(_LEVEL_OF_MARKER[marker], name)
    return parts


def _parts_by_english(text: str) -> dict[str, str]:
    """English address parts: ``Ban Tai Subdistrict, Ko Pha-ngan District, Surat Thani``."""
    parts: dict[str, str] = {}
    for chunk in text.split(","):
        found = _ENGLISH_PART.match(_POSTAL_IN_TEXT.sub("", chunk).strip())
        if found:
            parts.setdefault(_ENGLISH_LEVEL[found.group("level").lower()], found.group("name").strip())
    return parts


def _places(addresses: list[geothai.types.Address]) -> list[Place]:
    found = {a.subdistrict.code for a in addresses}
    return [p for code in sorted(found) if (p := tambon(code)) is not None]


def _by_tokens(text: str, postal_code: str | None) -> list[Place]:
    """Unmarked text (``บ้านใต้ เกาะพะงัน สุราษฎร์ธานี``): words that name a tambon, ranked by how many other words
    name its amphoe or province; the best-ranked tambons are the candidates."""
    tokens = [t for t in re.split(r"[,\s]+", _POSTAL_IN_TEXT.sub(" ", text)) if t]
    scores: dict[str, int] = {}
    for index, token in enumerate(tokens):
        matches = geothai.match(token, postal_code=postal_code)
        if not matches:
            continue
        others = tokens[:index] + tokens[index + 1 :]
        for address in matches:
            code = address.subdistrict.code
            fits = sum(
                1
                for other in others
                if geothai.match(token, district=other, postal_code=postal_code).count(address)
                or geothai.match(token, province=other, postal_code=postal_code).count(address)
            )
            scores[code] = max(scores.get(code, 0), fits)
    if not scores:
        return []
    best = max(scores.values())
    return [p for code in sorted(scores) if scores[code] == best and (p := tambon(code)) is not None]


@lru_cache(maxsize=4096)
def _resolve(address_text: str, postal_code: str) -> tuple[Place, ...]:
    text = address_text.strip()
    postal = postal_code.strip()
    if not postal:
        in_text = _POSTAL_IN_TEXT.findall(text)
        postal = in_text[-1] if in_text else ""
    if not text:
        return tuple(p for s in geothai.by_postal_code(postal) if (p := tambon(s.code)) is not None) if postal else ()
    tried_parts = False
    for parts in (_parts_by_marker(text, _MARKER_AT_WORD), _parts_by_marker(text, _MARKER_ANYWHERE), _parts_by_english(text)):
        if "tambon" not in parts:
            continue
        tried_parts = True
        matches = geothai.match(
            parts["tambon"], district=parts.get("amphoe"), province=parts.get("province"), postal_code=postal or None
        )
        if matches:
            return tuple(_places(matches))
    return () if tried_parts else tuple(_by_tokens(text, postal or None))


def resolve_location(address_text: str | None, postal_code: str | None = None) -> list[Place]:
    """The tambons an address text and/or postal code can mean.

    Exactly one place: resolved. Several: ambiguous (list them to the sender). None: unknown.
    A postal code alone resolves only when it serves a single tambon.
    """
    return list(_resolve(address_text or "", postal_code or ""))
