"""As-of join: events get the actor that held their place on their date; border rule; CLI."""

from __future__ import annotations

import io as _io
import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo_idlib import io
from geo_idlib.cli import cli
from geo_idlib.errors import CRSError, DateError, InputError
from geo_idlib.territory import join
from geo_idlib.territory import timeline as timelines

WEST = shapely.box(36.0, 35.0, 36.5, 35.5)
EAST = shapely.box(36.5, 35.0, 37.0, 35.5)


def timeline():
    """West: government; East: opposition until 2020-01-10, then government takes the east too,
    except a new opposition pocket drawn on 2020-01-20."""
    g = gpd.GeoDataFrame(
        {"actor": ["government", "opposition", "government", "government"],
         "valid_from": ["2020-01-01", "2020-01-01", "2020-01-10", "2020-01-01"],
         "valid_to": ["", "2020-01-10", "2020-02-01", "2020-01-02"]},
        geometry=[WEST, EAST, EAST, shapely.box(40, 40, 41, 41)], crs="EPSG:4326")
    return timelines.load_timeline(g, "t")


def days(out):
    assert str(out["valid_from"].dtype) == "datetime64[ns]"
    return ["" if pd.isna(v) else f"{v:%Y-%m-%d}" for v in out["valid_from"]]


def events(points, dates, crs="EPSG:4326", **extra):
    return gpd.GeoDataFrame({"date": dates, **extra}, geometry=shapely.points(points), crs=crs)


def test_events_take_the_actor_of_their_date():
    ev = events([(36.75, 35.25)] * 3 + [(36.25, 35.25), (10, 10)],
                ["2020-01-05", "2020-01-09", "2020-01-10", "2020-01-10", "2020-01-10"], id=list("abcde"))
    out = join.asof_join(ev, timeline())
    assert out["actor"].tolist() == ["opposition", "opposition", "government", "government", ""]
    assert days(out) == ["2020-01-01", "2020-01-01", "2020-01-10", "2020-01-01", ""]
    assert out["id"].tolist() == list("abcde") and out.crs == ev.crs


@pytest.mark.parametrize("budget", [0, 10**9], ids=["strtree", "scan"])
def test_border_point_goes_to_the_more_recent_area_then_actor_name(monkeypatch, budget):
    monkeypatch.setattr(join, "_SCAN_BUDGET", budget)
    t = timeline()
    on_edge = (36.5, 35.25)
    # Jan 5: west (gov, since Jan 1) and east (opp, since Jan 1) both cover the edge: same
    # valid_from, so the actor name that sorts first wins
    out = join.asof_join(events([on_edge, on_edge], ["2020-01-05", "2020-01-15"]), t)
    assert out["actor"].tolist() == ["government", "government"]
    assert days(out) == ["2020-01-01", "2020-01-10"]  # Jan 15: newer east area
    # with names reversed the other side wins the tie: the rule is the name, not the row order
    g = gpd.GeoDataFrame({"actor": ["zeta", "alpha"], "date": ["2020-01-01"] * 2}, geometry=[WEST, EAST],
                         crs="EPSG:4326")
    out = join.asof_join(events([on_edge], ["2020-01-01"]), timelines.load_timeline(g, "t"))
    assert out["actor"].tolist() == ["alpha"]
    # later valid_from beats the name
    g = gpd.GeoDataFrame({"actor": ["alpha", "zeta"], "valid_from": ["2020-01-01", "2020-01-03"]},
                         geometry=[WEST, EAST], crs="EPSG:4326")
    out = join.asof_join(events([on_edge], ["2020-01-05"]), timelines.load_timeline(g, "t"))
    assert out["actor"].tolist() == ["zeta"]
    # interiors only: the border point matches nothing
    out = join.asof_join(events([on_edge], ["2020-01-05"]), t, predicate="within")
    assert out["actor"].tolist() == [""]


def test_dates_outside_coverage_or_missing_get_no_actor(caplog):
    ev = events([(36.25, 35.25)] * 3, ["2019-12-31", "", "2020-01-05"])
    out = join.asof_join(ev, timeline())
    assert out["actor"].tolist() == ["", "", "government"]


def test_other_crs_events_keep_their_crs():
    ev = events([(36.25, 35.25)], ["2020-01-05"]).to_crs("EPSG:3857")
    out = join.asof_join(ev, timeline())
    assert out.crs == ev.crs and out["actor"].tolist() == ["government"]
    assert out.geometry.iloc[0].x == pytest.approx(ev.geometry.iloc[0].x)


