"""Territorial change between two dates of a control timeline, in geodesic km².

Only the ground that changed hands is overlaid: for each actor, the area it held on the first date
but not on the second (``shapely.difference``), split by who held it on the second date; and the
ground nobody held on the first date that someone holds on the second. Actors whose area did not
change are skipped (identical geometries compare equal by WKB). For large areas even that runs only
inside *windows*: boxes around the boundary segments (hashed per actor, 64-bit) found on one date
but not the other, with every area clipped to each box first (:func:`_windows`). The result equals
overlaying everything (tested), at a fraction of the cost; there is no overlay of everything.

Areas are geodesic (:func:`geo_idlib.crs.geodesic_area_km2`, WGS84 ellipsoid). Change polygons
smaller than :data:`geo_idlib.crs.SLIVER_KM2` (0.01 km² = 1 ha) are *slivers*: redrawing noise of
the source maps. They are dropped from the change polygons and from ``gained_km2``/``lost_km2``,
and counted (``slivers_dropped``, ``sliver_km2``). ``net_km2`` is ``area_to_km2 - area_from_km2``
exactly, so ``gained - lost`` differs from ``net`` by at most the sliver area.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from ..errors import DateError
from . import geom
from .timeline import active_rows, actor_areas, check_covered, parse_date

#: Where no actor holds the ground (``actor_from``/``actor_to`` of change polygons).
NOBODY = ""
EVERY = ("week", "month")


def compare(timeline, d1, d2, *, what_from: str = "--from", what_to: str = "--to"):
    """Who gained and lost how much ground between ``d1`` and ``d2``.

    Returns
    -------
    summary : list of dict
        One row per actor (sorted by name): ``actor, area_from_km2, area_to_km2, gained_km2,
        lost_km2, net_km2`` plus ``uncertain_km2`` when the timeline has that column (the area in
        doubt on either date: the net change may be off by up to this much; with the timeline's
        front band, only the part of the band that changed between the dates, see
        :func:`changed_band`).
    polygons : GeoDataFrame
        ``actor_from, actor_to, area_km2, geometry`` (EPSG:4326), one row per changed polygon,
        largest first; ``actor_from``/``actor_to`` is ``""`` where nobody held the ground.
        ``polygons.attrs`` holds ``slivers_dropped`` and ``sliver_km2``.

    Raises :class:`DateError` when ``d1`` is later than ``d2`` or a date is outside the timeline.

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"actor": ["gov", "opp", "gov", "opp"],
    ...     "date": ["2020-01-01", "2020-01-01", "2020-02-01", "2020-02-01"]},
    ...     geometry=[shapely.box(36, 35, 36.5, 36), shapely.box(36.5, 35, 37, 36),
    ...               shapely.box(36, 35, 36.75, 36), shapely.box(36.75, 35, 37, 36)], crs="EPSG:4326")
    >>> from geo_idlib.territory.timeline import load_timeline
    >>> t = load_timeline(g, "example")
    >>> summary, polys = compare(t, "2020-01-01", "2020-02-01")
    >>> [(r["actor"], round(r["gained_km2"], 1), round(r["lost_km2"], 1)) for r in summary]
    [('gov', 2516.6, 0.0), ('opp', 0.0, 2516.6)]
    >>> polys[["actor_from", "actor_to"]].values.tolist()
    [['opp', 'gov']]
    """
    t1 = check_covered(timeline, d1, what_from)
    t2 = check_covered(timeline, d2, what_to)
    if t1 > t2:
        raise DateError(f"{what_from} {t1:%Y-%m-%d} is later than {what_to} {t2:%Y-%m-%d}; "
                        "give the earlier date to --from")
    a1, a2 = actor_areas(timeline, t1), actor_areas(timeline, t2)
    summary, polygons = _compare_areas(a1, a2)
    _add_uncertain(summary, timeline, t1, t2, a1, a2)
    return summary, polygons


def _add_uncertain(summary: list[dict], timeline, d1, d2, a1: dict | None = None, a2: dict | None = None) -> None:
    """Give each summary row ``uncertain_km2`` when the timeline has that column: the actor's area
    in doubt on ``d1`` plus on ``d2``. With the timeline's front band (``attrs["front_band"]``,
    :func:`geo_idlib.territory.infer.infer`), only the band that changed counts: a piece of the band
    that stayed the same from ``d1`` to ``d2`` lies between the same reports, so whatever the front
    does there it does on both dates and cancels in the difference. ``a1``, ``a2``: the actors'
    areas on the two dates (:func:`actor_areas`), when already at hand."""
    if "uncertain_km2" not in timeline.columns:
        return
    band = timeline.attrs.get("front_band")
    if band is None:
        u1, u2 = _uncertain(timeline, d1), _uncertain(timeline, d2)
    else:
        b1, b2 = changed_band(band, d1, d2)
        u1 = _in_band(a1 if a1 is not None else actor_areas(timeline, d1), b1)
        u2 = _in_band(a2 if a2 is not None else actor_areas(timeline, d2), b2)
    for row in summary:
        row["uncertain_km2"] = u1.get(row["actor"], 0.0) + u2.get(row["actor"], 0.0)


def changed_band(band, d1, d2):
    """``(on d1, on d2)``: the pieces of a front band layer (``valid_from``, ``valid_to``,
    geometry) in force on one date and not the other, each as one geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> band = gpd.GeoDataFrame({"valid_from": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-02-01"]),
    ...                          "valid_to": pd.to_datetime(["2020-02-01", None, None])},
    ...                         geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 0, 6, 1), shapely.box(2, 0, 3, 1)])
    >>> [g.bounds for g in changed_band(band, "2020-01-15", "2020-02-15")]
    [(0.0, 0.0, 1.0, 1.0), (2.0, 0.0, 3.0, 1.0)]
    """
    vf, vt = band["valid_from"], band["valid_to"]
    t1, t2 = pd.Timestamp(d1), pd.Timestamp(d2)
    on1 = ((vf <= t1) & (vt.isna() | (vt > t1))).to_numpy()
    on2 = ((vf <= t2) & (vt.isna() | (vt > t2))).to_numpy()
    geoms = band.geometry.to_numpy()
    return geom.union(geoms[on1 & ~on2]), geom.union(geoms[on2 & ~on1])


def _in_band(areas: dict, band) -> dict[str, float]:
    """Geodesic km² of each actor's area inside ``band``."""
    if band.is_empty:
        return {}
    names = sorted(areas)
    return dict(zip(names, _crs.geodesic_area_km2(shapely.intersection([areas[x] for x in names], band)).tolist(),
                    strict=True))


