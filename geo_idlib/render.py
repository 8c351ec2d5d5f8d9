"""Self-contained Leaflet maps: control areas over time, change between two dates, and places.

One HTML file that opens anywhere, offline: Leaflet 1.9.4 (from the pinned PyPI package
``django-js-lib-leaflet``) and the project's own small JS/CSS (``geo_idlib/assets/``: time slider,
before/after swipe, legend, side panel) are inlined; folium's CDN assets are dropped. The map data is
one JSON document in a ``<script type="application/json">`` block, with ``<``, ``>`` and ``&``
written as ``\\u003c``... so that nothing in it can close the script element.

What keeps the file small (docs/maps.md has the measured figures):

- **Timeline frames as changes.** The timeline is cut into *faces*: pieces of ground whose
  controller is constant between two consecutive change dates. Each face is stored once with its
  runs ``[first date index, end date index, actor]``; the time slider only switches faces on/off.
  Ground that never changes hands is stored once for the whole timeline.
- **Topology-preserving simplification.** The faces form a polygonal coverage, simplified with
  :func:`shapely.coverage_simplify`, so a shared border is simplified once and neighbours stay
  edge-matched. The tolerance is one pixel at the initial zoom of a 1024×768 view.
- **Quantised, delta-encoded coordinates**: integers of 1e-5° (about 1 m), each ring as deltas.

Report text is data: every name, sentence, report name, actor and title that reaches HTML goes
through :func:`html.escape` here, in Python, before the JS inserts it.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Iterable

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from . import crs as _crs
from . import io
from .errors import InputError, RenderError

log = logging.getLogger("geo_idlib")

#: Quantisation of stored coordinates: integers of 1e-5 degree (≈ 1.1 m).
QUANTUM = 1e-5
_Q = round(1 / QUANTUM)
#: The reference viewport for the initial zoom and the simplification tolerance.
REF_WIDTH, REF_HEIGHT = 1024, 768
#: Places farther than this from the focus region go to the side panel, not on the map.
FAR_KM = 500.0
#: The focus region when there are no areas: Syria, Turkey and their neighbours (W, S, E, N).
DEFAULT_FOCUS = (25.5, 29.0, 48.7, 42.2)
#: Leaflet's maximum zoom for vector-only (offline) maps.
MAX_ZOOM = 18
#: Fixed element ids (folium uses random uuids; we want byte-identical output).
MAP_ID = "geo_idlib"
_NO_ACTOR = -1
#: Precision grid of the overlays that cut a timeline into faces (snap-rounding keeps them robust
#: and the faces exactly edge-matched); inputs are rounded to it.
_GRID = 1e-7
#: Face parts smaller than this (deg², about 10 m²) are overlay noise and dropped.
_SPECK_DEG2 = 1e-9


# --------------------------------------------------------------------------- palette
def palette() -> dict:
    """The actor palette from ``geo_idlib/data/palette.json``.

    Examples
    --------
    >>> palette()["actors"]["government"]["color"]
    '#d7191c'
    """
    return io.package_data_json("palette.json")


class _Actors:
    """Actor ids → index in the map's actor table, with palette styles; warns once per unknown actor."""

    def __init__(self, pal: dict):
        self.pal = pal
        self.index: dict[str, int] = {}
        self.table: list[dict] = []
        self.warned: set[str] = set()

    def get(self, actor) -> int:
        if actor is None or (isinstance(actor, float) and math.isnan(actor)) or str(actor).strip() == "":
            return _NO_ACTOR
        key = str(actor).strip()
        if key not in self.index:
            style = self.pal["actors"].get(key)
            if style is None:
                if key not in self.warned:
                    log.warning("map: unknown actor %r drawn in the neutral colour; known actors: %s",
                                key, ", ".join(sorted(self.pal["actors"])))
                    self.warned.add(key)
                style = dict(self.pal["neutral"], label=key)
            self.index[key] = len(self.table)
            self.table.append({"id": key, "color": style["color"], "label": style.get("label", key),
                               "hatch": bool(style.get("hatch", False)), "known": key in self.pal["actors"]})
        return self.index[key]

    def get_many(self, values: Iterable) -> np.ndarray:
        return np.array([self.get(v) for v in values], dtype=int)

    def color(self, i: int) -> str:
        return self.pal["no_actor"]["color"] if i == _NO_ACTOR else self.table[i]["color"]

    def label(self, i: int) -> str:
        return self.pal["no_actor"]["label"] if i == _NO_ACTOR else self.table[i]["label"]


# --------------------------------------------------------------------------- view geometry
def _merc_y(lat: float) -> float:
    lat = max(min(lat, 85.0511), -85.0511)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def initial_zoom(bounds, width: int = REF_WIDTH, height: int = REF_HEIGHT) -> int:
    """The zoom Leaflet's ``fitBounds`` picks for ``bounds`` = (west, south, east, north) in a view.

    Examples
    --------
    >>> initial_zoom((36.0, 35.5, 37.5, 36.5))   # Idlib and Aleppo in 1024×768
    9
    """
    w, s, e, n = bounds
    dx = max(e - w, 1e-9) / 360.0
    dy = max(_merc_y(n) - _merc_y(s), 1e-12) / (2 * math.pi)
    z = min(math.log2(width / (256 * dx)), math.log2(height / (256 * dy)))
    return int(max(0, min(MAX_ZOOM, math.floor(z))))


def pixel_degrees(bounds, zoom: int) -> float:
    """Degrees that stay within one pixel, in x and y, anywhere inside ``bounds`` at ``zoom``.

    One pixel spans ``360 / (256 · 2**zoom)`` degrees of longitude and that times ``cos(lat)`` of
    latitude; the smaller (at the latitude farthest from the equator) is returned.

    Examples
    --------
    >>> round(pixel_degrees((36.0, 35.5, 37.5, 36.5), 8), 6)
    0.004416
    """
    lat = max(abs(bounds[1]), abs(bounds[3]))
    return 360.0 / (256 * 2 ** zoom) * math.cos(math.radians(min(lat, 85.0)))


