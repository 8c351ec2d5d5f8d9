"""The built-in Syria gazetteer: geo_idlib/data/syria_places.csv and syria_admin.csv
(scripts/build_syria_gazetteer.py): sound data, licences beside it, the merge rule, the index."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import shared_file

from geo_idlib import crs, io, pipeline
from geo_idlib.places import build, rank
from geo_idlib.places.normalize import normalize
from geo_idlib.places.store import load_index
from scripts import build_syria_gazetteer as bsg

OCHA_ADMIN0 = "data/ocha_syria_admin/syr_admin0_ocha_v02_20201217.geojson"


def table(name: str) -> pd.DataFrame:
    return pd.read_csv(io.package_data(name), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def places() -> pd.DataFrame:
    return table("syria_places.csv")


@pytest.fixture(scope="module")
def admin() -> pd.DataFrame:
    return table("syria_admin.csv")


# --------------------------------------------------------------------------- the data
def test_places_columns_ids_and_sources(places):
    assert list(places.columns) == bsg.PLACE_COLUMNS
    assert places["id"].is_unique and places["id"].str.fullmatch(r"w\d+|cSY\d*|r[a-z_]+").all()
    assert len(places) > 5000
    areas = places["feature_code"] == "RGN"
    assert places.loc[areas, "sources"].str.fullmatch(r"member:(w\d+|cSY\d*)(;member:(w\d+|cSY\d*))*").all()
    assert set(";".join(places.loc[areas, "sources"]).replace("member:", "").split(";")) <= set(places["id"])
    places = places[~areas]
    # every row says where it comes from; its id is its first source record
    refs = places["sources"].str.split(";")
    assert refs.map(lambda rs: all(re.fullmatch(r"wikipedia2017:line\d+|ocha:SY\d*|geonames:\d+", r) for r in rs)).all()
    first = refs.map(lambda rs: rs[0])
    assert (first.str.replace("wikipedia2017:line", "w").str.replace("ocha:", "c") == places["id"]).all()
    # a GeoNames id is kept exactly when a GeoNames place is one of the sources
    gid = refs.map(lambda rs: next((r.split(":")[1] for r in rs if r.startswith("geonames:")), ""))
    assert (gid == places["geonameid"]).all() and (places["geonameid"] != "").sum() > 250
    # OCHA capitals carry the unit they are the capital of
    cap = refs.map(lambda rs: next((r.split(":")[1] for r in rs if r.startswith("ocha:")), ""))
    assert (cap == places["capital_of"]).all() and (cap != "").sum() == 266


def test_places_names_codes_and_units(places, admin):
    assert (places["name"] != "").all()
    assert set(places["feature_code"]) <= {"PPL", "PPLA", "PPLA2", "PPLA3", "PPLC", "HLL", "MILB", "AIRB", "AIRH",
                                           "PRT", "RGN"}
    points = places[places["feature_code"] != "RGN"]
    assert points["admin3"].isin(set(admin.loc[admin["level"] == "3", "pcode"])).all()
    governorates = set(admin.loc[admin["level"] == "1", "admin1"])
    assert places["admin1"].isin(governorates).all()
    # descriptions are not names, and no alternate name repeats the name
    assert not places["name"].isin(["Military Checkpoint", "Air Defense Base", "Army base"]).any()
    assert {"Brigade 132", "46th Regiment", "Ras al-Ayn", "Dana"} <= set(places["name"]) | set(places["alternatenames"])
    alts = places["alternatenames"].str.split("|")
    assert not any(n in a for n, a in zip(places["name"], alts, strict=True))


def test_every_point_lies_in_syria(places):
    """Inside OCHA's outline of Syria, or within BORDER_KM of it (border crossings, ports)."""
    import geopandas as gpd
    import shapely

    from geo_idlib.territory.geom import local_crs

    outline = gpd.read_file(shared_file(OCHA_ADMIN0)).geometry.iloc[0]
    local = local_crs(38.5, 35.0)
    pts = crs.transform(crs.points_from_latlon(places["lat"].astype(float), places["lon"].astype(float)),
                        crs.WGS84, local)
    km = shapely.distance(crs.transform([outline], crs.WGS84, local)[0], pts) / 1000
    assert km.max() <= bsg.BORDER_KM
    assert (km == 0).mean() > 0.98


def test_admin_table(admin):
    assert list(admin.columns) == bsg.ADMIN_COLUMNS
    assert admin["level"].value_counts().to_dict() == {"3": 272, "2": 62, "1": 14}
    assert admin["pcode"].is_unique
    # English and Arabic names for every unit
    assert (admin["name"] != "").all() and admin["name_ar"].str.contains("[\u0600-\u06ff]").all()
    # each unit's parent is a unit one level up
    parents = dict(zip(admin["pcode"], admin["level"], strict=True)) | {"SY": "0"}
    assert all(int(parents[p]) == int(lv) - 1 for p, lv in zip(admin["parent"], admin["level"], strict=True))
    gov = admin[admin["level"] == "1"].set_index("pcode")
    assert gov.loc["SY07", ["name", "name_ar", "admin1", "geonames_code", "geonameid", "seat"]].tolist() == \
        ["Idleb", "إدلب", "Idlib", "12", "169387", "Idlib"]
    assert gov.loc["SY07", "area_km2"] == "5416.5"
    assert gov.loc["SY02", "seat"] == "Aleppo"