def _uncertain(timeline, day) -> dict[str, float]:
    rows = active_rows(timeline, day)
    u = pd.to_numeric(timeline["uncertain_km2"].iloc[rows], errors="coerce").fillna(0.0)
    return u.groupby(timeline["actor"].iloc[rows].to_numpy()).sum().to_dict()


def _same(g1, g2) -> bool:
    if g1 is None or g2 is None:
        return g1 is g2
    return g1 is g2 or shapely.to_wkb(g1) == shapely.to_wkb(g2)


#: Above this many vertices in the changed areas, overlays run only inside the windows where the
#: two dates' boundaries differ (see :func:`_windows`); below it, on the whole areas.
WINDOW_MIN_VERTICES = 2000
_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                 dtype=np.uint64)


def _segments(areas: dict, actors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Boundary segments ``(n, 4)`` of each actor's area (endpoints in canonical order) and a 64-bit
    key per (actor, segment)."""
    names = [x for x in actors if x in areas]
    parts, owner = shapely.get_parts(np.array([areas[x] for x in names], dtype=object), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    actor = np.array([actors.index(x) for x in names], dtype=np.uint64)[owner[ring_part[idx[:-1][same]]]]
    swap = ((a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1])))[:, None]
    seg = np.ascontiguousarray(np.hstack([np.where(swap, b, a), np.where(swap, a, b)]))
    with np.errstate(over="ignore"):
        key = (seg.view(np.uint64) * _HASH).sum(axis=1, dtype=np.uint64) + actor * np.uint64(0x94D049BB133111EB)
        key ^= key >> np.uint64(31)
    return seg, key


def _windows(a1: dict, a2: dict, actors: list[str], margin: float = 1e-6) -> np.ndarray:
    """Disjoint boxes ``(n, 4)`` that contain every boundary segment of an actor's area found on
    only one of the two dates.

    Where an actor's boundary is identical on both dates, so is its ground; every piece of ground
    that changed hands is bounded by differing segments and, the boxes being merged until they no
    longer overlap (with a margin), lies inside one box. Box edges cross only shared segments, so
    clipping both dates to a box cuts them identically.
    """
    s1, k1 = _segments(a1, actors)
    s2, k2 = _segments(a2, actors)
    diff = np.vstack([s1[~np.isin(k1, k2)], s2[~np.isin(k2, k1)]])
    if len(diff) == 0:
        return np.zeros((0, 4))
    b = np.hstack([np.minimum(diff[:, :2], diff[:, 2:]) - margin, np.maximum(diff[:, :2], diff[:, 2:]) + margin])
    while True:  # merge overlapping boxes into their bounding box until none overlap
        i, j = shapely.STRtree(shapely.box(*b.T)).query(shapely.box(*b.T), predicate="intersects")
        label = np.arange(len(b))
        while True:  # connected components by label propagation (min label over each overlap)
            new = label.copy()
            np.minimum.at(new, i, label[j])
            new = new[new]
            if (new == label).all():
                break
            label = new
        groups, inv = np.unique(label, return_inverse=True)
        if len(groups) == len(b):
            return b
        merged = np.empty((len(groups), 4))
        merged[:, :2] = np.inf
        merged[:, 2:] = -np.inf
        np.minimum.at(merged[:, 0], inv, b[:, 0])
        np.minimum.at(merged[:, 1], inv, b[:, 1])
        np.maximum.at(merged[:, 2], inv, b[:, 2])
        np.maximum.at(merged[:, 3], inv, b[:, 3])
        b = merged


def pieces_between(a1: dict, a2: dict) -> tuple[list[str], list[str], list]:
    """The ground that changed hands between two snapshots ``{actor: geometry}`` (EPSG:4326).

    Returns three lists of the same length, ``(actor_from, actor_to, geometry)``: who held each
    piece on the first date and who holds it on the second (:data:`NOBODY` where nobody does).
    Pieces are raw overlay results: they may be empty, or collections with lines and points along
    shared borders (keep their polygons with :func:`geo_idlib.territory.geom.polygon_parts`), and
    slivers are not dropped (:func:`compare` does both). Actors whose area is identical on both
    dates are skipped; large areas are overlaid only inside the windows where the two dates'
    boundaries differ (:func:`_windows`), after clipping every area to each window; small ones
    directly.

    Examples
    --------
    >>> a1 = {"gov": shapely.box(0, 0, 1, 1), "opp": shapely.box(1, 0, 2, 1)}
    >>> a2 = {"gov": shapely.box(0, 0, 1.5, 1), "opp": shapely.box(1.5, 0, 2, 1)}
    >>> src, dst, pieces = pieces_between(a1, a2)
    >>> [(s, d, p.area) for s, d, p in zip(src, dst, pieces) if p.area > 0]
    [('opp', 'gov', 0.5)]
    """
    actors = sorted(set(a1) | set(a2))
    moved = [x for x in actors if not _same(a1.get(x), a2.get(x))]
    if not moved:
        return [], [], []
    g1s = [a1[x] for x in moved if x in a1]
    g2s = [a2[x] for x in moved if x in a2]
    if int(shapely.get_num_coordinates(np.array(g1s + g2s, dtype=object)).sum()) < WINDOW_MIN_VERTICES:
        return _pieces_direct(a1, a2)
    src, dst, geoms = [], [], []
    for x0, y0, x1, y1 in _windows({x: a1[x] for x in moved if x in a1}, {x: a2[x] for x in moved if x in a2},
                                   moved):
        try:
            c1 = {x: shapely.clip_by_rect(g, x0, y0, x1, y1) for x, g in a1.items()}
            c2 = {x: shapely.clip_by_rect(g, x0, y0, x1, y1) for x, g in a2.items()}
            clean = all(g.is_valid for g in (*c1.values(), *c2.values()))
        except shapely.errors.GEOSException:
            clean = False
        if not clean:  # clip_by_rect is fast but may leave invalid rings: then overlay everything
            return _pieces_direct(a1, a2)
        c1 = {x: g for x, g in c1.items() if not g.is_empty}
        c2 = {x: g for x, g in c2.items() if not g.is_empty}
        s, d, g = _pieces_direct(c1, c2)
        src += s
        dst += d
        geoms += g
    return src, dst, geoms


def _pieces_direct(a1: dict, a2: dict) -> tuple[list[str], list[str], list]:
    actors = sorted(set(a1) | set(a2))
    moved = [x for x in actors if not _same(a1.get(x), a2.get(x))]
    src, dst, geoms = [], [], []
    if not moved:
        return src, dst, geoms
    all1 = geom.union(a1.values()) if a1 else None
    for x in moved:
        g1, g2 = a1.get(x), a2.get(x)
        if g1 is not None:
            lost = shapely.difference(g1, g2) if g2 is not None else g1
            if not lost.is_empty:
                others = [y for y in actors if y != x and a2.get(y) is not None]
                if others:  # who holds it now; the rest nobody holds
                    held = np.array([a2[y] for y in others], dtype=object)
                    parts = shapely.intersection(lost, held)
                    for y, p in zip(others, parts, strict=True):
                        src.append(x), dst.append(y), geoms.append(p)
                    lost = shapely.difference(lost, geom.union(held))
                src.append(x), dst.append(NOBODY), geoms.append(lost)
        if g2 is not None:
            new = shapely.difference(g2, all1) if all1 is not None else g2
            src.append(NOBODY), dst.append(x), geoms.append(new)
    return src, dst, geoms


class _Areas:
    """Geodesic km² of actor areas, computed once per geometry (a series reuses each date's)."""

    def __init__(self):
        self._km2: dict[int, tuple[object, float]] = {}

    def __call__(self, areas: dict) -> dict[str, float]:
        todo = [g for g in areas.values() if id(g) not in self._km2]
        if todo:
            self._km2.update((id(g), (g, float(a))) for g, a in zip(todo, _crs.geodesic_area_km2(todo), strict=True))
        return {x: self._km2[id(g)][1] for x, g in areas.items()}

    def keep_only(self, *dicts) -> None:
        live = {id(g) for d in dicts for g in d.values()}
        self._km2 = {k: v for k, v in self._km2.items() if k in live}


def _pieces_km2(a1: dict, a2: dict):
    """Change polygons as arrays: (actor_from, actor_to, polygons, km², sliver mask)."""
    src, dst, geoms = pieces_between(a1, a2)
    # intersections can leave empties, lines and points on borders: only polygons are change
    parts, idx = geom.polygon_parts(geoms)
    km2 = _crs.geodesic_area_km2(parts)
    src_a, dst_a = np.array(src, dtype=object), np.array(dst, dtype=object)
    return src_a[idx], dst_a[idx], parts, km2, km2 < _crs.SLIVER_KM2


def _summary(a1: dict, a2: dict, src, dst, km2, sliver, area_of) -> list[dict]:
    area1, area2 = area_of(a1), area_of(a2)
    keep = ~sliver
    gained = pd.Series(km2[keep]).groupby(dst[keep]).sum().to_dict() if keep.any() else {}
    lost = pd.Series(km2[keep]).groupby(src[keep]).sum().to_dict() if keep.any() else {}
    summary = []
    for x in sorted(set(a1) | set(a2)):
        f, t = float(area1.get(x, 0.0)), float(area2.get(x, 0.0))
        summary.append({"actor": x, "area_from_km2": f, "area_to_km2": t,
                        "gained_km2": float(gained.get(x, 0.0)), "lost_km2": float(lost.get(x, 0.0)),
                        "net_km2": t - f})
    return summary


def _compare_areas(a1: dict, a2: dict):
    import geopandas as gpd

    src, dst, parts, km2, sliver = _pieces_km2(a1, a2)
    keep = ~sliver
    polygons = gpd.GeoDataFrame({"actor_from": src[keep], "actor_to": dst[keep], "area_km2": km2[keep]},
                                geometry=gpd.GeoSeries(parts[keep], crs=_crs.WGS84), crs=_crs.WGS84)
    polygons = polygons.sort_values(["area_km2", "actor_from", "actor_to"], ascending=[False, True, True],
                                    kind="stable").reset_index(drop=True)
    polygons.attrs["slivers_dropped"] = int(sliver.sum())
    polygons.attrs["sliver_km2"] = float(km2[sliver].sum())
    return _summary(a1, a2, src, dst, km2, sliver, _Areas()), polygons


def periods(d1, d2, every: str) -> list[pd.Timestamp]:
    """Period boundaries from ``d1`` to ``d2``: every 7 days, or at the first of each month.

    Examples
    --------
    >>> [f"{d:%m-%d}" for d in periods("2020-01-15", "2020-03-10", "month")]
    ['01-15', '02-01', '03-01', '03-10']
    >>> [f"{d:%m-%d}" for d in periods("2020-01-01", "2020-01-20", "week")]
    ['01-01', '01-08', '01-15', '01-20']
    """
    t1, t2 = parse_date(d1, "--from"), parse_date(d2, "--to")
    if every not in EVERY:
        raise DateError(f"--every {every!r}: use one of {', '.join(EVERY)}")
    if every == "week":
        inner = pd.date_range(t1, t2, freq="7D")
    else:
        inner = pd.date_range(t1 + pd.offsets.MonthBegin(1), t2, freq="MS")
    out = sorted({t1, t2, *[pd.Timestamp(d) for d in inner]})
    return out


def series(timeline, dates, progress=None) -> list[dict]:
    """Change between each pair of consecutive ``dates``: one row per (period, actor).

    Rows are ``{from, to, actor, area_from_km2, area_to_km2, gained_km2, lost_km2, net_km2,
    slivers_dropped}`` (+ ``uncertain_km2`` when the timeline has it). Each date's areas and
    their km² are computed once.
    """
    days = [check_covered(timeline, d, "date") for d in dates]
    if any(a > b for a, b in zip(days, days[1:], strict=False)):
        raise DateError("series dates must be in order; give --from before --to")
    pairs = list(zip(days[:-1], days[1:], strict=True))
    rows: list[dict] = []
    prev_day, prev_areas = None, None
    area_of = _Areas()
    ctx = progress(pairs, "change series", len(pairs)) if progress else contextlib.nullcontext(pairs)
    with ctx as it:
        for p1, p2 in it:
            a1 = prev_areas if p1 == prev_day else actor_areas(timeline, p1)
            a2 = actor_areas(timeline, p2)
            prev_day, prev_areas = p2, a2
            src, dst, _, km2, sliver = _pieces_km2(a1, a2)
            summary = _summary(a1, a2, src, dst, km2, sliver, area_of)
            _add_uncertain(summary, timeline, p1, p2, a1, a2)
            for r in summary:
                rows.append({"from": f"{p1:%Y-%m-%d}", "to": f"{p2:%Y-%m-%d}", **r,
                             "slivers_dropped": int(sliver.sum())})
            area_of.keep_only(a1, a2)
    return rows
