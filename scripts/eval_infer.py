"""`make eval`: how good is control inference from point reports, on real boundaries?

Ground truth: OCHA COD-AB Syria sub-districts (272 polygons, ../shared/data/ocha_syria_admin). Each
scheme gives every sub-district an actor (by governorate, or clusters of districts grown from
random seed districts, or the two sides of a random straight front; fixed seeds). The observations
are one point per sub-district: the OCHA adm3 label point, or (second run) the sub-district's
admin capital (a town location; the label point where OCHA gives no capital). We infer with
``infer.infer`` inside the country outline and score each actor's inferred area against the union
of its true sub-districts: IoU = |inferred ∩ true| / |inferred ∪ true| (geodesic km²). "overall" is
the area-weighted mean IoU; "correct" is the share of the country given to the right actor.

The *front band* (``infer.front_band``, whose ground is each actor's ``uncertain_km2``) is scored
by the share of the true front's length inside it: on the OCHA schemes (the true front: the
borders between sub-districts of different actors), and on DeepState days
(../shared/data/deepstate_ukraine): random points at the density of the 2017 settlement markers of
Idlib governorate (and a quarter of it) are given the side of the real polygon they fall in, the
areas and the band are inferred inside a window around the Donetsk and Zaporizhzhia fronts, and
the real front (the polygon's outline inside the window) is measured inside the band: one day in
detail, then the first day of each month, the months the band's width was calibrated on
(``--calibrate``, :func:`calibrate`) and the later ones held out. The target is ≥ 90 % of its length
on the held-out days (exit 3 below it, a finding of `make eval`). Last, the range of a change: each
held-out month's change of ground, inferred from the points reported again where their side
changed, against the real change.

Also timed: the nationwide 2017 Wikipedia point snapshot (~6,100 points) inferred in one go.

Usage: .venv/bin/python -m scripts.eval_infer [--min-iou 0.8] [--calibrate]   (exit 1 below the bound)
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_idlib.crs import geodesic_area_km2, geodesic_length_km
from geo_idlib.territory import infer
from scripts.common import SHARED, TARGET_MISSED, missing

OCHA = SHARED / "data" / "ocha_syria_admin"
WIKI = SHARED / "data" / "syria_places_wikipedia_2017" / "syria_places_wikipedia_2017.csv"
DEEPSTATE = SHARED / "data" / "deepstate_ukraine"
#: The DeepState day, and a window around the fronts of Donetsk and Zaporizhzhia oblasts that keeps
#: clear of the Russian border and the Dnipro (lon/lat: the real polygon's outline inside it is front).
DEEPSTATE_DAY = "20250301"
DEEPSTATE_WINDOW = (35.3, 47.4, 38.1, 49.8)
#: The share of the real front's length the band must hold.
MIN_BAND_COVERAGE = 0.90
#: DeepState months (YYYYMM, first day of each) the band width is calibrated on, and the seeds of
#: the random points; the months after them are held out (:func:`deepstate_table`).
CALIBRATION_MONTHS = ("202407", "202506")
HELD_OUT_MONTHS = ("202507", "202612")
CALIBRATION_SEEDS = (1, 2)
#: The share of calibration runs whose front the calibrated band must hold (:func:`calibrate`).
CALIBRATION_QUANTILE = 0.90


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
    """Per-actor IoU table of the inference from ``points`` against the true dissolved areas; its
    ``attrs["band"]`` is the share of the true borders between actors inside the front band."""
    actors = np.char.lower(np.asarray(actors, dtype=str))  # actor names are canonical lower-case
    obs_src = adm3[["adm3_pcode"]].assign(actor=actors).merge(points, on="adm3_pcode")
    obs = gpd.GeoDataFrame(obs_src.assign(date="2020-01-01", id=obs_src["adm3_pcode"]),
                           geometry="geometry", crs="EPSG:4326")
    obs = infer.prepare_observations(obs)
    country = gpd.GeoSeries([shapely.union_all(adm3.geometry.values)], crs="EPSG:4326")
    inferred = infer.infer(obs, country, max_distance_km=max_distance_km)
    rows, trues = [], []
    for actor in sorted(set(actors)):
        true = shapely.union_all(adm3.geometry.values[actors == actor])
        trues.append(true)
        inf = inferred.loc[inferred["actor"] == actor, "geometry"]
        inf = inf.iloc[0] if len(inf) else shapely.Polygon()
        inter, union, t_area = geodesic_area_km2([shapely.intersection(inf, true), shapely.union(inf, true), true])
        rows.append({"actor": actor, "true_km2": t_area, "inter_km2": inter, "union_km2": union,
                     "iou": inter / union if union else 1.0})
    tab = pd.DataFrame(rows)
    # the true front: every actor's outline inside the country (shared borders counted once)
    front = shapely.difference(shapely.union_all([t.boundary for t in trues]), country.iloc[0].boundary)
    tab.attrs["band"] = band_coverage(front, infer.front_band(obs, country, max_distance_km=max_distance_km))
    return tab


def band_coverage(front, band) -> float:
    """The share of the length of the lines ``front`` inside the polygon ``band`` (geodesic km)."""
    return float(geodesic_length_km([shapely.intersection(front, band)])[0] / geodesic_length_km([front])[0])


def deepstate_points(real, window, per_km2: float, seed: int, day: str):
    """Observations at one point per ``per_km2`` (uniform on the sphere, seeded) in ``window`` on
    ``day`` (YYYYMMDD), each given the side of the real polygon ``real`` it falls in."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = window.bounds
    n = int(round(float(geodesic_area_km2([window])[0]) / per_km2))
    lon = rng.uniform(x0, x1, n)
    lat = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(y0)), np.sin(np.radians(y1)), n)))
    actor = np.where(shapely.intersects_xy(real, lon, lat), "russia", "ukraine")
    return infer.prepare_observations(pd.DataFrame({"date": f"{day[:4]}-{day[4:6]}-{day[6:]}", "actor": actor,
                                                    "lat": lat, "lon": lon}))


