"""A control timeline cut into faces, simplified and encoded for the map.

- **Timeline frames as changes.** The timeline is cut into *faces*: pieces of ground whose
  controller is constant between two consecutive change dates. Each face is stored once with its
  runs ``[first date index, end date index, actor]``; the time slider only switches faces on/off.
  Ground that never changes hands is stored once for the whole timeline.
- **Topology-preserving simplification.** The faces form a polygonal coverage, simplified with
  :func:`shapely.coverage_simplify`, so a shared border is simplified once and neighbours stay
  edge-matched. The tolerance is one pixel at the initial zoom of a 1024×768 view.
- **Quantised, delta-encoded coordinates**: integers of 1e-5° (about 1 m), each ring as deltas.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from ..errors import InputError
from .palette import NO_ACTOR, Actors, palette

log = logging.getLogger("geo_idlib")


#: Quantisation of stored coordinates: integers of 1e-5 degree (≈ 1.1 m).
QUANTUM = 1e-5


_Q = round(1 / QUANTUM)




#: Precision grid of the faces: every boundary of a timeline is rounded to it and noded on it
#: (snap-rounding keeps the noding robust and the faces exactly edge-matched).
_GRID = 1e-7


#: Face parts smaller than this (deg², about 10 m²) are overlay noise and dropped.
_SPECK_DEG2 = 1e-9


# --------------------------------------------------------------------------- timeline → faces
def as_day(value) -> np.datetime64:
    """A date-like value as a day (``datetime64[ns]`` at midnight)."""
    return np.datetime64(pd.Timestamp(value).normalize(), "ns")


def iso_day(d) -> str:
    """A day as ``YYYY-MM-DD``."""
    return str(np.datetime64(d, "D"))


class _Rows(NamedTuple):
    """A timeline's rows as arrays (see :func:`_timeline_rows`)."""

    geoms: np.ndarray    # valid, polygonal
    actor: np.ndarray    # actor index per row (-1: none)
    vf: np.ndarray       # valid_from, a day
    vt: np.ndarray       # valid_to, a day or NaT (open)
    dates: np.ndarray    # every change date, sorted
    drawn: np.ndarray    # rows drawn: with an actor and a geometry


def _timeline_rows(timeline, actors: Actors) -> _Rows:
    """The rows of ``timeline`` made valid, with their actor indices and change dates."""
    t = _crs.to_wgs84(timeline, "timeline")
    geoms = _polygonal(shapely.make_valid(np.asarray(t.geometry.values, dtype=object)))
    act = actors.get_many(t["actor"].to_numpy())
    vf = pd.to_datetime(t["valid_from"]).dt.normalize().to_numpy(dtype="datetime64[ns]")
    vt = pd.to_datetime(t["valid_to"]).dt.normalize().to_numpy(dtype="datetime64[ns]")
    if np.isnat(vf).any():
        raise InputError("timeline: some rows have no valid_from; give every area a start date")
    dates = np.unique(np.concatenate([vf, vt[~np.isnat(vt)]]))
    present = ~shapely.is_empty(geoms)
    if (present & (act == NO_ACTOR)).any():
        log.warning("map: %d area(s) of the timeline have no actor and are not drawn; fill the actor column",
                    int((present & (act == NO_ACTOR)).sum()))
    return _Rows(geoms, act, vf, vt, dates, present & (act != NO_ACTOR))


def _held(inside: np.ndarray, rows: _Rows, drawn: np.ndarray) -> np.ndarray:
    """``held[f, k]``: the actor index holding face ``f`` in date interval ``k`` (-1: nobody), from
    ``inside[f, j]`` (face ``f`` lies in the area of row ``drawn[j]``). Where areas of two rows
    overlap on a date, the earlier row wins."""
    n = len(rows.dates)
    k0 = np.searchsorted(rows.dates, rows.vf[drawn])
    vt = rows.vt[drawn]
    k1 = np.full(len(drawn), n)
    k1[~np.isnat(vt)] = np.searchsorted(rows.dates, vt[~np.isnat(vt)])
    held = np.full((inside.shape[0], n), NO_ACTOR, dtype=np.int32)
    for j in range(len(drawn) - 1, -1, -1):
        held[inside[:, j], k0[j]:k1[j]] = rows.actor[drawn[j]]
    return held


