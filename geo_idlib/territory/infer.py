"""Control areas inferred from dated, sourced point reports ("X took Y on D").

At each change date every place keeps its latest report, the reports' Voronoi cells are clipped to
a boundary and dissolved per actor, and cells farther than a maximum distance from their report
become unknown. Each actor's ``uncertain_km2`` is its ground inside the *front band*
(:func:`front_band`): the inferred front (:func:`front_lines`, the bisectors between reports of
different actors) widened by :data:`BAND_WIDTH` times the distance between the two reports each
stretch separates, so the band is as wide as the reports there are far apart; the width is
calibrated on DeepState's real front. Geometry work happens in a local azimuthal equidistant projection centred on the
boundary (exact distances from the centre; scale error across 0.1 % at 500 km from it, 0.4 % at
1,000 km); areas are geodesic. Boundaries wider than that get a warning.

The inputs: :func:`observation_table` shapes a layer read from a file into a table of
observations, :func:`prepare_observations` validates it into points, and :func:`units_named`
picks the boundary from a layer of named units (the governorates) by name.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import crs as _crs
from ..errors import DateError, InputError
from . import geom
from .timeline import canonical_actor, parse_dates

log = logging.getLogger("geo_idlib")


#: Columns an observation table must have (besides a location: lat + lon, a geometry, or place).
OBS_REQUIRED = ("date", "actor")


#: Actor of the parts of the boundary farther than ``max_distance_km`` from every report.
UNKNOWN_ACTOR = "unknown"


#: Rows with the same place name are one place only when they lie within this distance (km).
PLACE_NAME_KM = 5.0


#: Ground farther than the maximum distance from every report is ``unknown`` unless it is a strip
#: narrower than this (km) between reports' disks: there the disks just fail to meet (by up to
#: 96 m from the 32-gons alone, :data:`DISK_QUAD_SEGS`), and a map would draw hairlines of
#: "unknown" across held ground. Such strips take the side of their cell's report.
MIN_UNKNOWN_WIDTH_KM = 0.5


#: The front band's half-width as a share of the distance between the two reports each segment of
#: the inferred front separates (:func:`front_band`). Calibrated on DeepState's real front (the
#: first day of each month, July 2024 to June 2025; random points sided by the real polygon at the
#: density of Idlib's 2017 settlement markers and a quarter of it; 48 runs): the width that holds
#: the real front along 90 % of its length in 90 % of the runs (``python -m scripts.eval_infer
#: --calibrate``; the runs' own widths range 0.39-0.60, median 0.45). ``make eval`` prints the
#: coverage on the later, held-out months; a test checks the calibration still gives this width.
BAND_WIDTH = 0.52

_COORD_DIGITS = 6  # places with the same coordinates to 1e-6° (≈ 0.1 m) are one place
_OBS_COLUMNS = ("date", "actor", "lat", "lon", "id", "place", "source", "note", "derived")  # case-insensitive
_DERIVED = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True, "yes": True}


# =========================================================================== inputs
def units_named(units, names: str, what: str = "--within"):
    """The rows of ``units`` (e.g. the governorates) that ``names`` lists, separated by commas.

    A unit answers to its ``name`` and to each ``|``-separated alternate in ``name_alt``, compared
    trimmed and case-insensitively. ``names`` is the text the user gave for a boundary that may
    also have been a file (``what`` names the option): an unknown name raises :class:`InputError`
    saying it is neither, and listing the units.

    Examples
    --------
    >>> import geopandas as gpd
    >>> units = gpd.GeoDataFrame({"name": ["Aleppo", "Idlib"], "name_alt": [None, "Idleb"]},
    ...                          geometry=[shapely.box(37, 36, 38, 37), shapely.box(36, 35, 37, 36)])
    >>> units_named(units, "Idleb, aleppo")["name"].tolist()
    ['Aleppo', 'Idlib']
    >>> units_named(units, "Atlantis")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.InputError: --within Atlantis: no such file, nor governorate(s) 'atlantis'; give a polygon file or names among: Aleppo, Idlib
    """
    wanted = [n.strip().lower() for n in names.split(",") if n.strip()]
    known = {}
    for i, (name, alt) in enumerate(zip(units["name"], units["name_alt"].fillna(""), strict=True)):
        for n in [name, *str(alt).split("|")]:
            if n.strip():
                known.setdefault(n.strip().lower(), i)
    missing = [n for n in wanted if n not in known]
    if not wanted or missing:
        raise InputError(f"{what} {names}: no such file, nor governorate(s) {', '.join(missing) or names!r}; "
                         f"give a polygon file or names among: {', '.join(sorted(units['name']))}")
    return units.iloc[sorted({known[n] for n in wanted})].reset_index(drop=True)


def observation_table(layer, what: str = "observations"):
    """An observations layer as read from a file, shaped for geocoding and :func:`prepare_observations`.

    A layer without a ``place`` column is returned as it is. With one, the result is a plain table
    with lower-case column names, so that its place names can be geocoded (rows with a position
    keep it): a layer of points gets ``lat``/``lon`` text (6 decimals, WGS84) from its points
    unless it has those columns already.

    Examples
    --------
    >>> import geopandas as gpd
    >>> layer = gpd.GeoDataFrame({"Date": ["2020-02-06"], "Actor": ["government"], "Place": ["Saraqib"]},
    ...                          geometry=[shapely.Point(36.80591, 35.86447)], crs="EPSG:4326")
    >>> observation_table(layer).to_dict("records")
    [{'date': '2020-02-06', 'actor': 'government', 'place': 'Saraqib', 'lat': '35.864470', 'lon': '36.805910'}]
    """
    import geopandas as gpd

    if "place" not in {str(c).strip().lower() for c in layer.columns}:
        return layer
    if not isinstance(layer, gpd.GeoDataFrame):
        return layer.rename(columns={c: str(c).strip().lower() for c in layer.columns})
    pts = _crs.to_wgs84(_crs.require_crs(layer, what), what).geometry
    plain = layer.drop(columns=layer.geometry.name)
    plain.columns = [str(c).strip().lower() for c in plain.columns]
    if not {"lat", "lon"} <= set(plain.columns):
        ok = (pts.notna() & ~pts.is_empty).to_numpy()
        plain["lat"] = [f"{g.y:.6f}" if k else "" for g, k in zip(pts, ok, strict=True)]
        plain["lon"] = [f"{g.x:.6f}" if k else "" for g, k in zip(pts, ok, strict=True)]
    return plain


def prepare_observations(table, what: str = "observations"):
    """Validate an observation table and return it as a GeoDataFrame of points in EPSG:4326.

    Parameters
    ----------
    table : DataFrame or GeoDataFrame
        Columns ``date`` (YYYY-MM-DD), ``actor`` and a location: ``lat`` + ``lon`` (WGS84 degrees)
        or point geometries. Optional ``id`` (else the 1-based row number), ``place``, ``source``
        and ``note`` are carried through; optional ``derived`` (yes/no, true/false, 1/0, empty = no)
        marks a row whose side was derived from other reports (e.g. a village given the side of
        the nearest reported place): it shapes the areas but is no evidence of where a front runs,
        so it never narrows the front band.
    what : str
        Name of the input, used in error messages.

    Returns
    -------
    GeoDataFrame
        ``id`` (str), ``date`` (datetime64[ns]), ``actor`` (lower-case str), ``place``, ``source``,
        ``note`` (str, possibly empty), ``derived`` (bool) and point ``geometry``; rows in input order.

    Raises
    ------
    InputError
        Missing columns, unparseable dates, missing coordinates, duplicate ids, empty actors, a
        ``derived`` value that is not yes/no.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"date": ["2020-02-06"], "actor": ["Government"], "lat": ["35.86447"],
    ...                   "lon": ["36.80591"]})
    >>> g = prepare_observations(t)
    >>> str(g.loc[0, "id"]), str(g.loc[0, "actor"]), g.loc[0, "geometry"].x, str(g.crs)
    ('1', 'government', 36.80591, 'EPSG:4326')
    """
    import geopandas as gpd

    df = _observation_columns(table, what)
    dates = pd.Series(parse_dates(df["date"], what, "date"))
    actor = canonical_actor(df["actor"].to_numpy(dtype=object))
    bad = np.flatnonzero(actor == "")
    if len(bad):
        raise InputError(f"{what}: row {bad[0] + 1}: empty actor ({len(bad)} row(s)); name who holds the place")
    ids = _observation_ids(df, what)
    points = _observation_points(df, table, ids, what)
    out = pd.DataFrame({"id": ids.to_numpy(), "date": dates.dt.normalize().to_numpy(), "actor": actor})
    for c in ("place", "source", "note"):
        out[c] = df[c].fillna("").astype(str).to_numpy() if c in df.columns else ""
    out["derived"] = _derived_flags(df, ids, what)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(points, crs=_crs.WGS84), crs=_crs.WGS84)


def _observation_columns(table, what: str):
    """A copy of ``table`` with the known columns named in lower case; the required ones and a row
    must be there."""
    df = pd.DataFrame(table).copy()
    df.columns = [str(c).strip().lower() if str(c).strip().lower() in _OBS_COLUMNS else c for c in df.columns]
    missing = [c for c in OBS_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}; observations need date, actor and "
                         "lat + lon (or a place name, or point geometries)")
    if len(df) == 0:
        raise InputError(f"{what}: no observations; give at least one row with date, actor and a location")
    return df


def _observation_ids(df, what: str):
    """The ``id`` column as text (else the 1-based row numbers); a duplicate is refused."""
    ids = (df["id"].astype(str).str.strip() if "id" in df.columns
           else pd.Series(np.arange(1, len(df) + 1).astype(str), index=df.index))
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"{what}: duplicate id {dup.iloc[0]!r}; give each observation its own id")
    return ids


def _derived_flags(df, ids, what: str) -> np.ndarray:
    """The ``derived`` column as booleans (all False without one); a value other than yes/no is refused."""
    if "derived" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    text = df["derived"].fillna("").astype(str).str.strip().str.lower()
    bad = np.flatnonzero(~text.isin(list(_DERIVED)).to_numpy())
    if len(bad):
        i = bad[0]
        raise InputError(f"{what}: row {i + 1} (id {ids.iloc[i]}): derived {df['derived'].iloc[i]!r} is not yes or no "
                         f"({len(bad)} row(s)); write yes, no or leave it empty")
    return text.map(_DERIVED).to_numpy(dtype=bool)


def _observation_points(df, table, ids, what: str) -> np.ndarray:
    """One WGS84 point per row, from ``lat`` + ``lon`` or else the layer's point geometries; a row
    without a position is refused (with the hint to geocode its place)."""
    import geopandas as gpd

    if "lat" in df.columns and "lon" in df.columns:
        points = _latlon_points(df, ids, what)
    elif isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns:
        gs = _crs.to_wgs84(_crs.require_crs(gpd.GeoSeries(table.geometry), what), what)
        points = gs.to_numpy(dtype=object).copy()
        present = ~(shapely.is_missing(points) | shapely.is_empty(points))
        notpoint = present & (shapely.get_type_id(points) != shapely.GeometryType.POINT)
        if notpoint.any():
            i = int(np.flatnonzero(notpoint)[0])
            raise InputError(f"{what}: row {i + 1} is a {points[i].geom_type}, not a point; give point observations")
    else:
        points = np.full(len(df), None, dtype=object)
    nolocation = shapely.is_missing(points) | shapely.is_empty(points)
    if nolocation.any():
        i = int(np.flatnonzero(nolocation)[0])
        hint = "geocode the place column first (geo-idlib areas infer does it)" if "place" in df.columns \
            else "give lat and lon (WGS84 degrees) or a place column"
        raise InputError(f"{what}: row {i + 1} (id {ids.iloc[i]}) has no location ({int(nolocation.sum())} row(s)); {hint}")
    return points


def _latlon_points(df, ids, what: str) -> np.ndarray:
    """Points from the ``lat``/``lon`` text columns (None where one is empty); positions outside
    ±90/±180 are refused."""
    lat = pd.to_numeric(df["lat"].astype(str).str.strip().replace("", "nan"), errors="coerce").to_numpy(float)
    lon = pd.to_numeric(df["lon"].astype(str).str.strip().replace("", "nan"), errors="coerce").to_numpy(float)
    badrange = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if len(badrange):
        i = badrange[0]
        raise InputError(f"{what}: row {i + 1} (id {ids.iloc[i]}): lat {lat[i]}, lon {lon[i]} is not a WGS84 "
                         f"position ({len(badrange)} row(s)); fix the coordinates (degrees, lat in ±90, lon in ±180)")
    return np.where(np.isfinite(lat) & np.isfinite(lon), _crs.points_from_latlon(lat, lon), None)


# =========================================================================== inference
def infer(observations, boundary, *, max_distance_km: float | None = None, until=None,
          progress=None):
    """Infer a control timeline from dated point reports (Voronoi cells dissolved per actor).

    At each change date, each place (same coordinates, or same non-empty ``place`` value within
    :data:`PLACE_NAME_KM`) keeps its latest report on or before that date; on one date a later row
    beats an earlier one. The
    reports in force are split into Voronoi cells, clipped to the boundary and dissolved per actor.

    Parameters
    ----------
    observations : GeoDataFrame
        Output of :func:`prepare_observations` (``id``, ``date``, ``actor``, point ``geometry``,
        optional ``place``).
    boundary : GeoDataFrame, GeoSeries or shapely geometry
        The area to fill (the union of its polygons); a bare shapely geometry is taken as WGS84.
    max_distance_km : float, optional
        Parts of a cell farther than this from its report (hence from every report) become the
        actor ``unknown``. ``None`` fills the whole boundary.
    until : date-like, optional
        Last day covered: the last period ends the day after (``valid_to``). Default: open-ended.
    progress : callable, optional
        ``progress(items, label, length)`` context manager (see :func:`geo_idlib.pipeline.no_progress`).

    Returns
    -------
    GeoDataFrame
        The control timeline (EPSG:4326): ``actor``, ``valid_from``, ``valid_to`` (exclusive, NaT =
        open-ended), ``geometry``, ``obs_ids`` (``;``-joined ids of the reports in force during the
        period whose cells make the polygon; empty for ``unknown``), ``uncertain_km2`` (geodesic
        area of the actor's ground inside the front band, :func:`front_band`; NaN for ``unknown``).
        One row per (actor, period); periods break only where some place's actor or location
        changes. Sorted by valid_from, actor. ``attrs["front_band"]`` holds the band's pieces (a
        GeoDataFrame: ``valid_from``, ``valid_to``, ``geometry``; a piece that stays the same over
        several periods is one row), which :func:`geo_idlib.territory.change.compare` uses to
        count only the band that changed between two dates.

    Examples
    --------
    Two reports 1° of longitude apart split a square along their bisector:

    >>> import geopandas as gpd, pandas as pd, shapely
    >>> obs = prepare_observations(pd.DataFrame({"date": ["2020-01-01", "2020-01-01"],
    ...     "actor": ["government", "opposition"], "lat": [0, 0], "lon": [-0.5, 0.5]}))
    >>> t = infer(obs, shapely.box(-1, -1, 1, 1))
    >>> t[["actor", "obs_ids"]].values.tolist()
    [['government', '1'], ['opposition', '2']]
    >>> [round(b, 3) for b in t.geometry.iloc[0].bounds]
    [-1.0, -1.0, 0.0, 1.0]
    """
    t0 = time.perf_counter()
    obs = _checked_observations(observations, max_distance_km)
    area = _Area.of(boundary)
    reports = _Reports.of(obs, area)
    starts = _period_starts(reports)
    end = _end(until, reports.dates)
    extent = area.extent(reports.xy, max_distance_km)
    rows: list[dict] = []
    pieces: list[tuple] = []
    prog = progress or (lambda items, label, length=None: contextlib.nullcontext(items))
    with prog(range(len(starts)), "inferring areas", len(starts)) as it:
        for k in it:
            last = starts[k + 1] if k + 1 < len(starts) else len(reports.dates)
            valid_to = pd.Timestamp(reports.dates[last]) if k + 1 < len(starts) else end
            areas, band = _period_areas(reports, area, extent, range(starts[k], last), valid_to, max_distance_km)
            rows += areas
            pieces.append((pd.Timestamp(reports.dates[starts[k]]), valid_to, *band))
    res = _timeline(rows)
    res.attrs["front_band"] = _band_layer(pieces)
    log.info("inferred %d areas over %d period(s) from %d observations in %.2f s",
             len(res), len(starts), len(obs), time.perf_counter() - t0)
    return res


def front_band(observations, boundary, *, day=None, max_distance_km: float | None = None,
               width: float | None = None):
    """Where the front may run on ``day``, as :func:`infer` sees it: one geometry (EPSG:4326).

    The band is the inferred front (:func:`front_lines`) widened on both sides by :data:`BAND_WIDTH`
    times the distance between the two reports each segment separates, within those two reports'
    Voronoi cells, cut to the boundary and to ``max_distance_km`` around the reports; rows marked
    ``derived`` are left out. Each actor's ``uncertain_km2`` in :func:`infer` is its ground inside it.

    Parameters
    ----------
    observations, boundary, max_distance_km
        As for :func:`infer`.
    day : date-like, optional
        The reports in force on this day (default: the last report date).
    width : float, optional
        The band's half-width as a share of the reports' spacing (default :data:`BAND_WIDTH`, the
        calibrated one).

    Examples
    --------
    Two rows of reports 0.2° apart, two government then two opposition in each: the front is the
    meridian 36.4°E, across the whole box, and the band is as wide as BAND_WIDTH × 0.2° on each side.

    >>> import pandas as pd, shapely
    >>> obs = prepare_observations(pd.DataFrame({"date": "2020-01-01", "actor": ["gov", "gov", "opp", "opp"] * 2,
    ...     "lat": [35.25] * 4 + [35.75] * 4, "lon": [36.1, 36.3, 36.5, 36.7] * 2}))
    >>> band = front_band(obs, shapely.box(36, 35, 37, 36))
    >>> round(band.area / (2 * BAND_WIDTH * 0.2), 2), [round(x, 2) for x in band.bounds[1::2]]
    (1.0, [35.0, 36.0])
    """
    area, reports, ri, cells, reach = _on_day(observations, boundary, day, max_distance_km)
    _, pieces = _band_pieces(reports.xy[ri], reports.actor[ri], reports.derived[ri], cells, reports.place[ri], reach,
                             width, known=None if max_distance_km else area.projected)
    band = geom.union(pieces)
    band = _crs.transform([band], area.local, _crs.WGS84)
    return geom.polygonal(shapely.make_valid(band), empty=shapely.Polygon())[0]


def front_lines(observations, boundary, *, day=None, max_distance_km: float | None = None):
    """The inferred front on ``day``: the Voronoi edges between reports of different actors.

    Each segment is the bisector between two reports held by different actors (reports marked
    ``derived`` are left out: they are no evidence of where a front runs), as far as those two are
    each other's nearest. If both reports are right the front crosses the straight line between them,
    so where the front runs along a segment is known to within about the reports' distance apart:
    ``spacing_km``. :func:`front_band` widens each segment by :data:`BAND_WIDTH` times it.

    Parameters
    ----------
    observations, boundary, max_distance_km, day
        As for :func:`front_band`.

    Returns
    -------
    GeoDataFrame
        ``places`` (the two reports' places and sides, ``|``-joined), ``spacing_km`` (the distance
        between the two reports) and the segment (EPSG:4326), not cut to the boundary; segments
        beyond the reports' hull reach past the boundary.

    Examples
    --------
    Two columns of reports 0.2° apart, government at 36.4°E, opposition at 36.6°E: the front is the
    meridian 36.5°E between them, in pieces, each 0.2° (about 18 km at 35.5°N) from report to report.

    >>> import pandas as pd, shapely
    >>> obs = prepare_observations(pd.DataFrame({"date": "2020-01-01", "actor": ["gov", "opp"] * 3,
    ...     "lat": [35.2, 35.2, 35.5, 35.5, 35.8, 35.8], "lon": [36.4, 36.6] * 3}))
    >>> f = front_lines(obs, shapely.box(36, 35, 37, 36))
    >>> len(f), f["spacing_km"].round(1).tolist()
    (3, [18.2, 18.1, 18.1])
    """
    import geopandas as gpd

    area, reports, ri, _, reach = _on_day(observations, boundary, day, max_distance_km)
    acts = reports.actor[ri]
    front = _front(reports.xy[ri], acts, reports.derived[ri], reach)
    pairs, lines, spacing = front if front is not None else (np.zeros((0, 2), int), [], np.zeros(0))
    return gpd.GeoDataFrame(
        {"places": [_corner(reports.place[ri], acts, pair) for pair in pairs], "spacing_km": spacing / 1000.0},
        geometry=gpd.GeoSeries(_crs.transform(lines, area.local, _crs.WGS84), crs=_crs.WGS84), crs=_crs.WGS84)


def _on_day(observations, boundary, day, max_distance_km):
    """``(area, reports, rows, cells, reach)``: the reports in force on ``day`` (default: the last
    report date; row numbers into ``reports``), their cells (local CRS) and how far a front goes
    beyond their hull (metres)."""
    obs = _checked_observations(observations, max_distance_km)
    area = _Area.of(boundary)
    reports = _Reports.of(obs, area)
    k = len(reports.dates) - 1 if day is None else np.searchsorted(reports.dates, np.datetime64(pd.Timestamp(day)),
                                                                   side="right") - 1
    if k < 0:
        raise DateError(f"day {pd.Timestamp(day).date()} is before the first observation "
                        f"({pd.Timestamp(reports.dates[0]).date()}); give a later day")
    r = reports.in_force[:, k]
    ri = r[~np.isnan(r)].astype(int)
    extent = area.extent(reports.xy, max_distance_km)
    _, cells = _cells(reports.xy[ri], extent, area.projected, max_distance_km)
    return area, reports, ri, cells, _reach(extent)


def _reach(extent) -> float:
    """A length (metres) that takes a ray from anywhere in the box ``extent`` past its far side."""
    x0, y0, x1, y1 = extent.bounds
    return 2.0 * float(np.hypot(x1 - x0, y1 - y0))


def _checked_observations(obs, max_distance_km):
    """The observations in WGS84 (rows renumbered), once they and ``max_distance_km`` make sense."""
    import geopandas as gpd

    if not isinstance(obs, gpd.GeoDataFrame):
        raise InputError("observations: expected a GeoDataFrame of points; use prepare_observations() first")
    obs = _crs.to_wgs84(_crs.require_crs(obs, "observations"), "observations").reset_index(drop=True)
    if len(obs) == 0:
        raise InputError("observations: no observations; give at least one dated report")
    if max_distance_km is not None and not (float(max_distance_km) > 0):
        raise InputError(f"max_distance_km: {max_distance_km!r} is not a positive number of km; give e.g. 10")
    return obs


def _end(until, dates) -> pd.Timestamp:
    """``valid_to`` of the last period: the day after ``until`` (NaT, open-ended, without one)."""
    if until is None:
        return pd.NaT
    end = pd.Timestamp(until).normalize()
    if end < pd.Timestamp(dates[-1]):
        raise DateError(f"until {end.date()} is before the last observation ({pd.Timestamp(dates[-1]).date()}); "
                        "give a later --until")
    return end + pd.Timedelta(days=1)


@dataclass(frozen=True, eq=False)
class _Area:
    """The boundary to fill: in WGS84, the local equidistant CRS centred on it, and the boundary in
    that CRS (prepared)."""

    wgs84: shapely.Geometry
    local: pyproj.CRS
    projected: shapely.Geometry

    @classmethod
    def of(cls, boundary) -> _Area:
        import geopandas as gpd

        if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
            b = _crs.to_wgs84(_crs.require_crs(boundary, "boundary"), "boundary")
            geoms = np.asarray(b.geometry.values if isinstance(b, gpd.GeoDataFrame) else b.values, dtype=object)
        else:
            geoms = np.asarray([boundary], dtype=object)
        bound = shapely.union_all(geom.polygonal(shapely.make_valid(geoms), empty=shapely.Polygon()))
        if bound.is_empty:
            raise InputError("boundary: no polygons; give a polygon layer (e.g. governorates) for --within")
        x0, y0, x1, y1 = bound.bounds
        local = geom.local_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        reach = float(_crs.haversine_km((y0 + y1) / 2, (x0 + x1) / 2, np.array([y0, y1]), np.array([x0, x1])).max())
        if reach > 1500:
            log.warning("boundary: reaches %.0f km from its centre; beyond about 1,000 km the local projection "
                        "bends Voronoi bisectors by more than 0.4 %%: infer region by region", reach)
        projected = _crs.transform([bound], _crs.WGS84, local)[0]
        shapely.prepare(projected)
        return cls(bound, local, projected)

    def extent(self, xy: np.ndarray, max_distance_km) -> shapely.Geometry:
        """A box (local CRS) around the boundary and the reports ``xy`` that every Voronoi cell is cut to,
        wide enough that no cut reaches the boundary or a report's maximum distance."""
        x0, y0, x1, y1 = self.projected.bounds
        pad = max(x1 - x0, y1 - y0) + (1000.0 * float(max_distance_km) if max_distance_km else 0.0)
        return shapely.box(min(x0, xy[:, 0].min()) - pad, min(y0, xy[:, 1].min()) - pad,
                           max(x1, xy[:, 0].max()) + pad, max(y1, xy[:, 1].max()) + pad)


