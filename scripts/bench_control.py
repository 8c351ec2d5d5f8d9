"""`make bench` (control): change series and as-of join, side by side with the naive approach.

1. Change series over all 769 DeepState days (768 consecutive pairs): geo_idlib's
   ``change.series`` (difference per actor, only where the snapshots differ) against a naive
   ``geopandas.overlay(how="union")`` of each consecutive pair, keeping the pieces whose actor changed.
2. As-of join of 1,000,000 random events (points over the DeepState extent, dates over 2025) with a
   12-snapshot timeline (DeepState on the first available day of each month of 2025):
   ``join.asof_join`` against a loop of ``geopandas.sjoin`` calls, one per snapshot, each on that
   snapshot's events.

Each contender runs in its own fresh process (so neither inherits the other's memory), after its
inputs are loaded; the table reports wall seconds of the operation, the ratio naive/ours, and the
peak resident memory added by the operation (psutil RSS sampled every 2 ms) and in total. The
answers are compared too (km² per pair; actor per event).

    python -m scripts.bench_control [--pairs N] [--events N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from geo_idlib.territory import change, join
from geo_idlib.territory import timeline as timelines
from scripts.common import SHARED, PeakRSS, dispatch, run_worker

DEEPSTATE = SHARED / "data" / "deepstate_ukraine"


def _file_days():
    files = sorted(DEEPSTATE.glob("deepstatemap_data_*.geojson"))
    return files, [timelines.date_from_name(f.name) for f in files]


# --------------------------------------------------------------------------- workers (one per process)
def work_series_ours(args):
    from geo_idlib import pipeline

    t = pipeline.read_timeline(args.timeline)
    _, days = _file_days()
    days = days[: args.pairs + 1]
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        rows = change.series(t, days)
        secs = time.perf_counter() - t0
    return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "peak_mb": mem.peak / 2**20,
            "gained": [r["gained_km2"] for r in rows], "lost": [r["lost_km2"] for r in rows], "pairs": len(days) - 1}


def work_series_naive(args):
    import geopandas as gpd

    from geo_idlib import crs, pipeline

    t = pipeline.read_timeline(args.timeline)
    _, days = _file_days()
    days = days[: args.pairs + 1]
    snaps = [timelines.snapshot(t, d)[["actor", "geometry"]] for d in days]
    gained, lost = [], []
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        for a, b in zip(snaps, snaps[1:], strict=False):
            u = gpd.overlay(a, b, how="union", keep_geom_type=True)
            u["km2"] = crs.geodesic_area_km2(u)
            before, after = u["actor_1"].fillna(""), u["actor_2"].fillna("")
            moved = u[before != after]
            # the same sliver rule as geo_idlib, per polygon part, for a like-for-like answer
            parts = moved.explode(index_parts=False)
            parts = parts.assign(km2=crs.geodesic_area_km2(parts))
            parts = parts[parts["km2"] >= crs.SLIVER_KM2]
            gained.append(float(parts.loc[parts["actor_2"].fillna("") == "russia", "km2"].sum()))
            lost.append(float(parts.loc[parts["actor_1"].fillna("") == "russia", "km2"].sum()))
        secs = time.perf_counter() - t0
    return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "peak_mb": mem.peak / 2**20,
            "gained": gained, "lost": lost, "pairs": len(days) - 1}


def _events(n: int):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from geo_idlib import crs

    rng = np.random.default_rng(2025)
    lon = rng.uniform(31.5, 40.3, n)
    lat = rng.uniform(44.3, 50.5, n)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    return gpd.GeoDataFrame({"id": np.arange(n), "date": days.strftime("%Y-%m-%d")},
                            geometry=crs.points_from_latlon(lat, lon), crs=crs.WGS84)


def work_join_ours(args):
    from geo_idlib import pipeline

    t = pipeline.read_timeline(args.timeline)
    ev = _events(args.events)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = join.asof_join(ev, t)
        secs = time.perf_counter() - t0
    np_actor = out["actor"].to_numpy()
    return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "peak_mb": mem.peak / 2**20,
            "actors": "".join("r" if a == "russia" else "." for a in np_actor)}


def work_join_naive(args):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from geo_idlib import pipeline

    t = pipeline.read_timeline(args.timeline)
    ev = _events(args.events)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        dates = pd.to_datetime(ev["date"], format="%Y-%m-%d")
        pieces = []
        for _, area in t.iterrows():  # one sjoin per snapshot, on that snapshot's events
            sel = ev[(dates >= area["valid_from"]) & (dates < area["valid_to"])]
            snap = gpd.GeoDataFrame({"actor": [area["actor"]]}, geometry=[area.geometry], crs=t.crs)
            pieces.append(gpd.sjoin(sel, snap, how="left", predicate="intersects")[["id", "actor"]])
        joined = pd.concat(pieces).drop_duplicates("id").set_index("id")["actor"].reindex(ev["id"])
        secs = time.perf_counter() - t0
    actors = joined.fillna("").to_numpy()
    return {"seconds": secs, "peak_add_mb": (mem.peak - mem.base) / 2**20, "peak_mb": mem.peak / 2**20,
            "actors": "".join("r" if a == "russia" else "." for a in np.asarray(actors))}


WORKERS = {"series_ours": work_series_ours, "series_naive": work_series_naive,
           "join_ours": work_join_ours, "join_naive": work_join_naive}


def _spawn(name: str, timeline: Path, args) -> dict:
    return run_worker("scripts.bench_control", "--worker", name, "--timeline", str(timeline),
                      "--pairs", str(args.pairs), "--events", str(args.events))


def main(args) -> int:
    import geopandas as gpd
    import pandas as pd

    from geo_idlib import crs, pipeline

    files, days = _file_days()
    if len(files) != 769:
        print(f"SKIP: {DEEPSTATE} has {len(files)} DeepState files, expected 769", file=sys.stderr)
        return 0 if not files else 1
    args.pairs = min(args.pairs, len(files) - 1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_control_"))
    full = tmp / "deepstate.gpkg"
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        msg = pipeline.areas_build([str(f) for f in files], str(full), actor="russia")
        build_s = time.perf_counter() - t0
    print(f"areas build, 769 files ({sum(f.stat().st_size for f in files) / 2**20:.0f} MB): {build_s:.1f} s, "
          f"peak RSS {mem.peak / 2**20:.0f} MB — {msg}")
    t = pipeline.read_timeline(full)

    # a 12-snapshot timeline: the first available day of each month of 2025, valid for the month
    months = pd.date_range("2025-01-01", periods=13, freq="MS")
    rows = []
    for m0, m1 in zip(months[:-1], months[1:], strict=True):
        day = min(d for d in days if d >= m0)
        rows.append({"actor": "russia", "valid_from": m0, "valid_to": m1,
                     "geometry": timelines.actor_areas(t, day)["russia"]})
    t12 = timelines.load_timeline(gpd.GeoDataFrame(rows, geometry="geometry", crs=crs.WGS84), "12 snapshots")
    t12_path = tmp / "deepstate_12.gpkg"
    pipeline.write_timeline(t12, str(t12_path))

    so, sn = _spawn("series_ours", full, args), _spawn("series_naive", full, args)
    jo, jn = _spawn("join_ours", t12_path, args), _spawn("join_naive", t12_path, args)

    import numpy as np

    g_o, g_n = np.array(so["gained"]), np.array(sn["gained"])
    l_o, l_n = np.array(so["lost"]), np.array(sn["lost"])
    tot_o, tot_n = g_o.sum() + l_o.sum(), g_n.sum() + l_n.sum()
    worst = float(np.max(np.abs((g_o + l_o) - (g_n + l_n)))) if len(g_o) else 0.0
    agree = np.mean(np.frombuffer(jo["actors"].encode(), "u1") == np.frombuffer(jn["actors"].encode(), "u1"))

    print()
    print(f"{'task':<46} {'method':<34} {'seconds':>8} {'ratio':>6} {'+peak MB':>9} {'peak MB':>8}")
    for task, ours, naive, how in (
            (f"change series, {so['pairs']} consecutive DeepState pairs", so, sn, "geopandas.overlay per pair"),
            (f"as-of join, {args.events:,} events × 12 snapshots", jo, jn, "sjoin loop, one per snapshot")):
        print(f"{task:<46} {'geo_idlib':<34} {ours['seconds']:>8.2f} {'1.0':>6} {ours['peak_add_mb']:>9.0f} "
              f"{ours['peak_mb']:>8.0f}")
        print(f"{'':<46} {how:<34} {naive['seconds']:>8.2f} {naive['seconds'] / ours['seconds']:>6.1f} "
              f"{naive['peak_add_mb']:>9.0f} {naive['peak_mb']:>8.0f}")
    print()
    print(f"answers: change series total gained+lost {tot_o:,.3f} km² (geo_idlib) vs {tot_n:,.3f} km² (overlay), "
          f"largest per-pair difference {worst:.4f} km²; join: {agree:.6%} of events get the same actor "
          f"({jo['actors'].count('r'):,} in occupied territory)")
    io_note = "" if args.pairs == len(files) - 1 else f" (first {args.pairs} pairs only, --pairs)"
    print(f"notes: times exclude reading inputs; ratio = naive / geo_idlib; +peak MB = RSS added by the "
          f"operation{io_note}")
    ok = abs(tot_o - tot_n) <= 1e-3 * max(tot_n, 1) and agree > 0.9999
    if not ok:
        print("FAIL: the two methods disagree", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=sorted(WORKERS))
    ap.add_argument("--timeline")
    ap.add_argument("--pairs", type=int, default=768, help="consecutive DeepState pairs in the series (max 768)")
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the as-of join")
    dispatch(ap.parse_args(), WORKERS, main)
