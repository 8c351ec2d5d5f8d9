"""The embedded NW Syria sample: the committed observations and timeline, checked against the facts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import ROOT, shared_file

from geo_idlib import io, pipeline
from geo_idlib.crs import geodesic_area_km2
from geo_idlib.territory import change
from geo_idlib.territory import timeline as timelines

OBS = ROOT / "shapefiles" / "nw_syria_observations.csv"
TIMELINE = ROOT / "shapefiles" / "nw_syria_timeline.gpkg"
EXTENT = ROOT / "shapefiles" / "nw_syria_extent.gpkg"
SARAQIB = (35.86447, 36.80591)  # GeoNames 164816
MAARAT = (35.6483, 36.67693)  # GeoNames 167611
KHAN_SHAYKHUN = (35.44208, 36.65095)  # GeoNames 168325
ABU_DUHUR_AIRBASE = (35.74058, 37.0448)  # GeoNames 174611
MOREK = (35.373, 36.689)  # the 2017 map's marker
KABANI = (35.723, 36.235)  # the 2017 map's marker


@pytest.fixture(scope="module")
def timeline():
    return pipeline.read_timeline(str(TIMELINE))


@pytest.fixture(scope="module")
def obs():
    return pd.read_csv(OBS, dtype=str, keep_default_na=False)


def actor_at(t, lat, lon, day) -> str:
    snap = timelines.snapshot(t, day)
    hit = shapely.intersects_xy(snap.geometry.values, lon, lat)
    assert hit.sum() == 1, (day, snap["actor"][hit].tolist())
    return snap["actor"][hit].iloc[0]


def test_the_embedded_timeline_is_the_default_and_small():
    assert pipeline.default_timeline_path() == io.shapefiles_dir() / "nw_syria_timeline.gpkg"
    assert TIMELINE.stat().st_size < 3_000_000  # 2.4 MB: Idlib, Aleppo, north Hama, NE Latakia; 1,106 reports


def test_timeline_loads_and_covers_the_offensive(timeline, caplog):
    assert timelines.coverage(timeline) == (pd.Timestamp("2019-12-18"), pd.Timestamp("2020-03-06"))
    assert set(timeline["actor"]) == {"government", "opposition", "contested", "unknown"}
    assert str(timeline.crs) == "EPSG:4326"
    assert shapely.is_valid(timeline.geometry.values).all()
    # one exact coverage per period: the loader reports no overlaps
    with caplog.at_level("WARNING", logger="geo_idlib"):
        pipeline.read_timeline(str(TIMELINE))
    assert not [r for r in caplog.records if "overlap" in r.getMessage()]
    # every period fills the extent (OCHA units) exactly, unknown included
    within = shapely.union_all(pipeline.read_boundary(str(EXTENT)).geometry.values)
    total = float(geodesic_area_km2([within])[0])
    for day in ("2019-12-18", "2020-01-15", "2020-02-20", "2020-03-06"):
        assert float(geodesic_area_km2(timelines.snapshot(timeline, day)).sum()) == pytest.approx(total, rel=1e-4)


def test_the_facts_say_what_the_tests_below_assume():
    ev = pd.read_csv(shared_file("data/nw_syria_2019_2020/nw_syria_control_events_2019_2020.csv"), dtype=str)
    sar = ev[ev["place"].str.fullmatch("Saraq(ib|eb)")].sort_values("date")
    assert sar[["date", "new_controller"]].values.tolist() == [
        ["2020-02-05", "government"], ["2020-02-06", "government"], ["2020-02-27", "opposition"],
        ["2020-02-28", "opposition"], ["2020-03-02", "government"]]
    maarat = ev[ev["place"] == "Ma'arat Al-Nu'man"]
    assert maarat[["date", "new_controller", "previous_controller"]].values.tolist() == [
        ["2020-01-28", "government", "opposition"]]


def test_saraqib_and_maarat_follow_the_facts(timeline):
    assert actor_at(timeline, *SARAQIB, "2019-12-18") == "opposition"
    assert actor_at(timeline, *SARAQIB, "2020-01-15") == "opposition"
    assert actor_at(timeline, *SARAQIB, "2020-02-05") == "government"  # the earliest claim wins
    assert actor_at(timeline, *SARAQIB, "2020-02-10") == "government"
    assert actor_at(timeline, *SARAQIB, "2020-02-28") == "opposition"
    assert actor_at(timeline, *SARAQIB, "2020-03-03") == "government"
    assert actor_at(timeline, *MAARAT, "2020-01-27") == "opposition"
    for day in ("2020-01-29", "2020-02-20", "2020-03-06"):
        assert actor_at(timeline, *MAARAT, day) == "government"


def test_every_observation_is_sourced_and_every_baseline_row_states_its_basis(obs):
    assert len(obs) > 400
    assert obs["id"].is_unique
    assert (obs["source"].str.len() > 10).all()
    assert set(obs["actor"]) == {"government", "opposition", "contested"}
    assert obs["coord_source"].str.fullmatch(r"geonames:\d+|ocha:SY\d+|wikipedia2017:line\d+").all()
    lat, lon = obs["lat"].astype(float), obs["lon"].astype(float)
    assert lat.between(34.9, 36.9).all() and lon.between(35.9, 38.6).all()
    base = obs[obs["date"] == "2019-12-18"]
    assert len(base) > 200
    assert base["basis"].str.match(r"fact: |2017 snapshot marker \(~Jul 2017: .*\); on 18 Dec 2019 it takes the side "
                                   r"of the nearest fact place, .* \([\d.]+ km, (bl|bx|ch)\d+\)").all()
    later = obs[obs["date"] > "2019-12-18"]
    assert later["basis"].str.match(r"fact: reported change from |derived: 2017 snapshot point follows").all()
    # fact rows cite the outlet and a link; 2017 rows cite the Wikipedia module and its line
    facts = obs[obs["id"].str.match(r"(ev|bl|bx|ch)\d+$")]
    assert facts["source"].str.contains(r"https?://|github\.com/").all()
    assert obs.loc[obs["id"].str.fullmatch(r"wk\d+"), "source"].str.contains("Module:Syrian Civil War detailed map").all()
    # no note prose from the facts file: our columns only
    assert list(obs.columns) == ["id", "date", "place", "actor", "lat", "lon", "coord_source", "basis", "source",
                                 "date_precision", "governorate", "alternatives", "facts_row", "located_by",
                                 "derived"]
    # the 2017 points' sides are derived from the facts: they shape the areas, not the front band
    assert (obs["derived"] == np.where(obs["id"].str.startswith("wk"), "yes", "")).all()


def test_the_2017_2019_facts_say_what_the_tests_below_assume():
    ch = pd.read_csv(shared_file("data/nw_syria_2019_2020/control_changes_2017_2019.csv"), dtype=str)
    ks = ch[ch["map_name"] == "Khan Shaykhun"].sort_values("date")
    assert ks[["date", "new_controller"]].values.tolist() == [
        ["2019-08-19", "contested"], ["2019-08-19", "contested"], ["2019-08-20", "government"],
        ["2019-08-21", "government"], ["2019-08-21", "government"], ["2019-08-22", "government"]]
    base = ch[ch["map_name"] == "Abu al-Duhur Military Airbase"]
    assert set(base["new_controller"]) == {"government"} and base["date"].max() == "2018-01-21"
    assert set(ch.loc[ch["map_name"] == "Morek", "new_controller"]) == {"government"}
    kabani = ch[ch["map_name"] == "Kabani"]
    assert set(kabani["new_controller"]) == set(kabani["previous_controller"]) == {"opposition"}


def test_the_18_december_baseline_follows_the_2017_2019_facts(timeline, obs):
    # taken in August 2019 (Khan Shaykhun, Morek) and January 2018 (the airbase); Kabani held out
    for where in (KHAN_SHAYKHUN, ABU_DUHUR_AIRBASE, MOREK):
        assert actor_at(timeline, *where, "2019-12-18") == "government"
    assert actor_at(timeline, *KABANI, "2019-12-18") == "opposition"
    assert actor_at(timeline, *KABANI, "2020-03-06") == "opposition"
    # rows of the changes file say why: Morek's baseline is its last change, cited
    morek = obs[(obs["place"] == "Morek") & (obs["date"] == "2019-12-18")]
    assert len(morek) == 1 and morek["id"].iloc[0].startswith("ch")
    assert morek["basis"].iloc[0].startswith("fact: its last change of control before the offensive, "
                                             "opposition → government on 2019-08-23")
    assert morek["facts_row"].iloc[0].startswith("changes:")
    # the 2017 points take their side from the facts: the ISIL pocket's markers are not ISIL
    assert not obs["actor"].str.contains("isil").any()


def test_rules_of_the_2017_2019_baseline():
    from scripts import nw_syria_baseline as b

    rows = pd.DataFrame({"date": ["2019-05", "2019-05-08", "2019-05-22", "2019-05-26", "2019-05-26"],
                         "new_controller": ["opposition", "government", "opposition", "government", "contested"],
                         "note": ""}).assign(row=range(2, 7))
    side, last, same_day, _ = b.last_side(rows)
    assert (side, last["row"], len(same_day)) == ("government", 5, 0)  # contested: no change
    # a month-only row sorts before the days of its month; ISIL is no state; disagreeing last rows decide nothing
    assert b.last_side(rows.iloc[:2].assign(date=["2019-05", "2019-05-01"]))[0] == "government"
    assert b.last_side(rows.assign(new_controller="ISIL"))[0] is None
    clash = rows.iloc[3:4].assign(new_controller="opposition")
    side, _, _, why = b.last_side(pd.concat([rows.iloc[:4], clash]))
    assert side is None and why == "government and opposition both claimed it on 2019-05-26"
    retracted = rows.iloc[:4].assign(note=["", "", "", "claim later retracted"])
    assert b.last_side(retracted)[0] == "opposition"
    assert not b.trusted_marker({"map_lat": "35.4", "note": "probable match"})
    assert b.trusted_marker({"map_lat": "35.4", "note": "SANA"})


def test_the_extent_is_ocha_idleb_aleppo_and_the_sub_districts_where_the_facts_speak():
    ext = pipeline.read_boundary(str(EXTENT))
    assert str(ext.crs) == "EPSG:4326"
    assert {"SY07", "SY02", "SY050101", "SY060303", "SY050100"} <= set(ext["pcode"])  # Suran (Morek), Kansaba (Kabani), Hama
    assert set(ext["level"]) == {"governorate", "sub-district"}
    assert set(ext.loc[ext["level"] == "sub-district", "governorate"]) == {"Hama", "Lattakia"}
    km2 = geodesic_area_km2(ext)
    # OCHA's Idleb is 5,416 km² (simplified by 250 m, the same to 0.5 %)
    assert float(km2[ext["pcode"] == "SY07"][0]) == pytest.approx(5416.5, rel=5e-3)


def test_conflicting_claims_keep_the_earliest_date_and_list_the_others(obs):
    sar = obs[obs["coord_source"] == "geonames:164816"].sort_values("date")
    assert sar[["date", "actor"]].values.tolist() == [
        ["2019-12-18", "opposition"], ["2020-02-05", "government"], ["2020-02-27", "opposition"],
        ["2020-03-02", "government"]]
    assert "also claimed for 2020-02-06" in sar["alternatives"].iloc[1]
    assert "also claimed for 2020-02-28" in sar["alternatives"].iloc[2]


def test_government_gain_over_the_offensive_is_in_a_sane_band(timeline):
    summary, polys = change.compare(timeline, "2019-12-19", "2020-02-20")
    gov = next(r for r in summary if r["actor"] == "government")
    opp = next(r for r in summary if r["actor"] == "opposition")
    # measured 3,152 km² (docs/sample.md); the band only catches a broken file, it is not a target
    assert 1_000 < gov["net_km2"] < 5_000
    assert gov["lost_km2"] < 0.05 * gov["gained_km2"]
    assert opp["net_km2"] == pytest.approx(-gov["net_km2"], rel=0.05)
    assert 0 < gov["uncertain_km2"] < gov["area_to_km2"] + gov["area_from_km2"]
    assert set(polys["actor_to"]) >= {"government"}
    # the gain grows through the offensive
    gains = [next(r for r in change.compare(timeline, "2019-12-19", d)[0] if r["actor"] == "government")["net_km2"]
             for d in ("2019-12-28", "2020-01-31", "2020-02-20")]
    assert gains == sorted(gains) and gains[0] > 0


def test_sample_docs_quote_the_committed_figures(timeline):
    text = (ROOT / "docs" / "sample.md").read_text(encoding="utf-8")
    summary, _ = change.compare(timeline, "2019-12-19", "2020-02-20")
    gov = next(r for r in summary if r["actor"] == "government")
    row = re.search(r"^\| 2020-02-20 \| ([\d,]+) \| ([\d,]+) \|", text, re.M)
    assert row, "docs/sample.md lost its gain table; regenerate it with python -m scripts.build_nw_syria_sample --report"
    assert int(row.group(1).replace(",", "")) == round(gov["net_km2"])
    assert int(row.group(2).replace(",", "")) == round(gov["uncertain_km2"])
    assert "approximate" in text and "areas build" in text and "load_timeline" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"^\| to 2020-02-20 \| ([\d,]+) ± ([\d,]+) km² \|", readme, re.M)
    assert quoted, "the README's table of NW Syria gains lost its 2020-02-20 row"
    assert quoted.groups() == (f"{gov['net_km2']:,.0f}", f"{gov['uncertain_km2']:,.0f}")


def test_unknown_ground_is_where_no_report_is_within_10_km(timeline, obs):
    snap = timelines.snapshot(timeline, "2020-02-20")
    unknown = snap.loc[snap["actor"] == "unknown", "geometry"].iloc[0]
    pts = unknown.representative_point()
    d = np.hypot((obs["lat"].astype(float) - pts.y) * 111.0, (obs["lon"].astype(float) - pts.x) * 90.0).min()
    assert d > 9.5  # km (flat approximation at 36°N)


@pytest.mark.slow
@pytest.mark.shared
def test_rebuilding_the_sample_reproduces_the_committed_files(tmp_path, monkeypatch):
    shared_file("data/nw_syria_2019_2020/nw_syria_control_events_2019_2020.csv")
    import filecmp

    from scripts import build_nw_syria_sample as build

    monkeypatch.setenv("OGR_CURRENT_DATE", "2020-03-06T00:00:00Z")
    build.build(tmp_path)
    for name in ("nw_syria_observations.csv", "nw_syria_unlocated.csv", "nw_syria_timeline.gpkg"):
        assert filecmp.cmp(tmp_path / name, ROOT / "shapefiles" / name, shallow=False), (
            f"{name} differs: rebuild the sample (python -m scripts.build_nw_syria_sample) and update docs/sample.md")