@dataclass(frozen=True, eq=False)
class _Reports:
    """The reports as arrays, and which report is in force for each place at each report date."""

    actor: np.ndarray  # per report: its actor (str)
    derived: np.ndarray  # per report: whether its side was derived from other reports (bool)
    ids: np.ndarray  # per report: its id (str)
    place: np.ndarray  # per report: its place (the smallest row number of the place's reports)
    xkey: np.ndarray  # per report: its position as one integer (1e-6° grid)
    xy: np.ndarray  # per report: its position in the local CRS
    dates: np.ndarray  # the distinct report dates, sorted
    places: np.ndarray  # the place of each row of ``in_force``
    in_force: np.ndarray  # places × dates: the row number of the report in force (NaN before the first)

    @classmethod
    def of(cls, obs, area: _Area) -> _Reports:
        xy = shapely.get_coordinates(obs.geometry.values)
        xkey = _position_keys(xy)
        place = _places(obs, xy, xkey)
        _check_inside(area.wgs84, xy, len(obs))
        dates, places, in_force = _in_force(obs, place)
        derived = obs["derived"].to_numpy(dtype=bool) if "derived" in obs.columns else np.zeros(len(obs), dtype=bool)
        return cls(actor=obs["actor"].to_numpy().astype(str), derived=derived, ids=obs["id"].astype(str).to_numpy(), place=place,
                   xkey=xkey, xy=shapely.get_coordinates(_crs.transform(obs.geometry.values, _crs.WGS84, area.local)),
                   dates=dates, places=places, in_force=in_force)


