"""Dated control areas: the timeline data model, loading with validation, snapshots and coverage.

A *timeline* is a GeoDataFrame in EPSG:4326 with one row per (actor, period):

``actor`` (str, lower-case), ``valid_from`` (datetime64[ns], a day), ``valid_to`` (datetime64[ns],
exclusive, NaT = open-ended), ``geometry`` (valid Polygon/MultiPolygon), plus optional ``obs_ids``,
``uncertain_km2``, ``source`` and any other columns the input carried. Rows are sorted by
``valid_from`` then ``actor`` (stable). The snapshot at a date D is every row with
``valid_from <= D < valid_to`` (or NaT).

Rules applied by :func:`load_timeline` (see docs/control.md):

* **Dates** are ``YYYY-MM-DD`` (an ISO 8601 date-time is accepted and its day kept); anything else,
  e.g. ``01/02/2020``, is refused with its row number.
* **date form**: a file with a ``date`` column (and no ``valid_from``) is a series of snapshots; each
  date's areas hold until the next date in the file. The last date holds for that day only (the
  file says nothing about later days), so its ``valid_to`` is the day after.
* **CRS**: a layer without one is refused (GeoJSON always has one: GDAL reads it as WGS84, RFC 7946).
  Other CRSs are transformed to WGS84.
* **Invalid geometries** are repaired with :func:`shapely.make_valid`, keeping polygonal parts; the
  count is reported as a warning. Rows without geometry are dropped with a warning.
* **Overlaps** between different actors that are valid on the same day: the overlapping ground goes
  to the area with the later ``valid_from`` (the more recent information); between areas with the
  same ``valid_from``, to the one listed later in the input. The other area is clipped for the
  days the two overlap. The number of overlapping pairs and their area (km²) are reported.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from ..errors import DateError, InputError
from . import geom

log = logging.getLogger("geo_idlib")


#: Columns of a timeline, in order (``geometry`` last; other columns go between).
TIMELINE_COLUMNS = ["actor", "valid_from", "valid_to"]


#: Optional columns the data model knows about.
OPTIONAL_COLUMNS = ["obs_ids", "uncertain_km2", "source"]


_DAY = np.timedelta64(1, "D")


_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


# =========================================================================== dates
def parse_date(value, what: str = "date") -> pd.Timestamp:
    """One date (``YYYY-MM-DD`` text, a datetime or a Timestamp) as a day-precision Timestamp.

    Raises :class:`DateError` naming ``what`` for anything else.

    Examples
    --------
    >>> parse_date("2020-02-20")
    Timestamp('2020-02-20 00:00:00')
    >>> parse_date("20/02/2020", "--date")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.DateError: --date: '20/02/2020' is not a date; write it as YYYY-MM-DD (e.g. 2020-02-20)
    """
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise DateError(f"{what}: no date given; write it as YYYY-MM-DD (e.g. 2020-02-20)")
        return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()
    text = str(value).strip()
    ts = pd.NaT
    if _DATE_RE.fullmatch(text):
        ts = pd.to_datetime(text[:10], format="%Y-%m-%d", errors="coerce")
    if pd.isna(ts):
        raise DateError(f"{what}: {text!r} is not a date; write it as YYYY-MM-DD (e.g. 2020-02-20)")
    return pd.Timestamp(ts)


def parse_dates(values, what: str, column: str, allow_missing: bool = False) -> np.ndarray:
    """Parse a column of dates strictly into a ``datetime64[ns]`` array (vectorised).

    Accepts ``YYYY-MM-DD`` text (an ISO 8601 date-time keeps its day) and datetime columns. Missing
    values become NaT when ``allow_missing``; otherwise, like any unparseable value, they raise
    :class:`DateError` naming the file, the column and the first bad row (1-based).

    Examples
    --------
    >>> parse_dates(["2020-01-01", "2020-02-29T10:00:00Z"], "f.csv", "date")
    array(['2020-01-01T00:00:00.000000000', '2020-02-29T00:00:00.000000000'],
          dtype='datetime64[ns]')
    >>> parse_dates(["2020-01-01", "2020-02-30"], "f.csv", "date")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.DateError: f.csv: row 2: column `date` has '2020-02-30', not a date; write dates as YYYY-MM-DD
    """
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        out = s.dt.normalize().to_numpy(dtype="datetime64[ns]")
        missing = np.isnat(out)
        bad = np.zeros(len(out), dtype=bool)
    else:
        # dates repeat (a few hundred distinct days in a million events): parse each distinct value once
        codes, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)
        text = pd.Series([str(v).strip() for v in uniq], dtype=object)
        ok_shape = text.str.fullmatch(_DATE_RE.pattern).to_numpy(dtype=bool) if len(text) else np.zeros(0, bool)
        parsed = pd.to_datetime(text.where(ok_shape).str[:10], format="%Y-%m-%d", errors="coerce")
        u_out = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
        u_empty = np.append((text == "").to_numpy(dtype=bool), True)
        out = u_out[codes]  # code -1 (missing) picks the appended NaT
        missing = u_empty[codes]
        bad = ~missing & np.isnat(out)
    if not allow_missing:
        bad = bad | missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = "an empty value" if missing[i] else repr(str(pd.Series(values).iloc[i]).strip())
        raise DateError(f"{what}: row {i + 1}: column `{column}` has {shown}, not a date; "
                        "write dates as YYYY-MM-DD")
    return out


def _fmt(day) -> str:
    return pd.Timestamp(day).strftime("%Y-%m-%d")


def dates_as_text(gdf, columns=("valid_from", "valid_to")):
    """A copy with the ``columns`` that exist as ``YYYY-MM-DD`` text (NaT → None): how every
    output of geo_idlib stores a timeline's dates, whatever the format.

    >>> df = pd.DataFrame({"valid_from": pd.to_datetime(["2020-01-02", None])})
    >>> dates_as_text(df)["valid_from"].tolist()
    ['2020-01-02', None]
    """
    out = gdf.copy()
    for col in columns:
        if col in out.columns:  # a timeline has few distinct dates: each is formatted once
            codes, days = pd.factorize(out[col])
            text = np.append(pd.DatetimeIndex(days).strftime("%Y-%m-%d").to_numpy(dtype=object), None)
            out[col] = pd.Series(text[codes], index=out.index, dtype=object)
    return out


# =========================================================================== actors
_ACTOR_SEP = re.compile(r"[\s-]+")


def canonical_actor(values) -> np.ndarray:
    """Actor names in canonical form: trimmed, lower-case, spaces/hyphens → ``_``; missing → ``""``.

    Examples
    --------
    >>> canonical_actor([" Government ", "Turkish-backed", None]).tolist()
    ['government', 'turkish_backed', '']
    """
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append("")
        else:
            out.append(_ACTOR_SEP.sub("_", str(v).strip().lower()))
    return np.array(out, dtype=object)


# =========================================================================== geometry checks
def repair_polygons(geoms, what: str) -> tuple[np.ndarray, int]:
    """Make polygon geometries valid (``shapely.make_valid``, polygonal parts kept).

    Returns the repaired array and the number of geometries that needed repair. Lines and points
    raise :class:`InputError` naming the first such row (1-based).

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> fixed, n = repair_polygons([bowtie], "t.geojson")
    >>> n, fixed[0].geom_type, round(fixed[0].area, 3)
    (1, 'MultiPolygon', 0.5)
    """
    arr = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    wrong = present & ~geom.is_polygonal(arr, collections=True)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise InputError(f"{what}: row {i + 1} is a {arr[i].geom_type}; control areas must be polygons")
    invalid = present & ~shapely.is_valid(arr)
    out = arr.copy()
    if invalid.any():
        out[invalid] = shapely.make_valid(arr[invalid])
    out[present] = geom.polygonal(out[present])
    return out, int(invalid.sum())


# =========================================================================== loading
def load_timeline(gdf, what: str = "timeline", *, geojson: bool = False):
    """Validate a layer of dated control areas and return it as a timeline (see module doc).

    Parameters
    ----------
    gdf : GeoDataFrame
        As read from any GDAL file: ``actor`` plus ``valid_from`` [+ ``valid_to``] or ``date``.
    what : str
        Name of the input in messages (the file name).
    geojson : bool
        The layer came from a GeoJSON file: a missing CRS means WGS84 (RFC 7946).

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"actor": ["Government", "opposition", "government"],
    ...                       "date": ["2020-01-01", "2020-01-01", "2020-02-01"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
    ...                                shapely.box(0, 0, 2, 1)], crs="EPSG:4326")
    >>> t = load_timeline(g, "example")
    >>> t[["actor", "valid_from", "valid_to"]].astype(str).values.tolist()
    [['government', '2020-01-01', '2020-02-01'], ['opposition', '2020-01-01', '2020-02-01'], ['government', '2020-02-01', '2020-02-02']]
    """
    import geopandas as gpd

    gdf, has_from = _checked_layer(gdf, what, geojson)
    known = ("actor", "valid_from", "valid_to", "date")  # matched case-insensitively
    df = pd.DataFrame({(c.lower() if c.lower() in known else c): gdf[c].to_numpy()
                       for c in gdf.columns if c != gdf.geometry.name})
    actor = _actors(df["actor"], what)
    vf, vt = _periods(df, has_from, what)
    df = df.drop(columns=[c for c in known if c in df.columns])
    geoms, keep = _areas(gdf.geometry.to_numpy(), what)
    out = gpd.GeoDataFrame({"actor": actor[keep], "valid_from": vf[keep], "valid_to": vt[keep],
                            **{c: df[c].to_numpy()[keep] for c in df.columns}},
                           geometry=gpd.GeoSeries(geoms[keep], crs=_crs.WGS84), crs=_crs.WGS84)
    out = _resolve_overlaps(out.reset_index(drop=True), what)
    return _finish(out)


def _checked_layer(gdf, what: str, geojson: bool):
    """``(layer in WGS84, has valid_from)`` once the columns, rows and CRS a timeline needs are there."""
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: not a layer with geometries; give a GeoJSON, GeoPackage, Shapefile, "
                         "FlatGeobuf, GeoParquet or KML file of polygons")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    lower = {c.lower(): c for c in cols}
    if "actor" not in lower:
        raise InputError(f"{what}: no `actor` column (columns: {', '.join(cols) or 'none'}); "
                         "add an `actor` column naming who controls each area")
    has_from, has_date = "valid_from" in lower, "date" in lower
    if not has_from and not has_date:
        raise InputError(f"{what}: no `valid_from` or `date` column; add `date` (YYYY-MM-DD, a snapshot "
                         "valid until the next date) or `valid_from` [+ `valid_to`, exclusive]")
    if len(gdf) == 0:
        raise InputError(f"{what}: the timeline is empty (no areas); give a file with at least one polygon")
    if gdf.crs is None:
        if not geojson:
            geom.require_crs(None, what)
        gdf = gdf.set_crs(_crs.WGS84)
    return _crs.to_wgs84(gdf, what), has_from


def _actors(values, what: str) -> np.ndarray:
    """Canonical actor names (:func:`canonical_actor`); an empty one is refused naming its row."""
    actor = canonical_actor(values)
    empty = np.flatnonzero(actor == "")
    if len(empty):
        raise InputError(f"{what}: row {empty[0] + 1}: `actor` is empty; name who controls each area")
    return actor


def _periods(df, has_from: bool, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(valid_from, valid_to)`` of each row, from ``valid_from`` [+ ``valid_to``] or from ``date``
    (each date's areas hold until the next date, the last date's for that day only)."""
    if not has_from:
        vf = parse_dates(df["date"], what, "date")
        days = np.unique(vf)
        nxt = np.append(days[1:], days[-1] + _DAY)
        return vf, nxt[np.searchsorted(days, vf)]
    vf = parse_dates(df["valid_from"], what, "valid_from")
    vt = (parse_dates(df["valid_to"], what, "valid_to", allow_missing=True) if "valid_to" in df
          else np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]"))
    bad = ~np.isnat(vt) & (vt <= vf)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DateError(f"{what}: row {i + 1}: valid_to {_fmt(vt[i])} is not after valid_from "
                        f"{_fmt(vf[i])}; valid_to is exclusive (the first day the area no longer holds)")
    return vf, vt


