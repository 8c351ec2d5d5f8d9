"""mentions.find_mentions: spans, context rules (persons, demonyms, weapons), report patterns, kind hints.

Most tests use a tiny in-test gazetteer (same interface as GazetteerIndex) so that they state
exactly which names are known; the seed-report test uses the real index and ../shared.
"""

from __future__ import annotations

import json

import pytest
from conftest import shared_file

from geo_idlib import crs
from geo_idlib.places.mentions import COLUMNS, find_mentions, split_sentences
from geo_idlib.places.normalize import normalize
from geo_idlib.places.store import Candidate


def _c(pid, name, lat, lon, cc="SY", fc="PPL", pop=10000, alts=()):
    return Candidate(f"test:{pid}", name, lat, lon, cc, "", fc, pop, "test", tuple(alts))


class TinyIndex:
    """A gazetteer with a handful of names: lookup_many over normalised keys, max_words."""

    def __init__(self, places):
        self.by_key: dict[str, list] = {}
        for c in places:
            for n in (c.name, *c.alternatenames):
                self.by_key.setdefault(normalize(n), []).append(c)
        self.max_words = max(len(k.split()) for k in self.by_key)
        self.calls = 0

    def lookup_many(self, keys):
        self.calls += 1
        return {k: self.by_key[k] for k in keys if k in self.by_key}

    def lookup(self, key):
        return self.by_key.get(key, [])

    def keys(self):
        return iter(self.by_key)


@pytest.fixture(scope="module")
def idx():
    return TinyIndex([
        _c(1, "Idlib", 35.93, 36.63, fc="PPLA", pop=165000, alts=("Idleb", "إدلب")),
        _c(2, "Sarmin", 35.90, 36.72, pop=14000),
        _c(3, "Aleppo", 36.20, 37.16, fc="PPLA", pop=1600000),
        _c(4, "Syria", 35.0, 38.5, fc="PCLI", pop=22000000),
        _c(5, "Moscow", 55.75, 37.62, "RU", "PPLC", 10000000),
        _c(6, "Turkey", 39.0, 35.0, "TR", "PCLI", 80000000),
        _c(7, "Akar", 32.9, 13.1, "LY", pop=4800),                 # a real GeoNames village name
        _c(8, "Thursday Island", -10.58, 142.22, "AU", alts=("Thursday",)),
        _c(9, "Patriot", 38.84, -84.83, "US", pop=200),
        _c(10, "Nemah", 46.5, -123.9, "US", pop=600),
        _c(11, "Ma'arrat al-Nu'man", 35.64, 36.67, pop=58000, alts=("Maarat al-Numan",)),
        _c(12, "Al Nayrab", 36.18, 37.22, pop=3000, alts=("Nayrab",)),
        _c(13, "In Buri", 15.0, 100.3, "TH", pop=8000, alts=("In",)),
        _c(14, "Vladimir", 56.13, 40.4, "RU", pop=357000),
        _c(15, "Saraqib", 35.86, 36.80, pop=30000, alts=("Saraqeb",)),
        _c(16, "United States", 39.76, -98.5, "US", "PCLI", 327000000, alts=("US", "USA")),
        _c(17, "Wang", 48.0, 16.0, "AT", pop=900),
        _c(18, "Dar", 30.0, 31.0, "EG", pop=2000),             # generic words that are also places
        _c(19, "Kabira", 12.0, 8.0, "NG", pop=1500),
        _c(20, "Sultan", 31.0, 20.0, "LY", pop=3000),
        _c(21, "Damascus", 33.51, 36.29, fc="PPLC", pop=1570000, alts=("Sham", "al-Sham")),
        _c(22, "Hama", 35.13, 36.76, fc="PPLA", pop=460000),
        _c(23, "Orontes", 35.9, 36.3, pop=900),                 # a village named like the river
    ])


def mentions(text, idx, **kw):
    return find_mentions(text, idx, **kw)


def test_spans_are_exact_and_columns_ordered(idx):
    text = "Syrian forces shelled Sarmin, near Idlib."
    m = mentions(text, idx, report="r.txt")
    assert list(m.columns) == COLUMNS
    assert m["mention"].tolist() == ["Sarmin", "Idlib"]          # not "Syrian"
    assert m["start"].tolist() == [22, 35] and m["end"].tolist() == [28, 40]
    for _, r in m.iterrows():
        assert text[r["start"]:r["end"]] == r["mention"]
    assert set(m["report"]) == {"r.txt"} and set(m["sentence"]) == {text}
    assert m["key"].tolist() == [normalize("Sarmin"), normalize("Idlib")]