def _bbox_distance_km(lat, lon, bounds) -> np.ndarray:
    """Great-circle km from points to the nearest point of a lon/lat box (0 inside it)."""
    w, s, e, n = bounds
    clat = np.clip(lat, s, n)
    clon = np.clip(lon, w, e)
    return _crs.haversine_km(lat, lon, clat, clon)


#: Places farther than this (km) from the control areas are drawn but not framed by the initial view
#: (they are listed in the side panel instead, so that e.g. Ankara does not shrink Idlib's front).
VIEW_KM = 100.0
#: Place precisions that are a whole country's or region's point: listed, never framed by the view.
BROAD_PRECISIONS = ("country", "region")
#: The initial view is padded by this share of its width and height on each side.
VIEW_PAD = 0.06
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _bounds_of(boxes) -> tuple | None:
    """The (west, south, east, north) box around ``boxes`` (each such a box, or None)."""
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    a = np.asarray(boxes, dtype=float)
    return (float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()), float(a[:, 3].max()))


def fit_view(core, known=None, fallback=None, pad: float = VIEW_PAD) -> tuple:
    """The initial view (west, south, east, north): what matters in a report map, padded.

    Parameters
    ----------
    core : tuple or None
        The box of what must be seen: the report's framed places and the change polygons.
    known : array of geometries, optional
        Areas of known controllers on the dates shown first. The parts of them within a margin
        around ``core`` (a quarter of its larger side, at least 0.1°) widen the view, so that the
        front around the places shows; the rest (e.g. a whole country held by one side) does not.
    fallback : tuple or None
        The box used when there is no ``core`` (all the areas), as it is (Leaflet fits it exactly);
        else :data:`DEFAULT_FOCUS`.
    pad : float
        Share of the width and height added on each side of a ``core`` view, so that markers on its
        edge are not cut by the map's edge.

    Examples
    --------
    >>> fit_view((36.0, 35.0, 37.0, 36.0), pad=0)
    (36.0, 35.0, 37.0, 36.0)
    >>> fit_view((36.0, 35.0, 37.0, 36.0), known=[shapely.box(30, 35.2, 36.1, 35.8)], pad=0)  # a side to the west
    (35.75, 35.0, 37.0, 36.0)
    >>> fit_view((36.5, 35.5, 36.5, 35.5), pad=0)   # one point: ~10 km around it
    (36.4, 35.4, 36.6, 35.6)
    >>> fit_view(None, fallback=(36.0, 35.0, 37.0, 36.0))   # nothing else: all the areas
    (36.0, 35.0, 37.0, 36.0)
    """
    view = core
    if core is not None and known is not None and len(known):
        w, s, e, n = core
        m = max(0.25 * max(e - w, n - s), 0.1)
        near = shapely.intersection(np.asarray(known, dtype=object), shapely.box(w - m, s - m, e + m, n + m))
        near = near[~shapely.is_empty(near) & (shapely.area(near) > 0)]
        if len(near):
            view = _bounds_of([core, tuple(shapely.total_bounds(near).tolist())])
    if view is None:
        view, pad = fallback or DEFAULT_FOCUS, 0.0
    w, s, e, n = view
    if e - w < 0.05 or n - s < 0.05:  # one point (or a line): show ~10 km around it
        cx, cy = (w + e) / 2, (s + n) / 2
        w, e = min(w, cx - 0.1), max(e, cx + 0.1)
        s, n = min(s, cy - 0.1), max(n, cy + 0.1)
    dx, dy = (e - w) * pad, (n - s) * pad
    return (round(w - dx, 5), round(max(s - dy, -85.0), 5), round(e + dx, 5), round(min(n + dy, 85.0), 5))


def _compass(lat0, lon0, lat, lon) -> str:
    """The 8-point compass direction from (lat0, lon0) to (lat, lon) (initial great-circle bearing).

    Examples
    --------
    >>> _compass(36.0, 36.5, 39.9, 32.9), _compass(36.0, 36.5, 35.1, 36.8)
    ('NW', 'S')
    """
    p0, p1, dl = math.radians(lat0), math.radians(lat), math.radians(lon - lon0)
    b = math.degrees(math.atan2(math.sin(dl) * math.cos(p1),
                                math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(dl)))
    return _COMPASS[int(round((b % 360) / 45)) % 8]


# --------------------------------------------------------------------------- timeline → faces
def _day(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).normalize(), "ns")


def _fmt(d) -> str:
    return str(np.datetime64(d, "D"))


def _changed_ground(prev: dict, cur: dict) -> tuple[dict, list]:
    """``({actor: ground it gained}, [ground lost])`` between two ``{actor: geometry}`` snapshots.

    Uses :func:`geo_idlib.change` 's windowed overlay (only where the boundaries differ), so that
    a day of DeepState costs a few small overlays instead of two of the whole front.
    """
    from . import change as _change

    a1 = {str(a): g for a, g in prev.items()}
    a2 = {str(a): g for a, g in cur.items()}
    src, dst, pieces = _change._change_pieces(a1, a2)
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
    out = np.full(len(parts), _NO_ACTOR, dtype=int)
    if len(parts) == 0:
        return out
    pts = shapely.point_on_surface(parts)
    for a, g in snapshot.items():
        shapely.prepare(g)
        out[(out == _NO_ACTOR) & shapely.contains(g, pts)] = a
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