def _position_keys(xy: np.ndarray) -> np.ndarray:
    """One integer per position (lon/lat rounded to the 1e-6° grid)."""
    q = np.round(xy * 10**_COORD_DIGITS).astype(np.int64)
    return (q[:, 0] + 181 * 10**_COORD_DIGITS) * (362 * 10**_COORD_DIGITS) + (q[:, 1] + 91 * 10**_COORD_DIGITS)


def _places(obs, xy: np.ndarray, xkey: np.ndarray) -> np.ndarray:
    """The place of each report: rows linked by equal coordinates or by equal place name (within
    :data:`PLACE_NAME_KM`) are one place."""
    pkey = obs["place"].astype(str).str.strip().str.lower().to_numpy() if "place" in obs.columns else None
    if pkey is not None:
        pkey = _name_keys(pkey, xy[:, 1], xy[:, 0])
    return _place_groups(xkey, pkey)


def _name_keys(pkey, lat, lon):
    """Place-name keys, split where one name labels places more than PLACE_NAME_KM apart.

    Many villages share a name ("Sheikh Ali"); rows of one name are clustered by single linkage
    at PLACE_NAME_KM and each cluster gets its own key (``name#k``). Only duplicated names are
    examined.
    """
    key = pd.Series(pkey, dtype=object).where(pd.Series(pkey, dtype=object).astype(str).str.len() > 0)
    out = key.to_numpy(dtype=object).copy()
    dup = key[key.notna() & key.duplicated(keep=False)]
    for name, idx in dup.groupby(dup, sort=True).groups.items():  # one loop per shared name
        idx = np.asarray(idx)
        near = _crs.haversine_km(lat[idx][:, None], lon[idx][:, None], lat[idx][None, :], lon[idx][None, :]) \
            <= PLACE_NAME_KM
        lab = np.arange(len(idx))
        while True:
            new = np.where(near, lab[None, :], len(idx)).min(axis=1)
            if np.array_equal(new, lab):
                break
            lab = new
        if len(set(lab)) > 1:
            out[idx] = [f"{name}#{k}" for k in lab]
    return out


