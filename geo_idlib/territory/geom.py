"""Geometry of control areas: polygonal parts, local projections, layers to WGS84, dissolves.

Overlays and :func:`shapely.make_valid` may return lines and points beside the polygons (a shared
edge, a touching corner) or a ``GeometryCollection`` of them; control areas are polygons, so the
rest of :mod:`geo_idlib.territory` (and :mod:`geo_idlib.maps`) keeps only the polygonal parts,
with :func:`polygonal` or :func:`polygon_parts`. Geometry types are compared as
:class:`shapely.GeometryType` members, never as bare numbers.
"""

from __future__ import annotations

import functools

import numpy as np
import pyproj
import shapely
from shapely import GeometryType

from .. import crs as _crs
from ..errors import CRSError

#: Types that are already polygonal (kept unchanged by :func:`polygonal`).
POLYGONAL = (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)

_COLLECTIONS = (GeometryType.MULTIPOINT, GeometryType.MULTILINESTRING, GeometryType.MULTIPOLYGON,
                GeometryType.GEOMETRYCOLLECTION)


# =========================================================================== polygonal parts
def is_polygonal(geoms, *, collections: bool = False) -> np.ndarray:
    """Whether each geometry is a Polygon or MultiPolygon (or, with ``collections``, a
    GeometryCollection that may hold polygons). Missing geometries are not.

    Examples
    --------
    >>> is_polygonal([shapely.box(0, 0, 1, 1), shapely.Point(0, 0), None]).tolist()
    [True, False, False]
    >>> gc = shapely.GeometryCollection([shapely.box(0, 0, 1, 1)])
    >>> is_polygonal([gc]).tolist(), is_polygonal([gc], collections=True).tolist()
    ([False], [True])
    """
    types = POLYGONAL + ((GeometryType.GEOMETRYCOLLECTION,) if collections else ())
    return np.isin(shapely.get_type_id(np.asarray(geoms, dtype=object)), types)


