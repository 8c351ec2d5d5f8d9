"""The map's initial view: what it frames, its zoom, and the size of a pixel in degrees."""

from __future__ import annotations

import math

import numpy as np
import shapely

from .. import crs as _crs

#: The reference viewport for the initial zoom and the simplification tolerance.
REF_WIDTH, REF_HEIGHT = 1024, 768


#: Places farther than this from the focus region go to the side panel, not on the map.
FAR_KM = 500.0


#: The focus region when there are no areas: Syria, Turkey and their neighbours (W, S, E, N).
DEFAULT_FOCUS = (25.5, 29.0, 48.7, 42.2)


#: Leaflet's maximum zoom for vector-only (offline) maps.
MAX_ZOOM = 18


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


def bbox_distance_km(lat, lon, bounds) -> np.ndarray:
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


def bounds_of(boxes) -> tuple | None:
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
            view = bounds_of([core, tuple(shapely.total_bounds(near).tolist())])
    if view is None:
        view, pad = fallback or DEFAULT_FOCUS, 0.0
    w, s, e, n = view
    if e - w < 0.05 or n - s < 0.05:  # one point (or a line): show ~10 km around it
        cx, cy = (w + e) / 2, (s + n) / 2
        w, e = min(w, cx - 0.1), max(e, cx + 0.1)
        s, n = min(s, cy - 0.1), max(n, cy + 0.1)
    dx, dy = (e - w) * pad, (n - s) * pad
    return (round(w - dx, 5), round(max(s - dy, -85.0), 5), round(e + dx, 5), round(min(n + dy, 85.0), 5))


def compass(lat0, lon0, lat, lon) -> str:
    """The 8-point compass direction from (lat0, lon0) to (lat, lon) (initial great-circle bearing).

    Examples
    --------
    >>> compass(36.0, 36.5, 39.9, 32.9), compass(36.0, 36.5, 35.1, 36.8)
    ('NW', 'S')
    """
    p0, p1, dl = math.radians(lat0), math.radians(lat), math.radians(lon - lon0)
    b = math.degrees(math.atan2(math.sin(dl) * math.cos(p1),
                                math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(dl)))
    return _COMPASS[int(round((b % 360) / 45)) % 8]

