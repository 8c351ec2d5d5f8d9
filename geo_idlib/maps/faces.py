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
import math
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




#: Precision grid of the overlays that cut a timeline into faces (snap-rounding keeps them robust
#: and the faces exactly edge-matched); inputs are rounded to it.
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


def _changed_ground(prev: dict, cur: dict) -> tuple[dict, list]:
    """``({actor: ground it gained}, [ground lost])`` between two ``{actor: geometry}`` snapshots.

    Uses :func:`geo_idlib.territory.change` 's windowed overlay (only where the boundaries differ), so that
    a day of DeepState costs a few small overlays instead of two of the whole front.
    """
    from ..territory import change as _change

    a1 = {str(a): g for a, g in prev.items()}
    a2 = {str(a): g for a, g in cur.items()}
    src, dst, pieces = _change.pieces_between(a1, a2)
    pieces = _polygonal(shapely.set_precision(_polygonal(np.array(pieces, dtype=object)), _GRID))
    big = shapely.area(pieces) > 0
    gains: dict[int, object] = {}
    for a in sorted({d for d, b in zip(dst, big, strict=True) if d != _change.NOBODY and b}, key=int):
        sel = [p for p, d, b in zip(pieces, dst, big, strict=True) if d == a and b]
        gains[int(a)] = _poly1(shapely.union_all(sel, grid_size=_GRID))
    losses = [p for p, d, b in zip(pieces, dst, big, strict=True) if d == _change.NOBODY and b]
    return gains, losses


def _holder(parts: np.ndarray, snapshot: dict) -> np.ndarray:
    """The actor holding each polygon (at a point on its surface) in ``{actor: geometry}``, or -1."""
    out = np.full(len(parts), NO_ACTOR, dtype=int)
    if len(parts) == 0:
        return out
    pts = shapely.point_on_surface(parts)
    for a, g in snapshot.items():
        shapely.prepare(g)
        out[(out == NO_ACTOR) & shapely.contains(g, pts)] = a
    return out


#: Faces with more vertices than this are cut into tiles, so that later overlays stay small.
TILE_VERTICES = 400


def _tiles(geom) -> list:
    """``geom`` cut by a regular grid into pieces of about :data:`TILE_VERTICES` vertices.

    Tiles of one actor are drawn as one SVG path, so their seams do not show.
    """
    if shapely.area(geom) <= 0:
        return []
    n = int(shapely.get_num_coordinates(geom))
    if n <= TILE_VERTICES:
        return [geom]
    side = math.ceil(math.sqrt(n / TILE_VERTICES))
    x0, y0, x1, y1 = shapely.bounds(geom)
    xs, ys = np.linspace(x0, x1, side + 1), np.linspace(y0, y1, side + 1)
    boxes = shapely.box(*np.meshgrid(xs[:-1], ys[:-1]), *np.meshgrid(xs[1:], ys[1:])).ravel()
    boxes = shapely.set_precision(boxes, _GRID)
    pieces = _polygonal(shapely.intersection(geom, boxes, grid_size=_GRID))
    return list(pieces[shapely.area(pieces) > 0])


class _Rows(NamedTuple):
    """A timeline's rows as arrays (see :func:`_timeline_rows`)."""

    geoms: np.ndarray    # polygonal, on the overlay grid
    actor: np.ndarray    # actor index per row (-1: none)
    vf: np.ndarray       # valid_from, a day
    vt: np.ndarray       # valid_to, a day or NaT (open)
    dates: np.ndarray    # every change date, sorted
    drawn: np.ndarray    # rows drawn: with an actor and a geometry


def _timeline_rows(timeline, actors: Actors) -> _Rows:
    """The rows of ``timeline`` on the overlay grid, with their actor indices and change dates."""
    t = _crs.to_wgs84(timeline, "timeline")
    geoms = _polygonal(shapely.set_precision(shapely.make_valid(np.asarray(t.geometry.values, dtype=object)), _GRID))
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


def _snapshots(rows: _Rows):
    """``(k, before, after)``: the ``{actor: geometry}`` snapshots around each date where rows change.

    An actor's geometry is the union of its rows valid on ``dates[k]``; dates where no actor's set of
    rows changes are skipped.
    """
    prev: dict[int, object] = {}
    prev_rows: dict[int, tuple] = {}
    for k, day in enumerate(rows.dates):
        active = rows.drawn & (rows.vf <= day) & (np.isnat(rows.vt) | (day < rows.vt))
        cur_rows: dict[int, list] = {}
        for i in np.flatnonzero(active):
            cur_rows.setdefault(int(rows.actor[i]), []).append(int(i))
        cur_rows = {a: tuple(r) for a, r in cur_rows.items()}
        changed = [a for a in sorted(set(cur_rows) | set(prev_rows)) if cur_rows.get(a) != prev_rows.get(a)]
        if not changed:
            continue
        cur = dict(prev)
        for a in changed:
            sel = cur_rows.get(a)
            if sel is None:
                cur.pop(a, None)
            else:
                cur[a] = rows.geoms[sel[0]] if len(sel) == 1 else _poly1(
                    shapely.union_all(rows.geoms[list(sel)], grid_size=_GRID))
        yield k, prev, cur
        prev, prev_rows = cur, cur_rows


