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
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_DATE_PATTERNS = [
    r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)",
    r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d\d)",
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)",
]


def find_report_date(text: str, head_chars: int = 600):
    r"""The report's own date, when its first lines (headline, dateline) carry one.

    Only the first ``head_chars`` characters are searched, so dates of events told later in the
    story are not mistaken for the report's date. Returns a ``datetime.date`` or None.

    Examples
    --------
    >>> find_report_date("Offensive reaches Sarmin\n20 February 2020\n\nIDLIB, Syria ...")
    datetime.date(2020, 2, 20)
    >>> find_report_date("BEIRUT, Feb. 9, 2020 (AP) - Troops took ...")
    datetime.date(2020, 2, 9)
    >>> find_report_date("No date here.") is None
    True
    """
    import datetime as _dt
    import re

    head = text[:head_chars]
    found = []
    for pat in _DATE_PATTERNS:
        for m in re.finditer(pat, head):
            g = m.groupdict()
            month = int(g["m"]) if g.get("m") else _MONTHS.get(g["mon"].lower())
            if not month:
                continue
            try:
                found.append((m.start(), _dt.date(int(g["y"]), month, int(g["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None
