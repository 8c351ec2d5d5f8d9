"""Against reality: DeepState's daily polygons of occupied Ukraine (../shared/data/deepstate_ukraine).

Figures are checked against an independent computation (pyproj.Geod on shapely.difference of the
raw files, read directly with pyogrio), not against numbers typed into the test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from conftest import shared_file

from geo_idlib import pipeline
from geo_idlib.cli import cli
from geo_idlib.territory import change
from geo_idlib.territory import timeline as timelines

pytestmark = pytest.mark.shared
GEOD = pyproj.Geod(ellps="WGS84")
DIR = "data/deepstate_ukraine"


def raw(day: str):
    """The day's MultiPolygon straight from the file (no geo_idlib code involved)."""
    df = pyogrio.read_dataframe(shared_file(f"{DIR}/deepstatemap_data_{day}.geojson"))
    return shapely.union_all(df.geometry.values)


def geod_km2(g) -> float:
    return sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(g)) / 1e6


def geod_km2_no_slivers(g) -> tuple[float, float]:
    """(area of the polygons of at least 0.01 km², area of the smaller ones), each part on its own."""
    parts = [abs(GEOD.geometry_area_perimeter(p)[0]) / 1e6 for p in shapely.get_parts(g)
             if p.geom_type == "Polygon" and not p.is_empty]
    return sum(a for a in parts if a >= 0.01), sum(a for a in parts if a < 0.01)


@pytest.fixture(scope="module")
def small_timeline(tmp_path_factory):
    days = ["20240708", "20240709", "20240817", "20240820", "20250301", "20250302"]
    out = tmp_path_factory.mktemp("ds") / "tl.gpkg"
    files = [str(shared_file(f"{DIR}/deepstatemap_data_{d}.geojson")) for d in days]
    r = CliRunner().invoke(cli, ["areas", "build", *files, "--actor", "Russia", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_sanity_areas_match_the_source_notes(small_timeline):
    t = pipeline.read_timeline(small_timeline)
    assert timelines.coverage_text(t) == "2024-07-08 … 2025-03-02"
    a = timelines.actor_areas(t, "2024-07-08")["russia"]
    # SOURCE.txt: 2024-07-08 109,361 km2; 2025-03-01 112,396 km2 (geodesic)
    s1, _ = change.compare(t, "2024-07-08", "2025-03-01")
    assert round(s1[0]["area_from_km2"]) == pytest.approx(109_361, abs=1)
    assert round(s1[0]["area_to_km2"]) == pytest.approx(112_396, abs=1)
    assert s1[0]["area_from_km2"] == pytest.approx(geod_km2(raw("20240708")), rel=1e-9)
    assert a.is_valid


def test_gained_and_lost_equal_independent_pyproj(small_timeline):
    t = pipeline.read_timeline(small_timeline)
    for d1, d2 in (("20250301", "20250302"), ("20240709", "20240817"), ("20240708", "20250301")):
        g1, g2 = raw(d1), raw(d2)
        gained_ref, gained_slivers = geod_km2_no_slivers(shapely.difference(g2, g1))
        lost_ref, lost_slivers = geod_km2_no_slivers(shapely.difference(g1, g2))
        summary, polys = change.compare(t, pd.Timestamp(d1), pd.Timestamp(d2))
        (row,) = summary
        assert row["gained_km2"] == pytest.approx(gained_ref, rel=1e-3), (d1, d2)
        assert row["lost_km2"] == pytest.approx(lost_ref, rel=1e-3), (d1, d2)
        # the slivers dropped are the ones the independent computation finds
        assert polys.attrs["sliver_km2"] == pytest.approx(gained_slivers + lost_slivers, abs=1e-9)
        assert row["net_km2"] == pytest.approx(geod_km2(g2) - geod_km2(g1), rel=1e-9)
        assert row["net_km2"] == pytest.approx(row["gained_km2"] - row["lost_km2"] + gained_slivers - lost_slivers,
                                               rel=1e-6)
    assert gained_ref > 0 and polys["area_km2"].min() >= 0.01


def test_gap_days_hold_the_previous_map_and_outside_dates_state_the_range(small_timeline):
    runner = CliRunner()
    # 2024-08-18/19 have no file: the 2024-08-17 map holds
    r = runner.invoke(cli, ["areas", "at", str(small_timeline), "--date", "2024-08-19"])
    assert r.exit_code == 0
    feat = json.loads(r.stdout)["features"][0]
    assert feat["properties"]["valid_from"] == "2024-08-17" and feat["properties"]["valid_to"] == "2024-08-20"
    got = shapely.normalize(shapely.geometry.shape(feat["geometry"]))
    assert shapely.equals_exact(got, shapely.normalize(raw("20240817")), tolerance=1e-6)
    for day in ("2024-07-07", "2025-03-03"):
        r = runner.invoke(cli, ["areas", "at", str(small_timeline), "--date", day])
        assert r.exit_code == 2 and r.stdout == ""
        assert r.stderr.strip() == (f"Error: --date: {day} is outside the timeline, which covers "
                                    "2024-07-08 … 2025-03-02; choose a date in that range")


@pytest.mark.slow
def test_full_timeline_answers_every_covered_day(tmp_path):
    """All 769 files: the compact timeline's snapshot on every covered day is that day's file
    (or, on the 5 gap days, the previous file)."""
    files = sorted(shared_file(DIR).glob("deepstatemap_data_*.geojson"))
    assert len(files) == 769
    out = tmp_path / "full.gpkg"
    msg = pipeline.areas_build([str(f) for f in files], str(out), actor="russia")
    assert msg.endswith("from 769 file(s), covering 2024-07-08 … 2026-08-22")
    t = pipeline.read_timeline(out)
    assert len(t) < 769  # unchanged days share a row
    file_days = np.array([pd.Timestamp(f.stem[-8:]) for f in files], dtype="datetime64[ns]")
    wkb = [shapely.to_wkb(shapely.normalize(raw(f.stem[-8:]))) for f in files]
    row_wkb = [shapely.to_wkb(g) for g in shapely.normalize(t.geometry.to_numpy())]
    for day in pd.date_range("2024-07-08", "2026-08-22"):
        rows = timelines.active_rows(t, day)
        assert len(timelines.snapshot(t, day)) == len(rows) == 1, day
        k = np.searchsorted(file_days, np.datetime64(day, "ns"), side="right") - 1
        assert row_wkb[rows[0]] == wkb[k], day
