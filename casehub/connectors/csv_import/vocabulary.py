"""What a spreadsheet may write: column headers (Thai or English) and enum values, Thai labels included.

The Thai labels of enum values come from the contract itself: each enum's ``doc`` in its .avsc file
says ``symbol = ไทย/ไทย; ...``, so a new symbol documented there is accepted here without a code change.
"""

from __future__ import annotations

import re
from functools import cache

from casehub.schemas.loader import shared_types

# column header → field of the row (a dotted event path, or a part the reader assembles)
COLUMNS: dict[str, tuple[str, ...]] = {
    "subject.citizen_id": ("เลขประจำตัวประชาชน", "เลขบัตรประชาชน", "เลขบัตรประจำตัวประชาชน", "citizen_id", "citizen id", "national_id"),
    "subject.other_id": ("เลขหนังสือเดินทาง", "เลขเอกสารอื่น", "other_id", "passport"),
    "subject.given_name": ("ชื่อ", "given_name", "first_name", "first name", "given name"),
    "subject.family_name": ("นามสกุล", "family_name", "last_name", "last name", "surname", "family name"),
    "subject.birth_date": ("วันเกิด", "วันเดือนปีเกิด", "birth_date", "date_of_birth", "birth date", "dob"),
    "subject.sex": ("เพศ", "sex"),
    "subject.nationality": ("สัญชาติ", "nationality"),
    "subject.phone": ("เบอร์โทรศัพท์", "โทรศัพท์", "เบอร์โทร", "phone", "subject_phone"),
    "address": ("ที่อยู่", "บ้านเลขที่", "address", "address_text"),
    "tambon": ("ตำบล", "แขวง", "tambon", "subdistrict", "sub-district"),
    "amphoe": ("อำเภอ", "เขต", "amphoe", "district"),
    "province": ("จังหวัด", "province"),
    "location.tambon_code": ("รหัสตำบล", "tambon_code"),
    "location.postal_code": ("รหัสไปรษณีย์", "postal_code", "postcode", "zip"),
    "issue_category": ("ประเภทปัญหา", "ปัญหา", "issue_category", "category", "issue"),
    "target_group": ("กลุ่มเป้าหมาย", "target_group"),
    "summary": ("รายละเอียด", "รายละเอียดเหตุ", "summary", "details", "description"),
    "channel": ("ช่องทาง", "ช่องทางการแจ้ง", "channel"),
    "reporter_type": ("ผู้แจ้ง", "ประเภทผู้แจ้ง", "reporter_type", "reporter"),
    "reporter_phone": ("เบอร์ผู้แจ้ง", "โทรศัพท์ผู้แจ้ง", "reporter_phone"),
    "occurred_at": ("วันที่แจ้ง", "วันที่รับแจ้ง", "วันที่", "occurred_at", "reported_at", "date"),
    "risk_level": ("ระดับความเสี่ยง", "ความเสี่ยง", "risk_level", "risk"),
    "lawful_basis.basis": ("ฐานทางกฎหมาย", "lawful_basis"),
    "lawful_basis.reference": ("อ้างอิงกฎหมาย", "lawful_basis_reference", "legal_reference"),
    "partner_ref": ("เลขที่อ้างอิง", "เลขรับแจ้ง", "partner_ref", "reference", "ref"),
    "language": ("ภาษา", "language"),
}

# enum fields of a row and the contract's enum (named type) each one takes
ENUM_FIELDS: dict[str, str] = {
    "subject.sex": "casehub.Sex",
    "issue_category": "casehub.IssueCategory",
    "target_group": "casehub.TargetGroup",
    "channel": "casehub.Channel",
    "reporter_type": "casehub.ReporterType",
    "risk_level": "casehub.RiskLevel",
    "lawful_basis.basis": "casehub.LawfulBasisCode",
}

# labels people write that the enum docs do not spell out
EXTRA_LABELS: dict[str, dict[str, str]] = {
    "casehub.IssueCategory": {
        "ตั้งครรภ์ไม่พร้อม": "teen_pregnancy", "ค้ามนุษย์": "human_trafficking", "ความรุนแรง": "family_violence",
        "ยากจน": "poverty", "ครอบครัวยากจน": "poverty", "ครอบครัวยากลำบาก": "poverty", "เด็ก": "children_youth",
    },
    "casehub.Channel": {"1300": "phone_1300", "ไลน์": "line", "อปท": "lao", "เยี่ยมบ้าน": "volunteer_visit"},
    "casehub.Sex": {"ญ": "female", "ช": "male", "f": "female", "m": "male"},
    "casehub.RiskLevel": {"กลาง": "medium"},
}

_THAI_RUN = re.compile(r"[\u0E00-\u0E7F][\u0E00-\u0E7F0-9. ]*")
# "symbol = label" up to the next "; " or ", symbol = " (enum docs use both separators)
_DOC_ENTRY = re.compile(r"\b([a-z][a-z0-9_]*) = (.+?)(?=[;,]\s*[a-z][a-z0-9_]* = |;|$)")


def normalise(text: str) -> str:
    """How labels and headers are compared: case, spaces, dots, hyphens and underscores do not matter."""
    return re.sub(r"[\s._\-]+", "", text.strip().lower())


@cache
def header_fields() -> dict[str, str]:
    """Normalised header → row field."""
    return {normalise(header): field for field, headers in COLUMNS.items() for header in headers}


@cache
def enum_labels(type_name: str) -> dict[str, str]:
    """Normalised label → symbol, for the symbols themselves, the Thai labels in the enum's doc, and EXTRA_LABELS."""
    schema = shared_types()[type_name]
    symbols: list[str] = schema["symbols"]
    labels = {normalise(symbol): symbol for symbol in symbols}
    for symbol, text in _DOC_ENTRY.findall(schema.get("doc", "")):
        if symbol not in symbols:
            continue
        for segment in re.split(r"[/,()]", text):
            run = _THAI_RUN.search(segment)
            if run and normalise(run.group()):
                labels.setdefault(normalise(run.group()), symbol)
    for label, symbol in EXTRA_LABELS.get(type_name, {}).items():
        labels.setdefault(normalise(label), symbol)
    return labels


def enum_value(type_name: str, written: str) -> str | None:
    """The enum symbol a cell means, or None."""
    return enum_labels(type_name).get(normalise(written))


def examples(type_name: str) -> str:
    """A short list of accepted values for an error message: each symbol with its first Thai label."""
    labels = enum_labels(type_name)
    shown: dict[str, str] = {}
    for label, symbol in labels.items():
        if symbol not in shown and re.search(r"[\u0E00-\u0E7F]", label):
            shown[symbol] = label
    return ", ".join(f"{symbol} ({shown[symbol]})" if symbol in shown else symbol for symbol in shared_types()[type_name]["symbols"])