def _union(geoms: list):
    """One polygonal geometry: the only item, or the union of them on the overlay grid."""
    return geoms[0] if len(geoms) == 1 else _poly1(shapely.union_all(geoms, grid_size=_GRID))


class _FaceHistory:
    """Faces being cut from a timeline, each with its history ``[(k, actor), ...]`` of label changes."""

    def __init__(self):
        self.geoms: list = []
        self.hist: list[list[tuple[int, int]]] = []

    def add(self, geom, history: list) -> None:
        self.geoms.append(geom)
        self.hist.append(history)

    def change(self, k: int, gains: dict, losses: list, after: dict) -> None:
        """Apply the change at date index ``k``: ``gains`` ``{actor: ground}``, ``losses`` [ground]."""
        changed = _poly1(shapely.union_all(list(gains.values()) + losses, grid_size=_GRID))
        covered = self._hand_over(k, changed, gains, after)
        if gains:
            self._add_new_ground(k, gains, covered)

    def _near(self, changed):
        """The faces that ``changed`` ground overlaps, and for each, the parts of it near that face."""
        F = np.array(self.geoms, dtype=object)
        # the changed ground is scattered along the fronts: overlay each face only with the parts near it
        dparts = shapely.get_parts(changed)
        pi, fi = shapely.STRtree(F).query(dparts)
        order = np.lexsort((pi, fi))
        pi, fi = pi[order], fi[order]
        cand, inv = np.unique(fi, return_inverse=True)
        near = shapely.multipolygons(dparts[pi], indices=inv) if len(cand) else np.array([], dtype=object)
        ok = shapely.intersects(F[cand], near) & ~shapely.touches(F[cand], near)
        return F, cand[ok], near[ok]

    def _hand_over(self, k: int, changed, gains: dict, after: dict) -> list:
        """Cut the ``changed`` ground out of existing faces and relabel it; returns the pieces cut."""
        shapely.prepare(changed)
        covered: list = []
        if not self.geoms:
            return covered
        F, hit, near = self._near(changed)
        if not len(hit):
            return covered
        inside = _polygonal(shapely.intersection(F[hit], near, grid_size=_GRID))
        outside = _polygonal(shapely.difference(F[hit], near, grid_size=_GRID))
        for j, i in enumerate(hit):
            if shapely.area(inside[j]) <= 0:
                continue
            self.geoms[i] = outside[j]
            covered.append(inside[j])
            self._relabel(k, inside[j], self.hist[i], gains, after)
        return covered

    def _relabel(self, k: int, piece, history: list, gains: dict, after: dict) -> None:
        """New faces for a ``piece`` of a face that changed hands: split by the actors that gained it."""
        rest = piece
        for a, g in gains.items():
            part = _poly1(shapely.intersection(piece, g, grid_size=_GRID))
            if shapely.area(part) > 0:
                self.add(part, history + [(k, a)])
                rest = _poly1(shapely.difference(rest, g, grid_size=_GRID))
        if shapely.area(rest) > 0:
            # what is left is nobody's, unless snapping shaved a gain: ask the snapshot
            parts = shapely.get_parts(rest)
            labels = _holder(parts, after)
            for lab in np.unique(labels):
                sel = parts[labels == lab]
                self.add(sel[0] if len(sel) == 1 else shapely.multipolygons(sel), history + [(k, int(lab))])

    def _add_new_ground(self, k: int, gains: dict, covered: list) -> None:
        """Faces for ground never held before: the gains outside every existing face, in tiles."""
        gain_all = _union(list(gains.values()))
        new = gain_all if not covered else _poly1(shapely.difference(
            gain_all, shapely.union_all(covered, grid_size=_GRID), grid_size=_GRID))
        if shapely.area(new) <= 0:
            return
        for a, g in gains.items():
            part = _poly1(shapely.intersection(new, g, grid_size=_GRID)) if len(gains) > 1 else new
            for tile in _tiles(part):
                self.add(tile, [(k, a)])

    def end(self, k: int, gone: set) -> None:
        """Actors that left the map at ``k``: none of their faces stays, whatever snapping left behind."""
        for h in self.hist:
            if h[-1][1] in gone and h[-1][0] < k:
                h.append((k, NO_ACTOR))

    def runs(self, n: int) -> tuple[np.ndarray, list]:
        """The non-empty faces and their runs ``(face, k_from, k_to, actor)`` over ``n`` intervals.

        Overlay specks (parts under ~10 m², far below a pixel at any useful zoom) are dropped first.
        """
        if not self.geoms:
            return np.array([], dtype=object), []
        geoms = _drop_small_parts(np.array(self.geoms, dtype=object), _SPECK_DEG2)
        out_faces, remap, runs = [], {}, []
        for f in np.flatnonzero(~shapely.is_empty(geoms)):
            h = self.hist[f]
            for j, (k0, a) in enumerate(h):
                k1 = h[j + 1][0] if j + 1 < len(h) else n
                if a != NO_ACTOR and k1 > k0:
                    if f not in remap:
                        remap[f] = len(out_faces)
                        out_faces.append(geoms[f])
                    runs.append((remap[f], k0, k1, a))
        return np.array(out_faces, dtype=object), runs


