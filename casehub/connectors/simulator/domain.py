"""The simulator's domain tables: the hotline 1300 issue mix, who each issue is about, the law relied on, the services."""

from __future__ import annotations

import random

# Hotline 1300, 2022 (DESIGN.md): poor families 22,529, destitute 3,673, violence 2,943, begging 1,139 persons,
# i.e. 74 / 12 / 10 / 4 % of those four. They keep those proportions among themselves; the other
# hotline categories share OTHER_SHARE of all reports.
MAIN_MIX = {"poverty": 22529, "homeless_destitute": 3673, "family_violence": 2943, "begging": 1139}
OTHER_SHARE = 0.05
OTHER_MIX = {
    "children_youth": 30,
    "elderly": 20,
    "disability": 16,
    "teen_pregnancy": 12,
    "drugs": 10,
    "missing_persons": 6,
    "human_trafficking": 6,
}


def _category_weights() -> tuple[tuple[str, ...], tuple[float, ...]]:
    main_total = sum(MAIN_MIX.values())
    other_total = sum(OTHER_MIX.values())
    names = (*MAIN_MIX, *OTHER_MIX)
    weights = (
        *((1 - OTHER_SHARE) * n / main_total for n in MAIN_MIX.values()),
        *(OTHER_SHARE * n / other_total for n in OTHER_MIX.values()),
    )
    return names, weights


CATEGORIES, CATEGORY_WEIGHTS = _category_weights()

# who a report in each category is about: (target group, weight)
TARGET_GROUPS: dict[str, tuple[tuple[str, int], ...]] = {
    "poverty": (("family", 50), ("elderly", 20), ("general", 14), ("disability", 6), ("women", 5), ("child", 5)),
    "homeless_destitute": (("homeless", 70), ("elderly", 20), ("general", 10)),
    "family_violence": (("women", 60), ("child", 25), ("elderly", 10), ("family", 5)),
    "begging": (("homeless", 40), ("elderly", 30), ("child", 15), ("disability", 15)),
    "children_youth": (("child", 80), ("youth", 20)),
    "teen_pregnancy": (("child", 70), ("youth", 30)),
    "human_trafficking": (("women", 40), ("child", 30), ("general", 30)),
    "drugs": (("youth", 50), ("general", 40), ("child", 10)),
    "missing_persons": (("elderly", 40), ("child", 30), ("general", 30)),
    "elderly": (("elderly", 1),),
    "disability": (("disability", 1),),
}

LAW = {
    "poverty": "พ.ร.บ.ส่งเสริมการจัดสวัสดิการสังคม พ.ศ. 2546",
    "homeless_destitute": "พ.ร.บ.การคุ้มครองคนไร้ที่พึ่ง พ.ศ. 2557",
    "family_violence": "พ.ร.บ.ส่งเสริมการพัฒนาและคุ้มครองสถาบันครอบครัว พ.ศ. 2562",
    "begging": "พ.ร.บ.ควบคุมการขอทาน พ.ศ. 2559",
    "children_youth": "พ.ร.บ.คุ้มครองเด็ก พ.ศ. 2546 มาตรา 29",
    "teen_pregnancy": "พ.ร.บ.การป้องกันและแก้ไขปัญหาการตั้งครรภ์ในวัยรุ่น พ.ศ. 2559",
    "human_trafficking": "พ.ร.บ.ป้องกันและปราบปรามการค้ามนุษย์ พ.ศ. 2551",
    "drugs": "ประมวลกฎหมายยาเสพติด พ.ศ. 2564",
    "missing_persons": "พ.ร.บ.ส่งเสริมการจัดสวัสดิการสังคม พ.ศ. 2546",
    "elderly": "พ.ร.บ.ผู้สูงอายุ พ.ศ. 2546",
    "disability": "พ.ร.บ.ส่งเสริมและพัฒนาคุณภาพชีวิตคนพิการ พ.ศ. 2550",
}

# chance that triage finds a case high / medium risk (the rest is low)
RISK = {
    "family_violence": (0.45, 0.4),
    "human_trafficking": (0.7, 0.25),
    "children_youth": (0.35, 0.45),
    "teen_pregnancy": (0.3, 0.5),
    "missing_persons": (0.5, 0.35),
    "drugs": (0.2, 0.5),
    "homeless_destitute": (0.1, 0.45),
    "begging": (0.1, 0.4),
    "elderly": (0.1, 0.45),
    "disability": (0.08, 0.42),
    "poverty": (0.04, 0.36),
}

