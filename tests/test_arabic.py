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