def partition(timeline, actors: _Actors | None = None):
    """Cut a control timeline into faces that each change controller only at change dates.

    Parameters
    ----------
    timeline : GeoDataFrame
        ``actor, valid_from, valid_to, geometry`` in EPSG:4326 (``valid_to`` exclusive, NaT open),
        without overlaps between actors on the same day (as :func:`geo_idlib.control.load_timeline`
        makes it).

    Returns
    -------
    dates : numpy.ndarray of datetime64[ns]
        The change dates; interval *k* is ``[dates[k], dates[k+1])`` (the last one open).
    faces : numpy.ndarray of shapely geometries
        Non-overlapping polygons (a coverage) covering every area of the timeline.
    runs : list of (face, k_from, k_to, actor)
        Face ``face`` is held by actor index ``actor`` during intervals ``k_from ≤ k < k_to``.
    actors : _Actors
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
    >>> [_fmt(d) for d in dates], len(faces)
    (['2020-01-01', '2020-01-05'], 3)
    >>> sorted((round(faces[f].area, 2), k0, k1, acts.table[a]["id"]) for f, k0, k1, a in runs)
    [(0.5, 0, 1, 'opposition'), (0.5, 0, 2, 'opposition'), (0.5, 1, 2, 'government'), (1.0, 0, 2, 'government')]
    """
    actors = actors or _Actors(palette())
    t = _crs.to_wgs84(timeline, "timeline")
    geoms = _polygonal(shapely.set_precision(shapely.make_valid(np.asarray(t.geometry.values, dtype=object)), _GRID))
    act = actors.get_many(t["actor"].to_numpy())
    vf = pd.to_datetime(t["valid_from"]).dt.normalize().to_numpy(dtype="datetime64[ns]")
    vt = pd.to_datetime(t["valid_to"]).dt.normalize().to_numpy(dtype="datetime64[ns]")
    if np.isnat(vf).any():
        raise InputError("timeline: some rows have no valid_from; give every area a start date")
    dates = np.unique(np.concatenate([vf, vt[~np.isnat(vt)]]))
    keep = ~shapely.is_empty(geoms) & (act != _NO_ACTOR)
    if (~shapely.is_empty(geoms) & (act == _NO_ACTOR)).any():
        log.warning("map: %d area(s) of the timeline have no actor and are not drawn; fill the actor column",
                    int((~shapely.is_empty(geoms) & (act == _NO_ACTOR)).sum()))
    faces: list = []
    hist: list[list[tuple[int, int]]] = []  # per face: [(k, actor)] label changes
    prev: dict[int, object] = {}
    prev_rows: dict[int, tuple] = {}
    for k, day in enumerate(dates):
        active = keep & (vf <= day) & (np.isnat(vt) | (day < vt))
        cur_rows: dict[int, tuple] = {}
        for i in np.flatnonzero(active):
            cur_rows.setdefault(int(act[i]), []).append(int(i))
        cur_rows = {a: tuple(r) for a, r in cur_rows.items()}
        changed = [a for a in sorted(set(cur_rows) | set(prev_rows)) if cur_rows.get(a) != prev_rows.get(a)]
        if not changed:
            continue
        cur = dict(prev)
        for a in changed:
            rows = cur_rows.get(a)
            g = None if rows is None else (geoms[rows[0]] if len(rows) == 1 else _poly1(shapely.union_all(geoms[list(rows)], grid_size=_GRID)))
            if g is None:
                cur.pop(a, None)
            else:
                cur[a] = g
        gains, losses = _changed_ground(prev, cur)
        d_parts = list(gains.values()) + losses
        if not d_parts:
            prev, prev_rows = cur, cur_rows
            continue
        gain_all = (None if not gains else next(iter(gains.values())) if len(gains) == 1
                    else _poly1(shapely.union_all(list(gains.values()), grid_size=_GRID)))
        D = _poly1(shapely.union_all(d_parts, grid_size=_GRID))
        shapely.prepare(D)
        covered = []  # the parts of D that already belong to a face
        if faces:
            F = np.array(faces, dtype=object)
            # D is scattered along the fronts: overlay each face only with the parts of D near it
            dparts = shapely.get_parts(D)
            pi, fi = shapely.STRtree(F).query(dparts)
            order = np.lexsort((pi, fi))
            pi, fi = pi[order], fi[order]
            cand, inv = np.unique(fi, return_inverse=True)
            near = shapely.multipolygons(dparts[pi], indices=inv) if len(cand) else np.array([], dtype=object)
            ok = shapely.intersects(F[cand], near) & ~shapely.touches(F[cand], near)
            hit, near = cand[ok], near[ok]
            if len(hit):
                inside = _polygonal(shapely.intersection(F[hit], near, grid_size=_GRID))
                outside = _polygonal(shapely.difference(F[hit], near, grid_size=_GRID))
                for j, i in enumerate(hit):
                    piece = inside[j]
                    if shapely.area(piece) <= 0:
                        continue
                    faces[i] = outside[j]
                    covered.append(piece)
                    # the piece changed hands: split it by the actors that gained ground
                    rest = piece
                    for a, g in gains.items():
                        part = _poly1(shapely.intersection(piece, g, grid_size=_GRID))
                        if shapely.area(part) > 0:
                            faces.append(part)
                            hist.append(hist[i] + [(k, a)])
                            rest = _poly1(shapely.difference(rest, g, grid_size=_GRID))
                    if shapely.area(rest) > 0:
                        # what is left is nobody's, unless snapping shaved a gain: ask the snapshot
                        parts = shapely.get_parts(rest)
                        labels = _holder(parts, cur)
                        for lab in np.unique(labels):
                            sel = parts[labels == lab]
                            faces.append(sel[0] if len(sel) == 1 else shapely.multipolygons(sel))
                            hist.append(hist[i] + [(k, int(lab))])
        if gain_all is not None:
            # ground never held before: the gains outside every existing face (small overlays only)
            new = gain_all if not covered else _poly1(shapely.difference(
                gain_all, shapely.union_all(covered, grid_size=_GRID), grid_size=_GRID))
            if shapely.area(new) > 0:
                for a, g in gains.items():
                    part = _poly1(shapely.intersection(new, g, grid_size=_GRID)) if len(gains) > 1 else new
                    for tile in _tiles(part):
                        faces.append(tile)
                        hist.append([(k, a)])
        gone = set(prev) - set(cur)
        if gone:  # an actor left the map: none of its faces stays, whatever snapping left behind
            for h in hist:
                if h[-1][1] in gone and h[-1][0] < k:
                    h.append((k, _NO_ACTOR))
        prev, prev_rows = cur, cur_rows
    n = len(dates)
    runs = []
    faces_arr = np.array(faces, dtype=object)
    if faces:  # drop overlay specks (parts under ~10 m², far below a pixel at any useful zoom)
        faces_arr = _drop_small_parts(faces_arr, _SPECK_DEG2)
    ok = np.zeros(len(faces), dtype=bool) if not faces else ~shapely.is_empty(faces_arr)
    out_faces, remap = [], {}
    for f in np.flatnonzero(ok):
        h = hist[f]
        for j, (k0, a) in enumerate(h):
            k1 = h[j + 1][0] if j + 1 < len(h) else n
            if a != _NO_ACTOR and k1 > k0:
                if f not in remap:
                    remap[f] = len(out_faces)
                    out_faces.append(faces_arr[f])
                runs.append((remap[f], k0, k1, a))
    return dates, np.array(out_faces, dtype=object), runs, actors