def polygon_parts(geoms) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty Polygons inside each geometry, and the position of the geometry each came from.

    Multi-geometries and collections are flattened at any depth; parts keep their order (geometry
    by geometry, then part by part). Lines, points, empty and missing geometries give no part.

    Examples
    --------
    >>> gc = shapely.GeometryCollection([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]),
    ...                                  shapely.LineString([(0, 0), (5, 5)]), shapely.box(4, 0, 5, 1)])
    >>> parts, index = polygon_parts([shapely.Point(0, 0), gc])
    >>> [p.bounds[0] for p in parts], index.tolist()
    ([0.0, 2.0, 4.0], [1, 1, 1])
    """
    parts, index = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    while True:
        nested = np.isin(shapely.get_type_id(parts), _COLLECTIONS)
        if not nested.any():
            break
        parts, sub = shapely.get_parts(parts, return_index=True)
        index = index[sub]
    keep = (shapely.get_type_id(parts) == GeometryType.POLYGON) & ~shapely.is_empty(parts)
    return parts[keep], index[keep]


def polygonal(geoms, empty=None) -> np.ndarray:
    """Each geometry reduced to its polygonal parts (a new array).

    Polygons and MultiPolygons are kept as they are. Any other geometry becomes the MultiPolygon of
    the polygons it holds (:func:`polygon_parts`), or ``empty`` when it holds none; a missing
    geometry becomes ``empty`` too. ``empty`` is None (no area: a row to drop) or an empty
    Polygon (an area of nothing, for arrays that must stay geometries).

    Examples
    --------
    >>> gc = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(1, 0), (2, 0)])])
    >>> [g if g is None else g.wkt for g in polygonal([gc, shapely.Point(0, 0), None])]
    ['MULTIPOLYGON (((1 0, 1 1, 0 1, 0 0, 1 0)))', None, None]
    >>> [g.wkt for g in polygonal([shapely.Point(0, 0)], empty=shapely.Polygon())]
    ['POLYGON EMPTY']
    """
    out = np.array(geoms, dtype=object)
    todo = np.flatnonzero(~is_polygonal(out))
    if len(todo) == 0:
        return out
    parts, index = polygon_parts(out[todo])
    rebuilt = np.full(len(todo), empty, dtype=object)
    if len(parts):
        groups, dense = np.unique(index, return_inverse=True)
        rebuilt[groups] = shapely.multipolygons(parts, indices=dense)
    out[todo] = rebuilt
    return out


# =========================================================================== projections
def local_crs(lon0: float, lat0: float) -> pyproj.CRS:
    """A local azimuthal equidistant CRS (metres) centred on ``(lon0, lat0)``.

    Distances from the centre are exact; across the area the scale error is 0.1 % at 500 km from
    the centre and 0.4 % at 1,000 km.

    Examples
    --------
    >>> c = local_crs(36.5, 35.75)
    >>> c.coordinate_operation.method_name, c.axis_info[0].unit_name
    ('Azimuthal Equidistant', 'metre')
    """
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs")


def require_crs(crs, what: str) -> None:
    """Refuse a layer without a CRS (``crs`` None) with :class:`CRSError` naming ``what`` and the fix."""
    if crs is None:
        raise CRSError(f"{what}: the layer has no CRS; save it with one (e.g. EPSG:4326) or as GeoJSON")


@functools.lru_cache(maxsize=64)
def _is_wgs84(crs_text: str) -> bool:
    return pyproj.CRS.from_user_input(crs_text).equals(pyproj.CRS.from_user_input(_crs.WGS84))


def geometries_to_wgs84(geoms, crs, what: str) -> np.ndarray:
    """Geometries of a layer whose CRS is ``crs`` (any pyproj input), as an array in WGS84.

    A layer without a CRS (``crs`` None) is refused with :class:`CRSError` naming ``what``. The
    check that ``crs`` already is WGS84 is cached, so a run over hundreds of per-date files of one
    CRS pays for it once.

    Examples
    --------
    >>> g = geometries_to_wgs84([shapely.Point(3473506.0, 4198674.0)], "EPSG:6933", "layer")[0]
    >>> round(g.x, 3), round(g.y, 3)
    (36.0, 35.0)
    """
    require_crs(crs, what)
    geoms = np.asarray(geoms, dtype=object)
    if _is_wgs84(str(crs)):
        return geoms
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=crs).to_crs(_crs.WGS84).to_numpy()


# =========================================================================== dissolves
def union(geoms):
    """One geometry from several: the geometry itself when there is one, else :func:`shapely.union_all`.

    Examples
    --------
    >>> box = shapely.box(0, 0, 1, 1)
    >>> union([box]) is box, union([box, shapely.box(1, 0, 2, 1)]).bounds
    (True, (0.0, 0.0, 2.0, 1.0))
    """
    geoms = list(geoms)
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def dissolve(geoms, labels) -> dict:
    """``{label: union of its geometries}`` (:func:`union`), labels in sorted order.

    Examples
    --------
    >>> areas = dissolve([shapely.box(0, 0, 1, 1), shapely.box(5, 0, 6, 1), shapely.box(1, 0, 2, 1)],
    ...                  ["b", "a", "b"])
    >>> {k: v.bounds for k, v in areas.items()}
    {'a': (5.0, 0.0, 6.0, 1.0), 'b': (0.0, 0.0, 2.0, 1.0)}
    """
    geoms = np.asarray(geoms, dtype=object)
    labels = np.asarray(labels, dtype=object)
    return {name: union(geoms[labels == name]) for name in sorted(set(labels))}


# =========================================================================== boundaries and arrangements
_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                 dtype=np.uint64)


def boundary_segments(geoms, grid: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary segment of polygonal ``geoms``: rows ``x0, y0, x1, y1`` (the smaller endpoint
    first, so a segment reads the same in every ring), and the position of the geometry each came from.

    ``grid``: coordinates rounded to multiples of it first; segments that collapse are left out.

    Examples
    --------
    >>> seg, owner = boundary_segments([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 1.00004, 1)], grid=1e-4)
    >>> # the second box is 0.4 grid steps wide: its top and bottom edges collapse
    >>> seg.tolist()[:2], owner.tolist()
    ([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]], [0, 0, 0, 0, 1, 1])
    """
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if grid:
        coords = np.rint(coords / grid) * grid
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    swap = ((a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1])))[:, None]
    seg = np.ascontiguousarray(np.hstack([np.where(swap, b, a), np.where(swap, a, b)]))
    owner = owner[ring_part[ring[:-1][same]]]
    if grid:
        keep = (a != b).any(axis=1)
        seg, owner = seg[keep], owner[keep]
    return seg, owner


def segment_keys(segments, salt=None) -> np.ndarray:
    """A 64-bit hash of each segment of :func:`boundary_segments` (plus an integer ``salt`` per row),
    for set operations on segments with :func:`numpy.isin` and :func:`numpy.unique`."""
    seg = np.ascontiguousarray(segments, dtype=np.float64)
    with np.errstate(over="ignore"):
        key = (seg.view(np.uint64) * _HASH).sum(axis=1, dtype=np.uint64)
        if salt is not None:
            key = key + np.asarray(salt, dtype=np.uint64) * np.uint64(0x94D049BB133111EB)
        key ^= key >> np.uint64(31)
    return key


