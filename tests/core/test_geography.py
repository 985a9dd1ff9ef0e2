"""DOPA geography: tambon lookups and address resolution over geothai."""

from __future__ import annotations

from casehub.core.geography import province_codes, resolve_location, tambon, tambons_of_province


def test_tambon_gives_codes_and_names_in_both_languages() -> None:
    place = tambon("840503")
    assert place is not None
    assert (place.tambon_name_th, place.tambon_name_en) == ("เกาะเต่า", "Ko Tao")
    assert (place.amphoe_code, place.amphoe_name_th) == ("8405", "เกาะพะงัน")
    assert (place.province_code, place.province_name_en) == ("84", "Surat Thani")
    assert place.postal_codes == ("84360",)
    assert place.label_th() == "ต.เกาะเต่า อ.เกาะพะงัน จ.สุราษฎร์ธานี (840503)"


def test_unknown_or_malformed_tambon_codes_give_none() -> None:
    assert tambon("849999") is None
    assert tambon("8405") is None
    assert tambon("abcdef") is None


def test_marked_thai_address_resolves_to_one_tambon() -> None:
    found = resolve_location("12 หมู่ 3 ตำบลบ้านใต้ อำเภอเกาะพะงัน จังหวัดสุราษฎร์ธานี 84280")
    assert [p.tambon_code for p in found] == ["840502"]


def test_short_markers_and_bangkok_khwaeng_khet() -> None:
    assert [p.tambon_code for p in resolve_location("ต.ในเมือง อ.เมือง จ.ขอนแก่น")] == ["400101"]
    assert [p.tambon_code for p in resolve_location("แขวงลุมพินี เขตปทุมวัน กรุงเทพมหานคร")] == ["100704"]


def test_english_address_resolves() -> None:
    found = resolve_location("Ban Tai Subdistrict, Ko Pha-ngan District, Surat Thani")
    assert [p.tambon_code for p in found] == ["840502"]


def test_tambon_name_alone_is_ambiguous_and_lists_every_candidate() -> None:
    found = resolve_location("บ้านใต้")
    assert [p.tambon_code for p in found] == ["710102", "840502"]


def test_unmarked_words_narrow_by_amphoe() -> None:
    assert [p.tambon_code for p in resolve_location("บ้านใต้ เกาะพะงัน")] == ["840502"]


def test_postal_code_narrows_an_ambiguous_name() -> None:
    assert [p.tambon_code for p in resolve_location("ต.บ้านใต้", "71000")] == ["710102"]


def test_postal_code_alone_resolves_only_when_it_serves_one_tambon() -> None:
    assert [p.tambon_code for p in resolve_location(None, "84360")] == ["840503"]
    assert [p.tambon_code for p in resolve_location(None, "84280")] == ["840501", "840502"]


def test_unknown_address_gives_no_candidates() -> None:
    assert resolve_location("ต.ไม่มีจริง อ.ไหนก็ไม่รู้") == []
    assert resolve_location(None, "00000") == []


def test_tambons_of_province() -> None:
    places = tambons_of_province("84")
    assert len(places) == 131
    assert all(p.province_code == "84" for p in places)
    assert tambons_of_province("99") == ()
    assert len(province_codes()) == 77


def test_tambon_names_that_contain_a_marker_word() -> None:
    place = resolve_location("ต.หลักเขต อ.เมือง จ.บุรีรัมย์")
    assert [(p.tambon_code, p.tambon_name_th) for p in place] == [("310122", "หลักเขต")]
    assert [p.tambon_name_th for p in resolve_location("ตำบลสามตำบล")] == ["สามตำบล"]


def test_thai_address_typed_without_spaces() -> None:
    assert [p.tambon_code for p in resolve_location("ตำบลบ้านใต้อำเภอเกาะพะงันจังหวัดสุราษฎร์ธานี")] == ["840502"]