# --------------------------------------------------------------------------- geometry encoding
def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (overlays may leave lines/points at shared edges)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    for i in np.flatnonzero(shapely.get_type_id(geoms) == 7):  # GeometryCollection
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.multipolygons(shapely.get_parts(parts)) if len(parts) else shapely.Polygon()
    bad = ~np.isin(shapely.get_type_id(out), (3, 6))
    out[bad] = shapely.Polygon()
    return out


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


# --------------------------------------------------------------------------- HTML fragments
def _name(r) -> str:
    """A place's display name: its gazetteer name, else the mention as written."""
    for key in ("name", "mention"):
        v = r.get(key)
        if isinstance(v, str) and v.strip():
            return v
    return "?"


def _esc(value) -> str:
    """HTML-escape any value shown to the user (report text is data)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _km2(x: float) -> str:
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:,.1f}" if abs(x) < 10 else f"{x:,.0f}"


def script_json(obj) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` at all.

    Examples
    --------
    >>> script_json({"s": "</script><!--"})
    '{"s":"\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = io.dumps_json(obj)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: A place closer than this (km) to another side's ground is flagged as near the front in its popup.
FRONT_KM = 5.0


def _place_popup(rows: pd.DataFrame, actor_label: str, date_txt: str | None) -> str:
    r = rows.iloc[0]
    conf = r.get("confidence")
    conf_txt = "" if conf is None or (isinstance(conf, float) and math.isnan(conf)) else f"{float(conf):.2f}"
    parts = [f'<div class="gi-popup"><b class="gi-name">{_esc(_name(r))}</b>',
             f'<div class="gi-meta">{_esc(r.get("precision"))} · confidence {_esc(conf_txt)}'
             f'{" · " + _esc(r.get("admin1")) if _esc(r.get("admin1")) else ""}'
             f'{" · " + _esc(r.get("country")) if _esc(r.get("country")) else ""}</div>',
             f'<div class="gi-actor">Held by: {_esc(actor_label)}{" on " + _esc(date_txt) if date_txt else ""}</div>']
    front = r.get("front_km")
    if front is not None and not pd.isna(front):
        near = " — near the front: the side here is uncertain" if float(front) < FRONT_KM else ""
        parts.append(f'<div class="gi-front">{float(front):.1f} km from ground held by another side{near}</div>')
    shown = rows.drop_duplicates(["report", "sentence"]).head(5)
    for _, m in shown.iterrows():
        parts.append(f'<blockquote class="gi-sentence">{_esc(m.get("sentence"))}'
                     f'<cite>{_esc(m.get("report"))}</cite></blockquote>')
    if len(rows) > len(shown):
        parts.append(f'<div class="gi-more">{len(rows) - len(shown)} more mention(s)</div>')
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------- the map element
_TEMPLATE = Template("""
{% macro header(this, kwargs) %}
<style>{{ this.css }}</style>
<script>{{ this.js }}</script>
{% endmacro %}
{% macro html(this, kwargs) %}
<script type="application/json" id="geo_idlib_data">{{ this.data_json }}</script>
{% endmacro %}
{% macro script(this, kwargs) %}
geoIdlib.init({{ this._parent.get_name() }}, JSON.parse(document.getElementById("geo_idlib_data").textContent));
{% endmacro %}
""")


class _Raw(Element):
    """A finished piece of the page, inserted as it is: never parsed as a template.

    branca's :class:`~branca.element.MacroElement` wraps each macro's output in ``Element(text)``,
    which parses that text as a Jinja template again; data in it (report text, titles, file names)
    would then run as template code. Everything geo_idlib adds to a page goes in as a ``_Raw``.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "Raw"
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class GeoIdlibLayers(MacroElement):
    """The map's data and the project's JS/CSS (Leaflet inlined) as one folium element.

    Its template is rendered exactly once; the results reach the page as :class:`_Raw` text.
    """

    _template = _TEMPLATE

    def __init__(self, data: dict, css: str, js: str):
        super().__init__()
        self._name = "GeoIdlibLayers"
        self._id = MAP_ID
        self.data = data
        self.data_json = script_json(data)
        self.css = css.replace("</", "<\\/")
        self.js = js.replace("</script", "<\\/script")

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            getattr(figure, part).add_child(_Raw(module[part](self, kwargs)), name=self.get_name())


def _leaflet_css() -> str:
    import base64
    import re

    css = io.leaflet_dist_bytes("leaflet.css").decode("utf-8")

    def inline(m):
        name = m.group(1)
        data = base64.b64encode(io.leaflet_dist_bytes(f"images/{name}")).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)


