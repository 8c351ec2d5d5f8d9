"""Change in km² between two dates: geodesic figures, change polygons, slivers, series, CLI."""

from __future__ import annotations

import io as _io
import json

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from geo_idlib import io
from geo_idlib.cli import cli
from geo_idlib.errors import DateError
from geo_idlib.pipeline import write_timeline
from geo_idlib.territory import change
from geo_idlib.territory import timeline as timelines

GEOD = pyproj.Geod(ellps="WGS84")


def km2(g) -> float:
    """Independent reference: pyproj.Geod straight on the geometry."""
    return abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6


WEST = shapely.box(36.0, 35.0, 36.5, 35.5)
EAST = shapely.box(36.5, 35.0, 37.0, 35.5)
BITE = shapely.box(36.5, 35.0, 36.6, 35.5)       # east strip the government takes
SLIVER = shapely.box(35.9993, 35.2, 36.0, 35.2007)  # ≈ 0.005 km², added to the west on day 2
NEW = shapely.box(37.0, 35.0, 37.1, 35.1)          # ground nobody held before


def timeline(uncertain=False):
    rows = {"actor": ["government", "opposition", "government", "opposition"],
            "date": ["2020-01-01", "2020-01-01", "2020-02-01", "2020-02-01"]}
    geoms = [WEST, EAST, shapely.union_all([WEST, BITE, SLIVER]), shapely.union(shapely.difference(EAST, BITE), NEW)]
    if uncertain:
        rows["uncertain_km2"] = [10.0, 20.0, 30.0, 40.0]
    return timelines.load_timeline(gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326"), "t")


def test_compare_equals_independent_geod_figures():
    summary, polys = change.compare(timeline(), "2020-01-15", "2020-02-01")
    rows = {r["actor"]: r for r in summary}
    assert list(rows) == ["government", "opposition"]
    gov, opp = rows["government"], rows["opposition"]
    assert gov["area_from_km2"] == pytest.approx(km2(WEST), rel=1e-9)
    assert gov["area_to_km2"] == pytest.approx(km2(shapely.union_all([WEST, BITE, SLIVER])), rel=1e-9)
    assert gov["gained_km2"] == pytest.approx(km2(BITE), rel=1e-6)  # the sliver is not counted
    assert gov["lost_km2"] == 0
    assert opp["lost_km2"] == pytest.approx(km2(BITE), rel=1e-6)
    assert opp["gained_km2"] == pytest.approx(km2(NEW), rel=1e-6)
    assert opp["net_km2"] == pytest.approx(km2(NEW) - km2(BITE), rel=1e-6)
    assert gov["net_km2"] == pytest.approx(gov["area_to_km2"] - gov["area_from_km2"])
    assert gov["net_km2"] - (gov["gained_km2"] - gov["lost_km2"]) == pytest.approx(km2(SLIVER), rel=1e-3)
    assert 0.004 < km2(SLIVER) < 0.01


def test_change_polygons_and_slivers():
    _, polys = change.compare(timeline(), "2020-01-01", "2020-02-01")
    assert list(polys.columns) == ["actor_from", "actor_to", "area_km2", "geometry"]
    assert str(polys.crs) == "EPSG:4326"
    assert polys[["actor_from", "actor_to"]].values.tolist() == [["opposition", "government"], ["", "opposition"]]
    assert polys.geometry.iloc[0].equals(BITE) and polys.geometry.iloc[1].equals(NEW)
    assert polys["area_km2"].tolist() == pytest.approx([km2(BITE), km2(NEW)], rel=1e-6)
    assert polys.attrs["slivers_dropped"] == 1
    assert polys.attrs["sliver_km2"] == pytest.approx(km2(SLIVER), rel=1e-3)


def test_same_date_is_no_change_and_uncertainty_is_carried():
    summary, polys = change.compare(timeline(), "2020-01-05", "2020-01-06")
    assert len(polys) == 0 and all(r["gained_km2"] == r["lost_km2"] == r["net_km2"] == 0 for r in summary)
    summary, _ = change.compare(timeline(uncertain=True), "2020-01-01", "2020-02-01")
    assert [r["uncertain_km2"] for r in summary] == [40.0, 60.0]


def test_dates_checked():
    t = timeline()
    with pytest.raises(DateError, match=r"^--from 2020-02-01 is later than --to 2020-01-01; give the earlier date"):
        change.compare(t, "2020-02-01", "2020-01-01")
    with pytest.raises(DateError, match=r"--to: 2020-02-02 is outside the timeline, which covers 2020-01-01 … 2020-02-01"):
        change.compare(t, "2020-01-01", "2020-02-02")


def test_periods_and_series():
    assert [f"{d:%Y-%m-%d}" for d in change.periods("2020-01-01", "2020-02-01", "week")] == [
        "2020-01-01", "2020-01-08", "2020-01-15", "2020-01-22", "2020-01-29", "2020-02-01"]
    rows = change.series(timeline(), change.periods("2020-01-01", "2020-02-01", "month"))
    assert [(r["from"], r["to"], r["actor"]) for r in rows] == [
        ("2020-01-01", "2020-02-01", "government"), ("2020-01-01", "2020-02-01", "opposition")]
    rows = change.series(timeline(), change.periods("2020-01-01", "2020-02-01", "week"))
    gained = [r["gained_km2"] for r in rows if r["actor"] == "government"]
    assert gained[:-1] == [0, 0, 0, 0] and gained[-1] == pytest.approx(km2(BITE), rel=1e-6)


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def areas_file(tmp_path):
    p = tmp_path / "areas.gpkg"
    write_timeline(timeline(uncertain=True), str(p))
    return p


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_json_and_polygons(tmp_path, areas_file):
    out = tmp_path / "change.geojson"
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01", "--json", "-o", out)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["from"] == "2020-01-01" and doc["to"] == "2020-02-01"
    assert doc["slivers_dropped"] == 1 and doc["sliver_threshold_km2"] == 0.01
    gov = doc["actors"][0]
    assert set(gov) == {"actor", "area_from_km2", "area_to_km2", "gained_km2", "lost_km2", "net_km2", "uncertain_km2"}
    assert gov["actor"] == "government" and gov["gained_km2"] == round(km2(BITE), 3)
    fc = json.loads(out.read_text())
    assert [f["properties"]["actor_to"] for f in fc["features"]] == ["government", "opposition"]
    assert fc["features"][0]["properties"]["area_km2"] == pytest.approx(km2(BITE), rel=1e-6)


def test_cli_table_and_every(tmp_path, areas_file):
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("change 2020-01-01 → 2020-02-01 (geodesic km²; 1 sliver(s)")
    assert r.stdout.splitlines()[1].split() == ["actor", "area_from_km2", "area_to_km2", "gained_km2", "lost_km2",
                                                 "net_km2", "uncertain_km2", "net_low_km2", "net_high_km2"]
    # the figure with its range: net ± uncertain
    gov = dict(zip(r.stdout.splitlines()[1].split(), r.stdout.splitlines()[2].split(), strict=True))
    net, u = (float(gov[c].replace(",", "")) for c in ("net_km2", "uncertain_km2"))
    assert float(gov["net_low_km2"].replace(",", "")) == pytest.approx(net - u, abs=1e-3)
    assert float(gov["net_high_km2"].replace(",", "")) == pytest.approx(net + u, abs=1e-3)
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01", "--every", "week",
            "--format", "csv")
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(_io.StringIO(r.stdout))
    assert len(df) == 10 and df.columns[:3].tolist() == ["from", "to", "actor"]
    assert df["gained_km2"].iloc[-2] == round(km2(BITE), 3)
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01", "--every", "month", "--json")
    assert [row["actor"] for row in json.loads(r.stdout)["rows"]] == ["government", "opposition"]