def test_one_batched_lookup_per_text_and_names_seen_before_need_none(idx):
    text = "Aleppo and Idlib and Sarmin. Then Saraqeb and Moscow."
    before = idx.calls
    first = mentions(text, idx)
    assert idx.calls <= before + 1
    before = idx.calls
    assert mentions(text, idx).equals(first) and idx.calls == before   # the candidates are cached


def test_repeated_mentions_all_reported_with_their_sentences(idx):
    text = "Idlib was shelled. Later Idlib was calm.\nIdleb again."
    m = mentions(text, idx, offset=100)
    assert m["mention"].tolist() == ["Idlib", "Idlib", "Idleb"]
    assert [text[s - 100:e - 100] for s, e in zip(m["start"], m["end"], strict=True)] == ["Idlib", "Idlib", "Idleb"]
    assert m["sentence"].tolist() == ["Idlib was shelled.", "Later Idlib was calm.", "Idleb again."]
    assert len(set(m["key"])) == 1


def test_longest_match_and_transliterations(idx):
    m = mentions("Troops took Ma'arrat al-Nu'man, then Maarat al-Numan again, and al-Nayrab.", idx)
    assert m["mention"].tolist() == ["Ma'arrat al-Nu'man", "Maarat al-Numan", "al-Nayrab"]


def test_person_names_are_not_places_but_the_same_name_after_in_is(idx):
    text = ("Turkey's defense minister Hulusi Akar said Moscow must act. Akar added that talks went well. "
            "Russian president Vladimir Putin called on Thursday. Shelling hit a school in Akar.")
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["Turkey", "Moscow", "Akar"]
    assert text[m["start"].iloc[-1] - 3:m["end"].iloc[-1]] == "in Akar"


def test_speech_verbs_mark_persons_but_not_places_people_speak_in(idx):
    text = "Residents of Sarmin said the shelling went on. People in Saraqeb said it was calm. Wang said nothing."
    assert mentions(text, idx)["mention"].tolist() == ["Sarmin", "Saraqeb"]


def test_weekdays_months_demonyms_excluded(idx):
    m = mentions("On Thursday, Syrian and Turkish officials met in Moscow in May.", idx)
    assert m["mention"].tolist() == ["Moscow"]


def test_weapons_and_agencies_excluded(idx):
    text = ("Akar added that Turkey intends to buy Patriot missile systems. Patriot batteries could help.\n"
            "EPA-EFE/YAHYA NEMAH\nSmoke rises over Sarmin.")
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["Turkey", "Sarmin"]


def test_common_words_at_sentence_start_are_not_places(idx):
    m = mentions("In recent weeks the army advanced. In Idlib, shops closed.", idx)
    assert m["mention"].tolist() == ["Idlib"]


def test_country_acronyms_count_other_acronyms_do_not(idx):
    m = mentions("The UN said the US expelled Turkey.", idx)
    assert m["mention"].tolist() == ["US", "Turkey"]


def test_unknown_names_from_report_patterns(idx):
    text = ("Government forces captured Kafr Batikh and the village of Kafr Qwzy, near Idlib. "
            "Abu Dhuhur and Tell Sultan villages fell. Shelling hit Jabal Zawiya countryside.")
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["Kafr Batikh", "Kafr Qwzy", "Idlib", "Abu Dhuhur", "Tell Sultan", "Jabal Zawiya"]
    assert m["key"].tolist()[1] == normalize("Kafr Qwzy")
    hints = dict(zip(m["mention"], m["kind_hint"], strict=True))
    assert hints["Kafr Qwzy"] == "settlement" and hints["Tell Sultan"] == "settlement"
    assert hints["Jabal Zawiya"] == "admin1" and hints["Idlib"] is None


def test_short_sentences_are_not_mistaken_for_title_case(idx):
    m = mentions("Shelling hit the village of Şabur on Thursday.", idx)
    assert m["mention"].tolist() == ["Şabur"]


def test_article_prefixed_unknown_names(idx):
    m = mentions("Troops captured ad-Dana and as-Safira, then moved toward Al-Eis.", idx)
    assert m["mention"].tolist() == ["ad-Dana", "as-Safira", "Al-Eis"]


