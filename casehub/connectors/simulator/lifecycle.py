"""One simulated case: who reports it, who triages, owns, refers and serves it, and its 8-12 events in order."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from casehub.connectors.simulator import domain
from casehub.connectors.simulator.people import Person, person
from casehub.connectors.simulator.places import GivenLocation
from casehub.registry import Registry
from casehub.schemas.models import CaseEvent, parse_event

THAILAND = timezone(timedelta(hours=7), "ICT")
MIN_EVENTS, MAX_EVENTS = 8, 12
OFFICE_OPENS, OFFICE_CLOSES = time(8, 30), time(16, 30)
OFFICE_MINUTES = 8 * 60
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ABBREVIATION = {
    "case.reported": "rp", "case.triaged": "tr", "case.assigned": "as", "case.transferred": "tf",
    "case.assessed": "ax", "case.plan_approved": "pl", "referral.requested": "rf", "referral.accepted": "ra",
    "referral.rejected": "rj", "service.delivered": "sv", "case.followup": "fu", "case.closed": "cl",
    "case.reopened": "ro", "consent.recorded": "cs",
}
_REPORTERS = {
    "phone_1300": (("self", 30), ("family_member", 20), ("neighbour", 25), ("community_leader", 10), ("anonymous", 10), ("teacher", 5)),
    "line": (("self", 50), ("family_member", 30), ("neighbour", 20)),
    "walk_in": (("self", 70), ("family_member", 30)),
    "volunteer_visit": (("volunteer", 1),),
    "lao": (("community_leader", 50), ("official", 50)),
    "hospital": (("health_worker", 1),),
}
_APPROVER = "หัวหน้ากลุ่มการพัฒนาสังคมและสวัสดิการ"
_RISK_TH = {"high": "สูง", "medium": "ปานกลาง", "low": "ต่ำ"}


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a case and the organisation that sends it (its inbound topic)."""

    org: str
    event: CaseEvent


@dataclass
class Case:
    """A simulated case: its people and places, and the steps of its lifecycle in order."""

    ref: str
    category: str
    target_group: str
    person: Person
    location: GivenLocation
    risk: str
    reporter: str
    channel: str
    steps: list[Step] = field(default_factory=list)

    @property
    def report(self) -> Step:
        """The first report (case.reported)."""
        return self.steps[0]


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights=weights)[0]


def case_ref(rng: random.Random, opened: datetime) -> str:
    """A case id in the hub's format (CASE-<yyyymmdd>-<shard><8>): stands for the id the hub will assign."""
    return f"CASE-{opened:%Y%m%d}-{rng.randrange(256):02X}" + "".join(rng.choice(_CROCKFORD) for _ in range(8))


def event_id(rng: random.Random, org: str, event_type: str, at: datetime) -> str:
    """An id unique per source, in the style each partner uses (1300 ticket-like for the hotline)."""
    token = f"{rng.getrandbits(40):010x}"
    if org == "hotline-1300":
        return f"1300-{at.astimezone(THAILAND):%Y%m%d}-{token}"
    return f"{org}-{_ABBREVIATION[event_type]}-{token}"


