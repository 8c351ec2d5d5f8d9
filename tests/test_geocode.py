"""Mentions → places: context country, proximity, kind hints, confidence/status, geopy Gazetteer."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from geopy.location import Location

from geo_idlib.crs import haversine_km
from geo_idlib.errors import GeocoderServiceError
from geo_idlib.places import rank
from geo_idlib.places import resolve as resolve_mod
from geo_idlib.places.gazetteer import Gazetteer
from geo_idlib.places.normalize import normalize
from geo_idlib.places.resolve import PLACES_COLUMNS, geocode_names, infer_country, resolve
from geo_idlib.places.store import load_index


@pytest.fixture(scope="module")
def idx():
    return load_index()


def mentions(names, kinds=None):
    kinds = kinds or [None] * len(names)
    starts = [sum(len(n) + 2 for n in names[:i]) for i in range(len(names))]
    return pd.DataFrame({"report": "r.txt", "mention": names, "start": starts,
                         "end": [s + len(n) for s, n in zip(starts, names, strict=True)],
                         "sentence": ", ".join(names), "key": [normalize(n) for n in names], "kind_hint": kinds})


def by_mention(places):
    return {m: row for m, row in zip(places["mention"], places.itertuples(index=False), strict=True)}


def test_places_layout(idx):
    p = resolve(mentions(["Saraqeb", "Qqqzzxw Vvvy"]), idx)
    assert list(p.columns) == PLACES_COLUMNS
    assert p.crs.to_epsg() == 4326
    ok, bad = p.iloc[0], p.iloc[1]
    assert (ok.place_id, ok.lat, ok.lon, ok.precision, ok.status) == ("geonames:164816", 35.86447, 36.80591,
                                                                      "settlement", "resolved")
    assert ok.geometry.x == 36.80591 and ok.geometry.y == 35.86447
    assert (ok.report, ok.start, ok.end) == ("r.txt", 0, 7)
    assert bad.status == "unresolved" and bad.place_id == "" and bad.geometry is None and math.isnan(bad.lat)
    assert bad.confidence == 0.0


def test_kind_hint_decides_governorate_or_city(idx):
    p = resolve(mentions(["Idlib", "Idlib", "Idlib"], [None, "admin1", "settlement"]), idx)
    assert p["place_id"].tolist() == ["geonames:169389", "geonames:169387", "geonames:169389"]
    assert p["precision"].tolist() == ["settlement", "admin1", "settlement"]
    assert p["feature_code"].tolist() == ["PPLA", "ADM1", "PPLA"]
    gov = p.iloc[1]
    assert gov["admin1"] == "Idlib" and 35.5 < gov["lat"] < 36.3 and 36.1 < gov["lon"] < 37.2


def test_context_country_is_inferred_and_can_be_given(idx):
    sy = resolve(mentions(["Damascus", "Idlib", "Saraqeb", "Hama"]), idx)
    assert sy.iloc[0]["country"] == "SY" and sy.iloc[0]["feature_code"] == "PPLC"
    us = resolve(mentions(["Damascus"]), idx, country="US")
    assert us.iloc[0]["country"] == "US"
    assert infer_country([[c] for c in idx.lookup(normalize("Saraqeb"))] * 3 + [idx.lookup(normalize("Moscow"))]) == "SY"


def test_proximity_picks_the_suran_near_the_other_places(idx):
    alone = resolve(mentions(["Suran"]), idx).iloc[0]
    assert alone["lat"] < 35.5  # alone: the larger Suran in Hama governorate (pop. 30,716)
    north = by_mention(resolve(mentions(["Marea", "Azaz", "Tell Rifaat", "Suran"]), idx))["Suran"]
    assert north.lat > 36.4 and north.lon > 37.1  # with its neighbours: the Suran north of Aleppo


def test_confidence_reflects_match_type_and_margin(idx):
    """The ranking's raw confidence reflects the match and the margin; the confidence reported is its
    calibration (rank.calibrated: the share of right answers of that raw confidence on the dev sets)."""
    from geo_idlib.places.rank import calibrated, search

    raw = {q: search(idx, q)[0].raw_confidence for q in ("Saraqib", "Sarakib", "Moscow")}
    assert raw["Saraqib"] == 1.0 and raw["Sarakib"] == 0.9 and raw["Moscow"] < 1.0   # exact, folded, other Moscows
    recs = {r["query"]: r for r in geocode_names(["Saraqib", "Sarakib", "Moscow"], idx)}
    assert recs["Saraqib"]["confidence"] == calibrated(1.0) and 0.5 < calibrated(1.0) < 1.0
    assert recs["Moscow"]["country"] == "RU" and recs["Moscow"]["feature_code"] == "PPLC"
    assert recs["Moscow"]["confidence"] == calibrated(raw["Moscow"])


def test_geocode_names_order_and_fields(idx):
    recs = geocode_names(["Syria", "Idlib province", "إدلب", "Halab", "Qqqzzxw"], idx)
    assert [r["query"] for r in recs] == ["Syria", "Idlib province", "إدلب", "Halab", "Qqqzzxw"]
    assert list(recs[0]) == resolve_mod.RECORD_COLUMNS
    assert (recs[0]["precision"], recs[0]["feature_code"], recs[0]["place_id"]) == ("country", "PCLI", "geonames:163843")
    assert 34.0 < recs[0]["lat"] < 36.0 and 37.5 < recs[0]["lon"] < 39.5   # inside Syria, not its west coast
    assert recs[1]["precision"] == "admin1"
    assert recs[2]["place_id"] == "geonames:169389"
    assert recs[3]["name"] == "Aleppo"
    assert recs[4]["status"] == "unresolved" and recs[4]["lat"] is None


class _FakeOnline:
    """Stands in for geo_idlib.places.online.OnlineGeocoder (same lookup contract), without any network."""

    def __init__(self, fail=False):
        self.fail, self.asked = fail, []

    def lookup(self, query, *, country=None):
        self.asked.append((query, country))
        if self.fail:
            raise GeocoderServiceError("nominatim: HTTP 500; try again later or run without --online")
        return {"name": "Qqqzzxw Online", "lat": 35.5, "lon": 36.5, "place_id": "online:nominatim:N1",
                "country": "SY", "admin1": "Idlib Governorate", "feature_code": "PPL", "precision": "settlement",
                "confidence": 0.7, "source": "nominatim", "raw": {}}


def test_online_fallback_only_for_unplaced_names(idx, caplog, monkeypatch):
    import logging

    # a CLI test before (`-q`) may have left the package's logger quiet and not propagating
    monkeypatch.setattr(logging.getLogger("geo_idlib"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="geo_idlib")
    fake = _FakeOnline()
    p = resolve(mentions(["Saraqeb", "Qqqzzxw", "Qqqzzxw"]), idx, online=fake)
    assert fake.asked == [("Qqqzzxw", "SY")]  # once per name, with the context country
    assert p["place_id"].tolist() == ["geonames:164816", "online:nominatim:N1", "online:nominatim:N1"]
    assert p.iloc[1]["confidence"] == 0.7 and p.iloc[1]["status"] == "resolved"
    failing = _FakeOnline(fail=True)
    p = resolve(mentions(["Qqqzzxw", "Vvvqqqy"]), idx, online=failing)
    assert p["status"].tolist() == ["unresolved", "unresolved"] and len(failing.asked) == 1
    assert "HTTP 500" in caplog.text


def test_geopy_gazetteer(idx):
    from geo_idlib.places.rank import calibrated

    g = Gazetteer(idx)
    loc = g.geocode("Saraqeb")
    assert isinstance(loc, Location)
    assert (loc.latitude, loc.longitude) == (35.86447, 36.80591)
    raw = loc.raw
    assert raw["place_id"] == "geonames:164816" and raw["name"] == "Saraqib" and raw["country"] == "SY"
    assert raw["precision"] == "settlement" and raw["confidence"] == calibrated(1.0) and raw["status"] == "resolved"
    assert raw["feature_code"] == "PPL" and raw["population"] == 34231 and "سراقب" in raw["alternatenames"]
    assert g.geocode("Idleb").raw["place_id"] == "geonames:169389"
    assert g.geocode("Idlib province").raw["feature_code"] == "ADM1"
    assert g.geocode("إدلب").raw["place_id"] == "geonames:169389"
    assert g.geocode("Halab").address == "Aleppo, Syria"  # admin1 "Aleppo" not repeated
    moscow = g.geocode("Moscow")
    assert moscow.raw["country"] == "RU" and moscow.raw["feature_code"] == "PPLC"
    assert g.geocode("Moscow", country_codes=["US"]).raw["country"] == "US"
    several = g.geocode("Moscow", exactly_one=False, limit=3)
    assert len(several) == 3 and several[0].raw["country"] == "RU"
    assert g.geocode("Qqqzzxw Vvvy") is None
    rev = g.reverse("35.8645, 36.806")
    assert rev.raw["place_id"] == "geonames:164816" and rev.raw["distance_km"] < 1


def test_geopy_gazetteer_never_goes_online(idx):
    with pytest.raises(LookupError, match="does not fetch"):
        Gazetteer(idx).adapter.get_json("http://127.0.0.1:9/", timeout=1, headers={})


def test_first_level_divisions_worldwide(idx):
    g = Gazetteer(idx)
    tn = g.geocode("Tamil Nadu").raw
    # GeoNames id and point from the Natural Earth outline (admin_areas.csv), not a city of the state
    assert (tn["place_id"], tn["country"], tn["precision"]) == ("geonames:1255053", "IN", "admin1")
    assert 10.5 < tn["lat"] < 11.5 and 77.5 < tn["lon"] < 79   # the middle of the state, not Chennai
    ca = g.geocode("California").raw
    assert (ca["place_id"], ca["feature_code"]) == ("geonames:5332921", "ADM1")
    assert 32.5 < ca["lat"] < 42 and -124.5 < ca["lon"] < -114   # a place inside California
    hatay = g.geocode("Hatay province").raw
    assert (hatay["place_id"], hatay["admin1"]) == ("geonames:312394", "Hatay")
    # a city keeps its name against the same-name division unless the words ask for the division
    assert g.geocode("New York").raw["feature_code"] == "PPL"
    assert g.geocode("New York", kind="admin1").raw["feature_code"] == "ADM1"


def test_a_country_name_means_the_country(idx):
    recs = {r["query"]: r for r in geocode_names(["Mexico", "China", "Africa", "US", "Russia", "Idlib"], idx)}
    assert recs["Mexico"]["feature_code"] == "PCLI" and recs["Mexico"]["country"] == "MX"
    assert recs["China"]["feature_code"] == "PCLI" and recs["US"]["place_id"] == "geonames:6252001"
    assert recs["Africa"]["precision"] == "region"
    # representative points: the main territory's centroid (US: Kansas, Russia: Siberia)
    assert 37 < recs["US"]["lat"] < 41 and -101 < recs["US"]["lon"] < -96
    assert 55 < recs["Russia"]["lat"] < 65 and 85 < recs["Russia"]["lon"] < 105


def test_spelling_folds_do_not_send_a_report_abroad(idx):
    # "Ghouta" folds to the key of Gúta (Kolárovo, Slovakia); in a Syrian report that is no answer: it
    # is the Syria gazetteer's Eastern Ghouta, and without it nothing
    p = resolve(mentions(["Damascus", "Douma", "Ghouta"]), idx, country="SY")
    assert p.iloc[2]["place_id"] == "syria:reastern_ghouta" and p.iloc[0]["country"] == "SY"
    gouta = [(c, 1.0) for c in idx.lookup(normalize("Ghouta")) if c.country == "SK"]
    assert gouta and rank.rank("Ghouta", "folded", gouta, country="SY", context=True) == []
    # an exact name abroad stays a candidate: Moscow is Moscow in a Syrian report too
    assert resolve(mentions(["Moscow", "Idlib"]), idx, country="SY").iloc[0]["country"] == "RU"


def test_syrian_districts_are_admin2(idx):
    recs = {r["query"]: r for r in geocode_names(["Harim district", "Harim", "Jisr al-Shughur district"], idx)}
    assert (recs["Harim district"]["place_id"], recs["Harim district"]["precision"]) == ("ocha:SY0703", "admin2")
    assert (recs["Harim"]["place_id"], recs["Harim"]["precision"]) == ("geonames:169866", "settlement")
    assert recs["Jisr al-Shughur district"]["place_id"] == "ocha:SY0704"


def test_no_mentions_give_an_empty_places_layer(idx):
    p = resolve(pd.DataFrame(columns=["report", "mention", "start", "end", "sentence", "key", "kind_hint"]), idx)
    assert len(p) == 0 and list(p.columns) == PLACES_COLUMNS and p.crs.to_epsg() == 4326


def test_builtin_nw_syria_gazetteer(idx):
    """shapefiles/nw_syria_places.csv (the sample's located villages) is part of every index."""
    recs = {r["query"]: r for r in geocode_names(["Kafr Naha", "Nayrab", "Saraqeb"], idx)}
    assert recs["Kafr Naha"]["place_id"].startswith("builtin:nw_syria:")
    assert (recs["Kafr Naha"]["lat"], recs["Kafr Naha"]["lon"]) == (36.1657, 36.977)
    assert recs["Nayrab"]["country"] == "SY" and recs["Nayrab"]["precision"] == "settlement"
    # an entry that is a GeoNames place keeps its GeoNames id
    assert recs["Saraqeb"]["place_id"] == "geonames:164816"


def test_counties_and_division_points_from_outlines(idx):
    """admin_areas.csv: US counties (Census outlines) and English counties (Natural Earth) are places of
    precision admin2; divisions sit in their middle, not on their biggest city."""
    g = Gazetteer(idx)
    cuy = g.geocode("Cuyahoga County").raw
    assert (cuy["place_id"], cuy["country"], cuy["admin1"], cuy["precision"]) == ("fips:39035", "US", "Ohio", "admin2")
    assert haversine_km(cuy["lat"], cuy["lon"], 41.5, -81.7) < 30            # Cleveland's county
    kent = g.geocode("Kent", country_codes="GB").raw
    assert (kent["place_id"], kent["admin1"], kent["precision"]) == ("geonames:3333158", "England", "admin2")
    ontario = g.geocode("Ontario").raw
    assert ontario["precision"] == "admin1" and ontario["lat"] > 49   # not Toronto (43.7 N)
    hawaii = g.geocode("Hawaii").raw
    # the state's outline centroid lies in the sea between the islands: the nearest land point is used
    assert haversine_km(hawaii["lat"], hawaii["lon"], 20.8, -156.3) < 60


def test_a_home_division_beats_a_foreign_country_of_the_same_name(idx):
    # in a report about the US, "Georgia" is the state; elsewhere, or alone, it is the country
    us = by_mention(resolve(mentions(["Atlanta", "Savannah", "Macon", "Georgia"]), idx, country="US"))
    assert (us["Georgia"].country, us["Georgia"].precision) == ("US", "admin1")
    world = by_mention(resolve(mentions(["Tbilisi", "Georgia"]), idx))
    assert (world["Georgia"].country, world["Georgia"].precision) == ("GE", "country")
    # a country that is not a division name at home keeps its bonus: Syria in a US report is Syria
    syria = by_mention(resolve(mentions(["Atlanta", "Syria"]), idx, country="US"))
    assert syria["Syria"].country == "SY"


def test_names_place_each_other_when_none_is_clear(idx):
    # each name alone is a bigger place elsewhere; together they are neighbours
    va = by_mention(resolve(mentions(["Alexandria", "Arlington", "Fairfax"]), idx))
    assert (va["Alexandria"].country, va["Alexandria"].admin1) == ("US", "Virginia")   # not Egypt
    tx = by_mention(resolve(mentions(["Paris", "Tyler", "Texarkana"]), idx))
    assert (tx["Paris"].country, tx["Paris"].admin1) == ("US", "Texas")                # not France
    kent = by_mention(resolve(mentions(["Maidstone", "Canterbury", "Dover"]), idx))
    assert kent["Canterbury"].country == "GB" and haversine_km(kent["Canterbury"].lat, kent["Canterbury"].lon,
                                                               51.28, 1.08) < 10
    # the pair alone is also two neighbouring suburbs of Melbourne: minimality keeps the pair together
    pair = resolve(mentions(["Maidstone", "Canterbury"]), idx)
    assert pair["country"].nunique() == 1


def test_observation_place_names_are_ranked_like_any_name(idx, caplog):
    """An observation table's place names take the place the one ranking prefers (the city, not
    the governorate of the same name and population), as `geocode` and `Gazetteer` do."""
    from geo_idlib.places.rank import search

    names = ["Idlib", "Aleppo", "Homs", "Saraqeb", "Kafr Nabl"]
    obs = pd.DataFrame({"date": "2020-01-01", "actor": "government", "place": names, "lat": ["", "", "", "", "35.6"],
                        "lon": ""})
    got = resolve_mod.geocode_observation_places(obs, "obs.csv", "SY")
    best = [search(idx, n, country="SY", restrict=["SY"], fuzzy=False)[0].candidate for n in names]
    assert got["lat"].tolist() == [f"{c.lat:.6f}" for c in best]
    assert got["lon"].tolist() == [f"{c.lon:.6f}" for c in best]
    assert [c.place_id for c in best[:3]] == ["geonames:169389", "geonames:170063", "geonames:169577"]  # cities
    with caplog.at_level("WARNING", logger="geo_idlib"):
        resolve_mod.geocode_observation_places(pd.DataFrame({"place": ["Springfield"]}), "obs.csv", None)
    assert "1 place name(s) match several places about equally well; took the best-ranked" in caplog.text


# ----------------------------------------------------------------------------- places you can trust (issue 10)
def _places(text, idx):
    from geo_idlib import pipeline

    p = pipeline.find_places(text, index=idx)
    return {m: (n, cc, fc, st) for m, n, cc, fc, st in
            zip(p["mention"], p["name"], p["country"], p["feature_code"], p["status"], strict=True)}


def test_a_minor_place_abroad_among_local_places_is_unresolved_with_its_span(idx):
    """ "Glide bombs struck Kharkiv" is not Glide, Oregon: regional plausibility."""
    p = _places("Glide bombs struck Khan Sheikhoun and Saraqeb before dawn.", idx)
    assert p["Glide"] == ("", "", "", "unresolved") and p["Saraqeb"][1] == "SY"
    p = _places("Glide bombs struck Kharkiv on Tuesday. Russian forces shelled towns in the Donetsk region.", idx)
    assert p["Glide"][3] == "unresolved"
    # a place known far beyond its region stays where it is
    p = _places("After the talks in Geneva, shelling hit Saraqeb and Sarmin.", idx)
    assert p["Geneva"][1] == "CH"


def test_a_big_city_abroad_found_only_by_a_spelling_fold_gives_way_to_the_local_village(idx):
    """A fold of "Foua" reaches Huế (1.4 million people): among Idlib's places, with too many
    countries named for a context country, the village in the region is the answer, not Vietnam."""
    p = _places("Officials in Beirut, Ankara, Moscow and Baghdad spoke of Aleppo. Rebels shelled Foua and "
                "Kfraya in Idlib on Sunday.", idx)
    assert p["Foua"][:2] == ("Fua", "SY") and p["Idlib"][1] == "SY"
    # a big city written as it is named stays itself among the same places
    p = _places("Officials in Beirut, Ankara and Moscow spoke of Aleppo. Rebels shelled Foua and Kfraya in Idlib "
                "as delegates met in Geneva.", idx)
    assert p["Geneva"][1] == "CH"


def test_feature_words_rule_out_the_namesake_village(idx):
    p = _places("Government forces pushed on in the Zawiya mountains near Ariha and Saraqeb.", idx)
    assert p["Zawiya"][3] == "unresolved"            # not Az Zawiyah in Libya
    p = _places("Ukrainian troops held the Oskil river line near Kupiansk.", idx)
    assert p["Oskil"][3] == "unresolved"             # not the village of Oskil


def test_a_city_and_its_same_named_region(idx):
    """A bare name that is a division and its namesake town is the town; the words say the region."""
    p = _places("Kharkiv was hit again. Fighting continued in the Donetsk region.", idx)
    assert p["Kharkiv"][2].startswith("PPL") and p["Kharkiv"][3] == "resolved" and p["Donetsk"][2] == "ADM1"
    p = _places("Shelling hit the Kharkiv region overnight.", idx)
    assert p["Kharkiv"][2] == "ADM1"


def test_vowel_variants_by_their_consonants_near_the_report(idx):
    """Edlib, Efrin, Kfar Nabel: spellings of places within 100 km of the report's other places."""
    p = _places("Airstrikes hit Edlib, Efrin and Aleppo on Monday, and the village of Kfar Nabel near Maarat "
                "al-Numan.", idx)
    assert (p["Edlib"][0], p["Efrin"][0]) == ("Idlib", "‘Afrīn") and p["Kfar Nabel"][0] == "Kafranbel"
    # far from the report's places, a village with the same consonants is not taken
    p = _places("Airstrikes hit Tal Rifaat and Azaz; the village of Sarmeen Kabir was quiet.", idx)
    assert p["Sarmeen Kabir"][3] == "unresolved"