def _by_history(faces: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One face per history: the faces held by the same actors on every date merged into one
    (faces nobody ever holds left out), without overlay specks (parts under ~10 m², far below a
    pixel at any useful zoom). Returns the faces and their rows of ``held``, in the order of their
    first part in ``faces``."""
    some = (held != NO_ACTOR).any(axis=1)
    faces, held = faces[some], np.ascontiguousarray(held[some])
    if not len(faces):
        return faces, held
    history = held.view(np.dtype((np.void, held.shape[1] * held.itemsize))).ravel()
    _, first, group = np.unique(history, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    group = rank[group.ravel()]
    order = np.argsort(group, kind="stable")
    merged = shapely.multipolygons(faces[order], indices=group[order])
    several = np.flatnonzero(shapely.get_num_geometries(merged) > 1)
    for i in several[~shapely.is_valid(merged[several])]:  # parts side by side (rows of one actor): one polygon
        merged[i] = shapely.coverage_union_all(shapely.get_parts(merged[i]))
    merged = _drop_small_parts(merged, _SPECK_DEG2)
    held = held[np.sort(first)]
    keep = ~shapely.is_empty(merged)
    return merged[keep], held[keep]


def _runs(held: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The runs ``(face, k_from, k_to, actor)`` of ``held`` (intervals nobody held left out)."""
    n = held.shape[1]
    start = np.ones(held.shape, dtype=bool)
    start[:, 1:] = held[:, 1:] != held[:, :-1]
    f, k0 = np.nonzero(start)
    k1 = np.r_[k0[1:], n]
    k1[np.r_[f[1:] != f[:-1], True]] = n
    a = held[f, k0]
    keep = a != NO_ACTOR
    return list(zip(f[keep].tolist(), k0[keep].tolist(), k1[keep].tolist(), a[keep].tolist(), strict=True))


def partition(timeline, actors: Actors | None = None):
    """Cut a control timeline into faces that each change controller only at change dates.

    The faces are those of the arrangement of every row's boundary
    (:func:`geo_idlib.territory.geom.arrangement`: the boundaries noded once on a 1e-7° grid and
    polygonized, with the rows that hold each face), so no overlay runs per date. Faces with the
    same holders on every date are merged into one; ground that never changes hands is one face.

    Parameters
    ----------
    timeline : GeoDataFrame
        ``actor, valid_from, valid_to, geometry`` in EPSG:4326 (``valid_to`` exclusive, NaT open),
        without overlaps between actors on the same day (as :func:`geo_idlib.territory.timeline.load_timeline`
        makes it; where they overlap, the earlier row wins).

    Returns
    -------
    dates : numpy.ndarray of datetime64[ns]
        The change dates; interval *k* is ``[dates[k], dates[k+1])`` (the last one open).
    faces : numpy.ndarray of shapely geometries
        Non-overlapping polygons (a coverage) covering every area of the timeline.
    runs : list of (face, k_from, k_to, actor)
        Face ``face`` is held by actor index ``actor`` during intervals ``k_from ≤ k < k_to``.
    actors : Actors
        The actor table (index → id, colour, label).

    Examples
    --------
    >>> import geopandas as gpd
    >>> t = gpd.GeoDataFrame({"actor": ["government", "opposition", "government", "opposition"],
    ...     "valid_from": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-05", "2020-01-05"]),
    ...     "valid_to": pd.to_datetime(["2020-01-05", "2020-01-05", None, None])},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1.5, 1),
    ...               shapely.box(1.5, 0, 2, 1)], crs="EPSG:4326")
    >>> dates, faces, runs, acts = partition(t)
    >>> [iso_day(d) for d in dates], len(faces)
    (['2020-01-01', '2020-01-05'], 3)
    >>> sorted((round(faces[f].area, 2), k0, k1, acts.table[a]["id"]) for f, k0, k1, a in runs)
    [(0.5, 0, 1, 'opposition'), (0.5, 0, 2, 'opposition'), (0.5, 1, 2, 'government'), (1.0, 0, 2, 'government')]
    """
    from ..territory import geom

    actors = actors or Actors(palette())
    rows = _timeline_rows(timeline, actors)
    drawn = np.flatnonzero(rows.drawn)
    faces, inside = geom.arrangement(rows.geoms[drawn], _GRID)
    faces, held = _by_history(faces, _held(inside, rows, drawn))
    return rows.dates, faces, _runs(held), actors


# --------------------------------------------------------------------------- geometry encoding
def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (overlays may leave lines/points at shared edges); empty polygons
    where none is left."""
    from ..territory import geom

    return geom.polygonal(geoms, empty=shapely.Polygon())


def _drop_small_parts(geoms, min_area: float) -> np.ndarray:
    """Polygonal geometries without their parts smaller than ``min_area`` (deg²); may become empty."""
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    parts, idx = shapely.get_parts(geoms, return_index=True)
    big = shapely.area(parts) >= min_area
    out = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    if big.any():
        u, inv = np.unique(idx[big], return_inverse=True)
        out[u] = shapely.multipolygons(parts[big], indices=inv)
    return out


def _visible(geoms, min_area: float) -> np.ndarray:
    """``geoms`` without the parts and holes smaller than ``min_area`` (deg²)."""
    geoms = _drop_small_parts(geoms, min_area)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return geoms
    rings, ridx = shapely.get_rings(parts, return_index=True)
    shell = np.r_[True, ridx[1:] != ridx[:-1]]
    keep = shell | (shapely.area(shapely.polygons(rings)) >= min_area)
    rp, rinv = np.unique(ridx[keep], return_inverse=True)  # parts that have rings
    polys = shapely.polygons(rings[keep], indices=rinv)
    u, inv = np.unique(pidx[rp], return_inverse=True)
    out = geoms.copy()
    out[u] = shapely.multipolygons(polys, indices=inv)
    return out


def deviation_px(exact, drawn, pixel_deg: float) -> np.ndarray:
    """Hausdorff distance, in pixels, between exact and drawn geometries (one value per pair).

    Parts and holes smaller than one pixel (invisible at that zoom) are left out of the comparison
    on both sides; pairs where either side is then empty give 0.
    """
    exact = _visible(exact, pixel_deg ** 2)
    drawn = _visible(drawn, pixel_deg ** 2)
    ok = ~shapely.is_empty(exact) & ~shapely.is_empty(drawn)
    out = np.zeros(len(exact))
    out[ok] = shapely.hausdorff_distance(shapely.boundary(exact[ok]), shapely.boundary(drawn[ok])) / pixel_deg
    return out


def simplify_coverage(geoms, tolerance: float, clean: bool = True) -> np.ndarray:
    """Simplify polygons that form a coverage, keeping shared borders shared (shapely ≥ 2.1).

    With shapely ≥ 2.2 the coverage is first cleaned (:func:`_clean_coverage`; ``clean=False`` when
    the caller did it): overlays leave T-junctions (a vertex on one side of a shared edge only), and
    simplifying such an edge twice would open hairline gaps between faces. ``tolerance`` is in
    degrees (see :func:`pixel_degrees`). Empty inputs stay empty.

    Examples
    --------
    >>> a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    >>> [g.area for g in simplify_coverage([a, b], 0.01)]
    [1.0, 1.0]
    """
    geoms = _clean_coverage(geoms) if clean else _polygonal(np.asarray(geoms, dtype=object))
    if len(geoms) == 0 or tolerance <= 0:
        return geoms
    nonempty = ~shapely.is_empty(geoms)
    out = geoms.copy()
    if nonempty.any():
        out[nonempty] = _polygonal(shapely.coverage_simplify(geoms[nonempty], tolerance))
    return out


def _clean_coverage(geoms) -> np.ndarray:
    """With shapely ≥ 2.2, the coverage with its shared edges noded exactly (no snapping); else as it is."""
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    nonempty = ~shapely.is_empty(geoms) if len(geoms) else np.zeros(0, dtype=bool)
    if not nonempty.any() or not hasattr(shapely, "coverage_clean"):
        return geoms
    out = geoms.copy()
    out[nonempty] = _polygonal(shapely.coverage_clean(geoms[nonempty], snapping_distance=0.0))
    return out


def simplify_within(geoms, pixel_deg: float, max_px: float = 1.0, tries: int = 6):
    """Coverage-simplify ``geoms`` so that no drawn vertex strays more than ``max_px`` pixels.

    Visvalingam–Whyatt's tolerance is not a distance bound, so the result is checked with the
    Hausdorff distance (:func:`deviation_px`, both sides quantised to :data:`QUANTUM`, which alone
    only removes sub-metre-wide spikes) and the tolerance halved until it holds; after ``tries``
    halvings the geometry is kept unsimplified. Returns ``(simplified, max_deviation_px)``.

    Examples
    --------
    >>> g, dev = simplify_within([shapely.box(0, 0, 1, 1)], 0.01)
    >>> dev <= 1.0
    True
    """
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    ok = ~shapely.is_empty(geoms)
    if not ok.any():
        return geoms, 0.0
    tol = pixel_deg * max_px
    base = shapely.set_precision(geoms, QUANTUM)
    cleaned = _clean_coverage(geoms)  # once: the halvings below only change the tolerance
    for _ in range(tries):
        simp = simplify_coverage(cleaned, tol, clean=False)
        worst = float(deviation_px(base, shapely.set_precision(simp, QUANTUM), pixel_deg).max())
        if worst <= max_px:
            return simp, worst
        tol /= 2
    return geoms, 0.0


def encode_polygons(geoms, quantum: float = QUANTUM) -> list[list[list[int]]]:
    """Quantised, delta-encoded rings: one list per geometry, one flat int list per ring.

    Each ring is ``[x0, y0, dx1, dy1, ...]`` in units of :data:`QUANTUM` degrees, without the closing
    point and without repeated points; shells run counter-clockwise and holes clockwise, so the
    non-zero fill rule draws any set of rings right (touching or overlapping faces never cancel out,
    as they would under even-odd).
    Rings left with fewer than 3 points after quantisation are dropped. ``quantum``: the unit
    (:data:`QUANTUM` unless a layer says otherwise, as the world context does).

    Examples
    --------
    >>> encode_polygons([shapely.box(36.0, 35.0, 36.5, 35.25)])
    [[[3600000, 3500000, 50000, 0, 0, 25000, -50000, 0]]]
    >>> encode_polygons([shapely.Polygon([(0, 0), (0, 1), (1, 1)])])  # made counter-clockwise
    [[[0, 100000, 0, -100000, 100000, 100000]]]
    """
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    out: list[list[list[int]]] = [[] for _ in range(len(geoms))]
    if len(geoms) == 0:
        return out
    # snap-rounded to the quantum first (topology kept): rounding each vertex alone would keep
    # slivers narrower than the quantum as spikes, which the checks of simplify_within never saw
    geoms = _polygonal(shapely.set_precision(shapely.make_valid(geoms), quantum))
    geoms = shapely.orient_polygons(geoms)  # shells counter-clockwise, holes clockwise: non-zero fill
    parts, part_idx = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    if len(rings) == 0:
        return out
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(coords / quantum).astype(np.int64)
    # drop the closing point of each ring and points equal to their predecessor after quantisation
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    same = np.r_[False, (q[1:] == q[:-1]).all(axis=1) & (coord_ring[1:] == coord_ring[:-1])]
    keep = ~last & ~same
    q, coord_ring = q[keep], coord_ring[keep]
    counts = np.bincount(coord_ring, minlength=len(rings))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    d[starts[counts > 0]] = q[starts[counts > 0]]
    flat = d.reshape(-1).tolist()
    geom_of_ring = part_idx[ring_part]
    for r in range(len(rings)):
        if counts[r] >= 3:
            s = starts[r]
            out[int(geom_of_ring[r])].append(flat[2 * s: 2 * (s + counts[r])])
    return out


def encode_lines(geoms, quantum: float = QUANTUM) -> list[list[int]]:
    """Quantised, delta-encoded lines: one flat int list ``[x0, y0, dx1, dy1, ...]`` per line part.

    Parts left with fewer than 2 distinct points after quantisation are dropped.

    Examples
    --------
    >>> encode_lines([shapely.LineString([(36.0, 35.0), (36.5, 35.25), (36.5, 35.25)])])
    [[3600000, 3500000, 50000, 25000]]
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING]
    if len(parts) == 0:
        return []
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    q = np.rint(coords / quantum).astype(np.int64)
    same = np.r_[False, (q[1:] == q[:-1]).all(axis=1) & (idx[1:] == idx[:-1])]
    q, idx = q[~same], idx[~same]
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    first = np.r_[True, idx[1:] != idx[:-1]]
    d[first] = q[first]
    counts = np.bincount(idx, minlength=len(parts))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    flat = d.reshape(-1).tolist()
    return [flat[2 * s: 2 * (s + c)] for s, c in zip(starts.tolist(), counts.tolist(), strict=True) if c >= 2]


