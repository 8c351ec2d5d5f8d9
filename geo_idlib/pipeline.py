"""The composed flow used by the CLI and by notebooks.

Each public function here is what one CLI command does, with plain Python arguments, so that a
notebook can call the same thing: read inputs (through :mod:`geo_idlib.io`), run the stages, and
return results or write outputs atomically.
"""

from __future__ import annotations

import logging

from . import io

log = logging.getLogger("geo_idlib")


def no_progress(items, label: str = "", length: int | None = None):
    """The default progress reporter: a context manager that yields ``items`` unchanged."""
    import contextlib

    return contextlib.nullcontext(items)


def write_output(text: str, path: str, overwrite: bool = False) -> None:
    """Atomically write a text output (GeoJSON, CSV, JSON, HTML)."""
    io.write_text(path, text, overwrite=overwrite)


# ============================================================================ embedded data
#: The embedded layers in shapefiles/ (built by `make data`, see shapefiles/PROVENANCE.md).
ADMIN1_FILE = "syria_admin1.gpkg"
COUNTRIES_FILE = "countries.gpkg"


def _embedded_layer(filename: str, what: str):
    from . import crs

    gdf = io.read_vector(io.shapefiles_dir() / filename, what=f"{what} (rebuild it with `make data`)")
    return crs.to_wgs84(crs.require_crs(gdf, filename), filename)


def load_admin1():
    """Syria's 14 governorates (Natural Earth 10m admin-1), a GeoDataFrame in EPSG:4326.

    Columns: ``name`` (English, e.g. ``Idlib``), ``name_alt`` (``|``-separated alternates carried
    by Natural Earth, e.g. ``Idleb``), ``iso_3166_2`` (only where Natural Earth carries it),
    ``hasc``, ``postal``, ``fips``, ``geonames_id``, ``geonames_admin1`` (e.g. ``SY.12``),
    ``ne_adm1_code``, ``area_km2`` (geodesic) and ``geometry``.

    Examples
    --------
    >>> g = load_admin1()
    >>> len(g), str(g.crs)
    (14, 'EPSG:4326')
    >>> round(float(g.loc[g["name"] == "Idlib", "area_km2"].iloc[0]))
    5637
    """
    return _embedded_layer(ADMIN1_FILE, "governorates layer")


def load_countries():
    """Outlines of Syria and its neighbours (Natural Earth 10m via world-atlas), EPSG:4326.

    Columns: ``name``, ``iso2``, ``iso3``, ``iso_n3`` (empty for units without an ISO code, such as
    N. Cyprus), ``area_km2`` (geodesic) and ``geometry``.

    Examples
    --------
    >>> c = load_countries()
    >>> sorted(c["iso2"].dropna())
    ['CY', 'IL', 'IQ', 'JO', 'LB', 'PS', 'SY', 'TR']
    """
    return _embedded_layer(COUNTRIES_FILE, "countries layer")


# ============================================================================ places / geocode


# ============================================================================ areas / join / change


# ============================================================================ map
