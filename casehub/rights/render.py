"""A subject report as JSON (machine), text (the operator's terminal) or HTML (to hand to the person), Thai and English."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from casehub.rights.lineage import Lineage

# (Thai, English) for every heading and column a person reads
LABELS: dict[str, tuple[str, str]] = {
    "title": ("รายงานการเปิดเผยข้อมูลส่วนบุคคลของเจ้าของข้อมูล", "Report of disclosures of a data subject's personal data"),
    "law": ("ตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 มาตรา 30", "under the Personal Data Protection Act B.E. 2562, s30"),
    "subject": ("เจ้าของข้อมูล", "Data subject"),
    "generated": ("จัดทำเมื่อ", "Generated at"),
    "by": ("ผู้จัดทำ", "Prepared by"),
    "report_id": ("เลขที่รายงาน", "Report no."),
    "cases": ("เรื่องที่เกี่ยวข้อง", "Cases"),
    "events": ("เหตุการณ์ที่บันทึก", "Events recorded"),
    "disclosures": ("การเปิดเผยข้อมูล", "Disclosures"),
    "withheld": ("กรณีที่ไม่ได้เปิดเผย", "Not disclosed"),
    "replays": ("การส่งข้อมูลซ้ำโดยผู้ดูแลระบบ", "Replays by operators"),
    "redrives": ("การส่งรายการที่ค้างกลับเข้าระบบ", "Re-drives of held records"),
    "operator_reads": ("การเรียกดูโดยผู้ดูแลระบบ", "Reads by operators"),
    "recipient": ("ผู้รับข้อมูล", "Recipient"),
    "level": ("ระดับการเปิดเผย", "Disclosure level"),
    "basis": ("ฐานทางกฎหมาย", "Lawful basis"),
    "at": ("เวลา", "Time"),
    "event_type": ("ประเภทเหตุการณ์", "Event type"),
    "withheld_fields": ("ข้อมูลที่ไม่ได้ส่ง", "Fields withheld"),
    "reason": ("เหตุผล", "Reason"),
    "case": ("เลขเรื่อง", "Case"),
    "source": ("ผู้บันทึก", "Recorded by"),
    "operator": ("ผู้ดูแลระบบ", "Operator"),
    "action": ("การดำเนินการ", "Action"),
    "action_id": ("เลขที่การดำเนินการ", "Action no."),
    "none": ("ไม่มี", "none"),
}


def as_dict(found: Lineage, *, report_id: str, operator: str, generated: datetime) -> dict[str, Any]:
    subject = found.subject
    return {
        "report_id": report_id, "generated_at": generated.astimezone(UTC).isoformat(timespec="seconds"),
        "prepared_by": operator,
        "subject": {"kind": subject.kind, "id_masked": subject.masked, "token": subject.token},
        "cases": found.cases, "recipients": found.recipients,
        "events": found.events, "disclosures": found.disclosures, "withheld": found.withheld,
        "replays": found.replays, "redrives": found.redrives, "operator_reads": found.operator_reads,
        "dead_letters": found.dead_letters, "scanned": found.scanned,
    }


def _label(key: str) -> str:
    thai, english = LABELS[key]
    return f"{thai} / {english}"


def _basis(entry: dict[str, Any]) -> str:
    parts = [entry.get("lawful_basis"), entry.get("sensitive_basis"), entry.get("lawful_reference")]
    return ", ".join(str(p) for p in parts if p) or "-"


def as_text(report: dict[str, Any]) -> str:
    lines = [f"{_label('title')}", f"{_label('subject')}: {report['subject']['kind']} {report['subject']['id_masked']}",
             f"{_label('report_id')}: {report['report_id']}   {_label('generated')}: {report['generated_at']}", ""]
    lines.append(f"{_label('cases')}: {', '.join(report['cases']) or '-'}")
    lines.append(f"{_label('events')}: {len(report['events'])}")
    lines.append(f"{_label('disclosures')}: {len(report['disclosures'])} to {len(report['recipients'])} recipient(s)")
    for entry in report["disclosures"]:
        lines.append(f"  {entry.get('at', '-'):<29} {entry.get('recipient') or '-':<22} {entry.get('disclosure') or '-':<14} "
                     f"{entry.get('event_type') or entry.get('channel') or '-':<22} {_basis(entry)}"
                     + (f"  withheld: {', '.join(entry['withheld_fields'])}" if entry.get("withheld_fields") else ""))
    lines.append(f"{_label('withheld')}: {len(report['withheld'])}")
    for key in ("replays", "redrives", "operator_reads"):
        lines.append(f"{_label(key)}: {len(report[key])}")
        for action in report[key]:
            lines.append(f"  {action.get('at', '-'):<29} {action.get('operator', '-'):<28} {action.get('id', '-')}")
    return "\n".join(lines)


def _table(columns: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<p>{html.escape(_label('none'))}</p>"
    head = "".join(f"<th>{html.escape(_label(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def as_html(report: dict[str, Any]) -> str:
    """One self-contained page (no scripts, no external resources) an officer can print or send."""
    subject = report["subject"]
    disclosures = [[d.get("at") or "-", d.get("recipient") or "-", d.get("disclosure") or "-", _basis(d),
                    d.get("event_type") or d.get("channel") or "-", ", ".join(d.get("withheld_fields") or []) or "-"]
                   for d in report["disclosures"]]
    withheld = [[d.get("at") or "-", d.get("recipient") or "-", d.get("event_type") or "-", d.get("reason") or "-"]
                for d in report["withheld"]]
    events = [[e.get("recorded_at") or "-", e.get("case_id") or "-", e.get("type") or "-", e.get("source") or "-"]
              for e in report["events"]]
    actions = {key: [[a.get("at") or "-", a.get("operator") or "-", a.get("action") or "-", a.get("id") or "-"]
                     for a in report[key]] for key in ("replays", "redrives", "operator_reads")}
    sections = [
        f"<h2>{html.escape(_label('events'))}</h2>" + _table(["at", "case", "event_type", "source"], events),
        f"<h2>{html.escape(_label('disclosures'))}</h2>"
        + _table(["at", "recipient", "level", "basis", "event_type", "withheld_fields"], disclosures),
        f"<h2>{html.escape(_label('withheld'))}</h2>" + _table(["at", "recipient", "event_type", "reason"], withheld),
        *(f"<h2>{html.escape(_label(key))}</h2>" + _table(["at", "operator", "action", "action_id"], rows)
          for key, rows in actions.items()),
    ]
    meta = (f"<p>{html.escape(_label('subject'))}: {html.escape(subject['kind'])} {html.escape(subject['id_masked'])}"
            f"<br>{html.escape(_label('report_id'))}: {html.escape(report['report_id'])}"
            f"<br>{html.escape(_label('generated'))}: {html.escape(report['generated_at'])}"
            f"<br>{html.escape(_label('by'))}: {html.escape(report['prepared_by'])}"
            f"<br>{html.escape(_label('cases'))}: {html.escape(', '.join(report['cases']) or '-')}</p>")
    style = ("body{font-family:'Sarabun','Noto Sans Thai',sans-serif;margin:2em}table{border-collapse:collapse;"
             "width:100%}td,th{border:1px solid #999;padding:4px;text-align:left;font-size:90%}")
    return (f"<!DOCTYPE html><html lang=\"th\"><head><meta charset=\"utf-8\"><title>{html.escape(_label('title'))}"
            f"</title><style>{style}</style></head><body><h1>{html.escape(_label('title'))}</h1>"
            f"<p>{html.escape(_label('law'))}</p>{meta}{''.join(sections)}</body></html>")