def real_front(real, window):
    """The real polygon's outline inside the window (kept 0.01° clear of its edges): the front."""
    return shapely.intersection(real.boundary, shapely.buffer(window, -0.01, join_style="mitre"))


def deepstate_run(real, window, per_km2: float, seed: int, day: str = DEEPSTATE_DAY) -> dict:
    """Points at one per ``per_km2`` in ``window``, sided by the real polygon; the inferred area and
    band against the real ones."""
    obs = deepstate_points(real, window, per_km2, seed, day)
    t = infer.infer(obs, window).set_index("actor")
    inf, true = t.geometry["russia"], shapely.intersection(real, window)
    a_inf, a_true, inter, union = geodesic_area_km2(
        [inf, true, shapely.intersection(inf, true), shapely.union(inf, true)])
    u = float(t["uncertain_km2"]["russia"])
    return {**band_run(real, window, per_km2, seed, day, obs), "points": len(obs), "inferred_km2": a_inf,
            "uncertain_km2": u, "true_km2": a_true, "iou": inter / union, "within": abs(a_inf - a_true) <= u}


def band_run(real, window, per_km2: float, seed: int, day: str, obs=None) -> dict:
    """The front band of points at one per ``per_km2`` against the real front: the share of the
    front's length inside it, the front's length and the band's area."""
    obs = deepstate_points(real, window, per_km2, seed, day) if obs is None else obs
    band, front = infer.front_band(obs, window), real_front(real, window)
    return {"coverage": band_coverage(front, band), "front_km": float(geodesic_length_km([front])[0]),
            "band_km2": float(geodesic_area_km2([band])[0])}


def change_run(window, per_km2: float, seed: int, d1: str, d2: str) -> dict:
    """Russia's net change of ground in ``window`` from day ``d1`` to ``d2`` (YYYYMMDD), inferred
    from random points (one per ``per_km2``, seeded) reported with their side on ``d1`` and again on
    ``d2`` where it changed, against DeepState's polygons: the inferred change, its ± (the band that
    changed, ``change.compare``) and the real change."""
    from geo_idlib.territory import change

    real1, real2 = load_day(d1), load_day(d2)
    o1, o2 = (deepstate_points(r, window, per_km2, seed, d) for r, d in ((real1, d1), (real2, d2)))
    moved = o2[o2["actor"].to_numpy() != o1["actor"].to_numpy()]
    obs = infer.prepare_observations(pd.concat([
        pd.DataFrame({"date": o["date"].dt.strftime("%Y-%m-%d"), "actor": o["actor"], "lat": o.geometry.y,
                      "lon": o.geometry.x}) for o in (o1, moved)], ignore_index=True))
    t = infer.infer(obs, window)
    summary, _ = change.compare(t, o1["date"].iloc[0], o2["date"].iloc[0])
    row = next(r for r in summary if r["actor"] == "russia")
    a1, a2 = geodesic_area_km2([shapely.intersection(real1, window), shapely.intersection(real2, window)])
    return {"inferred_km2": row["net_km2"], "uncertain_km2": row["uncertain_km2"], "real_km2": a2 - a1,
            "moved": len(moved)}