def test_arabic_names_of_the_ocha_capitals(places):
    caps = places[places["capital_of"] != ""].set_index("capital_of")
    assert caps.loc["SY070203", "name_ar"] == "كفر نبل"   # sub-district "Kafr Nobol": its town
    assert caps.loc["SY07", "name_ar"] == "إدلب"
    # every OCHA capital has its Arabic name, except Aleppo, whose OCHA label is its district's
    assert (caps["name_ar"] == "").sum() == 1 and caps.loc["SY02", "name"] == "Aleppo"


def test_licence_files_beside_the_data():
    for name, spdx, credits in [("syria_places.csv", "CC-BY-SA-4.0", ["Module:Syrian Civil War detailed map", "OCHA",
                                                                      "GeoNames"]),
                                ("syria_admin.csv", "CC-BY-3.0-IGO", ["OCHA", "COD-AB v02"])]:
        text = io.package_data(name + ".license").read_text(encoding="utf-8")
        assert f"SPDX-License-Identifier: {spdx}" in text
        assert all(c in text for c in credits)


# --------------------------------------------------------------------------- the rules
def _entry(source, ref, name, lat, lon, kind="settlement"):
    e = bsg.Entry(source, ref, [name], lat, lon, kind, "PPL", capital_of=ref if source == "ocha" else "")
    e.index_names(build.IndexKeys())
    return e


def _groups(entries, seats=None):
    return sorted(sorted(f"{e.source}:{e.ref}" for e in g) for g in bsg.merge(entries, seats or {}))


def test_merge_by_key_within_merge_km():
    # 0.009° of latitude is about 1 km
    a = _entry("geonames", "1", "Saraqib", 35.0, 36.0)
    near = _entry("wikipedia2017", "10", "Saraqeb", 35.0 + 0.009 * 4.5, 36.0)   # 4.5 km: same key
    far = _entry("wikipedia2017", "11", "Saraqeb", 35.0 - 0.009 * 6, 36.0)     # 6 km: another place
    assert _groups([a, near, far]) == [["geonames:1", "wikipedia2017:10"], ["wikipedia2017:11"]]


def test_merge_by_skeleton_only_close_by():
    a = _entry("geonames", "1", "Saraqib", 35.0, 36.0)
    b = _entry("ocha", "SY070003", "Saraqab", 35.0 + 0.009 * 0.5, 36.0)   # same skeleton, 0.5 km
    c = _entry("ocha", "SY070004", "Saraqab", 35.0 - 0.009 * 2, 36.0)     # same skeleton, 2 km
    assert normalize("Saraqab") != normalize("Saraqib")
    assert _groups([a, b, c]) == [["geonames:1", "ocha:SY070003"], ["ocha:SY070004"]]


def test_twin_markers_of_the_map_stay_apart_and_kinds_never_merge():
    m1 = _entry("wikipedia2017", "1", "Huwayjah", 35.0, 36.0)
    m2 = _entry("wikipedia2017", "2", "Huwayjah", 35.0 + 0.009 * 0.3, 36.0)   # the marker repeated
    m3 = _entry("wikipedia2017", "3", "Huwayjah", 35.0 + 0.009 * 1.5, 36.0)   # a twin village
    hill = _entry("wikipedia2017", "4", "Huwayjah", 35.0, 36.0, kind="hill")
    g1 = _entry("geonames", "7", "Huwayjah", 35.0, 36.0)
    g2 = _entry("geonames", "8", "Huwayjah", 35.0, 36.0)                       # two GeoNames places never merge
    # the twin joins the other GeoNames place, never the first group through it
    assert _groups([m1, m2, m3, hill, g1, g2]) == [["geonames:7", "wikipedia2017:1", "wikipedia2017:2"],
                                                   ["geonames:8", "wikipedia2017:3"], ["wikipedia2017:4"]]


def test_a_governorate_capital_is_its_seat_and_a_wrong_label_is_dropped():
    cap = _entry("ocha", "SY02", "Jebel Saman", 36.206, 37.152)
    seat = _entry("geonames", "170063", "Aleppo", 36.201, 37.161)
    assert _groups([cap, seat], {"SY02": "170063"}) == [["geonames:170063", "ocha:SY02"]]
    assert cap.names == [] and bsg.place_row([seat, cap])["name"] == "Aleppo"


def test_points_outside_syria_are_rejected():
    from shapely.geometry import box

    syria = box(36.0, 33.0, 41.0, 37.0)
    inside = _entry("wikipedia2017", "1", "A", 35.0, 38.0)
    border = _entry("wikipedia2017", "2", "B", 37.0 + 0.009 * 2, 38.0)        # 2 km outside
    typo = _entry("wikipedia2017", "3", "Kharab Suluq", 36.74, 366514.0)
    abroad = _entry("wikipedia2017", "4", "C", 39.93, 32.86)
    kept, rejected = bsg.inside_syria([inside, border, typo, abroad], syria)
    assert [e.ref for e in kept] == ["1", "2"]
    assert [(e.ref, round(km, -2) if km != float("inf") else km) for e, km in rejected] == \
        [("3", float("inf")), ("4", 400.0)]