def _place_groups(xkey, pkey):
    """Connected components of rows linked by equal coordinate key or equal (non-empty) place key.

    Returns one integer group per row (the smallest row number of the component).
    """
    n = len(xkey)
    comp = pd.Series(np.arange(n))
    keys = [pd.Series(xkey)]
    if pkey is not None:
        p = pd.Series(pkey).where(pd.Series(pkey).astype(str).str.len() > 0)
        keys.append(p)
    while True:  # label propagation: converges in a few rounds (chains of aliases are short)
        before = comp.to_numpy().copy()
        for k in keys:
            m = comp.groupby(k, dropna=True).transform("min")
            comp = comp.where(m.isna(), np.minimum(comp, m.fillna(n).astype(int)))
        if np.array_equal(before, comp.to_numpy()):
            return comp.to_numpy()


def _check_inside(bound, xy: np.ndarray, n: int) -> None:
    """Refuse reports that all lie outside the boundary; count those that do."""
    inside = shapely.contains_xy(bound, xy[:, 0], xy[:, 1]) | shapely.intersects_xy(bound, xy[:, 0], xy[:, 1])
    if not inside.any():
        raise InputError("observations: no report lies inside the boundary; check lat/lon order and --within")
    if (~inside).any():
        log.info("%d of %d observations lie outside the boundary; their cells still count up to it",
                 int((~inside).sum()), n)


