"""`make bench` (infer): control inference from points, side by side with the naive geopandas way.

Input: the nationwide 2017 point snapshot (Wikipedia module, ~6,100 settlement markers with a
controller, ../shared) inside Syria's outline (OCHA admin-0).

* ours: ``infer.infer`` (Voronoi in a local equidistant projection, only boundary cells cut,
  one noded coverage per period, geodesic uncertainty per cell);
* naive: ``GeoSeries.voronoi_polygons`` in degrees → ``sjoin`` to find each cell's report →
  ``geopandas.clip`` to the outline → ``dissolve`` per actor (no uncertainty, no unknown).

Each contender runs in a fresh process after its inputs are loaded; the table gives wall seconds,
the ratio naive/ours, the peak resident memory added (psutil RSS sampled every 2 ms), and how far
the two answers differ (km² per actor; the naive cells bisect in degrees, not on the ground).
Also timed: ours with --max-distance 10 km, and the embedded NW Syria sample (35 periods).

    python -m scripts.bench_infer
"""

from __future__ import annotations

import json
import sys
import time

from geo_idlib.territory import infer
from scripts.common import ROOT, SHARED, PeakRSS, missing, run_worker

WIKI = SHARED / "data" / "syria_places_wikipedia_2017" / "syria_places_wikipedia_2017.csv"
ADM0 = SHARED / "data" / "ocha_syria_admin" / "syr_admin0_ocha_v02_20201217.geojson"


def _inputs():
    import geopandas as gpd
    import pandas as pd

    from geo_idlib.territory import infer

    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    lon = pd.to_numeric(w["lon"], errors="coerce")
    w = w[(w["is_place_marker"] == "1") & (w["controller"] != "") & (lon.abs() <= 180)]
    obs = infer.prepare_observations(w.assign(date="2017-07-01", actor=w["controller"])[["date", "actor", "lat", "lon"]])
    return obs, gpd.read_file(ADM0)


def work(kind: str) -> dict:
    import geopandas as gpd

    from geo_idlib import pipeline
    from geo_idlib.crs import geodesic_area_km2

    if kind == "sample":
        obs = pipeline.read_observations(str(ROOT / "shapefiles" / "nw_syria_observations.csv"))
        boundary = pipeline.read_boundary(str(ROOT / "shapefiles" / "nw_syria_extent.gpkg"))
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            t = infer.infer(obs, boundary, max_distance_km=10.0, until="2020-03-06")
            secs = time.perf_counter() - t0
        return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "rows": len(t), "points": len(obs)}
    obs, adm0 = _inputs()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        if kind == "naive":
            pts = obs[["actor", "geometry"]]
            cells = gpd.GeoDataFrame(geometry=pts.geometry.voronoi_polygons(), crs=pts.crs)
            cells = gpd.sjoin(cells, pts, predicate="contains")[["actor", "geometry"]]
            cells = gpd.clip(cells, adm0)
            out = cells.dissolve("actor").reset_index()
        else:
            out = infer.infer(obs, adm0, max_distance_km=10.0 if kind == "ours10" else None)
        secs = time.perf_counter() - t0
    km2 = dict(zip(out["actor"], geodesic_area_km2(out).tolist(), strict=True))
    return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "km2": km2, "points": len(obs)}


def run(kind: str) -> dict:
    return run_worker("scripts.bench_infer", "--worker", kind)


def main() -> int:
    if missing(WIKI, ADM0, needed_for="the inference benchmark"):
        return 1
    ours, naive, ours10, sample = run("ours"), run("naive"), run("ours10"), run("sample")
    print(f"control inference, {ours['points']:,} points of the 2017 snapshot inside Syria (OCHA outline)")
    print(f"{'contender':44s} {'seconds':>8s} {'ratio':>6s} {'peak +MB':>9s}")
    print(f"{'geo_idlib infer.infer':44s} {ours['seconds']:8.2f} {1.0:6.2f} {ours['peak_add_mb']:9.0f}")
    print(f"{'naive voronoi/sjoin/clip/dissolve (degrees)':44s} {naive['seconds']:8.2f} "
          f"{naive['seconds'] / ours['seconds']:6.2f} {naive['peak_add_mb']:9.0f}")
    print(f"{'geo_idlib infer.infer --max-distance 10':44s} {ours10['seconds']:8.2f} "
          f"{ours10['seconds'] / ours['seconds']:6.2f} {ours10['peak_add_mb']:9.0f}")
    print(f"{'NW Syria sample: ' + str(sample['points']) + ' obs, ' + str(sample['rows']) + ' rows':44s} "
          f"{sample['seconds']:8.2f} {'':6s} {sample['peak_add_mb']:9.0f}")
    print("\nkm² per actor, ours vs naive (the naive cells bisect in degrees):")
    for a in sorted(ours["km2"]):
        o, n = ours["km2"][a], naive["km2"].get(a, 0.0)
        print(f"  {a:8s} {o:12,.0f} {n:12,.0f} {100 * (n - o) / o:+6.2f} %")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        import logging

        logging.getLogger("geo_idlib").setLevel(logging.ERROR)
        print(json.dumps(work(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
