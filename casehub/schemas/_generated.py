"""Pydantic models of every case event, GENERATED from casehub/schemas/avsc by casehub.schemas.generate: do not edit."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from casehub.schemas.base import AvroRecord

Channel = Literal['phone_1300', 'line', 'walk_in', 'volunteer_visit', 'lao', 'hospital', 'media']
"""Channel the report came in by (ช่องทางการแจ้ง). phone_1300 = สายด่วน 1300; line = LINE @1300thailand; walk_in = มาด้วยตนเอง at a centre; volunteer_visit = อพม. (MSDHS volunteer) home visit; lao = องค์กรปกครองส่วนท้องถิ่น (อปท.); hospital = โรงพยาบาล / OSCC; media = สื่อ/social media."""

ConsentGiver = Literal['subject', 'parent', 'legal_guardian', 'caregiver']
"""Who gave consent (ผู้ให้ความยินยอม): subject = เจ้าของข้อมูล; parent = บิดามารดา (for a child); legal_guardian = ผู้ปกครอง/ผู้อนุบาล; caregiver = ผู้ดูแล."""

ConsentScope = Literal['services', 'disclosure', 'services_and_disclosure']
"""What a consent covers (ขอบเขตความยินยอม): services = receiving services (การรับบริการ); disclosure = disclosing personal data to partners (การเปิดเผยข้อมูล); services_and_disclosure = both."""

IssueCategory = Literal['family_violence', 'teen_pregnancy', 'human_trafficking', 'drugs', 'homeless_destitute', 'children_youth', 'missing_persons', 'elderly', 'disability', 'begging', 'poverty']
"""Issue category (ประเภทปัญหา): the 10 categories of hotline 1300 plus poverty. family_violence = ความรุนแรงในครอบครัว; teen_pregnancy = ท้องไม่พร้อม/ตั้งครรภ์ในวัยรุ่น; human_trafficking = การค้ามนุษย์; drugs = ยาเสพติด; homeless_destitute = คนไร้ที่พึ่ง/คนไร้บ้าน; children_youth = เด็กและเยาวชน; missing_persons = คนหาย; elderly = ผู้สูงอายุ; disability = คนพิการ; begging = ขอทาน; poverty = ความยากจน/ครอบครัวยากลำบาก. `sensitivity` lists the PDPA s26 kinds a category implies: an event of that category is treated as tagged with them (its free text goes only to recipients granted every tag, the owner and the addressee)."""

LawfulBasisCode = Literal['vital_interest', 'public_task', 'legal_duty', 'consent', 'contract', 'legitimate_interest']
"""Lawful basis (ฐานทางกฎหมาย) under PDPA s24 (s27 for disclosure): vital_interest = ป้องกันอันตรายต่อชีวิต ร่างกาย หรือสุขภาพ (s24(2)); public_task = ภารกิจเพื่อประโยชน์สาธารณะ/อำนาจรัฐ (s24(4)); legal_duty = ปฏิบัติตามกฎหมาย (s24(6)); consent = ความยินยอม (s19); contract = สัญญา (s24(3)); legitimate_interest = ประโยชน์โดยชอบด้วยกฎหมาย (s24(5))."""

SensitiveBasis = Literal['explicit_consent', 'vital_interest_incapable', 'legal_claims', 'social_protection', 'public_health', 'substantial_public_interest']
"""Basis for sensitive data under PDPA s26: explicit_consent = ความยินยอมโดยชัดแจ้ง; vital_interest_incapable = ป้องกันอันตรายต่อชีวิตเมื่อเจ้าของข้อมูลให้ความยินยอมไม่ได้ (s26(1)); legal_claims = การก่อตั้งสิทธิเรียกร้องตามกฎหมาย (s26(4)); social_protection = การคุ้มครองทางสังคม/สวัสดิการสังคม (s26(5)(c)); public_health = ประโยชน์สาธารณะด้านการสาธารณสุข (s26(5)(b)); substantial_public_interest = ประโยชน์สาธารณะที่สำคัญ (s26(5)(e))."""

ReporterType = Literal['self', 'family_member', 'neighbour', 'volunteer', 'community_leader', 'official', 'health_worker', 'police', 'teacher', 'anonymous']
"""Who made the report (ผู้แจ้ง). self = ผู้ประสบปัญหาเอง; family_member = ญาติ; neighbour = เพื่อนบ้าน; volunteer = อพม.; community_leader = ผู้นำชุมชน/กำนัน/ผู้ใหญ่บ้าน; official = เจ้าหน้าที่รัฐ; health_worker = บุคลากรสาธารณสุข/อสม.; police = ตำรวจ; teacher = ครู; anonymous = ไม่ประสงค์ออกนาม."""

RiskLevel = Literal['high', 'medium', 'low']
"""Risk level (ระดับความเสี่ยง) from triage: high = สูง (assign within 1 hour), medium = ปานกลาง, low = ต่ำ (assign within 3 hours)."""

SensitivityTag = Literal['health', 'disability', 'sexual_violence', 'sexual_behaviour', 'criminal_record', 'ethnicity', 'religion', 'political_opinion', 'trade_union', 'genetic', 'biometric']
"""Kind of sensitive personal data (ข้อมูลส่วนบุคคลที่มีความอ่อนไหว, PDPA s26) an event or field holds: health = สุขภาพ; disability = ความพิการ; sexual_violence = ความรุนแรงทางเพศ; sexual_behaviour = พฤติกรรมทางเพศ; criminal_record = ประวัติอาชญากรรม; ethnicity = เชื้อชาติ/เผ่าพันธุ์; religion = ศาสนา/ความเชื่อ; political_opinion = ความคิดเห็นทางการเมือง; trade_union = สหภาพแรงงาน; genetic = พันธุกรรม; biometric = ชีวภาพ."""

ServiceType = Literal['cash_assistance', 'food_support', 'temporary_shelter', 'care_home', 'medical_care', 'mental_health', 'legal_aid', 'education_support', 'job_placement', 'family_counselling', 'disability_equipment', 'civil_registration', 'rehabilitation']
"""Service (บริการ) a case can be referred to or receive: cash_assistance = เงินสงเคราะห์; food_support = ถุงยังชีพ; temporary_shelter = บ้านพักเด็กและครอบครัว/ที่พักชั่วคราว; care_home = สถานสงเคราะห์/นิคม; medical_care = การรักษาพยาบาล; mental_health = สุขภาพจิต; legal_aid = ช่วยเหลือทางกฎหมาย; education_support = ทุนการศึกษา; job_placement = ฝึกอาชีพ/จัดหางาน; family_counselling = ให้คำปรึกษาครอบครัว; disability_equipment = กายอุปกรณ์; civil_registration = ทำบัตร/ทะเบียนราษฎร; rehabilitation = บำบัดฟื้นฟู."""

Sex = Literal['female', 'male', 'unspecified']
"""Sex as recorded (เพศ): female = หญิง; male = ชาย; unspecified = ไม่ระบุ."""

TargetGroup = Literal['child', 'youth', 'women', 'elderly', 'disability', 'family', 'homeless', 'general']
"""Target group (กลุ่มเป้าหมาย) of MSDHS services. child = เด็ก, under 18; youth = เยาวชน, 18-25; women = สตรี; elderly = ผู้สูงอายุ, 60 and over; disability = คนพิการ; family = ครอบครัว; homeless = คนไร้บ้าน/คนไร้ที่พึ่ง; general = ประชาชนทั่วไป. `sensitivity`: the PDPA s26 kinds a target group implies, as for IssueCategory."""

NeedType = Literal['food', 'shelter', 'cash', 'health_care', 'education', 'employment', 'legal', 'protection', 'care', 'documents', 'counselling']
"""Assessed need (ความต้องการ): food = อาหาร; shelter = ที่พักอาศัย; cash = เงิน; health_care = การรักษา; education = การศึกษา; employment = อาชีพ; legal = กฎหมาย; protection = การคุ้มครอง; care = การดูแล; documents = เอกสารทางทะเบียน; counselling = คำปรึกษา."""

DisabilityType = Literal['visual', 'hearing', 'physical', 'mental', 'intellectual', 'learning', 'autism']
"""Disability type under the MSDHS classification (ประเภทความพิการ): visual = การเห็น; hearing = การได้ยินหรือสื่อความหมาย; physical = การเคลื่อนไหวหรือทางร่างกาย; mental = จิตใจหรือพฤติกรรม; intellectual = สติปัญญา; learning = การเรียนรู้; autism = ออทิสติก."""

RejectionReason = Literal['no_capacity', 'out_of_area', 'not_eligible', 'duplicate', 'other']
"""Why a referral was rejected: no_capacity = ไม่มีที่ว่าง/ศักยภาพไม่พอ; out_of_area = นอกพื้นที่; not_eligible = ไม่เข้าเกณฑ์; duplicate = ซ้ำซ้อน; other = อื่น ๆ."""

ServiceOutcome = Literal['successful', 'partial', 'unsuccessful']
"""Outcome (ผลการให้บริการ): successful = สำเร็จ; partial = สำเร็จบางส่วน; unsuccessful = ไม่สำเร็จ."""

FollowupType = Literal['home_visit', 'phone_call', 'office_visit', 'video_call']
"""Kind of follow-up: home_visit = เยี่ยมบ้าน; phone_call = โทรศัพท์; office_visit = มาที่หน่วยงาน; video_call = วิดีโอคอล."""

ClosureReason = Literal['needs_met', 'referred_out', 'moved_away', 'deceased', 'unreachable', 'duplicate', 'declined_services', 'other']
"""Why a case closed: needs_met = ได้รับการช่วยเหลือครบ; referred_out = ส่งต่อหน่วยงานอื่นแล้ว; moved_away = ย้ายออกนอกพื้นที่; deceased = เสียชีวิต; unreachable = ติดต่อไม่ได้; duplicate = เคสซ้ำ; declined_services = ปฏิเสธการช่วยเหลือ; other = อื่น ๆ."""

LinkBasis = Literal['citizen_id', 'subject_token', 'name_and_birth_date']
"""What matched: citizen_id = same citizen id; subject_token = same pseudonym; name_and_birth_date = same name and birth date."""

MissedAction = Literal['assignment', 'followup', 'referral_response']
"""The action not done in time: assignment = มอบหมายผู้รับผิดชอบ; followup = ติดตามผล; referral_response = ตอบรับการส่งต่อ."""

class Consent(AvroRecord):
    """A recorded consent (ความยินยอม) of the subject or their representative."""

    AVRO_NAME: ClassVar[str] = "casehub.Consent"
    to_services: bool = Field(description='Consents to receive services (ยินยอมรับบริการ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    to_disclosure: bool = Field(description='Consents to disclosure of personal data to the recipient (ยินยอมให้เปิดเผยข้อมูล).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    given_by: ConsentGiver = Field(description='Who consented (ผู้ให้ความยินยอม).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    recorded_at: AwareDatetime = Field(description='When the consent was recorded (UTC; RFC 3339 in JSON).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})


class ConsentOverride(AvroRecord):
    """A recorded decision to proceed without consent (ดำเนินการโดยไม่ได้รับความยินยอม), e.g. a child at immediate risk."""

    AVRO_NAME: ClassVar[str] = "casehub.ConsentOverride"
    reason: str = Field(description='Why consent could not be obtained or was overridden (เหตุผล).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    authorised_by: str = Field(description="Role or unit that authorised the override (ผู้อนุมัติ), e.g. 'pso-84 นักสังคมสงเคราะห์'.", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})


class Enrichment(AvroRecord):
    """Filled by the hub's enrich stage; partners leave it null. Who answers for the case's tambon, the subject's age, and the deadline to assign the case."""

    AVRO_NAME: ClassVar[str] = "casehub.Enrichment"
    tambon_centre: str | None = Field(default=None, description="Org id of the tambon's social assistance centre (ศูนย์ช่วยเหลือสังคมตำบล), tc-<tambon>, if registered. Names the tambon, so at the pseudonymised level only that unit itself receives its id.", json_schema_extra={'pii': 'quasi', 'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    laos: list[str] = Field(default_factory=list, description='Org ids of the local administrative organisations (อปท.) whose area includes the tambon. Names the tambon, so at the pseudonymised level only that unit itself receives its id.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    provincial_office: str | None = Field(default=None, description='Org id of the provincial social development office (พมจ.), pso-<PP>.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    age_years: int | None = Field(default=None, ge=-2147483648, le=2147483647, description="The subject's age in whole years on the day of the event (อายุ), from the birth date.", json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is'}})
    assign_by: AwareDatetime | None = Field(default=None, description='SLA deadline to assign the case (กำหนดเวลามอบหมาย), UTC: 1 h after the report for high risk, else 3 h.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})


class LawfulBasis(AvroRecord):
    """The PDPA lawful basis (ฐานทางกฎหมาย) for processing and disclosing this event."""

    AVRO_NAME: ClassVar[str] = "casehub.LawfulBasis"
    basis: LawfulBasisCode = Field(description='The s24/s27 basis, e.g. public_task for MSDHS statutory work, vital_interest for a person at risk.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    sensitive_basis: SensitiveBasis | None = Field(default=None, description="The s26 basis; required when the event's sensitivity tags are not empty.", json_schema_extra={'x-casehub-disclose': {'full': 'as_is'}})
    reference: str | None = Field(default=None, description="The law relied on, e.g. 'พ.ร.บ.คุ้มครองเด็ก พ.ศ. 2546 มาตรา 29'.", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})


class Location(AvroRecord):
    """Where the subject is (สถานที่): a DOPA tambon code, or address text and/or postal code the hub resolves to exactly one tambon. The hub fills the amphoe/province codes and the names."""

    AVRO_NAME: ClassVar[str] = "casehub.Location"
    tambon_code: str | None = Field(default=None, description='DOPA 6-digit tambon code (รหัสตำบล; sub-district, ตำบล/แขวง), e.g. 840503. Give it, or address_text / postal_code.', json_schema_extra={'pii': 'quasi', 'x-casehub-format': 'dopa_tambon', 'x-casehub-disclose': {'full': 'as_is'}})
    address_text: str | None = Field(default=None, description="Address as written (ที่อยู่): house number, หมู่ (village), road, ตำบล/อำเภอ/จังหวัด, e.g. '12 หมู่ 3 ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี'.", json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})
    postal_code: str | None = Field(default=None, description='Thailand Post 5-digit postal code (รหัสไปรษณีย์), e.g. 84280.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is'}})
    amphoe_code: str | None = Field(default=None, description='DOPA 4-digit amphoe (district, อำเภอ/เขต) code. Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'amphoe'}})
    province_code: str | None = Field(default=None, description='DOPA 2-digit province (จังหวัด) code. Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    tambon_name_th: str | None = Field(default=None, description='Tambon name in Thai (ชื่อตำบล). Filled by the hub.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is'}})
    tambon_name_en: str | None = Field(default=None, description='Tambon name in English. Filled by the hub.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is'}})
    amphoe_name_th: str | None = Field(default=None, description='Amphoe name in Thai (ชื่ออำเภอ). Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'amphoe'}})
    amphoe_name_en: str | None = Field(default=None, description='Amphoe name in English. Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'amphoe'}})
    province_name_th: str | None = Field(default=None, description='Province name in Thai (ชื่อจังหวัด). Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    province_name_en: str | None = Field(default=None, description='Province name in English. Filled by the hub.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})


class Subject(AvroRecord):
    """The person the case is about (ผู้ประสบปัญหา / ผู้รับบริการ). Any part may be unknown at first report."""

    AVRO_NAME: ClassVar[str] = "casehub.Subject"
    citizen_id: str | None = Field(default=None, description='13-digit Thai citizen id (เลขประจำตัวประชาชน), digits only; its check digit is verified.', json_schema_extra={'pii': 'direct', 'x-casehub-format': 'th_citizen_id', 'x-casehub-disclose': {'full': 'as_is'}})
    other_id: str | None = Field(default=None, description='Passport, pink card or other document number for non-Thai nationals (เลขหนังสือเดินทาง/บัตรประจำตัวบุคคลที่ไม่มีสัญชาติไทย).', json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})
    given_name: str | None = Field(default=None, description='Given name (ชื่อ).', json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})
    family_name: str | None = Field(default=None, description='Family name (นามสกุล).', json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})
    birth_date: date | None = Field(default=None, description='Birth date (วันเกิด), ISO date in JSON; becomes the birth year when pseudonymised.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'year'}})
    sex: Sex | None = Field(default=None, description='Sex (เพศ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    nationality: str | None = Field(default=None, description='ISO 3166-1 alpha-2 nationality (สัญชาติ), e.g. TH, MM, KH.', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    phone: str | None = Field(default=None, description="Subject's phone number (เบอร์โทรศัพท์).", json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})


class CaseEvent(AvroRecord):
    """Fields every case event carries, first in every event schema (the loader puts them there; see README)."""

    AVRO_NAME: ClassVar[str] = ""
    EVENT_TYPE: ClassVar[str] = ""
    id: str = Field(description='Event id, unique per source (CloudEvents id); a retry reuses it so the hub drops the duplicate (รหัสเหตุการณ์). Pseudonymised recipients get their own keyed reference of (source, id) instead.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:event'}})
    type: str = Field(description='Event type, e.g. case.reported (CloudEvents type).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    occurred_at: AwareDatetime = Field(description='When it happened in the field (เวลาที่เกิดเหตุการณ์), UTC; RFC 3339 in JSON. Not in the future. Pseudonymised recipients get the start of its day (Thai time).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})
    case_id: str | None = Field(default=None, description="The hub's case id (เลขที่เคส). Null on case.reported: the hub assigns it. Pseudonymised recipients get their own case reference instead (case-v<key version>-<32 hex>), which keys their outbound records.", json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:case'}})
    subject_token: str | None = Field(default=None, description="The subject's pseudonym, filled by the hub per recipient: a keyed HMAC under a key derived for that recipient (subject-v<key version>-<32 hex>), so two partners' tokens cannot be joined; partners leave it null.", json_schema_extra={'x-casehub-disclose': {'full': 'keyed:subject', 'pseudonymised': 'keyed:subject'}})
    issue_category: IssueCategory = Field(description='Issue category (ประเภทปัญหา).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    target_group: TargetGroup = Field(description='Target group (กลุ่มเป้าหมาย).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    location: Location = Field(description='Where the subject is (DOPA codes, or address text / postal code).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    risk_level: RiskLevel | None = Field(default=None, description='Risk level (ระดับความเสี่ยง); null until triage.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    lawful_basis: LawfulBasis = Field(description='PDPA lawful basis for this event (ฐานทางกฎหมาย).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    sensitivity: list[SensitivityTag] = Field(default_factory=list, description='Kinds of sensitive data (PDPA s26) this event holds; empty if none.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is'}})
    schema_version: int = Field(ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).", json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    enrichment: Enrichment | None = Field(default=None, description='Filled by the hub (responsible units, age, SLA deadline); partners leave it null.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})


class CaseReported(CaseEvent):
    """A new report of a person in need (การรับแจ้งเหตุ). The hub assigns the case id, or links the report to an open case of the same subject."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseReported"
    EVENT_TYPE: ClassVar[str] = "case.reported"
    SCHEMA_VERSION: ClassVar[int] = 3
    channel: Channel = Field(description='Channel of the report (ช่องทางการแจ้ง).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    reporter_type: ReporterType = Field(description='Who reported (ผู้แจ้ง).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    subject: Subject = Field(description='The person the report is about (ผู้ประสบปัญหา).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    summary: str | None = Field(default=None, description='What was reported (รายละเอียดเหตุ); restricted to the case owner.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    reporter_phone: str | None = Field(default=None, description="Reporter's phone for call-back (เบอร์ผู้แจ้ง).", json_schema_extra={'pii': 'direct', 'x-casehub-disclose': {'full': 'as_is'}})
    partner_ref: str | None = Field(default=None, description="The partner's own reference, e.g. the 1300 ticket number (เลขรับแจ้ง).", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    language: str | None = Field(default=None, description='Language the subject speaks (ภาษาที่ใช้สื่อสาร), ISO 639-1, e.g. th, my (Burmese), km (Khmer), lo; tells the unit to bring an interpreter. Added in v2.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    type: Literal["case.reported"] = Field(default="case.reported", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=3, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseTriaged(CaseEvent):
    """Triage (คัดกรอง) decided the risk level (in the envelope's risk_level, required here) and the unit that must take the case."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseTriaged"
    EVENT_TYPE: ClassVar[str] = "case.triaged"
    SCHEMA_VERSION: ClassVar[int] = 2
    assigned_unit: str = Field(description='Org id of the unit that must take the case (หน่วยงานรับผิดชอบ), e.g. tc-840503.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    assign_by: AwareDatetime = Field(description='Deadline to assign a caseworker (กำหนดเวลามอบหมาย): 1 h for high risk, else 3 h.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})
    notes: str | None = Field(default=None, description='Triage notes (บันทึกการคัดกรอง).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.triaged"] = Field(default="case.triaged", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseAssigned(CaseEvent):
    """The case was assigned to a unit and caseworker (มอบหมายผู้รับผิดชอบเคส)."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseAssigned"
    EVENT_TYPE: ClassVar[str] = "case.assigned"
    SCHEMA_VERSION: ClassVar[int] = 2
    from_unit: str | None = Field(default=None, description='Org id of the unit that held the case before, if any.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    to_unit: str = Field(description='Org id of the unit that now holds the case (หน่วยงานรับผิดชอบ).', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    caseworker: str | None = Field(default=None, description='Staff id of the caseworker at to_unit (ผู้รับผิดชอบเคส); an id, not a name.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    notes: str | None = Field(default=None, description="Caseworker's notes (บันทึก).", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.assigned"] = Field(default="case.assigned", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseTransferred(CaseEvent):
    """The case moved to another unit (โอนเคส). Needs the subject's consent to disclosure, or a recorded override."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseTransferred"
    EVENT_TYPE: ClassVar[str] = "case.transferred"
    SCHEMA_VERSION: ClassVar[int] = 2
    from_unit: str = Field(description='Org id of the unit handing the case over.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    to_unit: str = Field(description='Org id of the unit receiving the case.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    reason: str = Field(description='Why the case is transferred (เหตุผลการโอน).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    consent: Consent | None = Field(default=None, description='Consent to disclose the case to to_unit.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    consent_override: ConsentOverride | None = Field(default=None, description='Recorded override when consent is missing.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    type: Literal["case.transferred"] = Field(default="case.transferred", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseAssessed(CaseEvent):
    """A needs assessment (การประเมินสภาพปัญหาและความต้องการ) was completed."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseAssessed"
    EVENT_TYPE: ClassVar[str] = "case.assessed"
    SCHEMA_VERSION: ClassVar[int] = 2
    assessed_by: str = Field(description='Org id of the assessing unit.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    needs: list[NeedType] = Field(default_factory=list, description='Needs found (ความต้องการ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    household_size: int | None = Field(default=None, ge=-2147483648, le=2147483647, description='People in the household (จำนวนสมาชิกในครัวเรือน).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    monthly_income_baht: int | None = Field(default=None, ge=-2147483648, le=2147483647, description='Household income per month in baht (รายได้ต่อเดือน).', json_schema_extra={'pii': 'quasi', 'x-casehub-disclose': {'full': 'as_is'}})
    health_condition: str | None = Field(default=None, description='Health condition as noted (ภาวะสุขภาพ).', json_schema_extra={'pii': 'free_text', 'sensitivity': 'health', 'x-casehub-disclose': {'full': 'as_is'}})
    disability_type: DisabilityType | None = Field(default=None, description='Disability type (ประเภทความพิการ), if any.', json_schema_extra={'sensitivity': 'disability', 'x-casehub-disclose': {'full': 'as_is'}})
    summary: str | None = Field(default=None, description='Assessment summary (สรุปผลการประเมิน).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.assessed"] = Field(default="case.assessed", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CasePlanApproved(CaseEvent):
    """The case plan (แผนการช่วยเหลือ) was approved."""

    AVRO_NAME: ClassVar[str] = "casehub.CasePlanApproved"
    EVENT_TYPE: ClassVar[str] = "case.plan_approved"
    SCHEMA_VERSION: ClassVar[int] = 2
    approved_by: str = Field(description="Approver's role and unit (ผู้อนุมัติ), e.g. 'pso-84 หัวหน้ากลุ่มงาน'.", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    approved_at: AwareDatetime = Field(description='When the plan was approved (UTC).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})
    planned_services: list[ServiceType] = Field(default_factory=list, description='Services in the plan (บริการตามแผน).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    review_due: date | None = Field(default=None, description='When the plan is to be reviewed (กำหนดทบทวนแผน).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    plan_summary: str | None = Field(default=None, description='Plan summary (สรุปแผน).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.plan_approved"] = Field(default="case.plan_approved", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ReferralRequested(CaseEvent):
    """A referral to a service (การส่งต่อ), FHIR ServiceRequest-like. To ngo-/private- recipients it needs consent to disclosure, or a recorded override with a reason."""

    AVRO_NAME: ClassVar[str] = "casehub.ReferralRequested"
    EVENT_TYPE: ClassVar[str] = "referral.requested"
    SCHEMA_VERSION: ClassVar[int] = 2
    referral_id: str = Field(description='Id of the referral (เลขที่การส่งต่อ), chosen by the requesting partner and repeated on its accept/reject/revoke/delivery.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:referral'}})
    service_type: ServiceType = Field(description='Service requested (บริการที่ขอ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    recipient: str = Field(description='Org id of the partner the case is referred to (หน่วยงานรับส่งต่อ), e.g. ngo-rak-dek.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    consent: Consent | None = Field(default=None, description="The subject's consent to the service and to disclosure to the recipient.", json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    consent_override: ConsentOverride | None = Field(default=None, description='Recorded override when consent is missing.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    due_at: AwareDatetime = Field(description='When the recipient must answer by (กำหนดตอบรับ), UTC.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})
    notes: str | None = Field(default=None, description='Referral notes (บันทึกการส่งต่อ).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["referral.requested"] = Field(default="referral.requested", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ReferralAccepted(CaseEvent):
    """The recipient accepted the referral (ตอบรับการส่งต่อ)."""

    AVRO_NAME: ClassVar[str] = "casehub.ReferralAccepted"
    EVENT_TYPE: ClassVar[str] = "referral.accepted"
    SCHEMA_VERSION: ClassVar[int] = 2
    referral_id: str = Field(description='Id of the referral (เลขที่การส่งต่อ), chosen by the requesting partner and repeated on its accept/reject/revoke/delivery.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:referral'}})
    recipient: str = Field(description='Org id of the partner the case is referred to (หน่วยงานรับส่งต่อ), e.g. ngo-rak-dek.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    expected_start: date | None = Field(default=None, description='When the service is expected to start.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    notes: str | None = Field(default=None, description="Caseworker's notes (บันทึก).", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["referral.accepted"] = Field(default="referral.accepted", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ReferralRejected(CaseEvent):
    """The recipient rejected the referral (ปฏิเสธการส่งต่อ)."""

    AVRO_NAME: ClassVar[str] = "casehub.ReferralRejected"
    EVENT_TYPE: ClassVar[str] = "referral.rejected"
    SCHEMA_VERSION: ClassVar[int] = 2
    referral_id: str = Field(description='Id of the referral (เลขที่การส่งต่อ), chosen by the requesting partner and repeated on its accept/reject/revoke/delivery.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:referral'}})
    recipient: str = Field(description='Org id of the partner the case is referred to (หน่วยงานรับส่งต่อ), e.g. ngo-rak-dek.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    rejection_reason: RejectionReason = Field(description='Reason code (เหตุผลการปฏิเสธ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    reason_text: str | None = Field(default=None, description='Reason in words.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["referral.rejected"] = Field(default="referral.rejected", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ReferralRevoked(CaseEvent):
    """The requester withdrew the referral (ยกเลิกการส่งต่อ)."""

    AVRO_NAME: ClassVar[str] = "casehub.ReferralRevoked"
    EVENT_TYPE: ClassVar[str] = "referral.revoked"
    SCHEMA_VERSION: ClassVar[int] = 2
    referral_id: str = Field(description='Id of the referral (เลขที่การส่งต่อ), chosen by the requesting partner and repeated on its accept/reject/revoke/delivery.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:referral'}})
    recipient: str = Field(description='Org id of the partner the case is referred to (หน่วยงานรับส่งต่อ), e.g. ngo-rak-dek.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    reason: str = Field(description='Why the referral was revoked.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["referral.revoked"] = Field(default="referral.revoked", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ServiceDelivered(CaseEvent):
    """A service was delivered to the subject (การให้บริการ)."""

    AVRO_NAME: ClassVar[str] = "casehub.ServiceDelivered"
    EVENT_TYPE: ClassVar[str] = "service.delivered"
    SCHEMA_VERSION: ClassVar[int] = 2
    referral_id: str | None = Field(default=None, description='The referral this delivers, if any.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:referral'}})
    service_type: ServiceType = Field(description='Service delivered.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    provider: str = Field(description='Org id of the unit that delivered it.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    delivered_on: date = Field(description='Date of delivery (วันที่ให้บริการ).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    outcome: ServiceOutcome = Field(description='Outcome of the service.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    outcome_reason: str | None = Field(default=None, description='Why it was partial or unsuccessful; required then.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    amount_baht: int | None = Field(default=None, ge=-2147483648, le=2147483647, description='Cash amount in baht, for cash_assistance (จำนวนเงิน).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    type: Literal["service.delivered"] = Field(default="service.delivered", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseFollowup(CaseEvent):
    """A follow-up contact with the subject (การติดตามผล)."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseFollowup"
    EVENT_TYPE: ClassVar[str] = "case.followup"
    SCHEMA_VERSION: ClassVar[int] = 2
    followup_type: FollowupType = Field(description='Kind of follow-up (ประเภทการติดตาม).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    followup_date: date = Field(description='Date of the follow-up.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    next_due: date | None = Field(default=None, description='When the next follow-up is due (นัดติดตามครั้งถัดไป).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    notes: str | None = Field(default=None, description='Follow-up notes (บันทึกการติดตาม).', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.followup"] = Field(default="case.followup", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseClosed(CaseEvent):
    """The case was closed (ปิดเคส) with approval."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseClosed"
    EVENT_TYPE: ClassVar[str] = "case.closed"
    SCHEMA_VERSION: ClassVar[int] = 2
    closure_reason: ClosureReason = Field(description='Reason for closing (เหตุผลการปิดเคส).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    approved_by: str = Field(description="Approver's role and unit (ผู้อนุมัติปิดเคส).", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    notes: str | None = Field(default=None, description="Caseworker's notes (บันทึก).", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.closed"] = Field(default="case.closed", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseReopened(CaseEvent):
    """A closed case was reopened (เปิดเคสใหม่)."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseReopened"
    EVENT_TYPE: ClassVar[str] = "case.reopened"
    SCHEMA_VERSION: ClassVar[int] = 2
    reason: str = Field(description='Why the case is reopened.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    approved_by: str = Field(description="Approver's role and unit.", json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["case.reopened"] = Field(default="case.reopened", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ConsentRecorded(CaseEvent):
    """Consent was given and recorded (บันทึกความยินยอม)."""

    AVRO_NAME: ClassVar[str] = "casehub.ConsentRecorded"
    EVENT_TYPE: ClassVar[str] = "consent.recorded"
    SCHEMA_VERSION: ClassVar[int] = 2
    consent: Consent = Field(description='The consent.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    scope: ConsentScope = Field(description='What it covers (ขอบเขต).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    recipient: str | None = Field(default=None, description='Org id the consent names; null = every partner working on the case.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    type: Literal["consent.recorded"] = Field(default="consent.recorded", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class ConsentWithdrawn(CaseEvent):
    """Consent was withdrawn (ถอนความยินยอม); the hub stops disclosure that relied on it."""

    AVRO_NAME: ClassVar[str] = "casehub.ConsentWithdrawn"
    EVENT_TYPE: ClassVar[str] = "consent.withdrawn"
    SCHEMA_VERSION: ClassVar[int] = 2
    scope: ConsentScope = Field(description='What is withdrawn.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    recipient: str | None = Field(default=None, description='Org id the withdrawal names; null = every partner.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    reason: str | None = Field(default=None, description='Reason given, if any.', json_schema_extra={'pii': 'free_text', 'x-casehub-disclose': {'full': 'as_is'}})
    type: Literal["consent.withdrawn"] = Field(default="consent.withdrawn", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseLinked(CaseEvent):
    """Written by the hub: a near-duplicate report of the same subject and issue category was joined to this open case (เชื่อมโยงเคสซ้ำ)."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseLinked"
    EVENT_TYPE: ClassVar[str] = "case.linked"
    SCHEMA_VERSION: ClassVar[int] = 2
    linked_event_id: str = Field(description='Id of the report that was joined.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'keyed:event'}})
    linked_source: str = Field(description='CloudEvents source of that report, e.g. /partners/lao-6501.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'source'}})
    match_basis: LinkBasis = Field(description='What identified the same subject.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    window_hours: int = Field(ge=-2147483648, le=2147483647, description='The near-duplicate window that applied, in hours (72 by default).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    type: Literal["case.linked"] = Field(default="case.linked", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


class CaseEscalated(CaseEvent):
    """Written by the hub: an SLA deadline was missed (เกินกำหนดเวลา) and the case is escalated to the provincial office."""

    AVRO_NAME: ClassVar[str] = "casehub.CaseEscalated"
    EVENT_TYPE: ClassVar[str] = "case.escalated"
    SCHEMA_VERSION: ClassVar[int] = 2
    missed_action: MissedAction = Field(description='Which deadline was missed.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    deadline: AwareDatetime = Field(description='The deadline that passed (UTC).', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'day'}})
    escalated_to: str = Field(description='Org id escalated to, the provincial office pso-<PP>.', json_schema_extra={'x-casehub-format': 'org_id', 'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'org'}})
    overdue_minutes: int = Field(description='Minutes past the deadline when escalated.', json_schema_extra={'x-casehub-disclose': {'full': 'as_is', 'pseudonymised': 'as_is'}})
    type: Literal["case.escalated"] = Field(default="case.escalated", description='Event type, e.g. case.reported (CloudEvents type).')
    schema_version: int = Field(default=2, ge=-2147483648, le=2147483647, description="Version of this event type's schema the sender wrote (see ce_dataschema).")


EVENT_MODELS: dict[str, type[CaseEvent]] = {
    "case.reported": CaseReported,
    "case.triaged": CaseTriaged,
    "case.assigned": CaseAssigned,
    "case.transferred": CaseTransferred,
    "case.assessed": CaseAssessed,
    "case.plan_approved": CasePlanApproved,
    "referral.requested": ReferralRequested,
    "referral.accepted": ReferralAccepted,
    "referral.rejected": ReferralRejected,
    "referral.revoked": ReferralRevoked,
    "service.delivered": ServiceDelivered,
    "case.followup": CaseFollowup,
    "case.closed": CaseClosed,
    "case.reopened": CaseReopened,
    "consent.recorded": ConsentRecorded,
    "consent.withdrawn": ConsentWithdrawn,
    "case.linked": CaseLinked,
    "case.escalated": CaseEscalated,
}