#: The side panel: the title stays put and the list scrolls on its own, within half the window, with
#: a shadow at the edge where more items are (a scrollbar alone does not show in every browser);
#: each section and each place folds (its name and distance on one line, its sentence under it).
PANEL_CSS = """
.gi-panel { max-height: none; overflow: visible; max-width: 360px; }
.gi-panel-body { max-height: max(7em, calc(50vh - 60px)); overflow-y: auto; overscroll-behavior: contain;
  margin-right: -6px; padding-right: 6px; scrollbar-width: thin; scrollbar-color: #8a8a8a #eee;
  background: linear-gradient(#fff 30%, rgba(255, 255, 255, 0)) top / 100% 28px no-repeat local,
    linear-gradient(rgba(255, 255, 255, 0), #fff 70%) bottom / 100% 28px no-repeat local,
    radial-gradient(farthest-side at 50% 0, rgba(0, 0, 0, .3), rgba(0, 0, 0, 0)) top / 100% 10px no-repeat scroll,
    radial-gradient(farthest-side at 50% 100%, rgba(0, 0, 0, .3), rgba(0, 0, 0, 0)) bottom / 100% 10px no-repeat scroll,
    #fff; }
.gi-panel-body::-webkit-scrollbar { width: 8px; }
.gi-panel-body::-webkit-scrollbar-track { background: #eee; border-radius: 4px; }
.gi-panel-body::-webkit-scrollbar-thumb { background: #8a8a8a; border-radius: 4px; }
.gi-panel summary { cursor: pointer; }
.gi-panel summary.gi-panel-title { margin: 4px 0 1px; }
.gi-panel ul { margin: 1px 0 4px; padding-left: 4px; list-style: none; }
.gi-panel li { margin: 1px 0; }
.gi-panel li summary { list-style-position: outside; margin-left: 12px; }
.gi-panel li .gi-sentence { margin: 2px 0 5px 12px; }
"""


def _assets() -> tuple[str, str]:
    css = _leaflet_css() + "\n" + io.package_asset_text("geo_idlib.css") + PANEL_CSS
    js = io.leaflet_dist_bytes("leaflet.js").decode("utf-8") + "\n" + io.package_asset_text("geo_idlib.js")
    return css, js


def _online_tiles() -> list[dict]:
    import warnings

    import xyzservices.providers as xyz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xyzservices warns that CARTO may want an API key
        providers = [("OpenStreetMap", xyz.OpenStreetMap.Mapnik), ("CartoDB Positron", xyz.CartoDB.Positron)]
        return [{"name": n, "url": p.build_url(), "attribution": p.html_attribution,
                 "max_zoom": int(p.get("max_zoom", 18))} for n, p in providers]


def _basemap(view, tolerance: float) -> dict | None:
    """Country outlines and Syrian governorates from shapefiles/, clipped around the view."""
    layers = {}
    w, s, e, n = view
    pad = max(e - w, n - s, 2.0)
    clip = shapely.box(w - pad, s - pad, e + pad, n + pad)
    for key, name in (("countries", "countries.gpkg"), ("admin1", "syria_admin1.gpkg")):
        g = io.shapefile_layer(name)
        if g is None:
            continue
        g = _crs.to_wgs84(g, name)
        geoms = np.asarray(g.geometry.values, dtype=object)
        geoms = geoms[shapely.intersects(geoms, clip)]
        geoms = simplify_coverage(geoms, tolerance)
        geoms = shapely.intersection(geoms, clip)
        enc = [r for r in encode_polygons(geoms) if r]
        if enc:
            layers[key] = enc
    return layers or None