def arrangement(geoms, grid: float) -> tuple[np.ndarray, np.ndarray]:
    """The faces of the overlay of many polygonal geometries, and which geometries hold each face.

    No overlay is computed: every boundary is rounded to ``grid``, the distinct segments of all of
    them are noded once (snap-rounding on ``grid``, so the noding is robust) and polygonized. The
    faces form a coverage (edge-matched, without overlaps) of every bounded region the boundaries
    enclose, including the holes none of the geometries holds. Face *f* lies in geometry *i* when
    a ray from a point inside *f* crosses *i*'s boundary an odd number of times
    (:func:`_inside`). Geometries must be valid (:func:`shapely.make_valid`).

    Returns
    -------
    faces : numpy.ndarray of Polygons
    inside : numpy.ndarray of bool, shape (faces, geometries)

    Examples
    --------
    >>> faces, inside = arrangement([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)], 1e-7)
    >>> sorted((f.bounds, row.tolist()) for f, row in zip(faces, inside))
    [((0.0, 0.0, 1.0, 1.0), [True, False]), ((1.0, 0.0, 2.0, 1.0), [True, True]), ((2.0, 0.0, 3.0, 1.0), [False, True])]
    """
    geoms = np.asarray(geoms, dtype=object)
    seg, owner = boundary_segments(geoms, grid)
    if not len(seg):
        return np.array([], dtype=object), np.zeros((0, len(geoms)), dtype=bool)
    _, first, sid = np.unique(segment_keys(seg), return_index=True, return_inverse=True)
    distinct, sid = seg[first], sid.ravel()
    if not (distinct[sid] == seg).all():  # two segments with one hash: compare coordinates instead
        distinct, sid = np.unique(seg, axis=0, return_inverse=True)
        sid = sid.ravel()
    lines = shapely.linestrings(distinct.reshape(-1, 2, 2))
    noded = shapely.union_all(lines, grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces, _inside(faces, distinct, lines, sid, owner, len(geoms))


def _inside(faces, distinct, lines, sid, owner, n: int) -> np.ndarray:
    """``inside[f, i]``: the ray east from a point inside face ``f`` crosses an odd number of the
    boundary segments of geometry ``i`` (``distinct`` segments as ``lines``; segment ``j`` of the
    input is ``distinct[sid[j]]`` and belongs to geometry ``owner[j]``).

    Crossings are found once for all geometries; a segment held by several geometries is one row
    of bits (one per geometry), and a face's bits are the XOR of the rows of the segments it crosses.
    A segment counts where its lower end is at or below the ray and its upper end above it.
    """
    inside = np.zeros((len(faces), n), dtype=bool)
    pts = shapely.point_on_surface(faces)
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    east = np.full_like(px, distinct[:, [0, 2]].max() + 1.0)
    f, s = shapely.STRtree(lines).query(shapely.linestrings(np.stack([np.c_[px, py], np.c_[east, py]], axis=1)))
    x0, y0, x1, y1 = distinct[s].T
    y = py[f]
    cross = (y0 > y) != (y1 > y)
    cross[cross] = x0[cross] + (y[cross] - y0[cross]) * (x1[cross] - x0[cross]) / (y1[cross] - y0[cross]) > px[f][cross]
    order = np.lexsort((s[cross], f[cross]))
    f, s = f[cross][order], s[cross][order]
    if not len(f):
        return inside
    starts = np.r_[0, np.flatnonzero(f[1:] != f[:-1]) + 1]
    # (segment, geometry) pairs held an odd number of times: a doubled segment cancels out
    pair, count = np.unique(sid.astype(np.int64) * n + owner, return_counts=True)
    pair = pair[count % 2 == 1]
    block = int(max(8, min(n, 2**26 // max(len(distinct), len(s) // 8, 1))))
    for g0 in range(0, n, block):
        width = min(block, n - g0)
        sel = pair[(pair % n >= g0) & (pair % n < g0 + width)]
        bits = np.zeros((len(distinct), width), dtype=bool)
        bits[sel // n, sel % n - g0] = True
        odd = np.bitwise_xor.reduceat(np.packbits(bits, axis=1)[s], starts, axis=0)
        inside[f[starts], g0:g0 + width] = np.unpackbits(odd, axis=1, count=width).astype(bool)
    return inside
