"""`make eval`: how good is control inference from point reports, on real boundaries?

Ground truth: OCHA COD-AB Syria sub-districts (272 polygons, ../shared/data/ocha_syria_admin). Each
scheme gives every sub-district an actor (by governorate, or clusters of districts grown from
random seed districts, or the two sides of a random straight front; fixed seeds). The observations
are one point per sub-district: the OCHA adm3 label point, or (second run) the sub-district's
admin capital (a town location; the label point where OCHA gives no capital). We infer with
``infer.infer`` inside the country outline and score each actor's inferred area against the union
of its true sub-districts: IoU = |inferred ∩ true| / |inferred ∪ true| (geodesic km²). "overall" is
the area-weighted mean IoU; "correct" is the share of the country given to the right actor.

Also timed: the nationwide 2017 Wikipedia point snapshot (~6,100 points) inferred in one go.

Usage: .venv/bin/python -m scripts.eval_infer [--min-iou 0.8]   (exit 1 below the bound)
"""

from __future__ import annotations

import argparse
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_idlib.crs import geodesic_area_km2
from geo_idlib.territory import infer
from scripts.common import SHARED

OCHA = SHARED / "data" / "ocha_syria_admin"
WIKI = SHARED / "data" / "syria_places_wikipedia_2017" / "syria_places_wikipedia_2017.csv"


def load_truth():
    """(sub-districts, label points, capital points), each one row per adm3_pcode, EPSG:4326."""
    adm3 = gpd.read_file(OCHA / "syr_admin3_ocha_v02_20201217.geojson")[
        ["adm3_pcode", "adm2_pcode", "adm1_pcode", "geometry"]]
    pts = gpd.read_file(OCHA / "syr_adminpoints_ocha_v02_20201217.geojson")
    labels = pts[pts["admin_leve"] == 3][["adm3_pcode", "geometry"]].drop_duplicates("adm3_pcode")
    caps = gpd.read_file(OCHA / "syr_admincapitals_ocha_v02_20201217.geojson")
    caps = caps[caps["adm3_pcode"].fillna("") != ""].sort_values("adm_p_lvl", ascending=False)
    caps = caps[["adm3_pcode", "geometry"]].drop_duplicates("adm3_pcode")
    caps = pd.concat([caps, labels[~labels["adm3_pcode"].isin(caps["adm3_pcode"])]])
    return adm3.sort_values("adm3_pcode").reset_index(drop=True), labels, caps


def schemes(adm3: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Actor per sub-district for each scheme (fixed seeds)."""
    out = {"governorates (14)": adm3["adm1_pcode"].to_numpy()}
    c = shapely.get_coordinates(adm3.geometry.representative_point())
    districts = adm3.drop_duplicates("adm2_pcode")
    dc = shapely.get_coordinates(districts.geometry.representative_point())
    for k, seed in ((3, 1), (6, 2), (12, 3)):
        rng = np.random.default_rng(seed)
        seeds = dc[rng.choice(len(dc), size=k, replace=False)]
        d2 = ((c[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
        out[f"district clusters k={k} (seed {seed})"] = np.array([f"actor{i}" for i in d2.argmin(axis=1)])
    for seed in (4, 5):
        rng = np.random.default_rng(seed)
        ang = rng.uniform(0, np.pi)
        mid = c[rng.integers(len(c))]
        side = (c - mid) @ np.array([np.cos(ang), np.sin(ang)]) > 0
        out[f"straight front (seed {seed})"] = np.where(side, "east", "west")
    return out


def score(adm3, actors, points, *, max_distance_km=None):
    """Per-actor IoU table of the inference from ``points`` against the true dissolved areas."""
    actors = np.char.lower(np.asarray(actors, dtype=str))  # actor names are canonical lower-case
    obs_src = adm3[["adm3_pcode"]].assign(actor=actors).merge(points, on="adm3_pcode")
    obs = gpd.GeoDataFrame(obs_src.assign(date="2020-01-01", id=obs_src["adm3_pcode"]),
                           geometry="geometry", crs="EPSG:4326")
    obs = infer.prepare_observations(obs)
    country = shapely.union_all(adm3.geometry.values)
    inferred = infer.infer(obs, gpd.GeoSeries([country], crs="EPSG:4326"), max_distance_km=max_distance_km)
    rows = []
    for actor in sorted(set(actors)):
        true = shapely.union_all(adm3.geometry.values[actors == actor])
        inf = inferred.loc[inferred["actor"] == actor, "geometry"]
        inf = inf.iloc[0] if len(inf) else shapely.Polygon()
        inter, union, t_area = geodesic_area_km2([shapely.intersection(inf, true), shapely.union(inf, true), true])
        rows.append({"actor": actor, "true_km2": t_area, "inter_km2": inter, "union_km2": union,
                     "iou": inter / union if union else 1.0})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-iou", type=float, default=0.8, help="fail when an overall IoU is below this")
    args = ap.parse_args(argv)
    if not OCHA.exists():
        print(f"{OCHA} is missing: nothing to evaluate", file=sys.stderr)
        return 1
    adm3, labels, caps = load_truth()
    total = float(geodesic_area_km2(adm3).sum())
    failed = False
    print("Inference IoU against OCHA sub-districts (one point per sub-district; 272 points)")
    print(f"{'scheme':38s} {'points':9s} {'actors':>6s} {'min IoU':>8s} {'mean IoU':>9s} "
          f"{'overall':>8s} {'correct':>8s} {'time s':>7s}")
    for name, actors in schemes(adm3).items():
        for pname, pts in (("labels", labels), ("capitals", caps)):
            t0 = time.perf_counter()
            tab = score(adm3, actors, pts)
            dt = time.perf_counter() - t0
            overall = float((tab["iou"] * tab["true_km2"]).sum() / tab["true_km2"].sum())
            correct = float(tab["inter_km2"].sum() / total)
            failed |= overall < args.min_iou
            print(f"{name:38s} {pname:9s} {len(tab):6d} {tab['iou'].min():8.3f} {tab['iou'].mean():9.3f} "
                  f"{overall:8.3f} {correct:8.3f} {dt:7.2f}")
    print("\nPer actor, governorates from label points:")
    tab = score(adm3, schemes(adm3)["governorates (14)"], labels)
    print(tab.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))

    if WIKI.exists():
        w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
        lon = pd.to_numeric(w["lon"], errors="coerce")
        w = w[(w["is_place_marker"] == "1") & (w["controller"] != "") & (lon.abs() <= 180)]
        obs = infer.prepare_observations(w.assign(date="2017-07-01", actor=w["controller"])[
            ["date", "actor", "lat", "lon"]])
        country = gpd.GeoSeries([shapely.union_all(adm3.geometry.values)], crs="EPSG:4326")
        for md in (None, 10.0):
            t0 = time.perf_counter()
            t = infer.infer(obs, country, max_distance_km=md)
            dt = time.perf_counter() - t0
            print(f"\nnationwide 2017 snapshot: {len(obs):,} points, max distance {md} km -> "
                  f"{len(t)} actor areas in {dt:.2f} s")
    if failed:
        print(f"\nFAILED: an overall IoU is below {args.min_iou}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