def test_arabic_compound_names_are_one_mention(idx):
    text = "Troops captured Dar Al-Kabira. Shelling hit Tal Sultan, Maar Debse and Kafr 'Awaid, then moved toward Al-'Eis."
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["Dar Al-Kabira", "Tal Sultan", "Maar Debse", "Kafr 'Awaid", "Al-'Eis"]


def test_hyphenated_pairs_of_known_places_stay_two(idx):
    m = mentions("Troops captured the Aleppo-Damascus highway.", idx)
    assert m["mention"].tolist() == ["Aleppo", "Damascus"]


def test_two_unknown_names_after_a_preposition(idx):
    m = mentions("Many fled to camps around Sarmada and Atmeh near the border.", idx)
    assert m["mention"].tolist() == ["Sarmada", "Atmeh"]


def test_pattern_name_longer_than_a_known_name_wins(idx):
    m = mentions("The army entered Sarmin Jadida on Monday.", idx)
    assert m["mention"].tolist() == ["Sarmin Jadida"]


def test_kind_hints_from_the_words_around(idx):
    text = "Fighting in Idlib province. Shells fell on the city of Idlib and on Idlib city, and in Aleppo countryside."
    m = mentions(text, idx)
    assert m["kind_hint"].tolist() == ["admin1", "settlement", "settlement", "admin1"]


def test_arabic_script(idx):
    m = mentions("قصف على إدلب اليوم", idx)
    assert m["mention"].tolist() == ["إدلب"]


def test_arabic_script_names_framed_in_english_text(idx):
    text = "Government forces captured إنقراتي and the village of كفر حلب on Thursday."
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["إنقراتي", "كفر حلب"]
    assert m["kind_hint"].tolist() == [None, "settlement"]


def test_all_caps_dateline_is_a_place_but_caps_acronyms_are_not(idx):
    m = mentions("ALEPPO, Syria — NATO officials said fighting continued.", idx)
    assert m["mention"].tolist() == ["ALEPPO", "Syria"]


def test_organisation_names_are_not_places(idx):
    """A place inside an organisation's name (data/organisations.csv) is no mention; the same place
    named on its own still is."""
    text = ("Hayat Tahrir al-Sham fighters withdrew toward Sarmin, the Aleppo Media Center said. "
            "Faylaq al-Sham shelled Aleppo and the Syria Civil Defence counted the dead in Damascus.")
    m = mentions(text, idx)
    assert m["mention"].tolist() == ["Sarmin", "Aleppo", "Damascus"]
    assert text[m["start"].iloc[1] - 8:m["end"].iloc[1]] == "shelled Aleppo"


def test_datelines_in_capitals_are_places(idx):
    """ "HAMA —", "IDLIB, Syria (AP) —": the place of a dateline, short or not; an acronym is not."""
    assert mentions("HAMA — Rockets hit Sarmin, the UN said.", idx)["mention"].tolist() == ["HAMA", "Sarmin"]
    assert mentions("IDLIB, Syria (AP) — Troops advanced.", idx)["mention"].tolist() == ["IDLIB", "Syria"]
    assert mentions("Officials of HAMA said nothing.", idx)["mention"].tolist() == []


def test_people_fleeing_a_place_said(idx):
    """ "Residents fleeing X said": X is where they fled from, not a person."""
    assert mentions("Residents fleeing Saraqeb said the shelling went on.", idx)["mention"].tolist() == ["Saraqeb"]


def test_feature_words_say_what_kind_of_place_a_name_is(idx):
    text = ("Fighting flared along the Orontes river near Sarmin, in the Ghab plain and at Taftanaz airbase, "
            "while trucks used the Aleppo-Damascus highway.")
    m = mentions(text, idx)
    hints = dict(zip(m["mention"], m["kind_hint"], strict=True))
    assert m["mention"].tolist() == ["Orontes", "Sarmin", "Ghab", "Taftanaz", "Aleppo", "Damascus"]
    assert hints == {"Orontes": "water", "Sarmin": None, "Ghab": "area", "Taftanaz": "airport", "Aleppo": None,
                     "Damascus": None}
    # capitalised, the word is part of the name ("Orontes River"): no cue, no village
    assert "water" not in mentions("Boats sailed on the Orontes River past Sarmin.", idx)["kind_hint"].tolist()