def change_table(dens: float) -> None:
    """Print the check of the change's range on DeepState: one month's change, first day to first
    day, in each held-out month, at the settlement density (seed 1)."""
    window = shapely.box(*DEEPSTATE_WINDOW)
    days = month_days(*HELD_OUT_MONTHS)
    runs = [(d1, d2, change_run(window, dens, 1, d1, d2)) for d1, d2 in zip(days[:-1], days[1:], strict=True)]
    print("\nRussia's net change over one month (held-out months, settlement density, seed 1): inferred "
          "± the band that changed, against DeepState's polygons")
    print(f"{'from':>8s} {'to':>8s} {'reports moved':>13s} {'inferred km²':>17s} {'real km²':>8s} {'error':>6s} {'in range':>8s}")
    for d1, d2, r in runs:
        err = r["inferred_km2"] - r["real_km2"]
        print(f"{d1:>8s} {d2:>8s} {r['moved']:13d} {r['inferred_km2']:8,.0f} ± {r['uncertain_km2']:<6,.0f} "
              f"{r['real_km2']:8,.0f} {err:6,.0f} {'yes' if abs(err) <= r['uncertain_km2'] else 'no':>8s}")
    err = np.array([abs(r["inferred_km2"] - r["real_km2"]) for _, _, r in runs])
    pm = np.array([r["uncertain_km2"] for _, _, r in runs])
    print(f"real change within the range in {np.mean(err <= pm):.0%} of {len(runs)} months; mean |error| "
          f"{err.mean():,.0f} km², mean ± {pm.mean():,.0f} km² (the ± is a bound: the front at the band's "
          "edge all along at once)")


def month_days(first: str, last: str) -> list[str]:
    """The first DeepState day (YYYYMMDD) of each month from ``first`` to ``last`` (YYYYMM)."""
    days = sorted(p.name[18:26] for p in DEEPSTATE.glob("deepstatemap_data_*.geojson"))
    out = {}
    for d in days:
        if first <= d[:6] <= last:
            out.setdefault(d[:6], d)
    return list(out.values())


@cache
def load_day(day: str):
    """DeepState's polygon of ``day`` (YYYYMMDD), one geometry; each day's file is read once."""
    import pyogrio

    return shapely.union_all(pyogrio.read_dataframe(DEEPSTATE / f"deepstatemap_data_{day}.geojson").geometry.values)


def calibrate(*, show: bool = False) -> float:
    """The band width (step 0.01) that holds the real front along at least :data:`MIN_BAND_COVERAGE`
    of its length in 90 % of the calibration runs: for each run the smallest width that does, then
    their 90th percentile. The runs: the first DeepState day of each month of
    :data:`CALIBRATION_MONTHS`, points at the settlement density and a quarter of it, seeds
    :data:`CALIBRATION_SEEDS`. The held-out months are never looked at here."""
    window, dens = shapely.box(*DEEPSTATE_WINDOW), settlement_density()
    need = []
    for day in month_days(*CALIBRATION_MONTHS):
        real = load_day(day)
        front = real_front(real, window)
        for per in (dens, 4 * dens):
            for seed in CALIBRATION_SEEDS:
                obs = deepstate_points(real, window, per, seed, day)
                need.append(smallest_width(lambda w, obs=obs, front=front: band_coverage(
                    front, infer.front_band(obs, window, width=w))))
                if show:
                    print(f"{day} one per {per:5.1f} km² seed {seed}: width {need[-1]:.2f} holds "
                          f"{MIN_BAND_COVERAGE:.0%} of the front", flush=True)
    return float(np.quantile(need, CALIBRATION_QUANTILE, method="higher"))


def smallest_width(coverage, lo: int = 10, hi: int = 150) -> float:
    """The smallest width ``k / 100`` (``lo <= k <= hi``) whose ``coverage(width)`` is at least
    :data:`MIN_BAND_COVERAGE` (coverage grows with the width), by bisection; ``hi / 100`` if none.

    >>> smallest_width(lambda w: 2 * w)
    0.45
    """
    while lo < hi:
        mid = (lo + hi) // 2
        if coverage(mid / 100) >= MIN_BAND_COVERAGE:
            hi = mid
        else:
            lo = mid + 1
    return lo / 100


def settlement_density(adm1_pcode: str = "SY07") -> float:
    """km² per 2017 settlement marker inside one OCHA governorate (Idleb)."""
    adm1 = gpd.read_file(OCHA / "syr_admin1_ocha_v02_20201217.geojson")
    gov = adm1.loc[adm1["adm1_pcode"] == adm1_pcode, "geometry"].iloc[0]
    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    w = w[w["is_place_marker"] == "1"]
    lat, lon = pd.to_numeric(w["lat"], errors="coerce"), pd.to_numeric(w["lon"], errors="coerce")
    return float(geodesic_area_km2([gov])[0]) / int(shapely.intersects_xy(gov, lon, lat).sum())


