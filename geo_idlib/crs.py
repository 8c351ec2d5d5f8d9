"""CRS constants, the single lat/lon → x/y swap, and geodesic areas in km².

Areas are computed only on the WGS84 ellipsoid (:class:`pyproj.Geod`), never in degrees and never in
Web Mercator. Geometries in another CRS are transformed to geographic WGS84 first.
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import shapely

from .errors import CRSError

#: Geographic WGS84, the CRS of GeoJSON, GeoNames and every file this package writes.
WGS84 = "EPSG:4326"
#: An equal-area CRS (World Cylindrical Equal Area) for area-preserving overlays.
EQUAL_AREA = "EPSG:6933"
#: The ellipsoid used for every area and distance.
GEOD = pyproj.Geod(ellps="WGS84")

#: Polygons smaller than this (km²) are slivers: dropped from change results and counted.
SLIVER_KM2 = 0.01

_EARTH_RADIUS_KM = 6371.0088


def points_from_latlon(lat, lon) -> np.ndarray:
    """Shapely points from latitude and longitude arrays.

    This is the one place in geo_idlib where (lat, lon) order becomes (x=lon, y=lat).

    Examples
    --------
    >>> p = points_from_latlon([35.90403], [36.72501])[0]
    >>> (p.x, p.y)
    (36.72501, 35.90403)
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    return shapely.points(lon, lat)


def require_crs(gdf, what: str):
    """Return ``gdf`` unchanged if it has a CRS; raise :class:`CRSError` naming ``what`` otherwise."""
    if gdf.crs is None:
        raise CRSError(f"{what}: layer has no CRS; set one (e.g. gdf.set_crs('EPSG:4326')) or use a file format that stores it")
    return gdf


def to_wgs84(gdf, what: str = "layer"):
    """``gdf`` in geographic WGS84 (a no-op when it already is)."""
    require_crs(gdf, what)
    if pyproj.CRS.from_user_input(gdf.crs).equals(pyproj.CRS.from_user_input(WGS84)):
        return gdf
    return gdf.to_crs(WGS84)


def geodesic_area_km2(geoms, crs=WGS84) -> np.ndarray:
    """Geodesic area of each geometry in km², on the WGS84 ellipsoid.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or array of shapely geometries
        When a GeoSeries/GeoDataFrame, its own CRS is used; ``crs`` applies to plain arrays.

    Examples
    --------
    >>> import shapely
    >>> a = geodesic_area_km2([shapely.box(36.0, 35.0, 37.0, 36.0)])
    >>> round(float(a[0]), 1)
    10066.3
    """
    if hasattr(geoms, "crs"):
        geoms = to_wgs84(geoms, "geometries")
        arr = np.asarray(geoms.geometry.values if hasattr(geoms, "geometry") else geoms.values, dtype=object)
    else:
        arr = np.asarray(geoms, dtype=object)
        if crs is not None and not pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_user_input(WGS84)):
            arr = transform(arr, crs, WGS84)
    out = np.zeros(len(arr), dtype=float)
    for i, g in enumerate(arr):
        if g is None or g.is_empty:
            continue
        out[i] = abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6
    return out


def geodesic_length_km(geoms) -> np.ndarray:
    """Geodesic length of each WGS84 geometry in km, on the WGS84 ellipsoid (a polygon: its outline).

    Examples
    --------
    >>> import shapely
    >>> round(float(geodesic_length_km([shapely.LineString([(36.0, 35.0), (36.0, 36.0)])])[0]), 2)
    110.95
    """
    arr = np.asarray(geoms, dtype=object)
    return np.array([0.0 if g is None or g.is_empty else GEOD.geometry_length(g) / 1e3 for g in arr], dtype=float)


def transform(geoms, src, dst) -> np.ndarray:
    """Geometries (an array) transformed from CRS ``src`` to ``dst``, in one vectorised pyproj call.

    Examples
    --------
    >>> g = transform([shapely.Point(36.0, 35.0)], WGS84, EQUAL_AREA)[0]
    >>> round(g.x), round(g.y)
    (3473506, 4198674)
    """
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(np.asarray(geoms, dtype=object),
                             lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def degrees_around(km: float, lat: float) -> tuple[float, float]:
    """``(dlat, dlon)``: the half-sides in degrees of the smallest box around every point within
    ``km`` (great-circle, as :func:`haversine_km`) of a point at latitude ``lat``.

    ``dlon`` is the exact longitude extent of that spherical cap, ``asin(sin(d) / cos(lat))``, and
    180 when the cap reaches a pole.

    Examples
    --------
    >>> [round(v, 4) for v in degrees_around(111.19508, 0.0)]
    [1.0, 1.0]
    >>> [round(v, 3) for v in degrees_around(50.0, 60.0)]
    [0.45, 0.899]
    """
    d = km / _EARTH_RADIUS_KM
    dlat = float(np.degrees(d))
    s = np.sin(d) / max(np.cos(np.radians(lat)), 0.0)
    dlon = 180.0 if abs(lat) + dlat >= 90.0 or s >= 1.0 else float(np.degrees(np.arcsin(s)))
    return dlat, dlon


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km (vectorised; spherical, mean Earth radius). Four Python floats
    give a float (the same formula without numpy's per-call cost: the ranking asks it per candidate).

    Examples
    --------
    >>> round(float(haversine_km(35.93062, 36.63393, 36.20124, 37.16117)), 1)
    56.1
    """
    if type(lat1) is type(lon1) is type(lat2) is type(lon2) is float:  # one pair: the same formula in math
        p1, p2 = math.radians(lat1), math.radians(lat2)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