@pytest.mark.parametrize("args,msg", [
    (["--from", "2020-02-01", "--to", "2020-01-01"], "--from 2020-02-01 is later than --to 2020-01-01"),
    (["--from", "2020-01-01", "--to", "2021-01-01"], "--to: 2021-01-01 is outside the timeline, which covers"),
    (["--from", "1 Jan 2020", "--to", "2020-02-01"], "--from: '1 Jan 2020' is not a date"),
])
def test_cli_bad_dates_one_line_no_output(tmp_path, areas_file, args, msg):
    out = tmp_path / "change.geojson"
    r = run("change", "--areas", areas_file, *args, "--json", "-o", out)
    assert r.exit_code == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
    assert not out.exists()


def test_cli_missing_default_timeline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_IDLIB_SHAPEFILES", str(tmp_path))
    r = run("change", "--from", "2020-01-01", "--to", "2020-02-01")
    assert r.exit_code == 2 and "the embedded NW Syria timeline is missing; pass --areas TIMELINE" in r.stderr


def test_geojson_timeline_roundtrip(tmp_path):
    p = tmp_path / "t.geojson"
    io.write_vector(gpd.GeoDataFrame({"actor": ["a", "a"], "date": ["2020-01-01", "2020-01-02"]},
                                     geometry=[WEST, shapely.union(WEST, EAST)], crs="EPSG:4326"), p)
    r = run("change", "--areas", p, "--from", "2020-01-01", "--to", "2020-01-02", "--json")
    assert json.loads(r.stdout)["actors"][0]["gained_km2"] == round(km2(EAST), 3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_windowed_overlay_equals_direct_overlay(monkeypatch, seed):
    """Large areas are overlaid only inside windows where boundaries differ: same answer as overlaying
    everything (three actors, random Voronoi cells changing hands, plus ground nobody held)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frame = shapely.box(36.0, 35.0, 37.0, 36.0)
    seeds = shapely.multipoints(rng.uniform([36, 35], [37, 36], (60, 2)))
    cells = np.array([shapely.intersection(c, frame) for c in
                      shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))], dtype=object)
    cells = shapely.segmentize(cells, 0.002)  # many vertices, as real front lines have
    owner1 = rng.integers(0, 3, len(cells))
    owner2 = np.where(rng.random(len(cells)) < 0.15, rng.integers(0, 4, len(cells)), owner1)  # 3 = nobody
    names = np.array(["government", "opposition", "sdf", ""])

    def areas(owner):
        return {n: shapely.union_all(cells[owner == k]) for k, n in enumerate(names[:3]) if (owner == k).any()}

    a1, a2 = areas(owner1), areas(owner2)
    monkeypatch.setattr(change, "WINDOW_MIN_VERTICES", 10**9)
    direct_sum, direct = change._compare_areas(a1, a2)
    monkeypatch.setattr(change, "WINDOW_MIN_VERTICES", 0)
    assert len(change._windows(a1, a2, sorted(set(a1) | set(a2)))) >= 1
    direct_calls = []
    real = change._pieces_direct

    def spy(x, y):
        direct_calls.append(x is a1)
        return real(x, y)

    monkeypatch.setattr(change, "_pieces_direct", spy)
    win_sum, win = change._compare_areas(a1, a2)
    assert len(direct_calls) >= 1 and not any(direct_calls)  # per window, never the whole areas
    assert [r["actor"] for r in win_sum] == [r["actor"] for r in direct_sum]
    for rw, rd in zip(win_sum, direct_sum, strict=True):
        for k in ("area_from_km2", "area_to_km2", "gained_km2", "lost_km2", "net_km2"):
            assert rw[k] == pytest.approx(rd[k], rel=1e-9, abs=1e-9), (rw["actor"], k)
    for frame_ in (direct, win):
        assert (frame_["actor_from"] != frame_["actor_to"]).all()
    by = ["actor_from", "actor_to"]
    d = direct.groupby(by)["area_km2"].sum()
    w = win.groupby(by)["area_km2"].sum()
    assert d.index.tolist() == w.index.tolist() and w.to_numpy() == pytest.approx(d.to_numpy(), rel=1e-9)
    moved = owner1 != owner2
    expect = sum(km2(c) for c in cells[moved & (owner2 != 3)])
    assert w[w.index.get_level_values("actor_to") != ""].sum() == pytest.approx(expect, rel=1e-6)


def test_series_carries_uncertainty(tmp_path, areas_file):
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01", "--every", "month",
            "--format", "csv")
    df = pd.read_csv(_io.StringIO(r.stdout))
    assert df["uncertain_km2"].tolist() == [40.0, 60.0]


def test_change_polygons_and_snapshot_as_csv(tmp_path, areas_file):
    out = tmp_path / "change.csv"
    r = run("change", "--areas", areas_file, "--from", "2020-01-01", "--to", "2020-02-01", "-o", out)
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(out, keep_default_na=False)
    assert df.columns.tolist() == ["actor_from", "actor_to", "area_km2", "geometry"]
    assert df[["actor_from", "actor_to"]].values.tolist() == [["opposition", "government"], ["", "opposition"]]
    assert shapely.from_wkt(df["geometry"].iloc[0]).equals(BITE)
    snap = tmp_path / "snap.csv"
    assert run("areas", "at", areas_file, "--date", "2020-01-01", "-o", snap).exit_code == 0
    assert pd.read_csv(snap)["valid_from"].tolist() == ["2020-01-01", "2020-01-01"]


def test_pieces_between_says_who_held_each_changed_piece_before_and_after():
    a1 = {"government": WEST, "opposition": EAST}
    a2 = {"government": shapely.union(WEST, BITE), "opposition": shapely.union(shapely.difference(EAST, BITE), NEW)}
    src, dst, pieces = change.pieces_between(a1, a2)
    assert len(src) == len(dst) == len(pieces)
    moved = {(s, d): g for s, d, g in zip(src, dst, pieces, strict=True) if g.area > 0}
    assert sorted(moved) == [("", "opposition"), ("opposition", "government")]
    assert moved[("opposition", "government")].equals(BITE)
    assert moved[(change.NOBODY, "opposition")].equals(NEW)
    assert change.pieces_between(a1, dict(a1)) == ([], [], [])  # nothing changed: nothing overlaid
