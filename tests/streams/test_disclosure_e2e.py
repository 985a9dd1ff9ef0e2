"""End to end against the real broker: what each partner's outbound topic really holds, byte for byte.

A `casehub worker` subprocess routes simulator traffic (`casehub simulate --follow-hub`), every example event of the
contract and the findings' own events to a registry with full, pseudonymised and aggregate partners; the tests read
the partners' topics as the partners would.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from casehub.connectors.simulator import SimulatorOptions, generate
from casehub.core import geography, topics
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import Registry, parse_registry
from casehub.schemas.codec import decode
from casehub.schemas.markings import FieldPlan, field_plan
from casehub.schemas.models import CaseEvent, parse_event
from casehub.streams.audit import entries as audit_entries
from casehub.streams.project import names_a_tambon
from casehub.streams.pseudonyms import Pseudonyms
from tests.connectors.simulator.test_simulator_cli import run_casehub
from tests.streams.conftest import FAST_SLA, workdir_for
from tests.streams.harness import (
    EXAMPLES,
    NEIGHBOUR_TAMBON,
    TAMBON,
    Worker,
    header,
    partner,
    publish,
    read_until,
    registry_yaml,
    report,
    with_ids,
)

WAIT = 120.0
S26_SUMMARY = "เด็กหญิงถูกล่วงละเมิดทางเพศ มีบาดแผล ส่งตัวรักษาที่โรงพยาบาล"
KEYED = re.compile(rb"(?:subject|case|event|referral)-v\d+-[0-9a-f]{32}")
THAI_RUN = re.compile(r"[\u0e00-\u0e7f]+")


@dataclass
class Stack:
    """A worker and its registry: full partners, two pseudonymised ones, an aggregate one."""

    settings: Settings
    worker: Worker
    registry: Registry
    registry_path: Path
    slug: str

    def org(self, kind: str) -> str:
        return {"lao": f"lao-{self.slug}", "hosp": f"hosp-{self.slug}", "police": f"police-{self.slug}",
                "ngo": f"ngo-{self.slug}", "private": f"private-{self.slug}", "pao": f"lao-pao-{self.slug}"}[kind]

    @property
    def pseudonymised(self) -> list[str]:
        return [self.org("ngo"), self.org("private")]

    @property
    def watched(self) -> list[str]:
        """The outbound topics of every partner below the full level (the byte scan reads them)."""
        return [topics.outbound(org) for org in (*self.pseudonymised, self.org("pao"))]


@pytest.fixture(scope="module")
def stack(settings: Settings) -> Iterator[Stack]:
    slug = "d" + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))  # no digits: no tambon
    workdir = workdir_for(settings)
    workdir.mkdir(parents=True)
    everything = ["*"]
    partners = [
        partner("hotline-1300", "hotline", "national", "full", ["case.reported", "case.linked"]),
        partner("pso-84", "pso", {"provinces": ["84"]}, "full", everything),
        partner(f"tc-{TAMBON}", "tambon_centre", {"tambons": [TAMBON]}, "full", everything),
        partner(f"tc-{NEIGHBOUR_TAMBON}", "tambon_centre", {"tambons": [NEIGHBOUR_TAMBON]}, "full", everything),
        partner(f"lao-{slug}", "lao", {"tambons": [TAMBON, NEIGHBOUR_TAMBON]}, "full", ["case.*"]),
        partner(f"hosp-{slug}", "hospital", {"provinces": ["84"]}, "full", everything,
                sensitive_access=["health", "disability", "sexual_violence"]),
        partner(f"police-{slug}", "police", {"provinces": ["84"]}, "full", everything,
                sensitive_access=["criminal_record", "sexual_violence"]),
        partner(f"ngo-{slug}", "ngo", {"provinces": ["84"]}, "pseudonymised", everything),
        partner(f"private-{slug}", "private", "national", "pseudonymised", everything),
        partner(f"lao-pao-{slug}", "lao", {"provinces": ["84"]}, "aggregate", []),
    ]
    path = workdir / "partners.yaml"
    path.write_text(registry_yaml(partners))
    registry = parse_registry(path.read_text(), source=str(path))
    apply_topics(settings, registry)
    worker = Worker(settings, workdir, path, env_extra=FAST_SLA)
    worker.start()
    yield Stack(settings, worker, registry, path, slug)
    worker.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def known_as(stack: Stack, org: str, source_org: str, event_id: str) -> str:
    """The id a pseudonymised partner knows an event by: its own reference of (source, id)."""
    return Pseudonyms.from_settings(stack.settings).pseudonym(org, "event", f"{topics.event_source(source_org)}\x1f{event_id}")


def test_an_s26_event_reaches_seven_partners_and_only_those_granted_every_tag_read_its_summary(stack: Stack) -> None:
    event = report(category="family_violence", summary=S26_SUMMARY)
    event = event.model_copy(update={
        "sensitivity": ["sexual_violence", "health"],
        "lawful_basis": event.lawful_basis.model_copy(update={"sensitive_basis": "vital_interest_incapable"})})
    publish(stack.settings, "hotline-1300", [event])
    full = ["pso-84", f"tc-{TAMBON}", stack.org("lao"), stack.org("hosp"), stack.org("police")]
    ids = {event.id} | {known_as(stack, org, "hotline-1300", event.id) for org in stack.pseudonymised}
    names = [topics.outbound(org) for org in (*full, *stack.pseudonymised)]
    records = read_until(stack.settings, names, done=lambda rs: len(with_ids(rs, ids)) >= 7, timeout=WAIT, settle=2.0)
    mine = {r.topic.split(".")[1]: r for r in with_ids(records, ids)}
    assert sorted(mine) == sorted([*full, *stack.pseudonymised])  # seven recipients, as in the finding
    seen = {org: decode(r.value, r.headers).event for org, r in mine.items()}
    assert seen[stack.org("hosp")].summary == S26_SUMMARY  # granted health and sexual_violence
    for org in ("pso-84", f"tc-{TAMBON}", stack.org("lao"), stack.org("police"), *stack.pseudonymised):
        assert S26_SUMMARY.encode() not in mine[org].value, org
        assert seen[org].summary is None, org
    police = seen[stack.org("police")]
    assert police.sensitivity == ["sexual_violence"] and police.subject.citizen_id == event.subject.citizen_id
    assert police.lawful_basis.reference is None  # free text too

    audit = read_until(stack.settings, [topics.HUB_AUDIT], timeout=WAIT, settle=1.0,
                       done=lambda rs: any(_audit_of(r, event.id, stack.org("police")) for r in rs))
    (entry,) = [e for r in audit if (e := _audit_of(r, event.id, stack.org("police")))]
    assert "summary" in entry["withheld_fields"]


def _audit_of(record: Any, event_id: str, recipient: str) -> dict[str, Any] | None:
    return next((entry for entry in audit_entries(json.loads(record.value))
                 if entry.get("event_id") == event_id and entry.get("recipient") == recipient), None)


def test_pseudonymised_partners_get_their_own_tokens_and_case_references(stack: Stack) -> None:
    event = report()
    publish(stack.settings, stack.org("lao"), [event])
    ngo, private = stack.pseudonymised
    ids = {event.id, known_as(stack, ngo, stack.org("lao"), event.id), known_as(stack, private, stack.org("lao"), event.id)}
    names = [topics.outbound(o) for o in ("pso-84", ngo, private)]
    records = read_until(stack.settings, names, done=lambda rs: len(with_ids(rs, ids)) >= 3, timeout=WAIT)
    mine = {r.topic.split(".")[1]: r for r in with_ids(records, ids)}
    seen = {org: decode(r.value, r.headers).event for org, r in mine.items()}
    tokens = {seen[o].subject_token for o in mine}
    assert len(tokens) == 3 and None not in tokens  # nobody's token joins anybody else's
    case_id = seen["pso-84"].case_id or ""
    pseudonyms = Pseudonyms.from_settings(stack.settings)
    for org in (ngo, private):
        assert mine[org].key == pseudonyms.case_reference(org, case_id).encode() == (seen[org].case_id or "").encode()
        assert header(mine[org], "ce_subject") == mine[org].key
        assert case_id.encode() not in mine[org].value + mine[org].key
    assert seen[ngo].case_id != seen[private].case_id
    # the LAO's id names its tambon: the pseudonymised partners are told the hub sent it
    assert header(mine[ngo], "ce_source") == header(mine[private], "ce_source") == b"/hub"
    assert header(mine["pso-84"], "ce_source") == topics.event_source(stack.org("lao")).encode()


def test_people_known_by_other_documents_stay_apart_unless_it_is_the_same_document(stack: Stack) -> None:
    number = str(uuid.uuid4().int)[:7]

    def by_other_id(other_id: str) -> CaseEvent:
        event = report(category="begging", target_group="general")
        return event.model_copy(update={"subject": event.subject.model_copy(
            update={"citizen_id": None, "other_id": other_id, "nationality": "MM"})})

    myanmar, thai, bare, again = (by_other_id(i) for i in (f"MM{number}", f"TH{number}", number, f"mm {number}"))
    publish(stack.settings, stack.org("lao"), [myanmar, thai, bare, again])
    ids = {e.id for e in (myanmar, thai, bare, again)}
    records = read_until(stack.settings, [topics.CASES_EVENTS], timeout=WAIT, settle=3.0,
                         done=lambda rs: len(with_ids(rs, ids)) >= 4)
    case_of = {(header(r, "ce_id") or b"").decode(): header(r, "ce_subject") for r in with_ids(records, ids)}
    assert len({case_of[myanmar.id], case_of[thai.id], case_of[bare.id]}) == 3  # three documents, three people
    assert case_of[again.id] == case_of[myanmar.id]  # the same passport written another way: one case
    linked = [r for r in records if header(r, "ce_type") == b"case.linked" and r.key == case_of[myanmar.id]]
    assert len(linked) == 1


def test_nothing_below_the_full_level_carries_an_identifier_free_text_tambon_or_partner_reference(stack: Stack) -> None:
    seed = uuid.uuid4().int % 1_000_000_007
    options = SimulatorOptions(provinces=("84",), duplicates=0.4, retries=0.1, local_share=0.8)
    simulated = [r for r in generate(seed, 8, options, registry=stack.registry) if r.event is not None]
    result = run_casehub(["simulate", "-n", "8", "--seed", str(seed), "--province", "84", "--duplicates", "0.4",
                          "--retries", "0.1", "--local-share", "0.8", "--follow-hub", "--link-timeout", "90",
                          "--json", "--no-progress"], stack.registry_path)
    assert result.returncode == 0, result.stderr.decode()[-3000:]

    examples, extra = _publish_examples_and_findings(stack)
    sent: list[CaseEvent] = [r.event for r in simulated if r.event] + examples + extra
    expected = {e.id for e in sent}
    canonical = read_until(stack.settings, [topics.CASES_EVENTS, topics.HUB_DLQ], timeout=WAIT, settle=3.0,
                           done=lambda rs: expected <= {(header(r, "ce_id") or b"").decode() for r in rs})
    accepted = {(header(r, "ce_id") or b"").decode() for r in canonical if r.topic == topics.CASES_EVENTS}
    refused = {e.id for e in examples + extra} - accepted
    assert not refused, f"example events the pipeline refused: {sorted(refused)}"
    case_ids = {(header(r, "ce_subject") or b"").decode() for r in canonical if r.topic == topics.CASES_EVENTS
                and (header(r, "ce_id") or b"").decode() in expected} - {""}

    outbound = read_until(stack.settings, stack.watched, done=lambda rs: False, timeout=5.0, since=0.0)
    by_topic = {name: [r for r in outbound if r.topic == name] for name in stack.watched}
    assert by_topic[topics.outbound(stack.org("pao"))] == []  # aggregate: counts, never an event
    assert len(by_topic[topics.outbound(stack.org("ngo"))]) > 20
    types = {decode(r.value, r.headers).event.type for r in outbound}
    assert {"case.reported", "case.linked", "case.escalated", "referral.requested", "case.closed"} <= types

    secrets = _secrets(sent, {r.org for r in simulated} | {"hotline-1300", "pso-84"}) | case_ids
    findings = {"นายสมชาย ใจดี HN 6612345", "sw-840503-07", "pso-84 นักสังคมสงเคราะห์ นางสาวมาลี", "840503",
                "พ.ร.บ.คุ้มครองเด็ก พ.ศ. 2546 มาตรา 29", "pso-84 หัวหน้ากลุ่มการพัฒนาสังคมและสวัสดิการ"}
    assert findings <= secrets and len(secrets) > 200  # the scan looks for every leak of the findings
    assert _leaks(outbound, secrets) == []
    # the same scan finds plenty in a full partner's copy of the same traffic: it is not blind
    full = read_until(stack.settings, [topics.outbound(f"tc-{TAMBON}")], done=lambda rs: False, timeout=3.0)
    assert len(_leaks(full, secrets)) > 10


def _leaks(records: list[Any], secrets: set[str]) -> list[str]:
    """What of ``secrets`` the records hold, byte for byte, and any 13-digit number or Thai text other than the
    names of amphoes and provinces (the pseudonymised level's place names)."""
    blob = b"\n".join(r.value + b"".join(k.encode() + v for k, v in r.headers) + (r.key or b"") for r in records)
    bare = KEYED.sub(b"<pseudonym>", blob)  # a pseudonym's hex may hold any digits
    found = [secret for secret in sorted(secrets) if secret.encode() in bare]
    found += [n.decode() for n in re.findall(rb"(?<!\d)\d{13}(?!\d)", bare)]
    # Thai is looked for in the records' text (Avro's binary numbers can look like UTF-8 by chance)
    texts = [json.dumps(decode(r.value, r.headers).event.to_json(), ensure_ascii=False) for r in records]
    texts += [v.decode("utf-8", errors="replace") for r in records for _, v in r.headers]
    found += sorted({run for text in texts for run in THAI_RUN.findall(text)} - _place_names())
    return found


def _publish_examples_and_findings(stack: Stack) -> tuple[list[CaseEvent], list[CaseEvent]]:
    """Every partner-written example event, about one case the hub opens; then the findings' own events."""
    tag = uuid.uuid4().hex[:6]

    def load(event_type: str, **changes: Any) -> CaseEvent:
        data = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"]
        return parse_event({**data, "id": f"{data['id']}-{tag}", **changes})

    opened = load("case.reported", partner_ref="นายสมชาย ใจดี HN 6612345")  # a CSV's source-system key
    publish(stack.settings, "hotline-1300", [opened])
    found = read_until(stack.settings, [topics.CASES_EVENTS], done=lambda rs: bool(with_ids(rs, {opened.id})),
                       timeout=WAIT)
    case_id = (header(with_ids(found, {opened.id})[0], "ce_subject") or b"").decode()
    follow_ups = [load(path.stem, case_id=case_id) for path in sorted(EXAMPLES.glob("*.json"))
                  if path.stem not in ("case.reported", "case.linked", "case.escalated")]
    override = {"reason": "เด็กอยู่ในอันตรายเร่งด่วน", "authorised_by": "pso-84 นักสังคมสงเคราะห์ นางสาวมาลี"}
    findings = [load("referral.requested", id=f"rf-override-{tag}", case_id=case_id, recipient=stack.org("ngo"),
                     referral_id=f"RF-84-{tag}", consent=None, consent_override=override)]
    publish(stack.settings, "pso-84", [*follow_ups, *findings])  # the province's office may act on any case of it
    return [opened, *follow_ups], findings


def _secrets(events: list[CaseEvent], senders: set[str]) -> set[str]:
    """What no partner below the full level may receive: every text the level's allowlist leaves out, the original
    of every value it receives only as a pseudonym (event, case, referral ids: source-system references), tambon
    codes, and org ids that name a tambon (``senders``: the orgs that wrote the events)."""
    found = {org for org in senders if names_a_tambon(org)}
    for event in events:
        data = event.to_json()
        for plan in _flat(field_plan(event.type)):
            rule = plan.marking.rule("pseudonymised")
            if plan.kind not in ("string", "array") or plan.marking.path.startswith("location.tambon_name"):
                continue  # enums and numbers say nothing by themselves; a tambon's name may be its amphoe's too
            for value in _values(data, plan.marking.path.split(".")):
                texts = value if isinstance(value, list) else [value]
                for text in texts:
                    if not isinstance(text, str) or len(text) < 4:
                        continue
                    names_place = rule in ("org", "source") and names_a_tambon(text.removeprefix("/partners/"))
                    if rule is None or rule.startswith("keyed:") or names_place:
                        found.add(text)
        found.update(v for v in _values(data, ["location", "tambon_code"]) if v)
    return found - {"[withheld]"}


def _flat(plans: tuple[FieldPlan, ...]) -> list[FieldPlan]:
    return [p for plan in plans for p in (plan, *_flat(plan.children))]


def _values(data: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [data]
    if not isinstance(data, dict) or data.get(parts[0]) is None:
        return []
    return _values(data[parts[0]], parts[1:])


@cache
def _place_names() -> frozenset[str]:
    """The Thai names of every amphoe and province (the national partner also gets other tests' hotline reports)."""
    places = [p for province in geography.province_codes() for p in geography.tambons_of_province(province)]
    return frozenset({p.province_name_th for p in places} | {p.amphoe_name_th for p in places})