class CaseBuilder:
    """Writes the events of one case in a plausible order, times advancing from the report."""

    def __init__(
        self,
        rng: random.Random,
        registry: Registry,
        location: GivenLocation,
        reported_at: datetime,
        *,
        citizen_id_known: bool | None = None,
        hotline_or_local: bool = False,
    ) -> None:
        self.rng = rng
        self.registry = registry
        self.location = location
        place = location.place
        units = registry.responsible_units(place.tambon_code)
        self.pso = f"pso-{place.province_code}"
        self.centre = units.tambon_centre
        self.laos = units.laos
        self.owner = self.centre or self.pso
        self.category = domain.draw_category(rng)
        self.target_group = domain.draw_target_group(rng, self.category)
        self.risk = domain.draw_risk(rng, self.category)
        self.now = reported_at
        self.sensitivity: list[str] = []
        on = reported_at.astimezone(THAILAND).date()
        self.person = self._person(on, citizen_id_known)
        self.channel, self.reporter = self._reporting_org(hotline_or_local)
        self.case = Case(case_ref(rng, reported_at), self.category, self.target_group, self.person, location,
                         self.risk, self.reporter, self.channel)

    def _person(self, on: date, citizen_id_known: bool | None) -> Person:
        rng, category, group = self.rng, self.category, self.target_group
        id_known = rng.random() < 0.93 if citizen_id_known is None else citizen_id_known
        ages = {"teen_pregnancy": {"child": (13, 17), "youth": (18, 19)}}.get(category, {}).get(group)
        sex = "female" if category == "teen_pregnancy" else None
        migrant = not citizen_id_known and (
            (category == "human_trafficking" and rng.random() < 0.6) or (category == "begging" and rng.random() < 0.2)
        )
        return person(rng, target_group=group, on=on, amphoe_code=self.location.place.amphoe_code, sex=sex, ages=ages,
                      migrant=migrant, id_known=id_known)

    def _reporting_org(self, hotline_or_local: bool) -> tuple[str, str]:
        """Who reports: the hotline, the tambon centre, an LAO, a hospital's OSCC (only the first three when the
        case is to be reported twice, by the hotline and a local unit)."""
        options: list[tuple[tuple[str, str], int]] = []
        if "hotline-1300" in self.registry:
            options += [(("phone_1300", "hotline-1300"), 52), (("line", "hotline-1300"), 8)]
        if self.centre:
            options += [(("walk_in", self.centre), 12), (("volunteer_visit", self.centre), 8)]
        if self.laos:
            options.append((("lao", self.rng.choice(self.laos)), 15))
        hospitals = [p.id for p in self.registry.covering(self.location.place.tambon_code) if p.kind.value == "hospital"]
        if hospitals and self.category in ("family_violence", "teen_pregnancy") and not hotline_or_local:
            options.append((("hospital", hospitals[0]), 10))
        if not options:
            options.append((("walk_in", self.pso), 1))
        choices, weights = zip(*options, strict=True)
        return self.rng.choices(choices, weights=weights)[0]

    # --- the envelope every event carries ---

    def _advance(self, low: timedelta, high: timedelta, *, office: bool = True) -> datetime:
        """Move the case's clock on by low..high; office work waits for Thai office hours (Mon-Fri 08:30-16:30)."""
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        moment = self.now + timedelta(seconds=seconds)
        if office:
            moment = self._office_hours(moment)
        self.now = moment.replace(microsecond=0)
        return self.now

    def _office_hours(self, moment: datetime) -> datetime:
        """``moment`` if it falls in office hours, else a random time of the next working day (holidays aside)."""
        local = moment.astimezone(THAILAND)
        while local.weekday() >= 5 or not OFFICE_OPENS <= local.time() <= OFFICE_CLOSES:
            before_opening = local.weekday() < 5 and local.time() < OFFICE_OPENS
            day = local.date() if before_opening else local.date() + timedelta(days=1)
            local = datetime.combine(day, OFFICE_OPENS, THAILAND) + timedelta(minutes=self.rng.randint(0, OFFICE_MINUTES))
        return local.astimezone(UTC)

    def _envelope(self, event_type: str, org: str, *, risk: str | None, at: datetime | None = None) -> dict[str, Any]:
        at = at or self.now
        vital = self.risk == "high" and self.category in ("family_violence", "human_trafficking", "children_youth")
        return {
            "id": event_id(self.rng, org, event_type, at),
            "type": event_type,
            "occurred_at": at,
            "case_id": None if event_type == "case.reported" else self.case.ref,
            "issue_category": self.category,
            "target_group": self.target_group,
            "location": self.location.as_dict() if event_type == "case.reported" else {"tambon_code": self.location.place.tambon_code},
            "risk_level": risk,
            "lawful_basis": {"basis": "vital_interest" if vital else "public_task", "sensitive_basis": None,
                             "reference": domain.LAW[self.category]},
            "sensitivity": [],
        }

    def _add(self, org: str, event_type: str, body: dict[str, Any], *, risk: str | None = None) -> CaseEvent:
        data = {**self._envelope(event_type, org, risk=risk if event_type == "case.reported" else self.risk), **body}
        event = parse_event(data)
        self.case.steps.append(Step(org, event))
        return event

    def _consent(self, at: datetime) -> dict[str, Any]:
        giver = "parent" if self.target_group == "child" else "subject"
        return {"to_services": True, "to_disclosure": True, "given_by": giver, "recorded_at": at}

    # --- the events ---

    def report(self, *, org: str | None = None, channel: str | None = None, at: datetime | None = None) -> CaseEvent:
        """case.reported by the reporting org (or ``org``: a second channel reporting the same person)."""
        org, channel = org or self.reporter, channel or self.channel
        reporter_type = _pick(self.rng, _REPORTERS[channel])
        body = {
            "channel": channel,
            "reporter_type": reporter_type,
            "subject": self.person.subject(),
            "summary": self.rng.choice(domain.SUMMARIES[self.category]),
            "reporter_phone": None if reporter_type in ("self", "anonymous") else f"0{self.rng.choice('689')}{self.rng.randrange(10**8):08d}",
            "partner_ref": f"1300-{self.rng.randrange(10**6):06d}" if org == "hotline-1300" else None,
            "language": self.person.language,
        }
        data = {**self._envelope("case.reported", org, risk=None, at=at), **body}
        return parse_event(data)

    def build(self) -> Case:
        """The whole lifecycle: 8-12 events, each after the one before."""
        rng = self.rng
        self.case.steps.append(Step(self.reporter, self.report()))
        target = rng.randint(MIN_EVENTS, MAX_EVENTS)
        extras = self._episodes(target - MIN_EVENTS)
        high = self.risk == "high"
        # the hotline and the provincial offices' duty officers triage and assign around the clock
        triaged = self._advance(timedelta(minutes=5), timedelta(minutes=30 if high else 90), office=False)
        assign_by = self.case.report.event.occurred_at + timedelta(hours=1 if high else 3)
        self._add(self.pso, "case.triaged", {"assigned_unit": self.owner, "assign_by": assign_by,
                                             "notes": f"ความเสี่ยง{_RISK_TH[self.risk]}"})
        late = rng.random() < 0.1
        latest = (assign_by - triaged) * (1.5 if late else 0.8)
        self._advance(timedelta(minutes=2), max(latest, timedelta(minutes=3)), office=False)
        self._add(self.pso, "case.assigned", {"from_unit": None, "to_unit": self.owner,
                                              "caseworker": f"sw-{self.owner[4:] if self.owner.startswith('tc-') else self.owner}-{rng.randint(1, 20):02d}"})
        if "consent" in extras:
            at = self._advance(timedelta(hours=1), timedelta(hours=24))
            self._add(self.owner, "consent.recorded", {"consent": self._consent(at), "scope": "services_and_disclosure",
                                                       "recipient": None})
        self._assessed()
        if "transfer" in extras:
            self._transfer()
        services = self._plan()
        if "referral_rejected" in extras:
            self._referral(accepted=False, services=services)
        if "referral_accepted" in extras:
            self._referral(accepted=True, services=services)
        self._delivered(self.owner if self.owner != self.pso or rng.random() < 0.5 else self.pso, services[0], None)
        self._followup(first=True)
        for _ in range(extras.count("followup")):
            self._followup(first=False)
        self._closed()
        if "reopen" in extras:
            self._advance(timedelta(days=10), timedelta(days=60))
            self._add(self.owner, "case.reopened", {"reason": "ได้รับแจ้งว่าปัญหาเดิมกลับมาอีก", "approved_by": f"{self.pso} {_APPROVER}"})
            self._followup(first=False)
            self._closed()
        return self.case

    def _episodes(self, room: int) -> list[str]:
        """Optional parts filling ``room`` events exactly: referrals, a consent, a transfer, a reopening, follow-ups."""
        sizes = {"referral_accepted": 3, "referral_rejected": 2, "reopen": 3, "consent": 1, "transfer": 1}
        chance = {"referral_accepted": 0.6, "referral_rejected": 0.2, "reopen": 0.1, "consent": 0.5, "transfer": 0.15}
        if not self._recipients():
            sizes = {k: v for k, v in sizes.items() if not k.startswith("referral")}
        if self._transfer_target() is None:
            del sizes["transfer"]
        chosen: list[str] = []
        for name in sorted(sizes, key=lambda _: self.rng.random()):
            if sizes[name] <= room and self.rng.random() < chance[name]:
                chosen.append(name)
                room -= sizes[name]
        return chosen + ["followup"] * room

    def _recipients(self) -> list[str]:
        """Partners that take referrals of this category here: hospitals, police, NGOs, private partners."""
        found = self.registry.recipients("referral.requested", self.category, self.location.place.tambon_code)
        return [p.id for p in found if p.kind.value in ("hospital", "police", "ngo", "private")]

    def _assessed(self) -> None:
        rng = self.rng
        self._advance(timedelta(days=1), timedelta(days=3))
        needs = sorted({domain.NEEDS[s] for s in domain.SERVICES[self.category][:2]})
        body: dict[str, Any] = {"assessed_by": self.owner, "needs": needs, "household_size": rng.randint(1, 7),
                                "monthly_income_baht": rng.choice((0, 1500, 3000, 4500, 6000, 9000)),
                                "summary": "ลงเยี่ยมบ้านและประเมินสภาพปัญหาแล้ว"}
        if self.category in ("family_violence", "elderly", "teen_pregnancy", "drugs") and rng.random() < 0.5:
            body["health_condition"] = rng.choice(domain.HEALTH_NOTES)
            self.sensitivity = ["health"]
        if self.category == "disability" or self.target_group == "disability":
            body["disability_type"] = rng.choice(domain.DISABILITY_TYPES)
            self.sensitivity = [*self.sensitivity, "disability"]
        event = self._add(self.owner, "case.assessed", body)
        if self.sensitivity:
            basis = event.lawful_basis.model_copy(update={"sensitive_basis": "social_protection"})
            self.case.steps[-1] = Step(self.owner, event.model_copy(update={"sensitivity": self.sensitivity, "lawful_basis": basis}))

    def _transfer_target(self) -> str | None:
        """Where the owner hands a case on: up to the provincial office, or down to a local unit; None if nowhere."""
        if self.owner != self.pso:
            return self.pso
        return self.centre or (self.laos[0] if self.laos else None)

    def _transfer(self) -> None:
        at = self._advance(timedelta(days=1), timedelta(days=2))
        to_unit = self._transfer_target()
        assert to_unit is not None  # _episodes plans a transfer only when there is somewhere to go
        consent: dict[str, Any] = {"consent": self._consent(at - timedelta(minutes=30)), "consent_override": None}
        if self.target_group == "child" and self.risk == "high" and self.rng.random() < 0.5:
            consent = {"consent": None, "consent_override": {"reason": "เด็กอยู่ในภาวะเสี่ยงอันตรายเร่งด่วน ติดต่อผู้ปกครองไม่ได้",
                                                             "authorised_by": f"{self.pso} นักสังคมสงเคราะห์"}}
        self._add(self.owner, "case.transferred", {"from_unit": self.owner, "to_unit": to_unit,
                                                   "reason": "ต้องการบริการระดับจังหวัด", **consent})
        self.owner = to_unit

    def _plan(self) -> list[str]:
        rng = self.rng
        at = self._advance(timedelta(days=1), timedelta(days=5))
        services = list(domain.SERVICES[self.category][: rng.randint(1, 3)])
        self._add(self.pso, "case.plan_approved", {
            "approved_by": f"{self.pso} {_APPROVER}", "approved_at": at - timedelta(minutes=rng.randint(1, 30)),
            "planned_services": services, "review_due": (at + timedelta(days=30)).astimezone(THAILAND).date(),
            "plan_summary": "แผนการช่วยเหลือตามผลการประเมิน",
        })
        return services

    def _referral(self, *, accepted: bool, services: list[str]) -> None:
        rng = self.rng
        recipient = rng.choice(self._recipients())
        kind = self.registry.get(recipient).kind.value
        offered = domain.SERVICE_OF_KIND[kind]
        service = next((s for s in services if s in offered), offered[0])
        at = self._advance(timedelta(hours=4), timedelta(days=2))
        referral_id = f"RF-{self.location.place.province_code}-{at.year}-{rng.getrandbits(24):06X}"
        self._add(self.owner, "referral.requested", {
            "referral_id": referral_id, "service_type": service, "recipient": recipient,
            "consent": self._consent(at - timedelta(hours=1)), "consent_override": None,
            "due_at": at + timedelta(days=rng.randint(2, 5)), "notes": "ขอรับการส่งต่อตามแผนการช่วยเหลือ",
        })
        answered = self._advance(timedelta(hours=2), timedelta(days=2))
        if not accepted:
            self._add(recipient, "referral.rejected", {"referral_id": referral_id, "recipient": recipient,
                                                       "rejection_reason": rng.choice(("no_capacity", "out_of_area", "not_eligible")),
                                                       "reason_text": "ไม่สามารถรับได้ในขณะนี้"})
            return
        self._add(recipient, "referral.accepted", {"referral_id": referral_id, "recipient": recipient,
                                                   "expected_start": (answered + timedelta(days=2)).astimezone(THAILAND).date(),
                                                   "notes": None})
        self._delivered(recipient, service, referral_id)

    def _delivered(self, provider: str, service: str, referral_id: str | None) -> None:
        rng = self.rng
        at = self._advance(timedelta(days=1), timedelta(days=7))
        outcome = rng.choices(("successful", "partial", "unsuccessful"), weights=(85, 10, 5))[0]
        self._add(provider, "service.delivered", {
            "referral_id": referral_id, "service_type": service, "provider": provider,
            "delivered_on": at.astimezone(THAILAND).date(), "outcome": outcome,
            "outcome_reason": None if outcome == "successful" else "ผู้รับบริการไม่อยู่ในพื้นที่บางช่วง",
            "amount_baht": rng.choice((1000, 2000, 3000)) if service == "cash_assistance" else None,
        })

    def _followup(self, *, first: bool) -> None:
        rng = self.rng
        at = self._advance(timedelta(days=7 if first else 14), timedelta(days=30))
        org = self.centre or (self.laos[0] if self.laos else self.owner)
        on = at.astimezone(THAILAND).date()
        self._add(org, "case.followup", {"followup_type": rng.choice(("home_visit", "phone_call", "office_visit")),
                                         "followup_date": on, "next_due": on + timedelta(days=30),
                                         "notes": "ติดตามผลแล้ว สถานการณ์ดีขึ้น"})

    def _closed(self) -> None:
        self._advance(timedelta(days=3), timedelta(days=20))
        reason = self.rng.choices(("needs_met", "referred_out", "moved_away", "unreachable"), weights=(80, 10, 5, 5))[0]
        self._add(self.pso, "case.closed", {"closure_reason": reason, "approved_by": f"{self.pso} {_APPROVER}", "notes": None})