def _in_force(obs, place: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dates, places, in_force)``: the report in force for each (place, date), as a places ×
    dates matrix of row numbers, forward-filled (on one date, the later row wins)."""
    dates = np.sort(obs["date"].unique())
    order = np.lexsort((np.arange(len(obs)), obs["date"].to_numpy()))  # by date, then row order
    last = (pd.DataFrame({"place": place[order], "date": obs["date"].to_numpy()[order], "row": order})
            .drop_duplicates(["place", "date"], keep="last"))
    in_force = (last.pivot(index="place", columns="date", values="row").reindex(columns=dates)
                .ffill(axis=1))
    return dates, in_force.index.to_numpy(), in_force.to_numpy()


def _period_starts(reports: _Reports) -> list[int]:
    """The date indices where a period starts: consecutive dates on which every place has the same
    actor and position (those of its report in force) are one period."""
    rows = reports.in_force
    r_int = np.where(np.isnan(rows), -1, np.nan_to_num(rows, nan=-1)).astype(int)
    a_code = np.where(r_int >= 0, pd.factorize(reports.actor)[0][r_int], -1)
    x_code = np.where(r_int >= 0, pd.factorize(reports.xkey)[0][r_int], -1)
    changed = np.ones(len(reports.dates), dtype=bool)
    changed[1:] = ((a_code[:, 1:] != a_code[:, :-1]) | (x_code[:, 1:] != x_code[:, :-1])).any(axis=0)
    return np.flatnonzero(changed).tolist()


def _period_areas(reports: _Reports, area: _Area, extent, days: range, valid_to, max_distance_km):
    """The timeline rows (one per actor) of the period made of the date indices ``days``, and its
    front band's pieces ``(keys, WGS84 geometries)``."""
    r = reports.in_force[:, days.start]
    ok = ~np.isnan(r)
    ri = r[ok].astype(int)
    acts = reports.actor[ri]
    full, cells = _cells(reports.xy[ri], extent, area.projected, max_distance_km)
    keys, pieces = _band_pieces(reports.xy[ri], acts, reports.derived[ri], cells, reports.place[ri], _reach(extent),
                                known=None if max_distance_km else area.projected)  # cells tile the boundary
    band = geom.union(pieces)
    in_band = _crs.transform(_clip(cells, band), area.local, _crs.WGS84)
    km2 = _crs.geodesic_area_km2(in_band)
    cells_w = _crs.transform(cells, area.local, _crs.WGS84)
    # every report in force at some date of the period
    per = reports.in_force[:, list(days)]
    per_rows = np.unique(per[~np.isnan(per)].astype(int))
    full_w = _crs.transform(full, area.local, _crs.WGS84) if max_distance_km else cells_w
    span = {"valid_from": pd.Timestamp(reports.dates[days.start]), "valid_to": valid_to}
    out = []
    for act, g in _dissolve_cells(cells_w, full_w, acts, area.local).items():
        if act == UNKNOWN_ACTOR and max_distance_km:
            out.append({"actor": UNKNOWN_ACTOR, **span, "geometry": g, "obs_ids": "", "uncertain_km2": np.nan})
            continue
        m = acts == act
        used = per_rows[reports.actor[per_rows] == act]  # reports whose cell reaches the boundary
        used = used[np.isin(reports.place[used], reports.places[ok][m & ~shapely.is_empty(cells)])]
        out.append({"actor": str(act), **span, "geometry": g,
                    "obs_ids": ";".join(sorted(reports.ids[used], key=_id_sort_key)),
                    "uncertain_km2": round(float(km2[m].sum()), 6)})
    pieces = geom.polygonal(shapely.make_valid(_crs.transform(pieces, area.local, _crs.WGS84)), empty=shapely.Polygon())
    return out, (keys, pieces)