SUMMARIES = {
    "poverty": ("ครอบครัวรายได้น้อย ไม่มีเงินซื้ออาหารและค่าเทอมลูก", "หัวหน้าครอบครัวตกงาน มีหนี้นอกระบบ ค้างค่าเช่าบ้าน",
                "ผู้ดูแลป่วย ครอบครัวขาดรายได้ ขอรับการช่วยเหลือเงินสงเคราะห์"),
    "homeless_destitute": ("พบบุคคลเร่ร่อนนอนบริเวณตลาด ไม่มีญาติ", "ผู้ป่วยออกจากโรงพยาบาลแล้วไม่มีที่พักอาศัย"),
    "family_violence": ("ผู้แจ้งได้ยินเสียงทะเลาะและทำร้ายร่างกายในบ้านเป็นประจำ", "ถูกสามีทำร้ายร่างกาย ต้องการที่พักปลอดภัย"),
    "begging": ("พบผู้ขอทานบริเวณหน้าวัดเป็นประจำ", "พบเด็กขอทานกับผู้ใหญ่ที่ไม่ใช่ญาติบริเวณตลาดนัด"),
    "children_youth": ("เด็กถูกทิ้งให้อยู่ลำพังหลายวัน ไม่ได้ไปโรงเรียน", "เด็กออกจากโรงเรียนกลางคัน ผู้ปกครองไม่สามารถดูแลได้"),
    "teen_pregnancy": ("นักเรียนตั้งครรภ์ ครอบครัวไม่ทราบ ต้องการคำปรึกษา",),
    "human_trafficking": ("สงสัยถูกบังคับใช้แรงงานบนเรือประมง ถูกยึดเอกสาร", "หญิงถูกหลอกมาทำงานและถูกกักขัง"),
    "drugs": ("เยาวชนติดยาเสพติด ครอบครัวขอให้ช่วยส่งบำบัด",),
    "missing_persons": ("ผู้สูงอายุมีภาวะหลงลืมออกจากบ้านแล้วไม่กลับ", "ญาติแจ้งเด็กหายออกจากบ้านตั้งแต่เมื่อวาน"),
    "elderly": ("ผู้สูงอายุอยู่ลำพัง ป่วยติดเตียง ไม่มีผู้ดูแล",),
    "disability": ("คนพิการขาดกายอุปกรณ์และยังไม่มีบัตรประจำตัวคนพิการ",),
}

# services a case plan draws on, most likely first
SERVICES = {
    "poverty": ("cash_assistance", "food_support", "job_placement", "education_support"),
    "homeless_destitute": ("temporary_shelter", "care_home", "civil_registration", "food_support"),
    "family_violence": ("temporary_shelter", "family_counselling", "legal_aid", "medical_care"),
    "begging": ("care_home", "job_placement", "civil_registration", "cash_assistance"),
    "children_youth": ("education_support", "temporary_shelter", "family_counselling", "cash_assistance"),
    "teen_pregnancy": ("medical_care", "family_counselling", "education_support"),
    "human_trafficking": ("temporary_shelter", "legal_aid", "medical_care", "civil_registration"),
    "drugs": ("rehabilitation", "family_counselling", "job_placement"),
    "missing_persons": ("family_counselling", "temporary_shelter", "medical_care"),
    "elderly": ("cash_assistance", "care_home", "medical_care", "food_support"),
    "disability": ("disability_equipment", "cash_assistance", "civil_registration", "rehabilitation"),
}

NEEDS = {
    "cash_assistance": "cash", "food_support": "food", "temporary_shelter": "shelter", "care_home": "care",
    "medical_care": "health_care", "mental_health": "health_care", "legal_aid": "legal",
    "education_support": "education", "job_placement": "employment", "family_counselling": "counselling",
    "disability_equipment": "care", "civil_registration": "documents", "rehabilitation": "health_care",
}

# the service a recipient of each partner kind provides on a referral
SERVICE_OF_KIND = {
    "hospital": ("medical_care", "mental_health"),
    "police": ("legal_aid",),
    "ngo": ("family_counselling", "temporary_shelter", "legal_aid", "education_support"),
    "private": ("cash_assistance", "food_support"),
    "lao": ("food_support", "cash_assistance", "disability_equipment"),
    "pso": ("cash_assistance", "care_home", "temporary_shelter"),
}

HEALTH_NOTES = ("ภาวะขาดสารอาหารเล็กน้อย", "มีบาดแผลฟกช้ำตามร่างกาย", "ความดันโลหิตสูง", "ภาวะซึมเศร้า")
DISABILITY_TYPES = ("physical", "visual", "hearing", "intellectual", "mental")


def draw_category(rng: random.Random) -> str:
    """An issue category with the hotline 1300 mix."""
    return rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]


def draw_target_group(rng: random.Random, category: str) -> str:
    """Who a report of ``category`` is about."""
    groups, weights = zip(*TARGET_GROUPS[category], strict=True)
    return rng.choices(groups, weights=weights)[0]


def draw_risk(rng: random.Random, category: str) -> str:
    """The risk level triage finds."""
    high, medium = RISK[category]
    draw = rng.random()
    return "high" if draw < high else "medium" if draw < high + medium else "low"
