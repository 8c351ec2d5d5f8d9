from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo_idlib import crs
from geo_idlib.errors import CRSError


def test_geodesic_area_matches_spherical_band_and_ignores_crs_choice():
    box = shapely.box(36.0, 35.0, 37.0, 36.0)
    g = gpd.GeoSeries([box], crs=4326)
    a = crs.geodesic_area_km2(g)[0]
    # the same polygon in Web Mercator gives the same geodesic area (not the planar one)
    a_merc = crs.geodesic_area_km2(g.to_crs(3857))[0]
    assert a == pytest.approx(10066.3, abs=0.1)
    assert a_merc == pytest.approx(a, rel=1e-4)
    with pytest.raises(CRSError, match="no CRS"):
        crs.geodesic_area_km2(gpd.GeoSeries([box]))
