"""Control inference from dated point reports: hand-built geometry, and IoU on real OCHA boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from geo_idlib.crs import GEOD, geodesic_area_km2, haversine_km
from geo_idlib.errors import DateError, InputError
from geo_idlib.territory import infer
from geo_idlib.territory import timeline as timelines


def obs(rows):
    """Observations from (date, actor, lat, lon[, place]) tuples."""
    cols = ["date", "actor", "lat", "lon", "place"][: len(rows[0])]
    return infer.prepare_observations(pd.DataFrame(rows, columns=cols))


BOX = shapely.box(36.0, 35.0, 37.0, 36.0)  # 1° × 1° in NW Syria, 10,066 km²


def area(t, actor, day=None):
    sel = t[t["actor"] == actor]
    if day is not None:
        d = pd.Timestamp(day)
        sel = sel[(sel["valid_from"] <= d) & (sel["valid_to"].isna() | (sel["valid_to"] > d))]
    return float(geodesic_area_km2(sel).sum())


# ----------------------------------------------------------------------------- geometry
def test_two_points_split_a_square_along_their_bisector():
    t = infer.infer(obs([("2020-01-01", "government", 35.5, 36.25), ("2020-01-01", "opposition", 35.5, 36.75)]),
                      BOX)
    assert t["actor"].tolist() == ["government", "opposition"]
    assert str(t.crs) == "EPSG:4326"
    gov, opp = t.geometry
    # the two points are symmetric about 36.5°E: the bisector is that meridian
    assert gov.bounds[2] == pytest.approx(36.5, abs=1e-9)
    assert opp.bounds[0] == pytest.approx(36.5, abs=1e-9)
    a_gov, a_opp = area(t, "government"), area(t, "opposition")
    assert a_gov == pytest.approx(a_opp, rel=1e-9)
    assert a_gov + a_opp == pytest.approx(float(geodesic_area_km2([BOX])[0]), rel=1e-5)
    assert a_gov == pytest.approx(5033.1, abs=0.5)
    # both cells border the other actor: all of each is uncertain
    assert t["uncertain_km2"].tolist() == pytest.approx([a_gov, a_opp], rel=1e-6)


def test_bisector_is_the_set_of_points_equidistant_from_both_reports():
    t = infer.infer(obs([("2020-01-01", "a", 35.3, 36.2), ("2020-01-01", "b", 35.6, 36.6)]), BOX)
    a, b = t.geometry
    shared = shapely.intersection(a.boundary, b.boundary)
    xy = shapely.get_coordinates(shared)
    assert len(xy) >= 2
    n = len(xy)
    _, _, da = GEOD.inv(xy[:, 0], xy[:, 1], np.full(n, 36.2), np.full(n, 35.3))
    _, _, db = GEOD.inv(xy[:, 0], xy[:, 1], np.full(n, 36.6), np.full(n, 35.6))
    assert da.min() > 50_000
    assert np.abs(da - db).max() < 1.0  # metres, on the ellipsoid, 60-70 km from the reports


def test_max_distance_makes_unknown_ground():
    o = obs([("2020-01-01", "government", 35.3, 36.3), ("2020-01-01", "opposition", 35.7, 36.7)])
    t = infer.infer(o, BOX, max_distance_km=20)
    assert t["actor"].tolist() == ["government", "opposition", "unknown"]
    n = 4 * infer.DISK_QUAD_SEGS  # the disk is a regular n-gon in the circle (a 32-gon: 0.6 % less area)
    disk = n / 2 * np.sin(2 * np.pi / n) * 20**2
    assert area(t, "government") == pytest.approx(disk, rel=0.003)  # 57 km apart: full disks
    assert area(t, "opposition") == pytest.approx(disk, rel=0.003)
    assert area(t, "unknown") == pytest.approx(float(geodesic_area_km2([BOX])[0]) - 2 * disk, rel=1e-3)
    gov = t.geometry.iloc[0]
    xy = shapely.get_coordinates(gov)
    assert haversine_km(xy[:, 1], xy[:, 0], 35.3, 36.3).max() < 20.1
    assert t.loc[t["actor"] == "unknown", "obs_ids"].tolist() == [""]
    assert np.isnan(t.loc[t["actor"] == "unknown", "uncertain_km2"].iloc[0])
    # separated by unknown ground, neither borders the other
    assert t.loc[t["actor"] != "unknown", "uncertain_km2"].tolist() == [0.0, 0.0]


def test_a_gap_too_thin_to_matter_between_the_disks_is_not_unknown():
    # three government reports on a triangle around 35.5°N 36.5°E: their 10 km disks just fail to
    # meet in the middle when the triangle's circumradius is over 10 km
    def triangle(side_km):
        ang = np.radians([90, 210, 330])
        r = side_km / np.sqrt(3)
        return obs([("2020-01-01", "government", 35.5 + r * np.sin(a) / 111.2,
                     36.5 + r * np.cos(a) / (111.2 * np.cos(np.radians(35.5)))) for a in ang])

    centre = shapely.Point(36.5, 35.5)
    # circumradius 10.05 km: a gap about 0.1 km across (less with the 32-gons) is the reports' ground
    t = infer.infer(triangle(17.4), BOX, max_distance_km=10).set_index("actor")
    assert t.geometry["government"].contains(centre) and not t.geometry["unknown"].contains(centre)
    # circumradius 10.4 km: a curved triangle between the disks that holds a disk 0.78 km across,
    # wider than MIN_UNKNOWN_WIDTH_KM (0.5), stays unknown
    t = infer.infer(triangle(18.0), BOX, max_distance_km=10).set_index("actor")
    assert t.geometry["unknown"].contains(centre)
    hole = [p for p in shapely.get_parts(t.geometry["unknown"]) if p.contains(centre)][0]
    assert 0.9 < float(geodesic_area_km2([hole])[0]) < 1.1  # km² (measured 0.99)


def test_boundary_clip_with_two_parts_and_nothing_outside():
    parts = gpd.GeoDataFrame(geometry=[shapely.box(36.0, 35.0, 36.4, 35.4), shapely.box(36.6, 35.6, 37.0, 36.0)],
                             crs="EPSG:4326")
    t = infer.infer(obs([("2020-01-01", "a", 35.2, 36.2), ("2020-01-01", "b", 35.9, 36.9),
                           ("2020-01-01", "b", 35.5, 36.5)]), parts)
    total = float(geodesic_area_km2(parts).sum())
    assert area(t, "a") + area(t, "b") == pytest.approx(total, rel=1e-5)
    outside = shapely.difference(shapely.union_all(t.geometry.values), shapely.union_all(parts.geometry.values))
    assert float(geodesic_area_km2([outside])[0]) < 0.01  # km² of 2,000: output edges are geodesics, not parallels
    # the report between the parts (lying outside both) still claims the corner of part 0 nearest to it
    part0, part1 = geodesic_area_km2(parts)
    assert 0.5 * part0 < area(t, "a") < part0
    b = t.loc[t["actor"] == "b", "geometry"].iloc[0]
    assert float(geodesic_area_km2([shapely.intersection(b, parts.geometry.iloc[1])])[0]) == pytest.approx(part1, rel=1e-6)


def test_reports_whose_cell_misses_the_boundary_are_not_listed():
    # the report at 40°E is nearest to none of the box: its cell is empty inside it
    t = infer.infer(obs([("2020-01-01", "a", 35.5, 36.5), ("2020-01-01", "a", 35.5, 40.0),
                           ("2020-01-01", "b", 35.5, 36.9)]), BOX)
    assert t.set_index("actor")["obs_ids"].to_dict() == {"a": "1", "b": "3"}


def test_boundary_in_another_crs_is_transformed():
    b = gpd.GeoSeries([BOX], crs="EPSG:4326").to_crs("EPSG:32637")
    t = infer.infer(obs([("2020-01-01", "a", 35.5, 36.5)]), b)
    assert area(t, "a") == pytest.approx(float(geodesic_area_km2([BOX])[0]), rel=1e-4)


def test_uncertainty_of_a_row_of_reports_is_the_cells_bordering_another_actor():
    # three reports in a row west → east: a, a, b. No triangle to bound the front (but a sliver, the
    # row being curved in the local projection): the middle a-cell and the b-cell are in doubt.
    o = obs([("2020-01-01", "a", 35.5, 36.1), ("2020-01-01", "a", 35.5, 36.4), ("2020-01-01", "b", 35.5, 36.8)])
    t = infer.infer(o, BOX)
    cells = infer.infer(obs([("2020-01-01", "x", 35.5, 36.1), ("2020-01-01", "y", 35.5, 36.4),
                               ("2020-01-01", "z", 35.5, 36.8)]), BOX)
    a_mid, b_cell = area(cells, "y"), area(cells, "z")
    assert area(t, "a") == pytest.approx(area(cells, "x") + a_mid, rel=1e-6)
    assert t.set_index("actor")["uncertain_km2"].to_dict() == pytest.approx({"a": a_mid, "b": b_cell}, rel=1e-4)


def grid_obs(front_lon, step=0.1, derived_every=0):
    """Reports on a grid of ``step`` degrees over BOX (offset half a step): west of ``front_lon``
    government, east of it opposition; with ``derived_every`` k, every k-th column is derived."""
    lons = np.arange(36.0 + step / 2, 37.0, step)
    lats = np.arange(35.0 + step / 2, 36.0, step)
    rows = [("2020-01-01", "government" if lon < front_lon else "opposition", lat, lon,
             "yes" if derived_every and j % derived_every else "")
            for j, lon in enumerate(lons) for lat in lats]
    return infer.prepare_observations(pd.DataFrame(rows, columns=["date", "actor", "lat", "lon", "derived"]))


def test_the_front_band_spans_the_reports_on_either_side_of_the_front():
    # a straight front at 36.52°E between the report columns at 36.45° and 36.55°: the inferred
    # front is their bisector, 36.5°E, and the band reaches BAND_WIDTH times the columns' spacing
    # (0.1°) to either side of it, the whole box high
    w = 0.1 * infer.BAND_WIDTH
    o = grid_obs(36.52)
    band = infer.front_band(o, BOX)
    strip = shapely.box(36.5 - w, 35.0, 36.5 + w, 36.0)
    assert band.symmetric_difference(strip).area < 5e-3 * strip.area  # deg²: straight in the projection, not in degrees
    # the true front lies in it, all along; so does the inferred one (the bisector at 36.5°E)
    for lon in (36.52, 36.5):
        front = shapely.LineString([(lon, 35.0), (lon, 36.0)])
        assert shapely.intersection(front, band).length == pytest.approx(1.0, rel=2e-3)  # box edges bend a little
    # each actor's uncertain_km2 is its ground in the band: half of it on either side
    t = infer.infer(o, BOX)
    u = t.set_index("actor")["uncertain_km2"]
    west, whole = geodesic_area_km2([shapely.box(36.5 - w, 35, 36.5, 36), strip])
    assert u["government"] == pytest.approx(west, rel=2e-3)
    assert u["government"] + u["opposition"] == pytest.approx(whole, rel=2e-3)
    # a band of half the width is half as wide
    assert infer.front_band(o, BOX, width=infer.BAND_WIDTH / 2).area == pytest.approx(band.area / 2, rel=2e-3)


def test_the_band_is_as_wide_as_the_reports_are_far_apart_and_derived_reports_do_not_narrow_it():
    # the band's mean width (km² per km of front) is 2 × BAND_WIDTH × the spacing of the report
    # columns on either side of the front, east-west at 35.5°N: 0.1° = 9.06 km, 0.2° = 18.13 km
    def width_km(o):
        band = infer.front_band(o, BOX)
        return float(geodesic_area_km2([band])[0]) / float(haversine_km(35.0, 36.5, 36.0, 36.5))

    assert width_km(grid_obs(36.52, step=0.1)) == pytest.approx(2 * infer.BAND_WIDTH * 9.06, abs=0.05)
    assert width_km(grid_obs(36.52, step=0.2)) == pytest.approx(2 * infer.BAND_WIDTH * 18.13, abs=0.05)
    w = 0.2 * infer.BAND_WIDTH
    assert infer.front_band(grid_obs(36.52, step=0.2), BOX).symmetric_difference(
        shapely.box(36.6 - w, 35, 36.6 + w, 36)).area < 5e-3 * 2 * w
    # the 0.1° grid where four columns in five are derived from the others: the independent columns
    # are 36.05° and 36.55°, half a degree apart: the band is as wide as that spacing sets
    w = 0.5 * infer.BAND_WIDTH
    derived = infer.front_band(grid_obs(36.52, step=0.1, derived_every=5), BOX)
    assert derived.symmetric_difference(shapely.box(36.3 - w, 35, 36.3 + w, 36)).area < 5e-3 * 2 * w
    # derived reports still shape the areas: the same front as without the flag
    a = infer.infer(grid_obs(36.52, step=0.1, derived_every=5), BOX)
    b = infer.infer(grid_obs(36.52, step=0.1), BOX)
    assert a.geometry.iloc[0].equals(b.geometry.iloc[0])
    assert a["uncertain_km2"].sum() == pytest.approx(5 * b["uncertain_km2"].sum(), rel=5e-3)


def test_front_band_takes_the_reports_in_force_on_its_day():
    o = pd.concat([pd.DataFrame({"date": "2020-01-01", "actor": "a", "lat": [35.2, 35.8, 35.5],
                                 "lon": [36.2, 36.2, 36.8], "place": ["p", "q", "r"]}),
                   pd.DataFrame({"date": "2020-02-01", "actor": ["b"], "lat": [35.5], "lon": [36.8], "place": ["r"]})])
    o = infer.prepare_observations(o)
    assert infer.front_band(o, BOX, day="2020-01-15").is_empty  # one side only: no front
    assert infer.front_band(o, BOX).area > 0.3
    with pytest.raises(DateError, match="before the first observation"):
        infer.front_band(o, BOX, day="2019-12-31")


# ----------------------------------------------------------------------------- time
def test_latest_report_wins_and_periods_break_at_changes():
    rows = pd.DataFrame({
        "id": ["r3", "r1", "r2", "r4", "r5"],
        "date": ["2020-02-06", "2020-01-01", "2020-01-01", "2020-02-10", "2020-03-01"],
        "actor": ["government", "opposition", "government", "opposition", "opposition"],
        "lat": [35.86447, 35.86447, 35.5, 35.86447, 35.86447],
        "lon": [36.80591, 36.80591, 36.3, 36.80591, 36.80591],
    })
    t = infer.infer(infer.prepare_observations(rows), BOX, until="2020-03-06")
    t["vf"] = t["valid_from"].dt.strftime("%Y-%m-%d")
    t["vt"] = t["valid_to"].dt.strftime("%Y-%m-%d")
    assert t[["actor", "vf", "vt", "obs_ids"]].values.tolist() == [
        ["government", "2020-01-01", "2020-02-06", "r2"],
        ["opposition", "2020-01-01", "2020-02-06", "r1"],
        ["government", "2020-02-06", "2020-02-10", "r2;r3"],
        ["government", "2020-02-10", "2020-03-07", "r2"],
        # r5 re-confirms the same actor: no new period, but its id is kept
        ["opposition", "2020-02-10", "2020-03-07", "r4;r5"],
    ]
    whole = float(geodesic_area_km2([BOX])[0])
    assert area(t, "government", "2020-02-07") == pytest.approx(whole, rel=1e-5)
    assert area(t, "government", "2020-01-15") + area(t, "opposition", "2020-01-15") == pytest.approx(whole, rel=1e-5)


def test_a_place_is_one_place_under_its_name_even_when_coordinates_differ():
    # "Saraqib" reported at two slightly different points: the later report replaces the earlier one
    t = infer.infer(obs([("2020-01-01", "opposition", 35.86447, 36.80591, "Saraqib"),
                           ("2020-02-06", "government", 35.86111, 36.80611, "saraqib")]), BOX)
    late = t[t["valid_from"] == pd.Timestamp("2020-02-06")]
    assert late["actor"].tolist() == ["government"]
    assert late["obs_ids"].tolist() == ["2"]


def test_two_villages_with_one_name_far_apart_stay_two_places():
    # two "Sheikh Ali" 45 km apart: a report at one must not move or replace the other
    t = infer.infer(obs([("2020-01-01", "a", 35.2, 36.2, "Sheikh Ali"), ("2020-01-01", "b", 35.6, 36.2, "x"),
                           ("2020-01-02", "b", 35.6, 36.6, "Sheikh Ali")]), BOX)
    late = t[t["valid_from"] == pd.Timestamp("2020-01-02")]
    assert late["actor"].tolist() == ["a", "b"]
    assert late["obs_ids"].tolist() == ["1", "2;3"]
    keys = infer._name_keys(np.array(["p", "p", "p", ""], dtype=object), np.array([35.0, 35.01, 35.5, 35.0]),
                                  np.array([36.0, 36.0, 36.0, 36.0]))
    assert keys[:3].tolist() == ["p#0", "p#0", "p#2"] and pd.isna(keys[3])


def test_same_day_reports_later_row_wins():
    t = infer.infer(obs([("2020-01-01", "a", 35.5, 36.5), ("2020-01-01", "b", 35.5, 36.5)]), BOX)
    assert t["actor"].tolist() == ["b"]
    assert t["obs_ids"].tolist() == ["2"]


def test_places_appear_when_first_reported():
    t = infer.infer(obs([("2020-01-01", "a", 35.5, 36.2), ("2020-01-05", "b", 35.5, 36.8)]), BOX)
    first = t[t["valid_from"] == pd.Timestamp("2020-01-01")]
    assert first["actor"].tolist() == ["a"]
    assert pd.isna(t["valid_to"].iloc[-1])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"date": ["2020-01-01"], "lat": [35], "lon": [36]}), "missing column(s) actor"),
    (pd.DataFrame({"date": ["01/02/2020"], "actor": ["a"], "lat": [35], "lon": [36]}), "row 1: column `date`"),
    (pd.DataFrame({"date": ["2020-01-01"], "actor": [""], "lat": [35], "lon": [36]}), "row 1: empty actor"),
    (pd.DataFrame({"date": ["2020-01-01"], "actor": ["a"], "lat": [""], "lon": [36]}), "row 1 (id 1) has no location"),
    (pd.DataFrame({"date": ["2020-01-01"], "actor": ["a"], "lat": [35], "lon": [366514]}), "not a WGS84 position"),
    (pd.DataFrame({"id": ["x", "x"], "date": ["2020-01-01"] * 2, "actor": ["a"] * 2, "lat": [35] * 2,
                   "lon": [36] * 2}), "duplicate id 'x'"),
    (pd.DataFrame({"date": ["2020-01-01"], "actor": ["a"], "lat": [35], "lon": [36], "Derived": ["maybe"]}),
     "row 1 (id 1): derived 'maybe' is not yes or no"),
])
def test_bad_observations_get_one_line_errors(frame, message):
    with pytest.raises(InputError) as e:
        infer.prepare_observations(frame, "obs.csv")
    assert message in str(e.value)
    assert str(e.value).startswith("obs.csv: ")
    assert "\n" not in str(e.value)


def test_bad_infer_arguments():
    o = obs([("2020-01-01", "a", 35.5, 36.5)])
    with pytest.raises(InputError, match="not a positive number of km"):
        infer.infer(o, BOX, max_distance_km=0)
    with pytest.raises(InputError, match="no report lies inside the boundary"):
        infer.infer(o, shapely.box(0, 0, 1, 1))
    with pytest.raises(DateError, match="before the last observation"):
        infer.infer(o, BOX, until="2019-12-31")


# ----------------------------------------------------------------------------- real boundaries
OCHA = "data/ocha_syria_admin/"


@pytest.fixture(scope="module")
def ocha():
    adm3 = gpd.read_file(shared_file(OCHA + "syr_admin3_ocha_v02_20201217.geojson"))
    pts = gpd.read_file(shared_file(OCHA + "syr_adminpoints_ocha_v02_20201217.geojson"))
    labels = pts[pts["admin_leve"] == 3][["adm3_pcode", "geometry"]]
    adm3 = adm3.sort_values("adm3_pcode").reset_index(drop=True)
    return adm3, labels, gpd.GeoSeries([shapely.union_all(adm3.geometry.values)], crs="EPSG:4326")


def overall_iou(adm3, labels, country, actors, shuffle_seed=None):
    """Area-weighted IoU of the areas inferred from one label point per sub-district."""
    o = adm3[["adm3_pcode"]].assign(actor=actors).merge(labels, on="adm3_pcode")
    if shuffle_seed is not None:  # a broken inference: reports carry the wrong actors
        o["actor"] = np.random.default_rng(shuffle_seed).permutation(o["actor"].to_numpy())
    o = infer.prepare_observations(gpd.GeoDataFrame(o.assign(date="2020-01-01"), geometry="geometry",
                                                      crs="EPSG:4326"))
    t = infer.infer(o, country)
    num = den = 0.0
    for actor in sorted(set(actors)):
        true = shapely.union_all(adm3.geometry.values[actors == actor])
        inf = t.loc[t["actor"] == actor, "geometry"]
        inf = inf.iloc[0] if len(inf) else shapely.Polygon()
        inter, union, t_area = geodesic_area_km2([shapely.intersection(inf, true), shapely.union(inf, true), true])
        num += inter / union * t_area
        den += t_area
    return num / den


@pytest.mark.shared
def test_inferred_governorates_match_ocha_boundaries(ocha):
    adm3, labels, country = ocha
    actors = adm3["adm1_pcode"].str.lower().to_numpy()
    assert len(adm3) == 272 and len(set(actors)) == 14
    assert overall_iou(adm3, labels, country, actors) >= 0.80  # measured 0.835 (scripts/eval_infer.py)


@pytest.mark.shared
def test_inferred_straight_front_matches_ocha_boundaries_and_a_broken_inference_fails(ocha):
    adm3, labels, country = ocha
    c = shapely.get_coordinates(adm3.geometry.representative_point())
    actors = np.where(c[:, 0] + 0.5 * c[:, 1] > 38.0 + 0.5 * 35.0, "east", "west")
    assert 50 < (actors == "east").sum() < 222
    assert overall_iou(adm3, labels, country, actors) >= 0.90  # measured 0.937 (0.986-0.993 in eval_infer)
    assert overall_iou(adm3, labels, country, actors, shuffle_seed=1) < 0.8


@pytest.mark.shared
@pytest.mark.slow
def test_the_real_deepstate_front_lies_in_the_band_and_a_wrong_band_misses_it():
    import pyogrio

    from scripts import eval_infer

    real = shapely.union_all(pyogrio.read_dataframe(shared_file(
        f"data/deepstate_ukraine/deepstatemap_data_{eval_infer.DEEPSTATE_DAY}.geojson")).geometry.values)
    window = shapely.box(*eval_infer.DEEPSTATE_WINDOW)
    r = eval_infer.deepstate_run(real, window, 15.0, seed=1)  # points at the 2017 settlements' density
    assert r["coverage"] >= 0.90  # measured 99.8 % (seeds 1-3: 96.6-99.8 %)
    assert r["iou"] > 0.9 and r["within"]
    # the band of another day's polygon misses much of this day's front: the measure can fail
    front = shapely.intersection(real.boundary, shapely.buffer(window, -0.01, join_style="mitre"))
    other = shapely.union_all(pyogrio.read_dataframe(shared_file(
        "data/deepstate_ukraine/deepstatemap_data_20240708.geojson")).geometry.values)
    lat, lon = shapely.get_coordinates(shapely.points(np.random.default_rng(1).uniform((35.3, 47.4), (38.1, 49.8),
                                                                                      (3000, 2))))[:, ::-1].T
    o = infer.prepare_observations(pd.DataFrame({"date": "2024-07-08", "lat": lat, "lon": lon, "actor": np.where(
        shapely.intersects_xy(other, lon, lat), "russia", "ukraine")}))
    assert eval_infer.band_coverage(front, infer.front_band(o, window)) < 0.8


@pytest.mark.shared
@pytest.mark.slow
def test_the_band_width_is_the_one_calibrated_on_deepstate_and_the_change_lies_in_its_range():
    # BAND_WIDTH is fitted on the calibration months only (eval_infer --calibrate, about a minute): a
    # change to how the band is built must refit it, not keep a width fitted to another band
    from scripts import eval_infer

    shared_file("data/deepstate_ukraine/deepstatemap_data_20250601.geojson")
    assert eval_infer.calibrate() == infer.BAND_WIDTH
    # one held-out month's change: the real change lies inside the inferred change ± its band
    window = shapely.box(*eval_infer.DEEPSTATE_WINDOW)
    r = eval_infer.change_run(window, 15.0, 1, "20250801", "20250901")
    assert r["moved"] > 10 and r["real_km2"] == pytest.approx(429, abs=1)  # DeepState's own change
    assert abs(r["inferred_km2"] - r["real_km2"]) <= r["uncertain_km2"]  # measured 471 ± 863 km²


def test_areas_of_one_period_never_overlap():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(35.05, 35.95, 300), rng.uniform(36.05, 36.95, 300)
    actors = np.where(lon + 0.3 * np.sin(lat * 20) > 36.5, "government", "opposition")
    o = infer.prepare_observations(pd.DataFrame({"date": "2020-01-01", "actor": actors, "lat": lat, "lon": lon}))
    t = infer.infer(o, BOX, max_distance_km=4)
    assert sorted(t["actor"]) == ["government", "opposition", "unknown"]
    g = t.geometry.values
    assert shapely.is_valid(g).all()
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            assert not shapely.relate_pattern(g[i], g[j], "T********"), (t["actor"][i], t["actor"][j])
    assert float(geodesic_area_km2(t).sum()) == pytest.approx(float(geodesic_area_km2([BOX])[0]), rel=1e-4)


# ----------------------------------------------------------------------------- CLI
def run_cli(*args):
    from click.testing import CliRunner

    from geo_idlib.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_areas_infer_writes_a_timeline_that_loads(tmp_path, caplog):
    src = tmp_path / "obs.csv"
    src.write_text("id,date,actor,lat,lon,source\n"
                   "s1,2019-12-18,opposition,35.86447,36.80591,Reuters\n"
                   "a1,2019-12-18,government,35.74058,37.0448,TRT\n"
                   "s2,2020-02-06,government,35.86447,36.80591,AP\n", encoding="utf-8")
    box = tmp_path / "box.geojson"
    box.write_text(gpd.GeoSeries([BOX], crs="EPSG:4326").to_json(), encoding="utf-8")
    out = tmp_path / "t.gpkg"
    r = run_cli("areas", "infer", str(src), "--within", str(box), "--max-distance", "15", "--until", "2020-03-06",
                "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stderr and "2019-12-18 … 2020-03-06" in r.stderr
    assert r.stdout == ""
    from geo_idlib import pipeline

    with caplog.at_level("WARNING", logger="geo_idlib"):
        t = pipeline.read_timeline(str(out))
    assert not [rec for rec in caplog.records if rec.levelname == "WARNING"]
    assert timelines.coverage(t) == (pd.Timestamp("2019-12-18"), pd.Timestamp("2020-03-06"))
    snap = timelines.snapshot(t, "2020-02-10")
    assert snap["actor"].tolist() == ["government", "unknown"]
    assert snap["obs_ids"].tolist()[0] == "a1;s2"
    # refuses to overwrite; a bad option value names the flag
    r = run_cli("areas", "infer", str(src), "--within", str(box), "-o", str(out))
    assert r.exit_code == 2 and "already exists" in r.stderr
    r = run_cli("areas", "infer", str(src), "--within", str(box), "--max-distance", "0", "-o", str(tmp_path / "x.gpkg"))
    assert r.exit_code == 2 and "--max-distance" in r.stderr


def test_cli_areas_infer_bad_input_leaves_no_output(tmp_path):
    src = tmp_path / "obs.csv"
    src.write_text("date,who,lat,lon\n2020-01-01,government,35.5,36.5\n", encoding="utf-8")
    out = tmp_path / "t.gpkg"
    r = run_cli("areas", "infer", str(src), "--within", "Idlib", "-o", str(out))
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [f"Error: {src}: missing column(s) actor; observations need date, actor "
                                             "and lat + lon (or a place name, or point geometries)"]
    assert not out.exists()
    src.write_text("date,actor,lat,lon\n2020-13-01,government,35.5,36.5\n", encoding="utf-8")
    r = run_cli("areas", "infer", str(src), "--within", "Idlib", "-o", str(out))
    assert r.exit_code == 2 and "row 1: column `date` has '2020-13-01'" in r.stderr
    r = run_cli("areas", "infer", str(src), "--within", "Atlantis", "-o", str(out))
    assert r.exit_code == 2 and "--within Atlantis" in r.stderr and "Idlib" in r.stderr
    assert not out.exists()


def test_cli_areas_infer_reads_point_layers(tmp_path):
    pts = gpd.GeoDataFrame({"date": ["2020-01-01", "2020-01-01"], "actor": ["Government", "opposition"],
                            "source": ["a", "b"]},
                           geometry=gpd.points_from_xy([36.25, 36.75], [35.5, 35.5]), crs="EPSG:4326")
    gj, gp = tmp_path / "obs.geojson", tmp_path / "obs.gpkg"
    gj.write_text(pts.to_json(), encoding="utf-8")
    pts.to_crs("EPSG:32637").to_file(gp, engine="pyogrio")  # another CRS: transformed on reading
    box = tmp_path / "box.geojson"
    box.write_text(gpd.GeoSeries([BOX], crs="EPSG:4326").to_json(), encoding="utf-8")
    from geo_idlib import pipeline

    for src in (gj, gp):
        out = tmp_path / f"t_{src.suffix[1:]}.geojson"
        r = run_cli("areas", "infer", str(src), "--within", str(box), "-o", str(out))
        assert r.exit_code == 0, r.output
        t = pipeline.read_timeline(str(out))
        assert t["actor"].tolist() == ["government", "opposition"]
        assert t.geometry.iloc[0].bounds[2] == pytest.approx(36.5, abs=1e-6)


@pytest.mark.slow
def test_cli_areas_infer_geocodes_place_names(tmp_path):
    src = tmp_path / "obs.csv"
    src.write_text("date,actor,place\n2019-12-18,opposition,Saraqeb\n2020-02-06,government,Saraqib\n"
                   "2019-12-18,government,Khan Shaykhun\n", encoding="utf-8")
    out = tmp_path / "t.geojson"
    r = run_cli("--quiet", "areas", "infer", str(src), "--within", "Idlib", "--country", "SY", "-o", str(out))
    assert r.exit_code == 0, r.output
    from geo_idlib import pipeline

    t = pipeline.read_timeline(str(out))
    # Saraqeb and Saraqib geocode to the same GeoNames place: the later report replaces the first
    assert timelines.snapshot(t, "2020-02-06")["actor"].tolist() == ["government"]
    r = run_cli("areas", "infer", str(src.with_name("x.csv")), "--within", "Idlib", "-o", str(tmp_path / "x.gpkg"))
    assert r.exit_code == 2 and "x.csv: no such" in r.stderr
    src.with_name("u.csv").write_text("date,actor,place\n2019-12-18,opposition,Qwxyzzyville\n", encoding="utf-8")
    r = run_cli("areas", "infer", str(src.with_name("u.csv")), "--within", "Idlib", "-o", str(tmp_path / "u.gpkg"))
    assert r.exit_code == 2 and "'Qwxyzzyville' is not in the gazetteer" in r.stderr


def test_units_named_by_name_or_alternate_name_case_insensitively():
    units = gpd.GeoDataFrame({"name": ["Aleppo", "Idlib", "Hama"], "name_alt": [None, "Idleb|Edlib", ""]},
                             geometry=[shapely.box(37, 36, 38, 37), BOX, shapely.box(36, 34, 37, 35)],
                             crs="EPSG:4326")
    assert infer.units_named(units, " EDLIB,hama ,Idlib")["name"].tolist() == ["Idlib", "Hama"]
    with pytest.raises(InputError) as e:
        infer.units_named(units, "Idlib,Atlantis,Gondor")
    assert str(e.value) == ("--within Idlib,Atlantis,Gondor: no such file, nor governorate(s) 'atlantis, gondor'; "
                            "give a polygon file or names among: Aleppo, Hama, Idlib")
    with pytest.raises(InputError, match=r"^--within ,: .* governorate\(s\) ','"):
        infer.units_named(units, ",")


def test_observation_table_gives_points_with_a_place_lat_lon_to_geocode_the_rest():
    import pyproj

    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True).transform(36.80591, 35.86447)
    layer = gpd.GeoDataFrame({" Date": ["2020-02-06", "2020-02-07"], "ACTOR": ["government", "opposition"],
                              "Place": ["Saraqib", "Sarmin"]},
                             geometry=[shapely.Point(x, y), None], crs="EPSG:32637")
    table = infer.observation_table(layer, "obs.gpkg")
    assert not isinstance(table, gpd.GeoDataFrame)
    assert table.columns.tolist() == ["date", "actor", "place", "lat", "lon"]
    assert table[["lat", "lon"]].values.tolist() == [["35.864470", "36.805910"], ["", ""]]  # Sarmin: geocode it
    plain = pd.DataFrame({"Date": ["2020-02-06"], "Actor": ["government"], " PLACE ": ["Saraqib"]})
    assert infer.observation_table(plain).columns.tolist() == ["date", "actor", "place"]
    without_place = layer.drop(columns="Place")
    assert infer.observation_table(without_place) is without_place  # prepare_observations reads its points
    with pytest.raises(Exception, match="obs.gpkg: layer has no CRS"):
        infer.observation_table(layer.set_crs(None, allow_override=True), "obs.gpkg")


# ----------------------------------------------------------------------------- the band over time
def two_dates():
    """The 0.1° grid with the front at 36.52°E on 1 Jan; on 1 Feb one opposition report in the
    north-west corner of the opposition side (35.95°N, 36.55°E) goes to the government."""
    o = grid_obs(36.52)
    moved = pd.DataFrame({"date": ["2020-02-01"], "actor": ["government"], "lat": [35.95], "lon": [36.55]})
    return infer.prepare_observations(pd.concat([pd.DataFrame({"date": o["date"].dt.strftime("%Y-%m-%d"),
                                                               "actor": o["actor"], "lat": o.geometry.y,
                                                               "lon": o.geometry.x}), moved], ignore_index=True))


def test_the_front_band_layer_keeps_a_piece_that_holds_as_one_row():
    from geo_idlib.territory import change

    o = two_dates()
    t = infer.infer(o, BOX)
    band = t.attrs["front_band"]
    assert list(band.columns) == ["valid_from", "valid_to", "geometry"] and str(band.crs) == "EPSG:4326"
    # on each date the pieces in force make the band of that date
    for day in ("2020-01-15", "2020-02-15"):
        on = (band["valid_from"] <= day) & (band["valid_to"].isna() | (band["valid_to"] > day))
        assert shapely.union_all(band.geometry[on].values).symmetric_difference(
            infer.front_band(o, BOX, day=day)).area < 1e-5  # deg²: hairlines of union and transform
    # most of the front did not move: its pieces (8 of the 10 segments, all but the two beside the
    # moved report) hold over both periods, one row each
    lasting = band[band["valid_from"].eq(pd.Timestamp("2020-01-01")) & band["valid_to"].isna()]
    assert len(lasting) == 8
    assert shapely.union_all(lasting.geometry.values).area > 0.79 * infer.front_band(o, BOX, day="2020-01-15").area
    b1, b2 = change.changed_band(band, "2020-01-15", "2020-02-15")
    assert b1.bounds[1] > 35.6 and b2.bounds[1] > 35.6  # only the north end changed


def test_change_counts_only_the_band_that_changed():
    from geo_idlib.territory import change

    t = infer.infer(two_dates(), BOX)
    summary, _ = change.compare(t, "2020-01-15", "2020-02-15")
    u = {r["actor"]: r["uncertain_km2"] for r in summary}
    # without the band: the government's ground in the band on both dates, the whole front twice
    plain = t.copy()
    plain.attrs = {}
    u_plain = {r["actor"]: r["uncertain_km2"] for r in change.compare(plain, "2020-01-15", "2020-02-15")[0]}
    assert u_plain["government"] == pytest.approx(area_sum(t, "2020-01-15") + area_sum(t, "2020-02-15"), rel=1e-9)
    assert 0 < u["government"] < 0.3 * u_plain["government"]
    # by hand: the government's ground in the pieces of one date only
    b1, b2 = change.changed_band(t.attrs["front_band"], "2020-01-15", "2020-02-15")
    a1, a2 = timelines.actor_areas(t, "2020-01-15"), timelines.actor_areas(t, "2020-02-15")
    by_hand = geodesic_area_km2([shapely.intersection(a1["government"], b1), shapely.intersection(a2["government"], b2)])
    assert u["government"] == pytest.approx(float(by_hand.sum()), rel=1e-9)
    # the same dates: nothing changed, nothing in doubt
    assert all(r["uncertain_km2"] == 0 for r in change.compare(t, "2020-02-15", "2020-02-20")[0])


def area_sum(t, day):
    rows = t[(t["actor"] == "government") & (t["valid_from"] <= day) & (t["valid_to"].isna() | (t["valid_to"] > day))]
    return float(rows["uncertain_km2"].sum())


def test_a_timeline_geopackage_keeps_its_front_band_and_other_formats_do_not(tmp_path):
    from geo_idlib import pipeline

    t = infer.infer(two_dates(), BOX)
    pipeline.write_timeline(t, str(tmp_path / "t.gpkg"))
    back = pipeline.read_timeline(str(tmp_path / "t.gpkg"))
    assert back["actor"].tolist() == t["actor"].tolist()
    band, again = t.attrs["front_band"], back.attrs["front_band"]
    assert again["valid_from"].tolist() == band["valid_from"].tolist()
    assert again["valid_to"].isna().tolist() == band["valid_to"].isna().tolist()
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(again.geometry, band.geometry, strict=True))
    pipeline.write_timeline(t, str(tmp_path / "t.geojson"))
    assert "front_band" not in pipeline.read_timeline(str(tmp_path / "t.geojson")).attrs
