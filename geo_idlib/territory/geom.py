"""Geometry helpers of control areas: polygonal parts, local projections, transforms, dissolves."""

from __future__ import annotations

import pyproj


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