def deepstate_table() -> float:
    """Print the DeepState band check; return the mean coverage on the held-out days at the
    settlement density."""
    window, dens = shapely.box(*DEEPSTATE_WINDOW), settlement_density()
    real = load_day(DEEPSTATE_DAY)
    print(f"\nFront band against DeepState ({DEEPSTATE_DAY[:4]}-{DEEPSTATE_DAY[4:6]}-{DEEPSTATE_DAY[6:]}, window "
          f"{DEEPSTATE_WINDOW}): random points at the density of the 2017 settlements of Idlib "
          f"(one per {dens:.1f} km²) and a quarter of it, sided by the real polygon; band width "
          f"{infer.BAND_WIDTH} × the reports' spacing on each side of the inferred front")
    print(f"{'density':>16s} {'seed':>4s} {'points':>6s} {'front km':>8s} {'in band':>7s} {'band km':>7s} "
          f"{'inferred km²':>19s} {'real km²':>8s} {'IoU':>6s} {'real in range':>13s}")
    for label, per in (("settlements", dens), ("settlements / 4", 4 * dens)):
        for seed in (1, 2, 3):
            r = deepstate_run(real, window, per, seed)
            print(f"{label:>16s} {seed:4d} {r['points']:6d} {r['front_km']:8.0f} {r['coverage']:7.1%} "
                  f"{r['band_km2'] / r['front_km']:7.1f} {r['inferred_km2']:>10,.0f} ± {r['uncertain_km2']:<6,.0f} "
                  f"{r['true_km2']:8,.0f} {r['iou']:6.3f} {'yes' if r['within'] else 'no':>13s}")
    print("(band km: the band's area per km of real front, i.e. its mean width)")
    print(f"\nBand coverage by month (first day of each; seed 1): the width was calibrated on "
          f"{CALIBRATION_MONTHS[0]}–{CALIBRATION_MONTHS[1]} (`--calibrate`), the later months are held out")
    print(f"{'set':>11s} {'density':>16s} {'days':>4s} {'mean in band':>12s} {'min':>6s} {'band km':>7s}")
    held = None
    for name, months in (("calibration", CALIBRATION_MONTHS), ("held out", HELD_OUT_MONTHS)):
        days = month_days(*months)
        for label, per in (("settlements", dens), ("settlements / 4", 4 * dens)):
            runs = [band_run(load_day(d), window, per, 1, d) for d in days]
            cover = np.array([r["coverage"] for r in runs])
            width = np.mean([r["band_km2"] / r["front_km"] for r in runs])
            print(f"{name:>11s} {label:>16s} {len(days):4d} {cover.mean():12.1%} {cover.min():6.1%} {width:7.1f}")
            if name == "held out" and label == "settlements":
                held = float(cover.mean())
    print(f"DeepState band coverage on held-out days, settlement density: {held:.1%} of the real front's "
          f"length (target ≥ {MIN_BAND_COVERAGE:.0%})")
    change_table(dens)
    return held


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-iou", type=float, default=0.8, help="fail when an overall IoU is below this")
    ap.add_argument("--calibrate", action="store_true",
                    help="print the band's coverage by width on the calibration days and the width to use")
    args = ap.parse_args(argv)
    if args.calibrate:
        if missing(DEEPSTATE, needed_for="the band calibration"):
            return 1
        w = calibrate(show=True)
        print(f"band width: {w:.2f} (infer.BAND_WIDTH is {infer.BAND_WIDTH})")
        return 0
    if missing(OCHA, needed_for="the inference evaluation"):
        return 1
    adm3, labels, caps = load_truth()
    total = float(geodesic_area_km2(adm3).sum())
    failed = False
    print("Inference IoU against OCHA sub-districts (one point per sub-district; 272 points)")
    print(f"{'scheme':38s} {'points':9s} {'actors':>6s} {'min IoU':>8s} {'mean IoU':>9s} "
          f"{'overall':>8s} {'correct':>8s} {'band':>6s} {'time s':>7s}")
    for name, actors in schemes(adm3).items():
        for pname, pts in (("labels", labels), ("capitals", caps)):
            t0 = time.perf_counter()
            tab = score(adm3, actors, pts)
            dt = time.perf_counter() - t0
            overall = float((tab["iou"] * tab["true_km2"]).sum() / tab["true_km2"].sum())
            correct = float(tab["inter_km2"].sum() / total)
            failed |= overall < args.min_iou
            print(f"{name:38s} {pname:9s} {len(tab):6d} {tab['iou'].min():8.3f} {tab['iou'].mean():9.3f} "
                  f"{overall:8.3f} {correct:8.3f} {tab.attrs['band']:6.1%} {dt:7.2f}")
    print("(band: the share of the true borders between actors inside the inferred front band)")
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
    coverage = deepstate_table() if DEEPSTATE.exists() else None
    if failed:
        print(f"\nFAILED: an overall IoU is below {args.min_iou}", file=sys.stderr)
        return 1
    if coverage is not None and coverage < MIN_BAND_COVERAGE:
        print(f"target missed: DeepState band coverage >= {MIN_BAND_COVERAGE:.0%} ({coverage:.1%})")
        return TARGET_MISSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