def build_map(areas=None, places=None, *, timeline=None, date=None, change_polys=None, d1=None, d2=None,
              title: str | None = None, offline: bool = True, basemap: bool | None = None,
              notice: str | None = None) -> folium.Map:
    """A self-contained Leaflet map of control areas, change and places.

    Parameters
    ----------
    areas : GeoDataFrame, optional
        A snapshot (``actor, geometry``), used when ``timeline`` is not given.
    places : GeoDataFrame, optional
        Places (DESIGN.md columns) with an optional ``actor`` column from the as-of join. Places more
        than :data:`FAR_KM` from the focus region are not drawn. The initial view frames the places
        (see :func:`fit_view`); every located place outside it, and every unresolved place, is listed
        in the side panel.
    timeline : GeoDataFrame, optional
        ``actor, valid_from, valid_to, geometry``; gives the time slider.
    date : date-like, optional
        The date shown first (default: ``d2``, else the timeline's last change date).
    change_polys : GeoDataFrame, optional
        ``actor_from, actor_to, area_km2, geometry`` from :func:`geo_idlib.change.compare`.
    d1, d2 : date-like, optional
        The change period; with a timeline (not a single snapshot) they also give the
        before/after swipe.
    title : str, optional
    offline : bool
        True (default): no network at all; light vector basemap from shapefiles/. False: tiles
        (OpenStreetMap, CARTO Positron) through xyzservices.
    basemap : bool, optional
        Draw the offline vector basemap (default: when offline and the files exist).
    notice : str, optional
        A line shown in the side panel (e.g. "no places found in the report").

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; :func:`to_html` gives the deterministic HTML.

    Examples
    --------
    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    >>> m = build_map(a, basemap=False)
    >>> to_html(m) == to_html(build_map(a, basemap=False))
    True
    """
    pal = palette()
    actors = _Actors(pal)
    date_d = _day(date) if date is not None else None
    d1_d = _day(d1) if d1 is not None else None
    d2_d = _day(d2) if d2 is not None else None
    if d1_d is not None and d2_d is not None and d1_d > d2_d:
        raise InputError(f"--from {_fmt(d1_d)} is after --to {_fmt(d2_d)}; swap them")

    # ---- areas → faces
    timeline_from_areas = timeline is None and areas is not None and len(areas) > 0
    if timeline_from_areas:
        a = _crs.to_wgs84(areas, "areas")
        day = date_d if date_d is not None else np.datetime64("1970-01-01", "ns")
        timeline = a[["actor", "geometry"]].assign(valid_from=day, valid_to=pd.NaT)
        timeline = timeline.set_geometry("geometry")
    dates = np.array([], dtype="datetime64[ns]")
    faces = np.array([], dtype=object)
    runs: list = []
    area_bounds = None
    if timeline is not None and len(timeline):
        dates, faces, runs, actors = partition(timeline, actors)
        if len(faces):
            area_bounds = tuple(shapely.total_bounds(faces).tolist())

    # ---- places
    near_rows, unlocated_rows, located_rows = None, None, None
    framed_bounds = None
    if places is not None and len(places):
        p = _crs.to_wgs84(places, "places")
        geom = p.geometry.to_numpy()
        located = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
        unlocated_rows = p[~located]
        located_rows = p[located]
        lon, lat = shapely.get_x(located_rows.geometry.to_numpy()), shapely.get_y(located_rows.geometry.to_numpy())
        focus = area_bounds or DEFAULT_FOCUS
        dist = _bbox_distance_km(lat, lon, focus)
        far = dist > FAR_KM
        near_rows = located_rows[~far]
        # the places the initial view frames: near the areas, and not a whole country's point
        precision = located_rows.get("precision", pd.Series("", index=located_rows.index))
        broad = precision.fillna("").astype(str).str.lower().isin(BROAD_PRECISIONS).to_numpy()
        framed = ~far & ~broad & (dist <= VIEW_KM if area_bounds is not None else True)
        if not framed.any() and area_bounds is None:  # no areas, only country points: frame them
            framed = ~far
        if framed.any():
            framed_bounds = (float(lon[framed].min()), float(lat[framed].min()),
                             float(lon[framed].max()), float(lat[framed].max()))

    # ---- dates shown by the slider and the swipe
    def index_of(d):
        if d is None or len(dates) == 0:
            return None
        i = int(np.searchsorted(dates, d, side="right")) - 1
        return i if i >= 0 else None  # before the timeline: nothing to show

    cover = np.zeros(len(dates) + 1, dtype=int)  # how many runs are active in each interval
    if runs:
        r = np.asarray(runs, dtype=int)
        np.add.at(cover, r[:, 1], 1)
        np.add.at(cover, np.minimum(r[:, 2], len(dates)), -1)
    shown = np.flatnonzero(np.cumsum(cover)[:len(dates)] > 0).tolist()
    start = date_d if date_d is not None else d2_d
    k_start = index_of(start) if start is not None else (shown[-1] if shown else None)
    swipe = None
    change_bounds = None
    if change_polys is not None and len(change_polys):
        cg = _crs.to_wgs84(change_polys, "change").geometry.to_numpy()
        cg = cg[~(shapely.is_missing(cg) | shapely.is_empty(cg))]
        if len(cg):
            change_bounds = tuple(shapely.total_bounds(cg).tolist())
    if d1_d is not None and d2_d is not None and len(dates) and not timeline_from_areas:
        swipe = {"left": index_of(d1_d), "right": index_of(d2_d), "left_label": _fmt(d1_d),
                 "right_label": _fmt(d2_d), "lon": None}
        if change_bounds is not None:  # the swipe starts on the change
            swipe["lon"] = round((change_bounds[0] + change_bounds[2]) / 2, 5)
        if date_d is None:
            k_start = index_of(d2_d)

    # ---- the initial view: the report's places and the change, with the known sides around them
    # (not every area: a big "unknown" area would shrink the front to a corner); else all areas
    first = {k for k in (k_start, swipe["left"] if swipe else None) if k is not None}
    known_ids = {i for i, st in enumerate(actors.table) if st["id"] != "unknown"}
    known_faces = sorted({f for f, k0, k1, a in runs if a in known_ids and (not first or any(k0 <= k < k1 for k in first))})
    view = fit_view(_bounds_of([framed_bounds, change_bounds]), faces[known_faces] if known_faces else None,
                    area_bounds)
    zoom = initial_zoom(view)
    tol = pixel_degrees(view, zoom)

    simp_faces, dev_px = simplify_within(faces, tol) if len(faces) else (faces, 0.0)
    enc_faces = encode_polygons(simp_faces) if len(faces) else []
    keep_face = [bool(r) for r in enc_faces]
    face_map = {}
    for i, ok in enumerate(keep_face):
        if ok:
            face_map[i] = len(face_map)
    data: dict = {
        "v": 1,
        "map_id": MAP_ID,
        "bounds": [[round(view[1], 5), round(view[0], 5)], [round(view[3], 5), round(view[2], 5)]],
        "quantum": QUANTUM,
        "dates": [_fmt(d) for d in dates],
        "date_label": not (timeline_from_areas and date_d is None),  # no made-up date on screen
        "slider": shown,
        "start": k_start,
        "faces": [f for f in enc_faces if f],
        "runs": sorted([face_map[f], k0, k1, a] for f, k0, k1, a in runs if f in face_map),
        "swipe": swipe,
        "background": pal["background"],
        "basemap_style": pal["basemap"],
        "area_opacity": pal["area_fill_opacity"],
        "marker_opacity": pal["marker_fill_opacity"],
        "marker_stroke": pal["marker_stroke"],
        "simplify": {"zoom": zoom, "pixel_deg": round(tol, 8), "ref_view": [REF_WIDTH, REF_HEIGHT],
                     "max_dev_px": round(dev_px, 3)},
    }

    # ---- change polygons
    change_rows = []
    legend_change = ""
    if change_polys is not None and len(change_polys):
        c = _crs.to_wgs84(change_polys, "change polygons")
        c = c[~(c.geometry.isna() | c.geometry.is_empty)]
        if "area_km2" in c.columns:
            km2 = c["area_km2"].to_numpy(dtype=float)
        else:
            km2 = _crs.geodesic_area_km2(c)
        af = actors.get_many(c["actor_from"].to_numpy())
        at = actors.get_many(c["actor_to"].to_numpy())
        enc = encode_polygons(simplify_within(c.geometry.to_numpy(), tol)[0])
        for g, f, t, k in zip(enc, af, at, km2, strict=True):
            if g:
                change_rows.append({"g": g, "from": int(f), "to": int(t), "km2": round(float(k), 3)})
        change_rows.sort(key=lambda r: (r["from"], r["to"], -r["km2"], r["g"]))
        gained = pd.Series(km2).groupby(at).sum()
        lost = pd.Series(km2).groupby(af).sum()
        ids = sorted(set(gained.index) | set(lost.index), key=lambda i: actors.label(i))
        period = f"{_fmt(d1_d)} → {_fmt(d2_d)}" if d1_d is not None and d2_d is not None else "change"
        lines = [f'<div class="gi-legend-title">Change {_esc(period)}</div>',
                 '<div class="gi-legend-note">hatched: gained by · dashed outline: lost by</div>']
        for i in ids:
            if i == _NO_ACTOR:
                continue
            lines.append(f'<div class="gi-legend-row"><span class="gi-swatch gi-hatch" style="--c:{_esc(actors.color(i))}">'
                         f'</span>{_esc(actors.label(i))}: +{_km2(gained.get(i, 0.0))} km² / '
                         f'−{_km2(lost.get(i, 0.0))} km²</div>')
        legend_change = "".join(lines)
    data["change"] = change_rows

    # ---- markers and side panel
    markers = []
    panel_unlocated = []
    date_txt = _fmt(dates[k_start]) if k_start is not None and len(dates) else (_fmt(date_d) if date_d is not None else None)
    if date_d is not None:
        date_txt = _fmt(date_d)

    def groups(rows):
        empty = pd.Series("", index=rows.index)
        key = rows.get("place_id", empty).fillna("").astype(str)
        key = key.where(key != "", "name:" + rows.get("name", empty).fillna("").astype(str))
        if "mention" in rows.columns:
            key = key.where(key != "name:", "mention:" + rows["mention"].fillna("").astype(str))
        rows = rows.assign(_key=key.to_numpy())
        return sorted(rows.groupby("_key", sort=True), key=lambda kv: kv[0])

    if near_rows is not None and len(near_rows):
        for _, g in groups(near_rows):
            r = g.iloc[0]
            ai = actors.get(r.get("actor")) if "actor" in g.columns else _NO_ACTOR
            markers.append({"lat": round(float(r.geometry.y), 5), "lon": round(float(r.geometry.x), 5),
                            "actor": ai, "popup": _place_popup(g, actors.label(ai), date_txt),
                            "tooltip": _esc(_name(r)), "n": int(len(g))})
        markers.sort(key=lambda m: (m["lat"], m["lon"], m["tooltip"]))
    def panel_item(r, cls: str, meta: str) -> str:  # meta is already escaped
        # one line per place (its name and where it is); its sentence folds out under it
        return (f'<li class="{cls}"><details><summary><b>{_esc(_name(r))}</b> <span class="gi-meta">{meta}</span>'
                f'</summary><blockquote class="gi-sentence">{_esc(r.get("sentence"))}<cite>{_esc(r.get("report"))}'
                f'</cite></blockquote></details></li>')

    # every located place is either inside the initial view or listed here, nearest first
    off_view = []
    if located_rows is not None and len(located_rows):
        w, s_, e, n = view
        clat, clon = (s_ + n) / 2, (w + e) / 2
        for _, g in groups(located_rows.assign(_drawn=~far)):
            r = g.iloc[0]
            y, x = float(r.geometry.y), float(r.geometry.x)
            if w <= x <= e and s_ <= y <= n:
                continue
            km = float(_bbox_distance_km(np.array([y]), np.array([x]), view)[0])
            prec = str(r.get("precision") or "").lower()
            meta = [f'{"&lt;1" if km < 1 else f"{km:,.0f}"} km {_compass(clat, clon, y, x)}']
            if prec in BROAD_PRECISIONS:
                meta.append(_esc(prec))
            if _esc(r.get("country")):
                meta.append(_esc(r.get("country")))
            meta.append("zoom out" if bool(r["_drawn"]) else f"not drawn (over {FAR_KM:.0f} km)")
            off_view.append((round(km, 3), _name(r), panel_item(r, "gi-off", " · ".join(meta))))
        off_view.sort(key=lambda t: (t[0], t[1]))
    if unlocated_rows is not None and len(unlocated_rows):
        for _, g in groups(unlocated_rows):
            panel_unlocated.append(panel_item(g.iloc[0], "gi-unlocated", _esc(g.iloc[0].get("status"))))
    data["markers"] = markers
    panel = []
    if notice:
        panel.append(f'<div class="gi-notice">{_esc(notice)}</div>')

    def section(cls: str, heading: str, items: list[str]) -> str:
        return (f'<details class="gi-section {cls}" open><summary class="gi-panel-title">{heading}</summary>'
                f'<ul>{"".join(items)}</ul></details>')

    if off_view:
        panel.append(section("gi-outside", f"Outside this view ({len(off_view)})", [t[2] for t in off_view]))
    if panel_unlocated:
        panel.append(section("gi-not-located", f"Not located ({len(panel_unlocated)})", panel_unlocated))
    data["panel"] = "".join(panel)

    # ---- legend (actors actually drawn, in palette order, then others by name)
    used = sorted({a for *_, a in runs} | {m["actor"] for m in markers if m["actor"] != _NO_ACTOR}
                  | {r["to"] for r in change_rows if r["to"] != _NO_ACTOR}
                  | {r["from"] for r in change_rows if r["from"] != _NO_ACTOR})
    order = {k: i for i, k in enumerate(pal["actors"])}
    used.sort(key=lambda i: (order.get(actors.table[i]["id"], len(order)), actors.table[i]["id"]))
    rows = []
    for i in used:
        st = actors.table[i]
        cls = "gi-swatch gi-hatch" if st["hatch"] else "gi-swatch"
        rows.append(f'<div class="gi-legend-row" data-actor="{_esc(st["id"])}"><span class="{cls}" '
                    f'style="--c:{_esc(st["color"])}"></span>{_esc(st["label"])}'
                    f'{"" if st["known"] else " (unrecognised)"}</div>')
    if markers and any(m["actor"] == _NO_ACTOR for m in markers):
        rows.append(f'<div class="gi-legend-row"><span class="gi-swatch gi-dot" style="--c:{_esc(pal["no_actor"]["color"])}">'
                    f'</span>{_esc(pal["no_actor"]["label"])}</div>')
    data["legend"] = "".join(rows) + legend_change
    data["actors"] = actors.table
    data["title"] = _esc(title) if title else ""

    # ---- base layers
    if offline:
        data["tiles"] = []
        want = basemap if basemap is not None else True
        data["basemap"] = _basemap(view, tol) if want else None
    else:
        data["tiles"] = _online_tiles()
        data["basemap"] = _basemap(view, tol) if basemap else None

    css, js = _assets()
    m = folium.Map(location=[(view[1] + view[3]) / 2, (view[0] + view[2]) / 2], zoom_start=zoom,
                   tiles=None, control_scale=True, max_zoom=MAX_ZOOM)
    m._id = MAP_ID
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root._id = MAP_ID
    if title:
        root.header.add_child(_Raw(f"<title>{_esc(title)}</title>"), name="title")
    layer = GeoIdlibLayers(data, css, js)
    m.add_child(layer, name="geo_idlib_layers")
    m.geo_idlib = data          # the map's data document (what the HTML embeds)
    m.geo_idlib_faces = faces   # the exact faces before simplification (for size/deviation checks)
    m.geo_idlib_runs = runs     # their runs (face, k_from, k_to, actor index) over data["dates"]
    return m