#: Segments per quarter circle of the disks of the maximum distance (see :func:`_cells`): a 32-gon,
#: within 0.5 % (48 m) of a 10 km circle, far finer than where knowledge ends. It was 32 (a 128-gon):
#: its arcs were most of the vertices of the NW Syria timeline (2.7 MB; 1.9 MB with 8, the gains
#: 0-2 km² smaller).
DISK_QUAD_SEGS = 8


def _cells(pts: np.ndarray, extent, bound, max_distance_km) -> tuple[np.ndarray, np.ndarray]:
    """``(full, known)``: the Voronoi cells of the points ``pts`` clipped to ``bound`` (they tile
    it), and the same cells cut to ``max_distance_km`` around their point (``full`` itself without
    a maximum distance). Local CRS, in the order of ``pts``."""
    if len(pts) == 1:
        cells = np.array([extent], dtype=object)
    else:
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent,
                                                           ordered=True))
    edge = ~shapely.contains_properly(bound, cells)  # only cells crossing the boundary are cut
    cells[edge] = geom.polygonal(shapely.intersection(cells[edge], bound), empty=shapely.Polygon())
    if not max_distance_km:
        return cells, cells
    disks = shapely.buffer(shapely.points(pts), 1000.0 * float(max_distance_km), quad_segs=DISK_QUAD_SEGS)
    return cells, geom.polygonal(shapely.intersection(cells, disks), empty=shapely.Polygon())


def _borders(cells: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """Whether each cell touches (shares an edge or a vertex with) a cell of another actor."""
    a, b = shapely.STRtree(cells).query(cells, predicate="intersects")
    other = acts[a] != acts[b]
    border = np.zeros(len(cells), dtype=bool)
    border[a[other]] = True
    return border


def _band_pieces(pts: np.ndarray, acts: np.ndarray, derived: np.ndarray, cells: np.ndarray, places: np.ndarray,
                 reach: float, width: float | None = None, known=None):
    """The front band's pieces (local CRS, inside the ``cells``) and a key for each: where the front
    may run given the reports at ``pts`` held by ``acts``.

    Each piece is a segment of the inferred front (:func:`_front_edges`: the bisector between two
    reports of different actors) widened on both sides by ``width`` (default :data:`BAND_WIDTH`)
    times the two reports' distance apart: if both are right the front crosses the line between
    them, so it is known no better than their spacing there. Dense reports make a narrow band,
    sparse ones a wide one. Reports whose side was ``derived`` from others are no evidence of where
    the front runs and bound no piece. With fewer than three such reports, or all on one line, the
    band is every cell that borders another actor's. ``reach``: how far (metres) the front goes on
    beyond the reports' hull; the pieces are cut to the cells (the reports' cells cut to the
    boundary and the maximum distance; ``known``: their union, when at hand).

    A key names the piece's two reports by place (``places``) and side, and its shape: a piece
    with the same key on two dates is the same ground with the same reports around it.
    """
    front = _front(pts, acts, derived, reach)
    if front is None:
        border = np.flatnonzero(_borders(cells, acts))
        return _keyed(["c:" + _corner(places, acts, [i]) for i in border], cells[border])
    pairs, lines, spacing = front
    if not len(pairs):  # one side only: no front
        return [], np.array([], dtype=object)
    pieces = shapely.buffer(lines, (BAND_WIDTH if width is None else width) * spacing, quad_segs=4)
    # each piece stays in its two reports' cells: where the front runs between them
    own = np.flatnonzero(~derived)
    mine = np.full(len(pts), None, dtype=object)  # the Voronoi cells of the reports that bound the front
    mine[own] = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(pts[own]), extend_to=shapely.box(*shapely.total_bounds(pieces)), ordered=True))
    pieces = shapely.union(shapely.intersection(pieces, mine[pairs[:, 0]]), shapely.intersection(pieces, mine[pairs[:, 1]]))
    known = geom.union(cells[~shapely.is_empty(cells)]) if known is None else known
    return _keyed(["e:" + _corner(places, acts, pair) for pair in pairs], _clip(pieces, known))