def decode_ring(ring: list[int]) -> np.ndarray:
    """The inverse of one ring of :func:`encode_polygons`: an (n, 2) array of lon/lat.

    Examples
    --------
    >>> decode_ring([3650000, 3500000, 0, 25000]).tolist()
    [[36.5, 35.0], [36.5, 35.25]]
    """
    a = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0)
    return a * QUANTUM


def decode_polygons(rings: list[list[int]]):
    """The area a browser fills for one geometry of :func:`encode_polygons` (non-zero rule).

    Each counter-clockwise ring starts a polygon and the clockwise rings after it and inside it are
    its holes (the order :func:`encode_polygons` writes); a clockwise ring outside the current shell
    is filled on its own, as the non-zero rule does. The result is the union of those polygons.

    Examples
    --------
    >>> g = shapely.box(0, 0, 1, 1).difference(shapely.box(0.25, 0.25, 0.75, 0.75))
    >>> island = shapely.box(0.4, 0.4, 0.6, 0.6)
    >>> round(decode_polygons(encode_polygons([shapely.union(g, island)])[0]).area, 6)
    0.79
    """
    polys: list = []
    shell, holes = None, []
    for r in rings:
        xy = decode_ring(r)
        if len(xy) < 3:
            continue
        inside = shell is not None and shapely.Polygon(shell).buffer(0).contains(shapely.Polygon(xy).buffer(0))
        if shapely.LinearRing(xy).is_ccw or not inside:  # non-zero: a clockwise ring on its own is filled too
            if shell is not None:
                polys.append(shapely.Polygon(shell, holes))
            shell, holes = xy, []
        else:
            holes.append(xy)
    if shell is not None:
        polys.append(shapely.Polygon(shell, holes))
    if not polys:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(np.array(polys, dtype=object)))