@pytest.mark.parametrize("budget", [0, 10**9], ids=["strtree", "scan"])
def test_vectorised_join_equals_brute_force(monkeypatch, budget):
    monkeypatch.setattr(join, "_SCAN_BUDGET", budget)
    rng = np.random.default_rng(7)
    # 3 snapshots of 4 random overlapping-free Voronoi-like areas
    rows = []
    for k, day in enumerate(["2021-01-01", "2021-02-01", "2021-03-01"]):
        seeds = shapely.points(rng.uniform(0, 10, (4, 2)))
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=shapely.box(0, 0, 10, 10)))
        for j, c in enumerate(cells):
            rows.append({"actor": f"a{(j + k) % 3}", "date": day, "geometry": shapely.intersection(c, shapely.box(0, 0, 10, 10))})
    t = timelines.load_timeline(gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"), "random")
    n = 1500
    pts = rng.uniform(-1, 11, (n, 2))
    days = pd.to_datetime("2020-12-25") + pd.to_timedelta(rng.integers(0, 80, n), unit="D")
    ev = events(pts, days.strftime("%Y-%m-%d").tolist())
    got = join.asof_join(ev, t)["actor"].tolist()
    expect = []
    vf, vt = t["valid_from"].to_numpy(), t["valid_to"].to_numpy()
    geoms, actors = t.geometry.to_numpy(), t["actor"].to_numpy()
    for p, d in zip(shapely.points(pts), days.to_numpy(), strict=True):  # the reference: a plain loop
        live = (vf <= d) & (np.isnat(vt) | (d < vt)) & shapely.intersects(geoms, p)
        hits = sorted((-vf[i].astype("int64"), actors[i]) for i in np.flatnonzero(live))
        expect.append(hits[0][1] if hits else "")
    assert got == expect
    assert sum(a != "" for a in got) > n * 0.5


def test_library_errors():
    ev = events([(36.25, 35.25)], ["2020-01-05"])
    with pytest.raises(InputError, match=r"events: no column 'when' for --date-column \(columns: date\)"):
        join.asof_join(ev, timeline(), date_column="when")
    with pytest.raises(CRSError, match="events: layer has no CRS"):
        join.asof_join(ev.set_crs(None, allow_override=True), timeline())
    with pytest.raises(DateError, match=r"events: row 1: column `date` has '5 Jan 2020', not a date"):
        join.asof_join(events([(36.25, 35.25)], ["5 Jan 2020"]), timeline())


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def areas_file(tmp_path):
    p = tmp_path / "areas.gpkg"
    from geo_idlib.pipeline import write_timeline

    write_timeline(timeline(), str(p))
    return p


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_csv_in_csv_out(tmp_path, areas_file):
    src = tmp_path / "events.csv"
    src.write_text("id,date,lat,lon,note\n1,2020-01-05,35.25,36.75,\"shelling, east\"\n"
                   "2,2020-01-12,35.25,36.75,x\n3,2020-01-12,,,no place\n", encoding="utf-8")
    r = run("join", src, "--areas", areas_file)
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(_io.StringIO(r.stdout), dtype=str, keep_default_na=False)
    assert df.columns.tolist() == ["id", "date", "lat", "lon", "note", "actor", "valid_from"]
    assert df["actor"].tolist() == ["opposition", "government", ""]
    assert df["valid_from"].tolist() == ["2020-01-01", "2020-01-10", ""]
    assert df["note"].tolist()[0] == "shelling, east"
    out = tmp_path / "joined.csv"
    assert run("join", src, "--areas", areas_file, "-o", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == r.stdout


def test_cli_custom_columns_and_geojson_and_gpkg(tmp_path, areas_file):
    src = tmp_path / "events.csv"
    src.write_text("when,y,x\n2020-01-05,35.25,36.25\n", encoding="utf-8")
    r = run("join", src, "--areas", areas_file, "--date-column", "when", "--lat-column", "y", "--lon-column", "x",
            "-o", tmp_path / "out.geojson")
    assert r.exit_code == 0, r.stderr
    fc = json.loads((tmp_path / "out.geojson").read_text())
    assert fc["features"][0]["properties"]["actor"] == "government"
    assert fc["features"][0]["geometry"]["coordinates"] == [36.25, 35.25]
    gj = tmp_path / "ev.geojson"
    io.write_vector(events([(36.75, 35.25)], ["2020-01-05"], id=[7]), gj)
    r = run("join", gj, "--areas", areas_file)
    assert r.exit_code == 0 and json.loads(r.stdout)["features"][0]["properties"] == {
        "actor": "opposition", "date": "2020-01-05", "id": 7, "valid_from": "2020-01-01"}
    out = tmp_path / "out.gpkg"
    assert run("join", gj, "--areas", areas_file, "-o", out).exit_code == 0
    back = gpd.read_file(out)
    assert back["actor"].tolist() == ["opposition"] and back.crs.to_epsg() == 4326


@pytest.mark.parametrize("content,args,msg", [
    ("date,lat,lon\n2020-01-05,35.2,36.2\n", ["--date-column", "day"], "no column 'day' for --date-column"),
    ("date,latitude,lon\n2020-01-05,35.2,36.2\n", [], "no column 'lat' for --lat-column"),
    ("date,lat,lng\n2020-01-05,35.2,36.2\n", ["--lon-column", "long"], "no column 'long' for --lon-column"),
    ("date,lat,lon\n2020-01-05,north,36.2\n", [], "row 1: --lat-column 'lat' has 'north', not a latitude"),
    ("date,lat,lon\n2020-01-05,135.2,36.2\n", [], "row 1: --lat-column 'lat' has '135.2', not a latitude"),
    ("date,lat,lon\n05.01.2020,35.2,36.2\n", [], "row 1: column `date` has '05.01.2020', not a date"),
])
def test_cli_bad_events_one_line_no_output(tmp_path, areas_file, content, args, msg):
    src = tmp_path / "events.csv"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    r = run("join", src, "--areas", areas_file, *args, "-o", out)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
    assert not out.exists()


def test_cli_projected_gpkg_events_to_csv_in_wgs84(tmp_path, areas_file):
    src = tmp_path / "ev.gpkg"
    events([(36.75, 35.25), (36.25, 35.25)], ["2020-01-05", "2020-01-05"], n=[1, 2]).to_crs("EPSG:32637").to_file(src)
    out = tmp_path / "out.csv"
    r = run("join", src, "--areas", areas_file, "-o", out)
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(out, dtype=str)
    assert df.columns.tolist() == ["date", "n", "geometry", "actor", "valid_from"]
    assert df["actor"].tolist() == ["opposition", "government"]
    p = shapely.from_wkt(df["geometry"].iloc[0])
    assert (round(p.x, 6), round(p.y, 6)) == (36.75, 35.25)


def test_polygon_events_use_the_tree():
    ev = gpd.GeoDataFrame({"date": ["2020-01-05", "2020-01-05"]},
                          geometry=[shapely.box(36.1, 35.1, 36.2, 35.2), shapely.Point(36.75, 35.25)], crs="EPSG:4326")
    out = join.asof_join(ev, timeline())
    assert out["actor"].tolist() == ["government", "opposition"]
    # a polygon straddling the border: both areas intersect it; within matches neither
    ev = gpd.GeoDataFrame({"date": ["2020-01-05"]}, geometry=[shapely.box(36.4, 35.1, 36.6, 35.2)], crs="EPSG:4326")
    assert join.asof_join(ev, timeline())["actor"].tolist() == ["government"]
    assert join.asof_join(ev, timeline(), predicate="within")["actor"].tolist() == [""]


def test_existing_actor_column_is_replaced_with_a_warning_only_when_filled(caplog, monkeypatch):
    # the CLI turns propagation off; caplog listens at the root
    monkeypatch.setattr(logging.getLogger("geo_idlib"), "propagate", True)
    with caplog.at_level(logging.WARNING, logger="geo_idlib"):
        out = join.asof_join(events([(36.25, 35.25)], ["2020-01-05"], actor=[""]), timeline())
        assert out["actor"].tolist() == ["government"] and not caplog.messages
        out = join.asof_join(events([(36.25, 35.25)], ["2020-01-05"], actor=["x"]), timeline())
        assert out["actor"].tolist() == ["government"]
    assert set(caplog.messages) == {
        "events: the column(s) 'actor' are replaced by the join's answer; rename them to keep them"}


def test_front_distance_counts_other_sides_only():
    import geopandas as gpd
    import shapely


    g = gpd.GeoDataFrame({"actor": ["gov", "opp", "unknown"], "date": ["2020-01-01"] * 3},
                         geometry=[shapely.box(36, 35, 37, 36), shapely.box(37.2, 35, 38, 36),
                                   shapely.box(36, 36, 38, 37)], crs="EPSG:4326")
    t = timelines.load_timeline(g, "t")
    pts = shapely.points([(36.9, 35.5), (37.5, 35.5), (36.5, 35.5)])
    d = join.front_distance_km(pts, ["gov", "opp", ""], t, "2020-01-01")
    # gov point: 0.3° of longitude at 35.5° N to the opp square; opp point: 0.5° to the gov square
    # (the unknown square, 0.5° north of the first point, is not a side)
    km_per_deg = 111.32 * np.cos(np.radians(35.5))
    assert d[0] == pytest.approx(0.3 * km_per_deg, rel=0.01)
    assert d[1] == pytest.approx(0.5 * km_per_deg, rel=0.01)
    assert np.isnan(d[2])