def test_labels_give_spellings_descriptions_are_not_names():
    assert bsg._split_names("Tell Bi'a (Tuttul)") == ["Tell Bi'a", "Tuttul"]
    assert bsg.is_description("Air Defense Base") and not bsg.is_description("Tiyas T-4 Airbase")


@pytest.mark.shared
@pytest.mark.slow
def test_build_is_reproducible_byte_for_byte(shared):
    files, report = bsg.build()
    for name, text in files.items():
        assert io.package_data(name).read_text(encoding="utf-8") == text, name
    assert [(e.ref, e.names[0]) for e, _ in report["rejected"]] == [("1384", "Kharab Suluq")]


# --------------------------------------------------------------------------- in the index
def test_villages_of_the_2017_map_are_located():
    idx = load_index()
    for name in ("Sarmada", "Atmeh", "Atme", "Hayyan", "Jarjanaz"):
        best = rank.search(idx, name, country="SY")[0]
        assert best.candidate.country == "SY" and best.status == "resolved", name
    assert rank.search(idx, "Sarmada")[0].candidate.place_id == "syria:w5153"


def test_same_places_share_the_geonames_id_and_keep_every_spelling():
    idx = load_index()
    for spelling in ("Saraqab", "Kafr Nobol", "Kafranbel", "Kafr Nabl", "كفر نبل"):
        assert rank.search(idx, spelling, country="SY")[0].candidate.place_id in ("geonames:164816", "geonames:168661"), \
            spelling
    kafranbel = idx.get("geonames:168661")
    assert {"Kafr Nabl", "Kafr Nobol", "كفر نبل"} <= set(kafranbel.alternatenames)
    assert idx.get("syria:w5045") is None    # merged into the GeoNames place, not a place of its own


def test_sub_districts_keep_english_and_arabic_names():
    idx = load_index()
    # OCHA's Arabic names of Idleb district and sub-district: "centre of Idleb"
    assert {(c.place_id, c.feature_code) for c in idx.lookup(normalize("مركز إدلب"))} == \
        {("ocha:SY0700", "ADM2"), ("ocha:SY070000", "ADM3")}
    assert [c.place_id for c in idx.lookup(normalize("كفر نبل")) if c.source == "ocha"] == ["ocha:SY070203"]


def test_common_words_are_not_keys_of_map_only_hamlets():
    idx = load_index()
    assert not [c for c in idx.lookup("sharia") if c.source.startswith("syria:")]   # Ash Shari'ah
    assert [c.place_id for c in idx.lookup(normalize("Ash Shari'ah"))] == ["syria:w3108"]
    assert build.common_word_key("hadad", ["Haddad"]) and not build.common_word_key("has", ["Hass"])


def test_named_areas_are_the_median_of_their_villages():
    idx = load_index()
    zawiya = rank.search(idx, "Jebel Zawiya")[0].candidate
    assert (zawiya.place_id, zawiya.precision, zawiya.admin1) == ("syria:rjabal_al_zawiya", "region", "Idlib")
    # within 5 km of the point Wikipedia gives the range (35°41′N 36°34′E)
    assert crs.haversine_km(zawiya.lat, zawiya.lon, 35.6833, 36.5667) < 5
    assert rank.search(idx, "جبل الزاوية")[0].candidate.place_id == "syria:rjabal_al_zawiya"
    p = pipeline.find_places("Airstrikes hit villages in Jabal al-Zawiya and the Ghab Plain on Monday.")
    assert dict(zip(p["mention"], p["place_id"], strict=True)) == {"Jabal al-Zawiya": "syria:rjabal_al_zawiya",
                                                                   "Ghab Plain": "syria:rsahl_al_ghab"}


def test_places_in_a_report_about_the_camps():
    text = ("Displaced families crowded into tents around Sarmada and Atmeh on Monday, "
            "while shelling hit Kafr Nobol and the village of Hayyan.")
    p = pipeline.find_places(text)
    got = dict(zip(p["mention"], zip(p["status"], p["country"], strict=True), strict=True))
    assert all(got[n] == ("resolved", "SY") for n in ("Sarmada", "Atmeh", "Kafr Nobol", "Hayyan")), got


def test_syria_governorates_come_from_the_ocha_table():
    rows = {r["code"]: r for r in build.admin1_table() if r["country"] == "SY"}
    assert len(rows) == 14 and rows["12"]["name"] == "Idlib" and rows["12"]["geonameid"] == "169387"
    assert set(rows["12"]["alternatenames"].split("|")) == {"Idleb", "Idleb Governorate", "Idlib Governorate", "إدلب"}
    assert build.admin1_names()[("SY", "09")] == "Aleppo"
    assert "SY" not in {r["country"] for r in build.data_rows("admin1.csv")}
