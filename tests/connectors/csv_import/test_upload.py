"""CSV upload through a real gateway and `casehub import`, against the real test broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from casehub.connectors.csv_import.cells import BANGKOK
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from tests.connectors.gateway.conftest import Running, start
from tests.kafka_helpers import kafka_identity_env
from tests.streams.harness import citizen_id, read_until, with_ids

CASEHUB = Path(sys.executable).with_name("casehub")
WAIT = 30.0
THAI_HEADER = "ลำดับ,เลขประจำตัวประชาชน,ชื่อ,นามสกุล,วันเกิด,เพศ,ตำบล,อำเภอ,จังหวัด,รหัสไปรษณีย์,ประเภทปัญหา,รายละเอียด,วันที่แจ้ง"


@pytest.fixture(scope="module")
def running(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    found = start(settings, tmp_path_factory.mktemp("csv"))
    yield found
    found.gateway.stop()


def thai_sheet(first: str, second: str, *, bom: bool = True) -> bytes:
    """Four rows: 2 and 4 valid, 3 with a wrong check digit and an impossible date, 5 with an unknown category."""
    broken = first[:-1] + str((int(first[-1]) + 1) % 10)
    lines = [
        THAI_HEADER,
        f"1,{first[0]}-{first[1:5]}-{first[5:10]}-{first[10:12]}-{first[12]},สมศรี,มีสุข,9/3/2560,หญิง,บ้านใต้,เกาะพะงัน,สุราษฎร์ธานี,84280,เด็กและเยาวชน,เด็กอยู่บ้านลำพัง ซอยเงียบ,20/11/2569 08:30",
        f"2,{broken},สมชาย,ใจดี,31/02/2560,ชาย,บ้านใต้,เกาะพะงัน,สุราษฎร์ธานี,84280,เด็กและเยาวชน,,20/11/2569",
        f"3,{second},บุญมี,ทองดี,1 ม.ค. 2490,ชาย,ต.บ้านใต้,อ.เกาะพะงัน,จ.สุราษฎร์ธานี,,ผู้สูงอายุ,อยู่ลำพัง,2026-11-20",
        f"4,{citizen_id()},ทดสอบ,ผิด,1/1/2550,หญิง,บ้านใต้,เกาะพะงัน,สุราษฎร์ธานี,,อื่นๆ,,20/11/2569",
        "",
    ]
    text = "\r\n".join(lines)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def inbound_with(running: Running, ids: set[str], *, expect: int, settle: float) -> list[Any]:
    records = read_until(running.gateway.settings, [topics.inbound(running.orgs.lao)],
                         done=lambda rs: expect > 0 and len(with_ids(rs, ids)) >= expect,
                         timeout=WAIT if expect else 0.0, settle=settle)
    return with_ids(records, ids)


def test_thai_headers_and_buddhist_era_dates_become_events_and_bad_rows_are_listed(running: Running) -> None:
    first, second = citizen_id(), citizen_id()
    sheet = thai_sheet(first, second)
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/uploads/csv", content=sheet, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert (result["rows"], result["accepted"], result["rejected"], result["policy"]) == (4, 2, 2, "valid_rows")
    assert [(e["row"], e["status"]) for e in result["events"]] == [(2, "accepted"), (4, "accepted")]
    bad = {b["row"]: b["errors"] for b in result["bad_rows"]}
    assert sorted(bad) == [3, 5]
    assert {e["field"] for e in bad[3]} == {"เลขประจำตัวประชาชน (subject.citizen_id)", "วันเกิด (subject.birth_date)"}
    assert any("check digit" in e["message"] for e in bad[3])
    assert [e["field"] for e in bad[5]] == ["ประเภทปัญหา (issue_category)"]

    ids = {e["id"] for e in result["events"]}
    records = inbound_with(running, ids, expect=2, settle=2.0)
    events = {r.offset: decode(r.value, r.headers).event for r in records}
    child, elder = (events[o] for o in sorted(events))
    assert child.subject.citizen_id == first  # the dashes of a printed card removed
    assert child.subject.birth_date == date(2017, 3, 9)  # 2560 BE
    assert child.subject.given_name == "สมศรี" and child.subject.sex == "female"
    assert child.target_group == "child" and child.issue_category == "children_youth"
    assert child.channel == "lao" and child.reporter_type == "official"  # an LAO's own sheet
    assert child.location.address_text == "ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี" and child.location.postal_code == "84280"
    assert child.occurred_at == datetime(2026, 11, 20, 8, 30, tzinfo=BANGKOK)  # Bangkok time when no offset is written
    assert elder.subject.birth_date == date(1947, 1, 1) and elder.target_group == "elderly"
    assert {r.headers and dict(r.headers)["ce_source"] for r in records} == {f"/partners/{running.orgs.lao}".encode()}

    # the same file again: nothing written twice, and the answer says so
    with running.gateway.client(running.orgs.lao) as client:
        again = client.post("/v1/uploads/csv", content=sheet, headers={"Content-Type": "text/csv"})
    assert again.status_code == 202
    assert (again.json()["accepted"], again.json()["already_submitted"]) == (0, 2)
    assert {e["id"] for e in again.json()["events"]} == ids
    assert [b["row"] for b in again.json()["bad_rows"]] == [3, 5]
    assert len(inbound_with(running, ids, expect=0, settle=3.0)) == 2


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(running: Running) -> None:
    sheet = thai_sheet(citizen_id(), citizen_id(), bom=False)
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/uploads/csv", params={"all_or_nothing": "true"}, content=sheet,
                             headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422
    result = answer.json()
    assert result["written"] is False and result["policy"] == "all_or_nothing"
    assert [(e["row"], e["status"]) for e in result["events"]] == [(2, "not_written"), (4, "not_written")]
    assert inbound_with(running, {e["id"] for e in result["events"]}, expect=0, settle=3.0) == []


def test_english_headers_as_a_multipart_file(running: Running) -> None:
    cid = citizen_id()
    text = (
        "citizen_id,given_name,family_name,birth_date,tambon,amphoe,province,issue_category,channel,reporter_type,occurred_at\n"
        f"{cid},Mali,Jaidee,2014-03-09,Ban Tai,Ko Pha-ngan,Surat Thani,poverty,walk_in,self,2026-11-20T09:00:00+07:00\n"
    )
    with running.gateway.client(running.orgs.ngo) as client:
        answer = client.post("/v1/uploads/csv", files={"file": ("reports.csv", text.encode(), "text/csv")})
    assert answer.status_code == 202, answer.text
    (row,) = answer.json()["events"]
    records = read_until(running.gateway.settings, [topics.inbound(running.orgs.ngo)],
                         done=lambda rs: bool(with_ids(rs, {row["id"]})), timeout=WAIT)
    (record,) = with_ids(records, {row["id"]})
    event = decode(record.value, record.headers).event
    assert event.subject.citizen_id == cid and event.channel == "walk_in" and event.issue_category == "poverty"
    assert event.location.address_text == "Ban Tai Subdistrict, Ko Pha-ngan District, Surat Thani"


def test_unknown_columns_and_non_utf8_files_are_refused_whole(running: Running) -> None:
    with running.gateway.client(running.orgs.lao) as client:
        unknown = client.post("/v1/uploads/csv", content="ชื่อ,สีที่ชอบ\nสมศรี,แดง\n".encode(), headers={"Content-Type": "text/csv"})
        tis620 = client.post("/v1/uploads/csv", content="ชื่อ\nสมศรี\n".encode("tis-620"), headers={"Content-Type": "text/csv"})
    assert unknown.status_code == 400 and "สีที่ชอบ" in unknown.json()["detail"]
    assert tis620.status_code == 400 and "UTF-8" in tis620.json()["detail"]


def _import(running: Running, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    settings = running.gateway.settings
    env = {
        **os.environ,
        "CASEHUB_HOME": str(settings.home),
        "CASEHUB_REGISTRY_PATH": str(settings.registry_path),
        **kafka_identity_env(settings),
    }
    return subprocess.run([str(CASEHUB), "import", str(path), "--as", running.orgs.lao, *extra],
                          env=env, capture_output=True, text=True, timeout=120)


def test_casehub_import_lists_bad_rows_and_shares_the_ledger_with_the_gateway(running: Running, tmp_path: Path) -> None:
    path = tmp_path / "รายงาน.csv"
    path.write_bytes(thai_sheet(citizen_id(), citizen_id()))
    first = _import(running, path)
    assert first.returncode == 1, first.stderr  # some rows are bad
    assert "2 written" in first.stdout and "2 bad" in first.stdout
    assert "row 3: เลขประจำตัวประชาชน (subject.citizen_id)" in first.stdout
    assert "row 5: ประเภทปัญหา (issue_category)" in first.stdout

    again = _import(running, path, "--json")
    result = json.loads(again.stdout)
    assert (result["accepted"], result["already_submitted"]) == (0, 2)

    with running.gateway.client(running.orgs.lao) as client:
        uploaded = client.post("/v1/uploads/csv", content=path.read_bytes(), headers={"Content-Type": "text/csv"})
    assert uploaded.json()["already_submitted"] == 2 and uploaded.json()["accepted"] == 0
    ids = {e["id"] for e in result["events"]}
    assert len(inbound_with(running, ids, expect=0, settle=3.0)) == 2
