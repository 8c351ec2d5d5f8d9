"""`make eval` (change): DeepState month by month, geo_idlib against an independent computation.

For each month of 2025 (first available DeepState day of the month to the first of the next),
``geo-idlib``'s gained/lost km² (timeline built from the 13 files, ``change.compare``) are set
beside pyproj.Geod areas of ``shapely.difference`` of the raw files read directly with pyogrio
(same 0.01 km² sliver rule, applied per polygon). Exits non-zero if any figure differs by more
than 0.1%.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from scripts.common import SHARED

DEEPSTATE = SHARED / "data" / "deepstate_ukraine"
GEOD = None


def geod_km2_parts(g):
    """(km² of polygons ≥ 0.01 km², count and km² of smaller ones), each polygon on its own."""
    import shapely

    areas = [abs(GEOD.geometry_area_perimeter(p)[0]) / 1e6 for p in shapely.get_parts(g)
             if p.geom_type == "Polygon" and not p.is_empty]
    small = [a for a in areas if a < 0.01]
    return sum(a for a in areas if a >= 0.01), len(small), sum(small)


def main() -> int:
    global GEOD
    import pandas as pd
    import pyogrio
    import pyproj
    import shapely

    from geo_idlib import pipeline
    from geo_idlib.territory import change
    from geo_idlib.territory import timeline as timelines

    GEOD = pyproj.Geod(ellps="WGS84")
    files = sorted(DEEPSTATE.glob("deepstatemap_data_*.geojson"))
    if not files:
        print(f"SKIP: no DeepState files in {DEEPSTATE}", file=sys.stderr)
        return 0
    by_day = {timelines.date_from_name(f.name): f for f in files}
    months = pd.date_range("2025-01-01", periods=13, freq="MS")
    picks = [min(d for d in by_day if d >= m) for m in months]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.gpkg"
        pipeline.areas_build([str(by_day[d]) for d in picks], str(out), actor="russia")
        t = pipeline.read_timeline(out)
    raw = {d: shapely.union_all(pyogrio.read_dataframe(by_day[d]).geometry.values) for d in picks}
    print(f"{'from':<11} {'to':<11} {'gained km²':>11} {'reference':>11} {'lost km²':>9} {'reference':>10} "
          f"{'slivers':>7} {'max rel. diff':>13}")
    worst = 0.0
    for d1, d2 in zip(picks[:-1], picks[1:], strict=True):
        (row,), polys = change.compare(t, d1, d2)
        g_ref, g_n, _ = geod_km2_parts(shapely.difference(raw[d2], raw[d1]))
        l_ref, l_n, _ = geod_km2_parts(shapely.difference(raw[d1], raw[d2]))
        rel = max(abs(row["gained_km2"] - g_ref) / max(g_ref, 1e-9), abs(row["lost_km2"] - l_ref) / max(l_ref, 1e-9))
        worst = max(worst, rel)
        print(f"{d1:%Y-%m-%d}  {d2:%Y-%m-%d}  {row['gained_km2']:>11.3f} {g_ref:>11.3f} {row['lost_km2']:>9.3f} "
              f"{l_ref:>10.3f} {polys.attrs['slivers_dropped']:>7} {rel:>13.2e}")
        if polys.attrs["slivers_dropped"] != g_n + l_n:
            print(f"  slivers differ: {polys.attrs['slivers_dropped']} vs {g_n + l_n}", file=sys.stderr)
            worst = max(worst, 1.0)
    print(f"\nworst relative difference {worst:.2e} (tolerance 1e-3); reference = pyproj.Geod on shapely.difference "
          "of the raw files")
    return 0 if worst <= 1e-3 else 1


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    sys.exit(main())