def to_html(m: folium.Map) -> str:
    """The map's complete HTML, byte-identical for identical inputs.

    Examples
    --------
    >>> m = build_map(basemap=False)
    >>> html_text = to_html(m)
    >>> "<script src" in html_text or "<link" in html_text
    False
    """
    text = m.get_root().render()
    if "geoIdlib.init" not in text:
        raise RenderError("map: not built by geo_idlib.render.build_map; build it with build_map()")
    return text


# --------------------------------------------------------------------------- PNG export
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def find_chromium(chromium: str | None = None) -> str:
    """The headless Chromium to use: ``chromium``, $GEO_IDLIB_CHROMIUM, /usr/bin/chromium or PATH."""
    import os
    import shutil

    for c in (chromium, os.environ.get("GEO_IDLIB_CHROMIUM"), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if c and os.path.exists(c):
            return c
    raise RenderError("PNG export needs a headless Chromium: none at /usr/bin/chromium; install Debian's "
                      "'chromium' (apt-get install chromium) or set GEO_IDLIB_CHROMIUM, or write .html instead")


def to_png(html_or_path, out_png, width: int = 1200, height: int = 800, *, chromium: str | None = None,
           overwrite: bool = False, timeout_s: float = 30.0, allow_network: bool = False) -> str:
    """Screenshot a map in headless Chromium and write it atomically as PNG.

    Parameters
    ----------
    html_or_path : str or path-like or folium.Map
        An HTML file path, HTML text, or a map from :func:`build_map`.
    out_png : path
    width, height : int
        The viewport (and image) size in CSS pixels.
    chromium : str, optional
        Path of the browser (see :func:`find_chromium`); it is never downloaded.
    allow_network : bool
        False (default): every request other than the file itself is blocked.

    Returns
    -------
    str
        ``out_png``.
    """
    import os
    import threading
    from pathlib import Path

    if not (100 <= int(width) <= 8000 and 100 <= int(height) <= 8000):
        raise InputError(f"PNG size {width}x{height}: give a width and height between 100 and 8000 pixels")
    io.check_output(out_png, overwrite)
    exe = find_chromium(chromium)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RenderError("PNG export needs playwright (pip install playwright); the browser itself is "
                          "Debian's chromium, never downloaded") from None
    tmp = None
    if isinstance(html_or_path, folium.Map):
        tmp = io.temp_html_file(to_html(html_or_path))
        path = tmp
    elif isinstance(html_or_path, (str, os.PathLike)) and not str(html_or_path).lstrip().startswith("<"):
        path = Path(html_or_path)
        if not path.exists():
            raise InputError(f"{path}: no such HTML file; give the map's .html path or its HTML text")
    else:
        tmp = io.temp_html_file(str(html_or_path))
        path = tmp
    url = Path(path).resolve().as_uri()
    result: dict = {}

    def shoot():  # in its own thread: playwright's sync API refuses a thread with a running asyncio loop (Jupyter)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": int(width), "height": int(height)})
                    if not allow_network:
                        page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
                    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                    page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=timeout_s * 1000)
                    result["png"] = page.screenshot(type="png", full_page=False)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            result["error"] = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    try:
        worker = threading.Thread(target=shoot, name="geo_idlib-png")
        worker.start()
        worker.join()
    finally:
        if tmp is not None:
            io.remove_temp_file(tmp)
    if "png" not in result:
        raise RenderError(f"PNG export: headless Chromium failed ({result.get('error', 'no image')}); "
                          f"check {exe} or write .html instead")
    png = result["png"]
    io.write_bytes(out_png, png, overwrite=overwrite)
    return str(out_png)


def dumps_debug(m: folium.Map) -> str:
    """The map's data document as indented JSON (for inspection and tests)."""
    return json.dumps(m.geo_idlib, indent=1, sort_keys=True, ensure_ascii=False)
