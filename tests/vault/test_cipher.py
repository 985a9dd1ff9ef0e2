"""The field cipher and the key store: what is sealed, that tampering and a wrong key are refused, and that an erased
subject's fields read as ``[erased]`` (never a crash, never the token)."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casehub.core.settings import Settings
from casehub.schemas.models import parse_event
from casehub.vault.exceptions import Erased, MasterKeyError, Tampered
from casehub.vault.fields import open_fields, seal_fields
from casehub.vault.keystore import DataKeyStore
from casehub.vault.master import MasterKey, load_master_key
from casehub.vault.reading import open_event, open_record
from casehub.vault.records import seal_headers, sealed_value
from casehub.vault.tokens import ERASED, is_token, open_bytes, open_text, seal_text
from tests.streams.harness import report

NAME = "บุญมี"


def store() -> DataKeyStore:
    return DataKeyStore(MasterKey(os.urandom(32)))


def reported() -> dict:
    event = report(cid="3500100234569", summary="ผู้สูงอายุอยู่ลำพัง", reporter_phone="0812345678")
    data = event.to_avro()
    data["subject"]["given_name"] = NAME
    return data


def test_personal_fields_are_sealed_and_open_again_and_the_rest_stays_readable() -> None:
    keys = store()
    data = reported()
    sealed = seal_fields("case.reported", data, keys.key_for("subject-abc"))
    assert data["subject"]["citizen_id"] == "3500100234569"  # the caller's copy keeps its plaintext
    for value in (sealed["subject"]["citizen_id"], sealed["subject"]["given_name"], sealed["summary"],
                  sealed["reporter_phone"]):
        assert is_token(value)
    blob = repr(sealed).encode()
    assert b"3500100234569" not in blob and NAME.encode() not in blob
    # quasi identifiers and the routing fields stay as they are: the hub routes and counts by them
    assert sealed["subject"]["birth_date"] == data["subject"]["birth_date"]
    assert sealed["location"] == data["location"] and sealed["issue_category"] == data["issue_category"]
    opened = open_fields(sealed, keys)
    assert opened.data == data and opened.erased == []


def test_a_tampered_token_or_one_moved_to_another_field_or_key_is_refused() -> None:
    keys = store()
    key = keys.key_for("subject-abc")
    token = seal_text(key, "subject.given_name", NAME)
    assert open_text(keys, "subject.given_name", token) == NAME
    with pytest.raises(Tampered):
        open_text(keys, "subject.family_name", token)  # the field path is bound in
    body = token.rsplit(":", 1)[1]
    flipped = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    flipped = flipped[:-1] + bytes([flipped[-1] ^ 1])
    with pytest.raises(Tampered):
        open_text(keys, "subject.given_name", token.rsplit(":", 1)[0] + ":" + base64.urlsafe_b64encode(flipped).decode())
    other = keys.key_for("subject-other")
    with pytest.raises(Tampered):  # another key's id on this ciphertext
        open_text(keys, "subject.given_name", token.replace(key.key_id, other.key_id))
    with pytest.raises(Tampered):
        open_bytes(keys, other.key_id, sealed_value(key, b"record") or b"")


def test_an_erased_key_reads_as_erased_and_a_whole_sealed_record_as_unreadable() -> None:
    keys = store()
    key = keys.key_for("subject-abc")
    sealed = seal_fields("case.reported", reported(), key)
    record = sealed_value(key, b"\x00exact original bytes\xff")
    assert open_record(record, seal_headers(key), keys).value == b"\x00exact original bytes\xff"
    keys.apply(key.record_key, None, committed=True)  # the tombstone `casehub subject erase` writes
    with pytest.raises(Erased):
        open_text(keys, "summary", sealed["summary"])
    opened = open_fields(sealed, keys)
    assert opened.data["subject"]["citizen_id"] == ERASED and opened.data["summary"] == ERASED
    assert "subject.citizen_id" in opened.erased and opened.data["issue_category"] == sealed["issue_category"]
    shown = open_record(record, [*seal_headers(key), ("hub.error.stage", b"validate")], keys)
    assert shown.erased and shown.value is None and shown.headers == [("hub.error.stage", b"validate")]
    event = open_event(parse_event(reported() | {"summary": sealed["summary"]}), keys, erased_as=None)
    assert event.erased == ["summary"] and event.event.summary is None
    # the scope gets a fresh key for what arrives after the erasure
    assert keys.key_for("subject-abc").key_id != key.key_id


def test_keys_travel_wrapped_and_a_new_key_is_repeated_until_the_committed_view_shows_it() -> None:
    master = MasterKey(os.urandom(32))
    maker, reader = DataKeyStore(master), DataKeyStore(master)
    key = maker.key_for("case-CASE-20261201-AB12345678")
    ((topic, record_key, wrapped),) = maker.records_for([key, key])
    assert topic == "hub.subject.keys" and record_key == f"case-CASE-20261201-AB12345678:{key.key_id}".encode()
    reader.apply(record_key, wrapped, committed=True)
    token = seal_text(key, "notes", "พบผู้สูงอายุ")
    assert open_text(reader, "notes", token) == "พบผู้สูงอายุ"
    with pytest.raises(Tampered):  # a wrapped key under another record key does not unwrap
        master.unwrap(b"subject-x:" + key.key_id.encode(), wrapped)
    maker.apply(record_key, wrapped, committed=False)
    assert maker.records_for([key])  # seen uncommitted only: its transaction may still abort
    maker.apply(record_key, wrapped, committed=True)
    assert maker.records_for([key]) == []


def test_the_master_key_is_made_once_under_the_home_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, master_key=None, master_key_file=None)
    first = load_master_key(settings)
    path = tmp_path / "secrets" / "master-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and load_master_key(settings) == first and len(first) == 32
    assert load_master_key(Settings(home=tmp_path, master_key="11" * 32)) == bytes.fromhex("11" * 32)
    with pytest.raises(MasterKeyError, match="32"):
        load_master_key(Settings(home=tmp_path, master_key="abcd"))


def test_services_starting_at_once_all_read_the_one_whole_key_made(tmp_path: Path) -> None:
    # the chaos run's two workers once read the key file while the first one was still writing it (0 bytes)
    script = ("import sys, time; from pathlib import Path; from casehub.core.settings import Settings; "
              "from casehub.vault.master import load_master_key; settings = Settings(home=Path(sys.argv[1]), "
              "master_key=None, master_key_file=None); time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
              "print(load_master_key(settings).hex())")
    for attempt in range(3):
        home, start = tmp_path / f"home-{attempt}", time.time() + 3.0  # all at once, once imported
        runs = [subprocess.Popen([sys.executable, "-c", script, str(home), str(start)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(6)]
        outputs = [run.communicate(timeout=60) for run in runs]
        assert all(run.returncode == 0 for run in runs), [err.decode()[-500:] for _, err in outputs]
        keys = {out.decode().strip() for out, _ in outputs}
        assert len(keys) == 1 and len(bytes.fromhex(keys.pop())) == 32
        assert [p.name for p in (home / "secrets").iterdir()] == ["master-key"]  # no draft left behind
