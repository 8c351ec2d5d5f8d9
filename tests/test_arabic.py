"""Arabic reports: normalisation, clitics, names, cues, organisations and dates, on sentences written
for these tests in the style of local news (never text from ../shared)."""

from __future__ import annotations

import pytest

from geo_idlib.places import mentions
from geo_idlib.places.normalize import normalize
from geo_idlib.places.store import load_index


@pytest.fixture(scope="module")
def index():
    return load_index()


def spans(text: str, index) -> list[str]:
    m = mentions.find_mentions(text, index)
    for s, e, w in zip(m["start"], m["end"], m["mention"], strict=True):
        assert text[s:e] == w
    return list(m["mention"])


def test_normalize_arabic_forms():
    assert normalize("إِدْلِب") == normalize("ادلب") == normalize("أدلب")
    assert normalize("حماة") == normalize("حماه")
    assert normalize("مأجورين") == normalize("ماجورين")
    assert normalize("سوريـــا") == normalize("سوريا")  # tatweel
    assert normalize("\u200fحلب\u200e") == normalize("حلب")  # bidi marks
    assert normalize("١٩ شباط ٢٠٢٠") == "19 شباط 2020"
    assert normalize("مؤتة") == normalize("موته") and normalize("رئيس") == normalize("رييس")


def test_clitics_split_only_off_known_names(index):
    text = "قصفت الطائرات الحربية وسراقب وبأريحا، ووصلت التعزيزات لدمشق وخان شيخون صباح اليوم."
    assert spans(text, index) == ["سراقب", "أريحا", "دمشق", "خان شيخون"]


def test_names_that_start_with_clitic_letters_stay_whole(index):
    # بنش and كفرنبل begin with ب and ك; بيروت and لبنان too, and take a clitic of their own
    found = spans("سقطت قذائف على بنش وكفرنبل، ثم سافر الوفد إلى بيروت ولبنان.", index)
    assert found == ["بنش", "كفرنبل", "بيروت", "لبنان"]
    assert spans("وصل الوفد ببيروت أمس.", index) == ["بيروت"]


def test_skeleton_bridge_finds_villages_known_only_in_latin_letters(index):
    from geo_idlib import pipeline

    text = "تقدمت قوات النظام نحو كفرسجنة والشيخ دامس شمال خان شيخون بعد قصف عنيف."
    p = pipeline.find_places(text, index=index)
    assert p["mention"].tolist() == ["كفرسجنة", "الشيخ دامس", "خان شيخون"]
    assert p["status"].tolist()[:2] == ["resolved", "resolved"]
    assert set(p["country"]) == {"SY"}
    assert all(35.3 < lat < 35.8 and 36.4 < lon < 36.8 for lat, lon in zip(p["lat"][:2], p["lon"][:2], strict=True))


def test_skeleton_bridge_needs_the_reports_country(index):
    # no place the gazetteer knows in Arabic script: no country, so no bridge (never a name abroad)
    assert spans("تقدمت القوات نحو كفرسجنة بعد قصف عنيف.", index) == []


def test_arabic_cues_frame_unknown_names(index):
    text = "قصفت الطائرات قرى عين النسر، الخربة وعرب سعيد، واستهدفت المدفعية مطار أبو الظهور وجبل الأربعين."
    found = spans(text, index)
    assert found[:3] == ["عين النسر", "الخربة", "عرب سعيد"]
    assert "أبو الظهور" in found and "جبل الأربعين" in found
    m = mentions.find_mentions(text, index).set_index("mention")
    assert m.loc["عين النسر", "kind_hint"] == "settlement" and m.loc["جبل الأربعين", "kind_hint"] == "mountain"


def places(text: str, index):
    from geo_idlib import pipeline

    return pipeline.find_places(text, index=index)


