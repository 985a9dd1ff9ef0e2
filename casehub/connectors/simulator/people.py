"""Simulated people: Thai names, valid 13-digit citizen ids, birth dates that fit the target group, phones."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.th import pin

GIVEN_NAMES_FEMALE = (
    "มะลิ", "สมศรี", "บุญมี", "กาญจนา", "สุดารัตน์", "วิไลวรรณ", "นภัสสร", "ปราณี", "อรุณี", "จันทร์เพ็ญ",
    "ลำดวน", "ทองใบ", "พิมพ์ชนก", "ณัฐธิดา", "ศิริพร", "สายสุนีย์", "รัชนี", "เพ็ญศรี", "อัญชลี", "ขวัญใจ",
    "น้ำฝน", "ปิยะนุช", "กมลชนก", "บัวผัน", "คำปุน", "แสงเดือน", "ธิดารัตน์", "อำไพ", "ชไมพร", "ดวงใจ",
)
GIVEN_NAMES_MALE = (
    "สมชาย", "บุญส่ง", "ประยูร", "สมศักดิ์", "วีระพงษ์", "ธนากร", "ณัฐวุฒิ", "อนุชา", "สุริยา", "ประเสริฐ",
    "คำแปง", "ทองดี", "บุญเลิศ", "กิตติพงษ์", "ศุภชัย", "ชาญวิทย์", "ภานุวัฒน์", "เอกชัย", "วันชัย", "สุเทพ",
    "จักรพันธ์", "อดิศักดิ์", "พงศกร", "ธีรเดช", "มานพ", "สมหมาย", "ณรงค์", "เสถียร", "ปัณณวัฒน์", "ก้องภพ",
)
FAMILY_NAMES = (
    "ใจดี", "แก้วมณี", "ศรีสุข", "บุญมา", "ทองคำ", "สุขสวัสดิ์", "พรหมมา", "แสงทอง", "จันทร์หอม", "วงศ์ใหญ่",
    "ศรีวิชัย", "คำภีร์", "อินทร์แก้ว", "บุญประเสริฐ", "มีสุข", "รักษาศรี", "พันธ์ดี", "ชัยมงคล", "ทองสุข", "สายบุญ",
    "นาคสวัสดิ์", "เพชรรัตน์", "ขันแก้ว", "สมบูรณ์", "ปัญญาดี", "วงศ์สวัสดิ์", "หมื่นศรี", "ดวงแก้ว", "ยอดเพชร", "เรืองศรี",
    "สุวรรณรัตน์", "อ่อนศรี", "มณีวงศ์", "แก้วประเสริฐ", "บุญเรือง", "ประทุมมา", "สีดา", "หอมจันทร์", "ศรีบุญเรือง", "กองแก้ว",
)
MIGRANT_NAMES = (("Aung", "Kyaw"), ("Mya", "Win"), ("Sophea", "Chan"), ("Dara", "Sok"), ("Khamla", "Vongsa"), ("Thida", "Hlaing"))
MIGRANT_NATIONALITY_LANGUAGE = (("MM", "my"), ("KH", "km"), ("LA", "lo"))

# age range (whole years at the report) that each target group allows; DESIGN.md: child under 18, elderly 60+
AGE_RANGE = {
    "child": (0, 17),
    "youth": (18, 25),
    "women": (18, 59),
    "elderly": (60, 95),
    "disability": (5, 80),
    "family": (25, 59),
    "homeless": (20, 59),
    "general": (18, 59),
}


@dataclass(frozen=True, slots=True)
class Person:
    """Who a case is about, as partners record them."""

    citizen_id: str | None
    other_id: str | None
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    nationality: str
    language: str
    phone: str | None

    def subject(self) -> dict[str, object]:
        """The ``casehub.Subject`` fields."""
        return {
            "citizen_id": self.citizen_id,
            "other_id": self.other_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "nationality": self.nationality,
            "phone": self.phone,
        }


def citizen_id(rng: random.Random, birth_year: int, amphoe_code: str) -> str:
    """A valid 13-digit id: 1 for people registered at birth since 1984 (else 3), the registering amphoe, the check digit."""
    first = "1" if birth_year >= 1984 else "3"
    body = first + amphoe_code + f"{rng.randrange(100000):05d}" + f"{rng.randrange(100):02d}"
    return body + pin.calc_check_digit(body)


def phone(rng: random.Random) -> str:
    """A Thai mobile number, 10 digits."""
    return rng.choice(("06", "08", "09")) + f"{rng.randrange(100_000_000):08d}"


def birth_date(rng: random.Random, target_group: str, on: date, *, ages: tuple[int, int] | None = None) -> date:
    """A birth date giving an age (on ``on``) inside the target group's range, or inside ``ages`` when given."""
    low, high = ages or AGE_RANGE[target_group]
    age = rng.randint(low, high)
    # a birthday strictly within the age's year, so the whole-year age is exactly ``age``
    latest = _years_before(on, age) - timedelta(days=1)
    return latest - timedelta(days=rng.randrange(364))


def age_on(born: date, on: date) -> int:
    """Age in whole years on ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years_before(moment: date, years: int) -> date:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def person(
    rng: random.Random,
    *,
    target_group: str,
    on: date,
    amphoe_code: str,
    sex: str | None = None,
    ages: tuple[int, int] | None = None,
    migrant: bool = False,
    id_known: bool = True,
) -> Person:
    """A person fitting the target group; migrants carry another document instead of a Thai citizen id."""
    sex = sex or ("female" if target_group == "women" else rng.choice(("female", "male")))
    born = birth_date(rng, target_group, on, ages=ages)
    with_phone = age_on(born, on) >= 18 and rng.random() < 0.6
    if migrant:
        given, family = rng.choice(MIGRANT_NAMES)
        nationality, language = rng.choice(MIGRANT_NATIONALITY_LANGUAGE)
        document = f"{nationality}{rng.randrange(10_000_000):07d}"
        return Person(None, document, given, family, born, sex, nationality, language, phone(rng) if with_phone else None)
    given = rng.choice(GIVEN_NAMES_FEMALE if sex == "female" else GIVEN_NAMES_MALE)
    identity = citizen_id(rng, born.year, amphoe_code) if id_known else None
    return Person(identity, None, given, rng.choice(FAMILY_NAMES), born, sex, "TH", "th", phone(rng) if with_phone else None)