def _front(pts: np.ndarray, acts: np.ndarray, derived: np.ndarray, reach: float):
    """The inferred front between the reports at ``pts`` that were not ``derived``:
    ``(pairs, lines, spacing)``, the two reports of each segment (rows of two indices into ``pts``),
    the segment (:func:`_front_edges`, local CRS) and the reports' distance apart (metres); None
    when fewer than three such reports are not all on one line (no triangle to find it from)."""
    own = np.flatnonzero(~derived)
    tri = _triangles(pts[own])
    if not len(tri):
        return None
    pairs, lines = _front_edges(pts[own], acts[own], tri, reach)
    pairs = own[pairs]
    return pairs, lines, np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)


def _clip(polys: np.ndarray, area) -> np.ndarray:
    """``polys`` cut to ``area``: only those that cross its boundary are overlaid (one overlay
    with a country-sized polygon costs milliseconds; most pieces lie wholly in or out of it).

    >>> boxes = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 3, 1), shapely.box(5, 5, 6, 6)])
    >>> [g.area for g in _clip(boxes, shapely.box(0, 0, 2, 2))]
    [1.0, 1.0, 0.0]
    """
    shapely.prepare(area)
    out = polys.copy()
    meet = shapely.intersects(area, polys)
    out[~meet] = shapely.Polygon()
    cut = meet & ~shapely.contains_properly(area, polys)
    out[cut] = shapely.intersection(polys[cut], area)
    return out


def _corner(places, acts, idx) -> str:
    return "|".join(sorted(f"{places[i]}={acts[i]}" for i in idx))


