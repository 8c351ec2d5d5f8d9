"""Control timelines: loading rules, snapshots, coverage, `areas build` / `areas at`, bad input."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo_idlib import crs, io
from geo_idlib.cli import cli
from geo_idlib.errors import CRSError, DateError, InputError
from geo_idlib.territory import timeline as timelines


@pytest.fixture
def warnings_seen():
    """Messages logged on the geo_idlib logger (the CLI sends them to stderr)."""
    seen: list[str] = []

    class H(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("geo_idlib")
    h = H(level=logging.WARNING)
    logger.addHandler(h)
    old = logger.level
    logger.setLevel(logging.WARNING)
    yield seen
    logger.removeHandler(h)
    logger.setLevel(old)


def layer(rows, crs_="EPSG:4326", **cols):
    geoms = [r[-1] for r in rows]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs_)


def run(*args):
    return CliRunner().invoke(cli, list(args))


BOX_A = shapely.box(36.0, 35.0, 36.5, 35.5)
BOX_B = shapely.box(36.5, 35.0, 37.0, 35.5)


# --------------------------------------------------------------------------- loading rules
def test_date_form_snapshots_hold_until_next_date_and_last_for_its_day():
    g = gpd.GeoDataFrame({"actor": ["Government", "opposition", "government"],
                          "date": ["2020-01-01", "2020-01-01", "2020-01-10"]},
                         geometry=[BOX_A, BOX_B, shapely.union(BOX_A, BOX_B)], crs="EPSG:4326")
    t = timelines.load_timeline(g, "t.geojson")
    assert list(t.columns[:3]) == ["actor", "valid_from", "valid_to"] and t.columns[-1] == "geometry"
    assert str(t["valid_from"].dtype) == "datetime64[ns]" and str(t.crs) == "EPSG:4326"
    got = t[["actor", "valid_from", "valid_to"]].astype(str).values.tolist()
    assert got == [["government", "2020-01-01", "2020-01-10"], ["opposition", "2020-01-01", "2020-01-10"],
                   ["government", "2020-01-10", "2020-01-11"]]
    assert timelines.coverage(t) == (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-10"))
    assert sorted(timelines.snapshot(t, "2020-01-09")["actor"]) == ["government", "opposition"]
    assert timelines.snapshot(t, "2020-01-10")["actor"].tolist() == ["government"]


def test_valid_from_to_with_open_end():
    g = gpd.GeoDataFrame({"actor": ["sdf", "isis"], "valid_from": ["2017-06-01", "2017-01-01"],
                          "valid_to": ["", "2017-10-17"]}, geometry=[BOX_A, BOX_B], crs="EPSG:4326")
    t = timelines.load_timeline(g, "raqqa.gpkg")
    assert t["actor"].tolist() == ["isis", "sdf"]  # sorted by valid_from
    assert pd.isna(t["valid_to"].iloc[1])
    assert timelines.coverage(t) == (pd.Timestamp("2017-01-01"), None)
    assert timelines.snapshot(t, "2030-01-01")["actor"].tolist() == ["sdf"]
    assert sorted(timelines.snapshot(t, "2017-10-16")["actor"]) == ["isis", "sdf"]
    with pytest.raises(DateError, match=r"2016-12-31 is outside the timeline, which covers 2017-01-01 … open-ended"):
        timelines.snapshot(t, "2016-12-31")


def test_other_crs_is_transformed_to_wgs84():
    g = gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[BOX_A], crs="EPSG:4326")
    t = timelines.load_timeline(g.to_crs("EPSG:3857"), "mercator.gpkg")
    assert str(t.crs) == "EPSG:4326"
    assert crs.geodesic_area_km2(t)[0] == pytest.approx(crs.geodesic_area_km2([BOX_A])[0], rel=1e-6)


def test_overlap_goes_to_more_recent_area_and_is_reported(warnings_seen):
    # gov holds A+B from Jan 1; opposition holds B from Jan 5 (newer information): B is opposition's
    g = gpd.GeoDataFrame({"actor": ["government", "opposition"], "valid_from": ["2020-01-01", "2020-01-05"],
                          "valid_to": ["2020-01-20", "2020-01-20"]},
                         geometry=[shapely.union(BOX_A, BOX_B), BOX_B], crs="EPSG:4326")
    t = timelines.load_timeline(g, "ov.gpkg")
    before = timelines.snapshot(t, "2020-01-04")
    after = timelines.snapshot(t, "2020-01-05")
    assert before["actor"].tolist() == ["government"]
    gov = after[after["actor"] == "government"].geometry.iloc[0]
    assert gov.equals(BOX_A)
    assert not shapely.intersection(gov, BOX_B).area > 0
    km2 = crs.geodesic_area_km2([BOX_B])[0]
    assert any("1 pair(s)" in w and f"{km2:.3f} km²" in w for w in warnings_seen), warnings_seen


def test_overlap_same_date_later_row_wins():
    g = gpd.GeoDataFrame({"actor": ["government", "opposition"], "date": ["2020-01-01", "2020-01-01"]},
                         geometry=[shapely.union(BOX_A, BOX_B), BOX_B], crs="EPSG:4326")
    snap = timelines.snapshot(timelines.load_timeline(g, "x"), "2020-01-01")
    assert snap.set_index("actor").geometry["government"].equals(BOX_A)
    assert snap.set_index("actor").geometry["opposition"].equals(BOX_B)


def test_shared_edge_is_not_an_overlap(warnings_seen):
    g = gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01"] * 2}, geometry=[BOX_A, BOX_B], crs="EPSG:4326")
    t = timelines.load_timeline(g, "x")
    assert len(t) == 2 and not warnings_seen


def test_self_intersecting_polygon_is_repaired_and_reported(warnings_seen):
    bowtie = shapely.Polygon([(36, 35), (37, 36), (37, 35), (36, 36)])
    assert not bowtie.is_valid
    g = gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01"] * 2},
                         geometry=[bowtie, shapely.box(40, 40, 41, 41)], crs="EPSG:4326")
    t = timelines.load_timeline(g, "bowtie.geojson")
    assert t.is_valid.all() and set(t.geom_type) <= {"Polygon", "MultiPolygon"}
    assert t.geometry.iloc[0].area == pytest.approx(0.5)
    assert any("repaired 1 invalid polygon" in w for w in warnings_seen)


def test_strict_dates_name_row_and_column():
    for bad in ("01/02/2020", "2020-13-01", "yesterday", "2020-2-1"):
        g = gpd.GeoDataFrame({"actor": ["a", "a"], "date": ["2020-01-01", bad]}, geometry=[BOX_A, BOX_A],
                             crs="EPSG:4326")
        with pytest.raises(DateError, match=r"^f\.geojson: row 2: column `date` has '.*', not a date; write dates as YYYY-MM-DD$"):
            timelines.load_timeline(g, "f.geojson")
    # ISO date-times keep their day
    g = gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01T00:00:00.000"]}, geometry=[BOX_A], crs="EPSG:4326")
    assert str(timelines.load_timeline(g, "x")["valid_from"].iloc[0]) == "2020-01-01 00:00:00"


@pytest.mark.parametrize("cols,msg", [
    ({"date": ["2020-01-01"]}, r"t\.gpkg: no `actor` column \(columns: date\); add an `actor` column"),
    ({"actor": ["a"]}, r"t\.gpkg: no `valid_from` or `date` column; add `date`"),
])
def test_missing_columns(cols, msg):
    with pytest.raises(InputError, match=msg):
        timelines.load_timeline(gpd.GeoDataFrame(cols, geometry=[BOX_A], crs="EPSG:4326"), "t.gpkg")


def test_no_crs_refused_unless_geojson():
    g = gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[BOX_A])
    with pytest.raises(CRSError, match=r"^t\.shp: the layer has no CRS; save it with one"):
        timelines.load_timeline(g, "t.shp")
    assert str(timelines.load_timeline(g, "t.geojson", geojson=True).crs) == "EPSG:4326"


def test_empty_timeline_and_non_polygons():
    empty = gpd.GeoDataFrame({"actor": [], "date": []}, geometry=[], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"t\.gpkg: the timeline is empty"):
        timelines.load_timeline(empty, "t.gpkg")
    pts = gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[shapely.Point(1, 1)], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"row 1 is a Point; control areas must be polygons"):
        timelines.load_timeline(pts, "t.gpkg")


def test_valid_to_must_follow_valid_from():
    g = gpd.GeoDataFrame({"actor": ["a"], "valid_from": ["2020-01-05"], "valid_to": ["2020-01-05"]},
                         geometry=[BOX_A], crs="EPSG:4326")
    with pytest.raises(DateError, match=r"row 1: valid_to 2020-01-05 is not after valid_from 2020-01-05"):
        timelines.load_timeline(g, "x")


# --------------------------------------------------------------------------- build from per-date files
def _write_days(tmp_path, days_geoms, name="area_{}.geojson"):
    paths = []
    for day, g in days_geoms:
        p = tmp_path / name.format(day)
        io.write_vector(gpd.GeoDataFrame(geometry=[g], crs="EPSG:4326"), p)
        paths.append(str(p))
    return paths


def test_areas_build_compacts_unchanged_days_and_bridges_gaps(tmp_path):
    paths = _write_days(tmp_path, [("20240101", BOX_A), ("20240102", BOX_A), ("2024-01-05", shapely.union(BOX_A, BOX_B))])
    out = tmp_path / "tl.gpkg"
    r = run("areas", "build", *paths, "--actor", "Russia", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "2 area row(s) from 3 file(s), covering 2024-01-01 … 2024-01-05" in r.stderr
    t = timelines.load_timeline(io.read_vector(out, datetime_as_string=True), "tl.gpkg")
    assert t[["actor", "valid_from", "valid_to"]].astype(str).values.tolist() == [
        ["russia", "2024-01-01", "2024-01-05"], ["russia", "2024-01-05", "2024-01-06"]]
    # the gap 01-03/04 holds the 01-02 map; after the last file nothing is known
    r = run("areas", "at", str(out), "--date", "2024-01-04")
    fc = json.loads(r.stdout)
    assert r.exit_code == 0 and len(fc["features"]) == 1
    assert fc["features"][0]["properties"] == {"actor": "russia", "valid_from": "2024-01-01", "valid_to": "2024-01-05"}
    assert shapely.geometry.shape(fc["features"][0]["geometry"]).equals(BOX_A)
    r = run("areas", "at", str(out), "--date", "2024-01-06")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.strip() == ("Error: --date: 2024-01-06 is outside the timeline, which covers "
                                "2024-01-01 … 2024-01-05; choose a date in that range")


def test_areas_build_refuses_bad_names_and_keeps_no_output(tmp_path):
    paths = _write_days(tmp_path, [("20240101", BOX_A)]) + _write_days(tmp_path, [("x", BOX_A)], "nodate{}.geojson")
    out = tmp_path / "tl.gpkg"
    r = run("areas", "build", *paths, "--actor", "russia", "-o", str(out))
    assert r.exit_code == 2 and "nodatex.geojson: no date in the file name" in r.stderr
    assert not out.exists() and len(r.stderr.strip().splitlines()) == 1


def test_areas_at_writes_file_and_refuses_overwrite(tmp_path):
    g = gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01", "2020-01-03"]}, geometry=[BOX_A, BOX_B],
                         crs="EPSG:4326")
    src = tmp_path / "t.gpkg"
    io.write_vector(g, src)
    out = tmp_path / "snap.geojson"
    assert run("areas", "at", str(src), "--date", "2020-01-02", "-o", str(out)).exit_code == 0
    assert [f["properties"]["actor"] for f in json.loads(out.read_text())["features"]] == ["a"]
    r = run("areas", "at", str(src), "--date", "2020-01-03", "-o", str(out))
    assert r.exit_code == 2 and "already exists; pass --overwrite" in r.stderr
    assert run("areas", "at", str(src), "--date", "2020-01-03", "-o", str(out), "--overwrite").exit_code == 0
    assert [f["properties"]["actor"] for f in json.loads(out.read_text())["features"]] == ["b"]


# --------------------------------------------------------------------------- bad input files through the CLI
def _bad_files(tmp_path):
    ok = {"actor": ["a"], "date": ["2020-01-01"]}
    cases = {}
    p = tmp_path / "noactor.gpkg"
    io.write_vector(gpd.GeoDataFrame({"date": ["2020-01-01"]}, geometry=[BOX_A], crs="EPSG:4326"), p)
    cases["noactor"] = (p, "no `actor` column")
    p = tmp_path / "nodate.gpkg"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a"]}, geometry=[BOX_A], crs="EPSG:4326"), p)
    cases["nodate"] = (p, "no `valid_from` or `date` column")
    p = tmp_path / "baddate.geojson"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a"], "date": ["03/02/2020"]}, geometry=[BOX_A], crs="EPSG:4326"), p)
    cases["baddate"] = (p, "row 1: column `date` has '03/02/2020', not a date")
    p = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame(ok, geometry=[BOX_A]).set_crs("EPSG:4326").to_file(p)
    p.with_suffix(".prj").unlink()
    cases["nocrs"] = (p, "the layer has no CRS")
    p = tmp_path / "empty.gpkg"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[BOX_A],
                                     crs="EPSG:4326").iloc[:0], p)
    cases["empty"] = (p, "the timeline is empty")
    return cases


@pytest.mark.parametrize("case", ["noactor", "nodate", "baddate", "nocrs", "empty"])
def test_bad_timelines_one_line_exit_2_no_output(tmp_path, case):
    path, msg = _bad_files(tmp_path)[case]
    out = tmp_path / "out.geojson"
    for args in (["areas", "at", str(path), "--date", "2020-01-01", "-o", str(out)],
                 ["change", "--areas", str(path), "--from", "2020-01-01", "--to", "2020-01-01", "-o", str(out)]):
        r = run(*args)
        assert r.exit_code == 2, (case, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and msg in lines[0] and str(path) in lines[0], (case, r.stderr)
        assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_self_intersecting_file_is_repaired_with_a_warning_on_stderr(tmp_path):
    bowtie = shapely.Polygon([(36, 35), (37, 36), (37, 35), (36, 36)])
    p = tmp_path / "bowtie.geojson"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[bowtie], crs="EPSG:4326"), p)
    r = run("areas", "at", str(p), "--date", "2020-01-01")
    assert r.exit_code == 0
    assert "repaired 1 invalid polygon(s) with make_valid" in r.stderr
    g = shapely.geometry.shape(json.loads(r.stdout)["features"][0]["geometry"])
    assert g.is_valid and g.area == pytest.approx(0.5)


def test_date_option_must_be_given_and_strict(tmp_path):
    p = tmp_path / "t.geojson"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a"], "date": ["2020-01-01"]}, geometry=[BOX_A], crs="EPSG:4326"), p)
    r = run("areas", "at", str(p))
    assert r.exit_code == 2 and "--date" in r.stderr
    r = run("areas", "at", str(p), "--date", "1/1/2020")
    assert r.exit_code == 2 and r.stderr.strip() == (
        "Error: --date: '1/1/2020' is not a date; write it as YYYY-MM-DD (e.g. 2020-02-20)")


def test_parse_dates_vectorised_matches_scalar():
    vals = np.array(["2020-01-01", "", "2021-12-31"], dtype=object)
    got = timelines.parse_dates(vals, "x", "date", allow_missing=True)
    assert np.isnat(got[1]) and str(got[2])[:10] == "2021-12-31"


def test_areas_build_takes_actors_from_the_files_or_asks_for_actor(tmp_path):
    paths = []
    for day, east_owner in (("2024-01-01", "Opposition"), ("2024-01-02", "government")):
        p = tmp_path / f"areas_{day}.gpkg"
        io.write_vector(gpd.GeoDataFrame({"actor": ["government", east_owner]}, geometry=[BOX_A, BOX_B],
                                         crs="EPSG:4326"), p)
        paths.append(str(p))
    out = tmp_path / "tl.geojson"
    r = run("areas", "build", *paths, "-o", str(out))
    assert r.exit_code == 0, r.output
    t = timelines.load_timeline(io.read_vector(out, datetime_as_string=True), "tl", geojson=True)
    assert t[["actor", "valid_from", "valid_to"]].astype(str).values.tolist() == [
        ["government", "2024-01-01", "2024-01-02"], ["opposition", "2024-01-01", "2024-01-02"],
        ["government", "2024-01-02", "2024-01-03"]]
    assert t.geometry.iloc[2].equals(shapely.union(BOX_A, BOX_B))  # dissolved per actor
    nameless = tmp_path / "plain_20240105.geojson"
    io.write_vector(gpd.GeoDataFrame(geometry=[BOX_A], crs="EPSG:4326"), nameless)
    r = run("areas", "build", str(nameless), "-o", str(tmp_path / "x.gpkg"))
    assert r.exit_code == 2 and "no `actor` column; pass --actor NAME" in r.stderr
    assert not (tmp_path / "x.gpkg").exists()


def test_column_names_are_matched_case_insensitively_and_extras_kept():
    g = gpd.GeoDataFrame({"Actor": ["SDF"], "Valid_From": ["2017-10-17"], "source": ["https://example.org/r"]},
                         geometry=[BOX_A], crs="EPSG:4326")
    t = timelines.load_timeline(g, "x")
    assert t.columns.tolist() == ["actor", "valid_from", "valid_to", "source", "geometry"]
    assert t["actor"].tolist() == ["sdf"] and t["source"].tolist() == ["https://example.org/r"]


def test_overlap_clips_only_the_days_both_areas_hold():
    # government holds A+B all month; opposition claims B from the 10th to the 20th only
    g = gpd.GeoDataFrame({"actor": ["government", "opposition"], "valid_from": ["2020-01-01", "2020-01-10"],
                          "valid_to": ["2020-02-01", "2020-01-20"]},
                         geometry=[shapely.union(BOX_A, BOX_B), BOX_B], crs="EPSG:4326")
    t = timelines.load_timeline(g, "x")
    gov = t[t["actor"] == "government"]
    assert gov[["valid_from", "valid_to"]].astype(str).values.tolist() == [
        ["2020-01-01", "2020-01-10"], ["2020-01-10", "2020-01-20"], ["2020-01-20", "2020-02-01"]]
    assert [round(a, 6) for a in shapely.area(gov.geometry.to_numpy())] == [0.5, 0.25, 0.5]
    for day, expect in (("2020-01-09", 0.5), ("2020-01-15", 0.25), ("2020-01-25", 0.5)):
        snap = timelines.snapshot(t, day)
        assert shapely.area(snap.loc[snap["actor"] == "government"].geometry.iloc[0]) == pytest.approx(expect)


def test_areas_build_refuses_crs_less_files_and_existing_output(tmp_path):
    shp = tmp_path / "areas_20240101.shp"
    gpd.GeoDataFrame({"actor": ["a"]}, geometry=[BOX_A]).set_crs("EPSG:4326").to_file(shp)
    shp.with_suffix(".prj").unlink()
    out = tmp_path / "tl.gpkg"
    r = run("areas", "build", str(shp), "--actor", "a", "-o", str(out))
    assert r.exit_code == 2 and f"{shp}: the layer has no CRS" in r.stderr and not out.exists()
    good = _write_days(tmp_path, [("20240102", BOX_A)])
    out.write_text("keep me")
    r = run("areas", "build", *good, "--actor", "a", "-o", str(out))
    assert r.exit_code == 2 and "already exists; pass --overwrite" in r.stderr
    assert out.read_text() == "keep me"


def test_areas_build_transforms_projected_files_to_wgs84(tmp_path):
    p = tmp_path / "front_2024-03-01.gpkg"
    io.write_vector(gpd.GeoDataFrame(geometry=[BOX_A], crs="EPSG:4326").to_crs("EPSG:3857"), p)
    out = tmp_path / "tl.gpkg"
    assert run("areas", "build", str(p), "--actor", "ukraine", "-o", str(out)).exit_code == 0
    t = timelines.load_timeline(io.read_vector(out, datetime_as_string=True), "tl")
    assert str(t.crs) == "EPSG:4326"
    assert t.geometry.iloc[0].bounds == pytest.approx(BOX_A.bounds, abs=1e-9)


@pytest.mark.parametrize("crs_member,corner", [
    ('', 1.0),                                                            # RFC 7946: WGS84
    ('"crs": null, ', 1.0),
    ('"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, ', 0.898315),  # legacy member honoured
])
def test_geojson_crs_member_or_its_absence(tmp_path, crs_member, corner):
    scale = 1 if corner == 1.0 else 100000
    ring = [[0, 0], [scale, 0], [scale, scale], [0, scale], [0, 0]]
    p = tmp_path / "t.geojson"
    p.write_text('{"type": "FeatureCollection", ' + crs_member + '"features": [{"type": "Feature", '
                 '"properties": {"actor": "a", "date": "2020-01-01"}, '
                 '"geometry": {"type": "Polygon", "coordinates": [' + json.dumps(ring) + ']}}]}', encoding="utf-8")
    r = run("areas", "at", str(p), "--date", "2020-01-01")
    assert r.exit_code == 0, r.stderr
    xs = [c[0] for c in json.loads(r.stdout)["features"][0]["geometry"]["coordinates"][0]]
    assert max(xs) == pytest.approx(corner, abs=1e-6)


def test_areas_build_of_files_without_polygons_is_an_empty_timeline(tmp_path):
    p = tmp_path / "empty_20200101.gpkg"
    gpd.GeoDataFrame({"actor": []}, geometry=[], crs="EPSG:4326").to_file(p)
    r = run("areas", "build", str(p), "--actor", "x", "-o", str(tmp_path / "t.gpkg"))
    assert r.exit_code == 2 and "hold no polygons; the timeline would be empty" in r.stderr
    assert not (tmp_path / "t.gpkg").exists()