def partition(timeline, actors: Actors | None = None):
    """Cut a control timeline into faces that each change controller only at change dates.

    Each date where some actor's rows change hands over the ground that changed
    (:func:`_changed_ground`): faces it overlaps are cut and the pieces relabelled, ground never
    held before becomes new faces (tiled), and actors that left the map end their faces.

    Parameters
    ----------
    timeline : GeoDataFrame
        ``actor, valid_from, valid_to, geometry`` in EPSG:4326 (``valid_to`` exclusive, NaT open),
        without overlaps between actors on the same day (as :func:`geo_idlib.territory.timeline.load_timeline`
        makes it).

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
    actors = actors or Actors(palette())
    rows = _timeline_rows(timeline, actors)
    faces = _FaceHistory()
    for k, before, after in _snapshots(rows):
        gains, losses = _changed_ground(before, after)
        if gains or losses:
            faces.change(k, gains, losses, after)
            faces.end(k, set(before) - set(after))
    out, runs = faces.runs(len(rows.dates))
    return rows.dates, out, runs, actors


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


def _poly1(g):
    return _polygonal(np.array([g], dtype=object))[0]


def simplify_coverage(geoms, tolerance: float) -> np.ndarray:
    """Simplify polygons that form a coverage, keeping shared borders shared (shapely ≥ 2.1).

    With shapely ≥ 2.2 the coverage is first cleaned (:func:`shapely.coverage_clean`, no snapping):
    overlays leave T-junctions (a vertex on one side of a shared edge only), and simplifying such
    an edge twice would open hairline gaps between faces. ``tolerance`` is in degrees (see
    :func:`pixel_degrees`). Empty inputs stay empty.

    Examples
    --------
    >>> a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    >>> [g.area for g in simplify_coverage([a, b], 0.01)]
    [1.0, 1.0]
    """
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    if len(geoms) == 0 or tolerance <= 0:
        return geoms
    nonempty = ~shapely.is_empty(geoms)
    out = geoms.copy()
    if nonempty.any():
        todo = geoms[nonempty]
        if hasattr(shapely, "coverage_clean"):  # shapely ≥ 2.2: node shared edges exactly first
            todo = _polygonal(shapely.coverage_clean(todo, snapping_distance=0.0))
        out[nonempty] = _polygonal(shapely.coverage_simplify(todo, tolerance))
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
    for _ in range(tries):
        simp = simplify_coverage(geoms, tol)
        worst = float(deviation_px(base, shapely.set_precision(simp, QUANTUM), pixel_deg).max())
        if worst <= max_px:
            return simp, worst
        tol /= 2
    return geoms, 0.0


def encode_polygons(geoms) -> list[list[list[int]]]:
    """Quantised, delta-encoded rings: one list per geometry, one flat int list per ring.

    Each ring is ``[x0, y0, dx1, dy1, ...]`` in units of :data:`QUANTUM` degrees, without the closing
    point and without repeated points; shells run counter-clockwise and holes clockwise, so the
    non-zero fill rule draws any set of rings right (touching or overlapping faces never cancel out,
    as they would under even-odd).
    Rings left with fewer than 3 points after quantisation are dropped.

    Examples
    --------
    >>> encode_polygons([shapely.box(36.0, 35.0, 36.5, 35.25)])
    [[[3650000, 3500000, 0, 25000, -50000, 0, 0, -25000]]]
    >>> encode_polygons([shapely.Polygon([(0, 0), (0, 1), (1, 1)])])  # made counter-clockwise
    [[[0, 0, 100000, 100000, -100000, 0]]]
    """
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    out: list[list[list[int]]] = [[] for _ in range(len(geoms))]
    if len(geoms) == 0:
        return out
    geoms = shapely.orient_polygons(geoms)  # shells counter-clockwise, holes clockwise: non-zero fill
    parts, part_idx = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    if len(rings) == 0:
        return out
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(coords / QUANTUM).astype(np.int64)
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