def _keyed(names: list[str], pieces: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The non-empty polygonal ``pieces``, each keyed by its name and a digest of its shape."""
    import hashlib

    pieces = geom.polygonal(np.asarray(pieces, dtype=object), empty=shapely.Polygon())
    ok = ~shapely.is_empty(pieces)
    shape = shapely.to_wkb(shapely.normalize(pieces[ok]))
    keys = [f"{n}:{hashlib.blake2b(w, digest_size=8).hexdigest()}"
            for n, w in zip(np.asarray(names, dtype=object)[ok], shape, strict=True)]
    return keys, pieces[ok]


def _band_layer(periods: list[tuple]):
    """The band's pieces of every period ``(valid_from, valid_to, keys, geometries)`` as one layer:
    a piece whose key holds over consecutive periods is one row. Sorted by valid_from, then key."""
    import geopandas as gpd

    rows, open_ = [], {}
    for valid_from, _, keys, geoms in periods:
        now = dict(zip(keys, geoms, strict=True))
        for k in [k for k in open_ if k not in now]:
            rows.append((open_[k][0], valid_from, k, open_.pop(k)[1]))
        for k, g in now.items():
            open_.setdefault(k, (valid_from, g))
    rows += [(start, periods[-1][1], k, g) for k, (start, g) in open_.items()]
    rows.sort(key=lambda r: (r[0], r[2]))
    return gpd.GeoDataFrame({"valid_from": pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]"),
                             "valid_to": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]")},
                            geometry=gpd.GeoSeries([r[3] for r in rows], crs=_crs.WGS84), crs=_crs.WGS84)


def _front_edges(pts: np.ndarray, acts: np.ndarray, tri: np.ndarray, reach: float):
    """The Voronoi edges between points of different actors, from their Delaunay triangles ``tri``
    (rows of three indices into ``pts``): ``(pairs, lines)``, the two points of each edge (rows of
    two indices) and its segment (local CRS). An edge of the triangles' hull has one triangle: its
    Voronoi edge runs from the triangle's circumcentre away from the hull, ``reach`` metres long.
    Edges shorter than 1 % of their two points' distance apart are left out: such points are
    neighbours at about one Voronoi vertex only (four points on nearly one circle, a grid's
    diagonals), where the edges around that vertex already bound the front.

    >>> pts = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    >>> pairs, lines = _front_edges(pts, np.array(["a", "b", "a", "b"]), np.array([[0, 1, 2], [1, 3, 2]]), 10.0)
    >>> pairs.tolist(), [round(g.length, 3) for g in lines]
    ([[0, 1], [2, 3]], [10.0, 10.0])
    """
    edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
    third = np.concatenate([tri[:, 2], tri[:, 0], tri[:, 1]])
    owner = np.tile(np.arange(len(tri)), 3)
    mixed = acts[edges[:, 0]] != acts[edges[:, 1]]
    edges, third, owner = edges[mixed], third[mixed], owner[mixed]
    order = np.lexsort((owner, edges[:, 1], edges[:, 0]))
    edges, third, owner = edges[order], third[order], owner[order]
    first = np.ones(len(edges), dtype=bool)
    first[1:] = (edges[1:] != edges[:-1]).any(axis=1)
    start = np.flatnonzero(first)
    count = np.diff(np.append(start, len(edges)))
    cc = _circumcentres(pts, tri)
    a = cc[owner[start]]
    b = np.where((count == 2)[:, None], cc[owner[np.minimum(start + 1, len(edges) - 1)]], np.nan)
    pairs = edges[start]
    hull = count == 1
    if hull.any():  # a ray from the circumcentre along the outward normal of the hull edge
        p, q, r = pts[pairs[hull, 0]], pts[pairs[hull, 1]], pts[third[start][hull]]
        n = np.column_stack([-(q - p)[:, 1], (q - p)[:, 0]])
        n *= np.where(np.einsum("ij,ij->i", n, r - p) > 0, -1.0, 1.0)[:, None] / np.hypot(*n.T)[:, None]
        b[hull] = a[hull] + reach * n
    keep = np.hypot(*(b - a).T) > 0.01 * np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)
    return pairs[keep], shapely.linestrings(np.stack([a[keep], b[keep]], axis=1))


def _circumcentres(pts: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """The centre of each triangle's circumscribed circle (rows of three indices into ``pts``).

    >>> _circumcentres(np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]), np.array([[0, 1, 2]])).tolist()
    [[1.0, 1.0]]
    """
    a = pts[tri[:, 0]]
    b, c = pts[tri[:, 1]] - a, pts[tri[:, 2]] - a  # relative to the first corner: no cancellation
    d = 2.0 * (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0])
    b2, c2 = (b ** 2).sum(axis=1), (c ** 2).sum(axis=1)
    return a + np.column_stack([c[:, 1] * b2 - b[:, 1] * c2, b[:, 0] * c2 - c[:, 0] * b2]) / d[:, None]


def _triangles(pts: np.ndarray) -> np.ndarray:
    """The Delaunay triangles of ``pts`` as rows of three indices into ``pts``, without the flat
    ones (height under 1 % of the longest side: slivers along a straight run of the hull, which
    would reach along it); none when fewer than three points are not on one line."""
    if len(pts) < 3:
        return np.zeros((0, 3), dtype=int)
    tris = shapely.get_parts(shapely.delaunay_triangles(shapely.multipoints(pts)))
    if len(tris) == 0:
        return np.zeros((0, 3), dtype=int)
    index = {xy: i for i, xy in enumerate(map(tuple, pts.tolist()))}  # GEOS keeps the input coordinates
    corners = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(len(tris), 4, 2)[:, :3]
    tri = np.array([index[xy] for xy in map(tuple, corners.reshape(-1, 2).tolist())]).reshape(-1, 3)
    longest = np.max([np.hypot(*(pts[tri[:, i]] - pts[tri[:, (i + 1) % 3]]).T) for i in range(3)], axis=0)
    return tri[2 * shapely.area(tris) / longest > 0.01 * longest]


def _dissolve_cells(known, full, acts, local) -> dict:
    """``{actor: polygon}`` dissolved from the cells (WGS84), as one exact planar coverage.

    ``full`` are the Voronoi cells clipped to the boundary (they tile it), ``known`` the same cells
    cut to the maximum distance (``known is full`` without one). Cells clipped one by one, and
    transformed from the local projection, do not share bit-identical edges, so dissolving them
    per actor would leave hairline overlaps between actors. The outlines of all cells are
    therefore noded together and polygonised into faces, in the CRS the result is stored in. A
    face inside a known cell goes to that cell's actor; one inside a full cell only is ``unknown``;
    hairline faces (under about 1 m²) in neither go to the nearest known cell, larger ones are
    outside the boundary. An ``unknown`` face too thin to hold a disk :data:`MIN_UNKNOWN_WIDTH_KM`
    wide (measured in the local CRS ``local``) goes to its cell's actor: a strip where two reports'
    disks of the maximum distance just fail to meet, not ground nobody reports. Faces are merged
    per actor with a coverage union, so neighbouring actors share their edges vertex for vertex.
    """
    ok = ~shapely.is_empty(known)
    outlines = [shapely.boundary(known[ok])]
    if full is not known:
        outlines.append(shapely.boundary(full[~shapely.is_empty(full)]))
    lines = shapely.union_all(np.concatenate(outlines))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    rp = shapely.point_on_surface(faces)
    ktree = shapely.STRtree(known)
    owner = np.full(len(faces), -1)
    fi, ci = ktree.query(rp, predicate="within")
    owner[fi] = ci
    cell = np.full(len(faces), -1)  # the full cell each face lies in
    if full is known:
        cell[fi] = ci
    else:
        fj, cj = shapely.STRtree(full).query(rp, predicate="within")
        cell[fj] = cj
    in_full = cell >= 0
    hairline = shapely.area(faces) < 1e-10  # deg² (≈ 1 m²)
    orphan = (owner < 0) & hairline & ((full is known) | ~in_full)
    if orphan.any():
        owner[np.flatnonzero(orphan)] = ktree.query_nearest(rp[orphan], all_matches=False)[1]
    if full is not known:
        _own_thin_unknown(faces, rp, owner, cell, local)
    keep = (owner >= 0) | in_full
    label = np.where(owner >= 0, acts[np.maximum(owner, 0)], UNKNOWN_ACTOR)[keep]
    faces = faces[keep]
    return {str(a): shapely.coverage_union_all(faces[label == a]) for a in np.unique(label)}


def _own_thin_unknown(faces, rp, owner, cell, local) -> None:
    """Give the faces outside every known cell (``owner`` < 0) that make up a gap no disk
    :data:`MIN_UNKNOWN_WIDTH_KM` wide fits in (the gap whole, across the cells it spans) each to
    the full cell it lies in (``cell``; ``owner`` updated)."""
    gap = np.flatnonzero((owner < 0) & (cell >= 0))
    if not len(gap):
        return
    parts = shapely.get_parts(shapely.coverage_union_all(faces[gap]))  # polygonised faces: a coverage
    thin = shapely.is_empty(shapely.buffer(_crs.transform(parts, _crs.WGS84, local), -500.0 * MIN_UNKNOWN_WIDTH_KM))
    if not thin.any():
        return
    fj, pj = shapely.STRtree(parts).query(rp[gap], predicate="within")
    take = gap[fj[thin[pj]]]
    owner[take] = cell[take]


def _timeline(rows: list[dict]):
    """The inferred rows as a timeline: valid polygons (repaired where needed), empty ones dropped,
    sorted by valid_from then actor."""
    import geopandas as gpd

    res = pd.DataFrame(rows)
    geoms = res.pop("geometry").to_numpy()
    geoms = geom.polygonal(np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms)), empty=shapely.Polygon())
    res = gpd.GeoDataFrame(res, geometry=gpd.GeoSeries(geoms, crs=_crs.WGS84), crs=_crs.WGS84)
    res = res[~res.geometry.is_empty].reset_index(drop=True)
    res["valid_from"] = pd.to_datetime(res["valid_from"]).astype("datetime64[ns]")
    res["valid_to"] = pd.to_datetime(res["valid_to"]).astype("datetime64[ns]")
    res = res.sort_values(["valid_from", "actor"], kind="stable").reset_index(drop=True)
    return res[["actor", "valid_from", "valid_to", "obs_ids", "uncertain_km2", "geometry"]]


def _id_sort_key(s: str):
    """Natural order of ids: numeric ids by value, then text ids."""
    return (0, int(s), "") if s.isdigit() else (1, 0, s)
