"""territory.geom: polygonal parts of overlay and make_valid results, layers to WGS84, dissolves."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from geo_idlib.errors import CRSError
from geo_idlib.territory import geom

SPIKE = shapely.Polygon([(0, 0), (1, 0), (1, 1), (2, 2), (1, 1), (0, 1)])  # a square with a dangling spike


def test_make_valid_leftovers_keep_only_their_polygons():
    fixed = shapely.make_valid(SPIKE)
    assert fixed.geom_type == "GeometryCollection"  # the square and the spike as a line
    out = geom.polygonal([fixed])
    assert out[0].geom_type == "MultiPolygon"
    assert out[0].equals(shapely.box(0, 0, 1, 1))


def test_overlay_leftovers_lines_and_points_are_dropped():
    # the square meets the other area in a square and, at (0, 2), in a point
    other = shapely.union_all([shapely.box(1, 1, 3, 3), shapely.box(-1, 2, 0, 3)])
    cut = shapely.intersection(shapely.box(0, 0, 2, 2), other)
    assert cut.geom_type == "GeometryCollection"
    (g,) = geom.polygonal([cut])
    assert g.equals(shapely.box(1, 1, 2, 2)) and g.area == 1.0
    touch = shapely.intersection(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1))  # a shared edge only
    assert geom.polygonal([touch]).tolist() == [None]
    assert geom.polygonal([touch], empty=shapely.Polygon())[0].wkt == "POLYGON EMPTY"


def test_polygons_are_kept_as_they_are_and_missing_becomes_empty():
    box, multi = shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    out = geom.polygonal([box, multi, None, shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)])])
    assert out[0] is box and out[1] is multi
    assert out[2:].tolist() == [None, None, None]
    filled = geom.polygonal([None, shapely.Point(0, 0)], empty=shapely.Polygon())
    assert [g.wkt for g in filled] == ["POLYGON EMPTY", "POLYGON EMPTY"]


def test_nested_collections_are_flattened_in_order():
    a, b, c = shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), shapely.box(4, 0, 5, 1)
    nested = shapely.GeometryCollection([shapely.MultiPolygon([a, b]), shapely.Point(9, 9),
                                         shapely.GeometryCollection([c, shapely.LineString([(0, 0), (1, 0)])])])
    parts, index = geom.polygon_parts([shapely.Point(0, 0), nested, shapely.Polygon(), c])
    assert [p.equals(q) for p, q in zip(parts, [a, b, c, c], strict=True)] == [True] * 4
    assert index.tolist() == [1, 1, 1, 3]  # no part from the point or the empty polygon
    (g,) = geom.polygonal([nested])
    assert [p.bounds[0] for p in g.geoms] == [0.0, 2.0, 4.0]


def test_is_polygonal_uses_geometry_types():
    gc = shapely.make_valid(SPIKE)
    geoms = [shapely.box(0, 0, 1, 1), shapely.Point(0, 0), gc, None]
    assert geom.is_polygonal(geoms).tolist() == [True, False, False, False]
    assert geom.is_polygonal(geoms, collections=True).tolist() == [True, False, True, False]


def test_geometries_to_wgs84_transforms_and_refuses_a_missing_crs():
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True).transform(36.5, 35.5)
    (p,) = geom.geometries_to_wgs84([shapely.Point(x, y)], "EPSG:32637", "d_20240101.geojson")
    assert (p.x, p.y) == pytest.approx((36.5, 35.5), abs=1e-9)
    same = np.array([shapely.Point(36.5, 35.5)], dtype=object)
    assert geom.geometries_to_wgs84(same, "EPSG:4326", "x")[0] is same[0]  # WGS84 already: untouched
    with pytest.raises(CRSError, match=r"^d\.shp: the layer has no CRS; save it with one"):
        geom.geometries_to_wgs84(same, None, "d.shp")


def test_dissolve_unions_per_label_in_sorted_order():
    geoms = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)]
    out = geom.dissolve(geoms, np.array(["russia", "russia", "ukraine"], dtype=object))
    assert list(out) == ["russia", "ukraine"]
    assert out["russia"].equals(shapely.box(0, 0, 2, 1))
    assert out["ukraine"] is geoms[2]  # one geometry: itself, not a re-noded copy
    assert geom.dissolve([], []) == {}


def test_local_crs_measures_distances_from_its_centre_exactly():
    centre = (36.5, 35.75)
    local = geom.local_crs(*centre)
    to_local = pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True)
    x, y = to_local.transform(37.5, 36.25)
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(*centre, 37.5, 36.25)
    assert np.hypot(x, y) == pytest.approx(metres, rel=1e-9)


def _random_polygons(rng, n: int) -> list:
    """Overlapping blobs with holes, some sharing stretches of boundary (buffers of random points
    minus smaller ones; two copies of one blob)."""
    out = []
    for _ in range(n):
        c = rng.uniform(0, 10, 2)
        blob = shapely.Point(*c).buffer(rng.uniform(1, 3), quad_segs=rng.integers(2, 6))
        hole = shapely.Point(*(c + rng.uniform(-0.5, 0.5, 2))).buffer(rng.uniform(0.2, 0.6))
        out.append(shapely.difference(blob, hole))
    out.append(out[0])  # a doubled boundary cancels out: still inside both
    return out


def test_arrangement_rebuilds_each_geometry_from_its_faces_on_random_overlaps():
    rng = np.random.default_rng(7)
    for _ in range(5):
        geoms = _random_polygons(rng, 6)
        faces, inside = geom.arrangement(geoms, 1e-7)
        assert inside.shape == (len(faces), len(geoms))
        assert shapely.coverage_is_valid(faces)  # edge-matched, no overlaps
        for i, g in enumerate(geoms):
            rebuilt = shapely.union_all(faces[inside[:, i]])
            # the same ground up to the 1e-7 grid: boundary length × a few grid steps
            assert shapely.symmetric_difference(rebuilt, g).area < g.length * 1e-6, i
        # faces outside every geometry are only the holes the blobs enclose
        assert shapely.union_all(faces[~inside.any(axis=1)]).intersection(shapely.union_all(geoms)).area < 1e-6


def test_arrangement_of_nothing_is_empty():
    faces, inside = geom.arrangement([], 1e-7)
    assert len(faces) == 0 and inside.shape == (0, 0)