def test_empty_and_placeless_text(idx):
    assert mentions("", idx).empty
    m = mentions("nothing to see here.", idx)
    assert m.empty and list(m.columns) == COLUMNS


def test_split_sentences_keeps_abbreviations():
    t = "Gen. Smith met Mr. Jones in the U.S. capital. Then they left!\nNext line"
    assert [t[s:e] for s, e in split_sentences(t)] == [
        "Gen. Smith met Mr. Jones in the U.S. capital.", "Then they left!", "Next line"]


def test_patterns_ending_with_cue_words_find_what_a_scan_of_the_whole_text_finds():
    """The patterns that end with cue words ("X, Y and Z villages", "X province", "the X river") are
    looked for only in the stretch of text before each cue (mentions._matches_before): the same
    matches as scanning the whole text, also for lists across lines and commas, cues glued to
    punctuation, several cues in one stretch and stretches without a match."""
    import re

    from geo_idlib.places import mentions as m

    texts = ["Shelling hit Kafr Nabl, Hass and Kafr Oweid villages and the Ghab plain, then Idlib province.",
             "the village Town (near Tal Abyad villages) and Deir ez-Zor\ncountryside; Harim District, Ariha\n"
             "District.Jisr al-Shughur region, the al-Asi river and Orontes River and Mount Hermon hills",
             "Foo town town town. Bar, Baz,\nand Qux towns; villages; Idlib province province Sarmin air  base",
             "Menagh airbase.Taftanaz air base, Abu al-Duhur airport, ’Ain Issa countryside, É-Zor valley"]
    for rx, _, _, trigger in m._PATTERNS:
        if trigger[0] != "end":
            continue
        for t in texts:
            W = m._Words(t)
            assert [x.span() for x in m._pattern_matches(W, rx, trigger)] == [x.span() for x in rx.finditer(t)], t
        assert sum(len(list(rx.finditer(t))) for t in texts) >= 2, rx.pattern[-40:]
    # what the patterns' names, lists and cue words are made of is never a break between stretches
    assert not m._LIST_BREAK.search("Ma’arrat al-Nu‘man, Ḩamāh and حلب Dayr_2\u00a0x\n")
    assert [c for c in ".;:()[]\"“/!?" if not m._LIST_BREAK.match(c)] == []
    pattern_classes = re.compile(rf"[{m._UPPER}\u0621-\u064A\u0671-\u06D3]")
    assert not any(m._LIST_BREAK.match(chr(c)) for c in range(0x0700) if pattern_classes.match(chr(c)))


# ----------------------------------------------------------------------------- the real thing
@pytest.mark.shared
def test_seed_report_finds_the_eight_gold_places_and_nothing_else():
    """Acceptance: ../shared/eval/seed_report.txt against its gold file, through the real index."""
    from geo_idlib import pipeline

    text = shared_file("eval/seed_report.txt").read_text(encoding="utf-8")
    gold = json.loads(shared_file("eval/seed_report.gold.json").read_text(encoding="utf-8"))
    places = pipeline.find_places(text, report="seed_report.txt")
    for _, p in places.iterrows():
        assert text[p["start"]:p["end"]] == p["mention"]
    allowed = {normalize(a) for a in gold["allowed_extra"]}
    resolved = places[places["status"] != "unresolved"]
    distinct = resolved.drop_duplicates("place_id")
    found, extras = set(), []
    for _, p in distinct.iterrows():
        near = [g["name"] for g in gold["places"]
                if crs.haversine_km(g["lat"], g["lon"], p["lat"], p["lon"]) <= g["tolerance_km"]]
        if near:
            found.update(near)
        elif normalize(p["mention"]) not in allowed:
            extras.append(p["mention"])
    extras += [m for m in places.loc[places["status"] == "unresolved", "mention"] if normalize(m) not in allowed]
    assert sorted(found) == sorted(g["name"] for g in gold["places"]), f"missing {set(g['name'] for g in gold['places']) - found}"
    assert extras == [], f"not places in the gold file: {extras}"
    not_places = {"Syrian", "Turkish", "Russian", "German", "French", "Erdogan", "Assad", "Lavrov", "Akar",
                  "Merkel", "Macron", "Putin", "Patriot", "EPA", "EFE", "Thursday", "February"}
    assert not set(places["mention"]) & not_places