def _areas(geoms, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(repaired polygons, rows that have one)``: invalid polygons repaired, rows without a polygon
    dropped (each with a warning); a layer left without any polygon is refused."""
    geoms, n_fixed = repair_polygons(geoms, what)
    if n_fixed:
        log.warning("%s: repaired %d invalid polygon(s) with make_valid (self-intersections, bad rings)",
                    what, n_fixed)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if (~keep).any():
        log.warning("%s: dropped %d row(s) without a polygon", what, int((~keep).sum()))
    if not keep.any():
        raise InputError(f"{what}: the timeline is empty (no polygons); give a file with at least one polygon")
    return geoms, keep


def _finish(t):
    """Canonical column order and row order of a timeline."""
    import geopandas as gpd

    t = t.copy()
    t["actor"] = t["actor"].astype(object)
    t["valid_from"] = pd.to_datetime(t["valid_from"]).astype("datetime64[ns]")
    t["valid_to"] = pd.to_datetime(t["valid_to"]).astype("datetime64[ns]")
    geom_col = t.geometry.name
    extra = [c for c in t.columns if c not in TIMELINE_COLUMNS and c != geom_col]
    t = t[TIMELINE_COLUMNS + extra + [geom_col]]
    if geom_col != "geometry":
        t = t.rename_geometry("geometry")
    t = t.sort_values(["valid_from", "actor"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(t, geometry="geometry", crs=_crs.WGS84)


def _active_at(vf: np.ndarray, vt: np.ndarray, day) -> np.ndarray:
    day = np.datetime64(pd.Timestamp(day), "ns")
    return (vf <= day) & (np.isnat(vt) | (day < vt))


def _resolve_overlaps(t, what: str):
    """Clip areas that overlap an area of another actor valid on the same days (see module doc)."""
    if t["actor"].nunique() < 2:
        return t
    spans = _spans(t)
    win, lose = _overlaps(t, spans, what)
    if len(lose) == 0:
        return t
    import geopandas as gpd

    breaks = np.unique(np.concatenate([spans[1], spans[2][~np.isnat(spans[2])]]))
    rows = [row for loser in np.unique(lose) for row in _clipped(t, spans, loser, win[lose == loser], breaks)]
    clipped = gpd.GeoDataFrame(rows, geometry="geometry", crs=_crs.WGS84)
    clipped = clipped[~(clipped.geometry.isna() | clipped.geometry.is_empty)]
    kept = t.drop(index=np.unique(lose))
    return gpd.GeoDataFrame(pd.concat([kept, clipped], ignore_index=True), geometry="geometry", crs=_crs.WGS84)


def _spans(t) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(geometries, valid_from, valid_to, valid_to with NaT as the far future)`` of a timeline's rows."""
    vt = t["valid_to"].to_numpy(dtype="datetime64[ns]")
    return (t.geometry.to_numpy(), t["valid_from"].to_numpy(dtype="datetime64[ns]"), vt,
            np.where(np.isnat(vt), np.datetime64("2262-01-01", "ns"), vt))


def _overlaps(t, spans, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(winner, loser)`` rows of each pair of areas of different actors whose interiors overlap on
    common days (the later ``valid_from`` wins, then the later row); the pairs are reported."""
    geoms, vf, _, vt_cmp = spans
    actors = t["actor"].to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms)  # bounding boxes only; the exact test runs on the few candidates
    cand = (a < b) & (actors[a] != actors[b]) & (vf[a] < vt_cmp[b]) & (vf[b] < vt_cmp[a])
    a, b = a[cand], b[cand]
    if len(a):
        inter = shapely.relate_pattern(geoms[a], geoms[b], "T********")
        a, b = a[inter], b[inter]
    if len(a) == 0:
        return a, b
    a_wins = (vf[a] > vf[b]) | ((vf[a] == vf[b]) & (a > b))
    km2 = float(_crs.geodesic_area_km2(geom.polygonal(shapely.intersection(geoms[a], geoms[b]))).sum())
    log.warning("%s: %d pair(s) of areas of different actors overlap on the same days (%.3f km² in all); "
                "the more recent area (later valid_from, else later row) keeps the overlap", what, len(a), km2)
    return np.where(a_wins, a, b), np.where(a_wins, b, a)


def _clipped(t, spans, loser: int, winners: np.ndarray, breaks: np.ndarray) -> list[dict]:
    """The rows of area ``loser`` without the ground of its ``winners``: its period is split at every
    break inside it, each piece clipped by the winners valid then; equal neighbouring pieces merge."""
    geoms, vf, vt, vt_cmp = spans
    inside = breaks[(breaks > vf[loser]) & (breaks < vt_cmp[loser])]
    starts = np.concatenate([[vf[loser]], inside])
    ends = np.concatenate([inside, [vt[loser]]])
    rows, prev = [], None
    for s, e in zip(starts, ends, strict=True):
        active = winners[_active_at(vf[winners], vt[winners], s)]
        g = geoms[loser]
        if len(active):
            g = geom.polygonal([shapely.difference(g, shapely.union_all(geoms[active]))])[0]
        same = (prev is not None and g is not None and prev["geometry"] is not None
                and bool(shapely.equals_exact(prev["geometry"], g, 0)))
        if same:
            prev["valid_to"] = e
            continue
        row = t.iloc[loser].to_dict()
        row.update(valid_from=s, valid_to=e, geometry=g)
        rows.append(row)
        prev = row
    return rows


# =========================================================================== building from per-date files
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


def date_from_name(name: str) -> pd.Timestamp:
    """The date a file name carries (``YYYYMMDD`` or ``YYYY-MM-DD``).

    Examples
    --------
    >>> date_from_name("deepstatemap_data_20240708.geojson")
    Timestamp('2024-07-08 00:00:00')
    >>> date_from_name("areas_2020-02-20.gpkg")
    Timestamp('2020-02-20 00:00:00')
    """
    found = [m for m in _NAME_DATE.finditer(name)
             if not pd.isna(pd.to_datetime("".join(m.groups()), format="%Y%m%d", errors="coerce"))]
    if len(found) != 1:
        raise DateError(f"{name}: {'no' if not found else 'more than one'} date in the file name; "
                        "name per-date files with one YYYYMMDD or YYYY-MM-DD date")
    return pd.Timestamp(pd.to_datetime("".join(found[0].groups()), format="%Y%m%d"))


def snapshot_geometry(geoms, crs, actors, what: str) -> dict[str, object]:
    """The areas of one per-date file as ``{actor: geometry}``: CRS checked (and transformed to
    WGS84), invalid polygons repaired, dissolved per actor.

    Parameters
    ----------
    geoms : array of shapely geometries
    crs : str or None
        The layer's CRS (None: refused with :class:`CRSError`).
    actors : array of str
        The actor of each geometry (canonicalised here).

    Examples
    --------
    >>> areas = snapshot_geometry([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], "EPSG:4326",
    ...                           ["Russia", "russia"], "d_20240101.geojson")
    >>> {k: v.bounds for k, v in areas.items()}
    {'russia': (0.0, 0.0, 2.0, 1.0)}
    """
    geoms, n_fixed = repair_polygons(geom.geometries_to_wgs84(geoms, crs, what), what)
    if n_fixed:
        log.warning("%s: repaired %d invalid polygon(s) with make_valid", what, n_fixed)
    names = canonical_actor(actors)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if (names[ok] == "").any():
        raise InputError(f"{what}: an area has an empty `actor`; name who controls each area")
    return geom.dissolve(geoms[ok], names[ok])


def timeline_from_snapshots(snapshots: list[tuple[pd.Timestamp, dict[str, object]]]):
    """A compact timeline from dated snapshots ``[(day, {actor: geometry}), ...]``.

    Each day's areas hold until the next day given (gaps are bridged), the last day's for that day
    only. Consecutive days with an identical geometry for an actor become one row, so unchanged
    days are not stored twice. An actor absent on a day has no area that day.

    Examples
    --------
    >>> box = shapely.box(0, 0, 1, 1)
    >>> t = timeline_from_snapshots([(pd.Timestamp("2024-01-01"), {"russia": box}),
    ...                              (pd.Timestamp("2024-01-02"), {"russia": box}),
    ...                              (pd.Timestamp("2024-01-05"), {"russia": shapely.box(0, 0, 2, 1)})])
    >>> t[["actor", "valid_from", "valid_to"]].astype(str).values.tolist()
    [['russia', '2024-01-01', '2024-01-05'], ['russia', '2024-01-05', '2024-01-06']]
    """
    import geopandas as gpd

    if not snapshots:
        raise InputError("no per-date files given; the timeline would be empty")
    snapshots = sorted(snapshots, key=lambda s: s[0])
    days = [pd.Timestamp(d) for d, _ in snapshots]
    dup = [d for d, n in zip(days[1:], days[:-1], strict=True) if d == n]
    if dup:
        raise DateError(f"two per-date files carry the date {_fmt(dup[0])}; give one file per date")
    ends = days[1:] + [days[-1] + pd.Timedelta(days=1)]
    rows: list[dict] = []
    open_rows: dict[str, dict] = {}
    for day, end, (_, areas) in zip(days, ends, snapshots, strict=True):
        for name, g in areas.items():
            key = shapely.to_wkb(shapely.normalize(g))
            cur = open_rows.get(name)
            if cur is not None and cur["valid_to"] == day and cur["_key"] == key:
                cur["valid_to"] = end
                continue
            cur = {"actor": name, "valid_from": day, "valid_to": end, "geometry": g, "_key": key}
            rows.append(cur)
            open_rows[name] = cur
    if not rows:
        raise InputError(f"the per-date files ({_fmt(days[0])} … {_fmt(days[-1])}) hold no polygons; "
                         "the timeline would be empty")
    for r in rows:
        r.pop("_key")
    t = gpd.GeoDataFrame(rows, geometry="geometry", crs=_crs.WGS84)
    return _finish(t)


# =========================================================================== queries
def coverage(timeline) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    """First and last day the timeline covers (last is None when some area is open-ended).

    Examples
    --------
    >>> import geopandas as gpd
    >>> t = gpd.GeoDataFrame({"actor": ["a"], "valid_from": [pd.Timestamp("2020-01-01")],
    ...                       "valid_to": [pd.Timestamp("2020-03-01")]}, geometry=[shapely.box(0, 0, 1, 1)],
    ...                      crs="EPSG:4326")
    >>> coverage(t)
    (Timestamp('2020-01-01 00:00:00'), Timestamp('2020-02-29 00:00:00'))
    """
    if len(timeline) == 0:
        raise InputError("the timeline is empty (no areas); give a file with at least one polygon")
    first = pd.Timestamp(timeline["valid_from"].min())
    vt = timeline["valid_to"]
    if vt.isna().any():
        return first, None
    return first, pd.Timestamp(vt.max()) - pd.Timedelta(days=1)


def coverage_text(timeline) -> str:
    """The covered range as text, e.g. ``2024-07-08 … 2026-08-22``."""
    first, last = coverage(timeline)
    return f"{_fmt(first)} … {_fmt(last) if last is not None else 'open-ended'}"


def check_covered(timeline, day, what: str = "--date") -> pd.Timestamp:
    """``day`` parsed; :class:`DateError` stating the covered range when the timeline does not cover it."""
    d = parse_date(day, what)
    first, last = coverage(timeline)
    if d < first or (last is not None and d > last):
        raise DateError(f"{what}: {_fmt(d)} is outside the timeline, which covers {coverage_text(timeline)}; "
                        "choose a date in that range")
    return d


def change_dates(timeline) -> np.ndarray:
    """Sorted distinct days on which some area starts or ends (``datetime64[ns]``).

    The snapshot is constant between two consecutive change dates.
    """
    vf = timeline["valid_from"].to_numpy(dtype="datetime64[ns]")
    vt = timeline["valid_to"].to_numpy(dtype="datetime64[ns]")
    return np.unique(np.concatenate([vf, vt[~np.isnat(vt)]]))


def active_rows(timeline, day) -> np.ndarray:
    """Positions of the rows valid on ``day`` (no coverage check)."""
    vf = timeline["valid_from"].to_numpy(dtype="datetime64[ns]")
    vt = timeline["valid_to"].to_numpy(dtype="datetime64[ns]")
    return np.flatnonzero(_active_at(vf, vt, day))


def snapshot(timeline, date):
    """The areas valid on ``date``: a GeoDataFrame (``actor, valid_from, valid_to, ..., geometry``).

    Raises :class:`DateError` stating the covered range when ``date`` is outside it.

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"actor": ["a", "b"], "date": ["2020-01-01", "2020-01-10"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(0, 0, 2, 1)], crs="EPSG:4326")
    >>> t = load_timeline(g, "example")
    >>> snapshot(t, "2020-01-05")[["actor", "valid_from"]].astype(str).values.tolist()
    [['a', '2020-01-01']]
    >>> snapshot(t, "2020-01-11")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.DateError: --date: 2020-01-11 is outside the timeline, which covers 2020-01-01 … 2020-01-10; choose a date in that range
    """
    d = check_covered(timeline, date)
    rows = active_rows(timeline, d)
    return timeline.iloc[rows].reset_index(drop=True)


def actor_areas(timeline, day) -> dict[str, object]:
    """``{actor: union of its areas}`` valid on ``day`` (no coverage check)."""
    rows = active_rows(timeline, day)
    return geom.dissolve(timeline.geometry.to_numpy()[rows], timeline["actor"].to_numpy()[rows])