def test_a_list_after_a_plural_cue_keeps_every_item(index):
    # items of two frequent words (طويل الحمام), and a village of three consonants that the gazetteer
    # has only in Latin letters (النقير, Al-Naqayar): framed by the list, the bridge takes it
    text = "سيطرت قوات النظام فجر اليوم على قرى أبو جريف وطويل الحمام والنقير وكفر عويد بريف إدلب."
    p = places(text, index)
    assert p["mention"].tolist() == ["أبو جريف", "طويل الحمام", "النقير", "كفر عويد", "إدلب"]
    naqir = p.set_index("mention").loc["النقير"]
    assert naqir["status"] == "resolved" and naqir["country"] == "SY"
    assert abs(naqir["lat"] - 35.50) < 0.05 and abs(naqir["lon"] - 36.54) < 0.05
    assert p.set_index("mention").loc["طويل الحمام", "status"] == "unresolved"
    # alone, three consonants are too few for the bridge
    assert spans("وصلت التعزيزات إلى النقير قرب خان شيخون.", index) == ["خان شيخون"]


def test_a_list_of_places_without_a_cue_frames_its_other_names(index):
    assert spans("قصفت المدفعية سراقب وحرش بنين وكفرنبل والجفتلك مساء الأحد.", index) == [
        "سراقب", "حرش بنين", "كفرنبل", "الجفتلك"]
    # one place and a word ("and its countryside"), or a verb after the conjunction: no list
    assert spans("قصفت المدفعية سراقب وريفها مساء الأحد.", index) == ["سراقب"]
    assert spans("قصفت الطائرات سراقب وقتلت مدنيين وجرحت آخرين.", index) == ["سراقب"]


def test_two_word_names_through_the_bridge(index):
    # Qabtan al-Jabal, not Qabtan: the second word is a frequent one (الجبل, "the mountain")
    p = places("سقطت قذائف على قبتان الجبل غرب حلب.", index)
    assert p["mention"].tolist() == ["قبتان الجبل", "حلب"]
    assert p["name"].iloc[0] == "Qabtan al-Jabal" and abs(p["lat"].iloc[0] - 36.26) < 0.05


def test_frequent_arabic_words_are_no_places(index):
    # "arrival", "the wounded", "air (cover)", "scorched (earth)", "she fought it", "a play": words
    # that are also the names of villages (in Syria, India, Argentina)
    text = ("قال ناشطون إن قصفا طال خان شيخون ومعرة النعمان مع ورود أنباء عن عشرات المصابين، بدعم جويا "
            "روسي ضمن سياسة الأرض المحروقة التي خاضتها القوات، فيما أُلغيت أمسية شعرية ومسرحية.")
    assert spans(text, index) == ["خان شيخون", "معرة النعمان"]


def test_a_cue_frames_only_its_own_name(index):
    # "a city and three villages": the conjunction says no name follows the cue
    assert spans("سيطر المقاتلون على مدينة وثلاث قرى قرب سراقب.", index) == ["سراقب"]
    # after a singular cue, no list through a comma, and no name of frequent words around a known one
    assert spans("قصفت المدفعية قرية كفرنبل، الخاضعة لسيطرة المعارضة، ومدينة شرق حماة.", index) == [
        "كفرنبل", "حماة"]


def test_arabic_organisations_and_outlets_are_not_places(index):
    text = ("قال مراسل تلفزيون سوريا إن عناصر هيئة تحرير الشام انسحبوا من سراقب، "
            "ونقلت حلب اليوم أن قوات سوريا الديمقراطية لم تشارك.")
    assert spans(text, index) == ["سراقب"]


def test_arabic_dates_and_datelines_give_the_report_date(index):
    from geo_idlib import pipeline

    assert pipeline.report_date("حماة-سانا\nالثلاثاء 28 يناير 2020 - قصفت المدفعية ...") == "2020-01-28"
    assert pipeline.report_date("إدلب، ١٢ شباط ٢٠٢٠ (عنب بلدي) - ...") == "2020-02-12"
    assert pipeline.report_date("دمشق في 3 تشرين الأول 2019 - ...") == "2019-10-03"
    assert spans("حماة-سانا\nالثلاثاء 28 يناير 2020 - قصفت المدفعية مورك.", index)[0] == "حماة"
