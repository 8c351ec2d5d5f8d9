"""As-of spatial join: who controlled the ground at each event's place on the event's date.

Modelled on ``geopandas.tools.sjoin``: one short public function over private helpers. The join is
vectorised: events are grouped by the snapshot interval their date falls in (``np.searchsorted`` over
the timeline's sorted change dates). In each interval that has events, point events are tested area
by area (a bounding-box filter on their coordinates, then one vectorised predicate of the prepared
area) when there are few areas; otherwise one :class:`shapely.STRtree` is built over the interval's
events and queried once with all the areas of the snapshot (each area prepared once). There is no
Python loop over events.

**Border rule.** With the default ``predicate="intersects"`` a point matches every area that
*covers* it, boundary included, so a point on the border of two areas matches both. Ties go to the
area with the later ``valid_from`` (the more recent change of control, i.e. the side that moved the
line), then to the actor name that sorts first, so the result does not depend on row order. With
``predicate="within"`` only interiors count and a point on a border gets no actor.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from ..errors import InputError
from . import geom
from .timeline import (
    active_rows,
    actor_areas,
    change_dates,
    coverage,
    coverage_text,
    parse_date,
    parse_dates,
)

log = logging.getLogger("geo_idlib")

PREDICATES = ("intersects", "within")
_CONVERSE = {"intersects": "intersects", "within": "contains"}
#: Up to this many (area, event) pairs per snapshot, points are tested area by area (bounding-box
#: filter + prepared predicate); above it, through an STRtree of the events.
_SCAN_BUDGET = 50_000_000


def asof_join(events, timeline, *, date_column: str = "date", predicate: str = "intersects",
              what: str = "events"):
    """The events with the actor that controlled each one's place on its date.

    Parameters
    ----------
    events : GeoDataFrame
        Any geometries (usually points) with a CRS, and a date column.
    timeline : GeoDataFrame
        A control timeline (:func:`geo_idlib.territory.timeline.load_timeline`).
    date_column : str
        Column of event dates (``YYYY-MM-DD`` text or datetimes).
    predicate : {"intersects", "within"}
        ``intersects``: boundaries count (see the border rule in the module doc); ``within``:
        interiors only.

    Returns
    -------
    GeoDataFrame
        ``events`` (same rows, same order, same index, same CRS) plus ``actor`` (``""`` where no area
        covers the event, its date is missing or outside the timeline) and ``valid_from`` (NaT then).
        Existing ``actor``/``valid_from`` columns are replaced (with a warning when not empty).

    Examples
    --------
    >>> import geopandas as gpd
    >>> areas = gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01", "2020-01-01"]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> from geo_idlib.territory.timeline import load_timeline
    >>> t = load_timeline(areas, "areas")
    >>> ev = gpd.GeoDataFrame({"date": ["2020-01-01", "2020-01-01", "2020-01-01"]},
    ...     geometry=shapely.points([(0.5, 0.5), (1.0, 0.5), (5, 5)]), crs="EPSG:4326")
    >>> asof_join(ev, t)["actor"].tolist()
    ['a', 'a', '']
    """
    if predicate not in PREDICATES:
        raise InputError(f"predicate {predicate!r} is not supported; use one of {', '.join(PREDICATES)}")
    _check_inputs(events, timeline, date_column, what)
    days = parse_dates(events[date_column].to_numpy(), what, date_column, allow_missing=True)
    geoms = _crs.to_wgs84(events.geometry, what).to_numpy()
    row, actor, valid_from = _match(geoms, days, timeline, predicate)
    out = events.copy()
    actors = np.full(len(events), "", dtype=object)
    starts = np.full(len(events), np.datetime64("NaT"), dtype="datetime64[ns]")
    actors[row] = actor
    starts[row] = valid_from
    out["actor"] = actors
    out["valid_from"] = starts
    _report(days, timeline, row, len(events), what)
    return out


def _check_inputs(events, timeline, date_column: str, what: str) -> None:
    if date_column not in events.columns:
        cols = [c for c in events.columns if c != events.geometry.name]
        raise InputError(f"{what}: no column {date_column!r} for --date-column (columns: "
                         f"{', '.join(map(str, cols)) or 'none'}); name the column of event dates")
    taken = [c for c in ("actor", "valid_from") if c in events.columns
             and events[c].astype(object).where(events[c].notna(), "").astype(str).str.len().gt(0).any()]
    if taken:
        log.warning("%s: the column(s) %s are replaced by the join's answer; rename them to keep them",
                    what, ", ".join(map(repr, taken)))
    _crs.require_crs(events, what)
    _crs.require_crs(timeline, "timeline")


def _match(geoms: np.ndarray, days: np.ndarray, timeline, predicate: str):
    """(event positions, actor, valid_from) of the matched events: one STRtree query per interval."""
    dates = change_dates(timeline)
    interval = np.searchsorted(dates, days, side="right") - 1  # NaT sorts last → past the end
    usable = ~np.isnat(days) & (interval >= 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    usable &= interval < len(dates)
    order = np.flatnonzero(usable)
    order = order[np.argsort(interval[order], kind="stable")]
    bounds = np.searchsorted(interval[order], np.arange(len(dates) + 1))
    t_actor = timeline["actor"].to_numpy(dtype=object)
    t_from = timeline["valid_from"].to_numpy(dtype="datetime64[ns]")
    t_geom = timeline.geometry.to_numpy()
    rank = np.argsort(np.argsort(t_actor.astype(str), kind="stable"), kind="stable")
    t_bounds = shapely.bounds(t_geom)
    points = bool((shapely.get_type_id(geoms[order]) == shapely.GeometryType.POINT).all())
    xs = shapely.get_x(geoms) if points else None
    ys = shapely.get_y(geoms) if points else None
    test = shapely.intersects if predicate == "intersects" else shapely.contains
    ev_parts, row_parts = [], []
    for k in np.flatnonzero(np.diff(bounds)):  # intervals that have events (never per event)
        rows = active_rows(timeline, dates[k])  # the snapshot of interval k
        if len(rows) == 0:
            continue
        ev = order[bounds[k]:bounds[k + 1]]
        if points and len(rows) * len(ev) <= _SCAN_BUDGET:
            # few areas: per area, a bounding-box filter on the coordinates, then one vectorised
            # predicate of the prepared area against its candidate points (no tree to build)
            xe, ye = xs[ev], ys[ev]
            for r in rows:
                x0, y0, x1, y1 = t_bounds[r]
                cand = ev[(xe >= x0) & (xe <= x1) & (ye >= y0) & (ye <= y1)]
                if len(cand):
                    shapely.prepare(t_geom[r])
                    hit = cand[test(t_geom[r], geoms[cand])]
                    ev_parts.append(hit)
                    row_parts.append(np.full(len(hit), r))
            continue
        # many areas: the tree holds the events and the areas are the queries, so GEOS prepares
        # each area once (a point-in-polygon test against a prepared polygon is ~100x faster).
        # "event within area" is "area contains event"; intersects is symmetric.
        tree = shapely.STRtree(geoms[ev])
        a_idx, e_idx = tree.query(t_geom[rows], predicate=_CONVERSE[predicate])
        ev_parts.append(ev[e_idx])
        row_parts.append(rows[a_idx])
    if not ev_parts:
        return np.array([], dtype=int), np.array([], dtype=object), np.array([], dtype="datetime64[ns]")
    ev_all = np.concatenate(ev_parts)
    row_all = np.concatenate(row_parts)
    # border rule: per event, the latest valid_from wins, then the actor that sorts first
    key = np.lexsort((rank[row_all], -t_from[row_all].astype("int64"), ev_all))
    ev_all, row_all = ev_all[key], row_all[key]
    first = np.ones(len(ev_all), dtype=bool)
    first[1:] = ev_all[1:] != ev_all[:-1]
    ev_all, row_all = ev_all[first], row_all[first]
    return ev_all, t_actor[row_all], t_from[row_all]


def _report(days, timeline, matched, n: int, what: str) -> None:
    n_missing = int(np.isnat(days).sum())
    first, last = coverage(timeline)
    lo = np.datetime64(first, "ns")
    outside = ~np.isnat(days) & (days < lo)
    if last is not None:
        outside |= ~np.isnat(days) & (days > np.datetime64(last, "ns"))
    if n_missing:
        log.warning("%s: %d event(s) have no date; they get no actor", what, n_missing)
    if outside.any():
        log.warning("%s: %d event(s) are dated outside the timeline (%s); they get no actor",
                    what, int(outside.sum()), coverage_text(timeline))
    log.info("%s: %d of %d event(s) fall in a control area", what, len(matched), n)


def events_from_table(df, what: str, *, lat_column: str = "lat", lon_column: str = "lon"):
    """A GeoDataFrame of points (EPSG:4326) from a table with latitude and longitude columns.

    Bad values raise :class:`InputError` naming the flag and the first bad row (1-based).

    Examples
    --------
    >>> ev = events_from_table(pd.DataFrame({"lat": ["35.9"], "lon": ["36.6"]}), "e.csv")
    >>> ev.geometry[0].wkt, ev.crs.to_epsg()
    ('POINT (36.6 35.9)', 4326)
    """
    import geopandas as gpd

    for col, flag in ((lat_column, "--lat-column"), (lon_column, "--lon-column")):
        if col not in df.columns:
            raise InputError(f"{what}: no column {col!r} for {flag} (columns: {', '.join(map(str, df.columns))}); "
                             f"name the column with {flag}")
    vals = {}
    for col, flag, lim in ((lat_column, "--lat-column", 90), (lon_column, "--lon-column", 180)):
        raw = df[col]
        num = pd.to_numeric(raw.where(raw.astype(str).str.strip() != ""), errors="coerce").to_numpy(dtype=float)
        given = raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
        bad = (given & np.isnan(num)) | (np.abs(num) > lim)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{what}: row {i + 1}: {flag} {col!r} has {str(raw.iloc[i])!r}, not a "
                             f"{'latitude' if lim == 90 else 'longitude'} in degrees (±{lim})")
        vals[col] = num
    pts = _crs.points_from_latlon(vals[lat_column], vals[lon_column])
    pts[np.isnan(vals[lat_column]) | np.isnan(vals[lon_column])] = None
    return gpd.GeoDataFrame(df.copy(), geometry=gpd.GeoSeries(pts, index=df.index, crs=_crs.WGS84))


#: The columns the event dates come from, in this order, unless one is named (``report_date`` is
#: what `geo-idlib places` writes, so its output joins as it is).
DATE_COLUMNS = ("date", "report_date")


def events_layer(table, what: str, *, lat_column: str | None = None, lon_column: str | None = None):
    """The events of an input table as a layer: from its latitude and longitude columns (a table
    without geometry, or any table when a column is named; default ``lat``/``lon``), else the
    layer's own geometries.

    >>> events_layer(pd.DataFrame({"lat": ["35.9"], "lon": ["36.6"]}), "e.csv").geometry[0].wkt
    'POINT (36.6 35.9)'
    """
    import geopandas as gpd

    if isinstance(table, gpd.GeoDataFrame) and not (lat_column or lon_column):
        return table
    plain = table.drop(columns=table.geometry.name) if isinstance(table, gpd.GeoDataFrame) else table
    return events_from_table(plain, what, lat_column=lat_column or "lat", lon_column=lon_column or "lon")


def date_column_of(columns, date_column: str | None, what: str) -> str:
    """The column of event dates among ``columns`` (the events' columns but the geometry):
    ``date_column`` when given (:func:`asof_join` names it when it is missing), else the first of
    :data:`DATE_COLUMNS` there.

    >>> date_column_of(["report_date", "lat"], None, "p.csv")
    'report_date'
    """
    if date_column:
        return date_column
    for name in DATE_COLUMNS:
        if name in columns:
            return name
    raise InputError(f"{what}: no column {' or '.join(map(repr, DATE_COLUMNS))} (columns: "
                     f"{', '.join(map(str, columns)) or 'none'}); name the column of event dates with "
                     "--date-column, or give every row one date with --date YYYY-MM-DD")


#: Actors that are not a side: ground held by them is not "the other side" of a front.
NOT_A_SIDE = ("unknown", "")


def front_distance_km(points, actors, timeline, day) -> np.ndarray:
    """Distance in km from each point to the nearest ground held by *another* side on ``day``.

    An honest-uncertainty figure for a point joined to a timeline: a place 1 km from the other
    side's area sits on the front, and an inferred or generalised front line may well have it on the
    wrong side. Ground of ``unknown`` control is not a side. Distances are measured in an azimuthal
    equidistant projection centred on the points (exact from its centre, well within 1 % over the
    few hundred km of a conflict map). NaN where the point has no actor or no other side exists.

    Parameters
    ----------
    points : array of shapely Points (lon/lat, EPSG:4326)
    actors : array of str
        The actor each point was joined to (``""`` for none).
    timeline : GeoDataFrame
        A control timeline; ``day`` must be covered.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from geo_idlib.territory.timeline import load_timeline
    >>> t = load_timeline(gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01"] * 2},
    ...     geometry=[shapely.box(36, 35, 37, 36), shapely.box(37, 35, 38, 36)], crs="EPSG:4326"), "t")
    >>> d = front_distance_km(shapely.points([(36.9, 35.5), (36.0, 30.0)]), ["a", ""], t, "2020-01-01")
    >>> round(float(d[0]), 1), bool(np.isnan(d[1]))
    (9.1, True)
    """

    points = np.asarray(points, dtype=object)
    actors = np.asarray(actors, dtype=object)
    out = np.full(len(points), np.nan)
    areas = {a: g for a, g in actor_areas(timeline, parse_date(day, "date")).items()
             if a not in NOT_A_SIDE and g is not None and not g.is_empty}
    has = np.isin(actors, list(areas)) & ~shapely.is_missing(points)
    if not has.any() or len(areas) < 2:
        return out
    centre = shapely.centroid(shapely.multipoints(points[has]))
    aeqd = geom.local_crs(centre.x, centre.y)
    names = list(areas)
    projected = dict(zip(names, _crs.transform([areas[a] for a in names], _crs.WGS84, aeqd), strict=True))
    pts = _crs.transform(points[has], _crs.WGS84, aeqd)
    dist = np.full(len(pts), np.nan)
    for actor in np.unique(actors[has]):  # one vectorised distance per side, never per point
        sel = actors[has] == actor
        others = shapely.union_all([g for a, g in projected.items() if a != actor])
        dist[sel] = shapely.distance(pts[sel], others) / 1000.0
    out[has] = dist
    return out
