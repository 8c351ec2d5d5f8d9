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
# --- geocode, gazetteer add|list|remove, check_country (gazetteer/geocode area)
def check_country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 country code in upper case, or None; unknown codes raise InputError.

    >>> check_country("sy"), check_country(None)
    ('SY', None)
    """
    if value is None or value == "":
        return None
    from .errors import InputError
    from .places import store

    cc = str(value).strip().upper()
    countries = store.load_index().countries()
    if cc not in countries:
        raise InputError(f"--country {value}: unknown country code; use an ISO 3166-1 alpha-2 code such as SY, "
                            "TR or IQ")
    return cc


def _online_geocoder(online):
    if not online:
        return None
    if online is True:
        from .places.online import OnlineGeocoder

        return OnlineGeocoder()
    return online


def geocode(names: list[str], *, country: str | None = None, fmt: str = "json", online=None,
            output: str | None = None, overwrite: bool = False) -> str:
    """``geo-idlib geocode``: one record per name, in input order, as json | csv | geojson text.

    Each record: query, name, lat, lon, place_id, country, feature_code, precision, confidence,
    status (unresolved names have null lat/lon and an empty place_id). ``online``: True for the
    default online geocoder, or an :class:`~geo_idlib.places.online.OnlineGeocoder`; ``output`` is only
    checked here (the caller writes it), so that a bad -o fails before any work.

    Examples
    --------
    >>> import json
    >>> json.loads(geocode(["Saraqeb"]))[0]["place_id"]
    'geonames:164816'
    """
    from .errors import InputError
    from .places import resolve, store

    if not names:
        raise InputError("geocode: no names given; e.g. geo-idlib geocode Saraqeb 'Idlib province'")
    if output:
        io.check_output(output, overwrite)  # fail before any work
    cc = check_country(country)
    records = resolve.geocode_names(names, store.load_index(), country=cc, online=_online_geocoder(online))
    if fmt == "json":
        return io.dumps_json(records, indent=2) + "\n"
    if fmt == "csv":
        import csv
        import io as stdio

        buf = stdio.StringIO()
        w = csv.DictWriter(buf, fieldnames=resolve.RECORD_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in records:
            w.writerow({k: (f"{v:.{io.FLOAT_DIGITS}f}".rstrip("0").rstrip(".") if isinstance(v, float) else
                            "" if v is None else v) for k, v in r.items()})
        return buf.getvalue()
    if fmt == "geojson":
        import geopandas as gpd

        from . import crs

        df = gpd.GeoDataFrame(records, columns=resolve.RECORD_COLUMNS)
        lat = df["lat"].astype(float)
        geom = crs.points_from_latlon(lat.to_numpy(), df["lon"].astype(float).to_numpy())
        gdf = gpd.GeoDataFrame(df, geometry=[g if ok else None for g, ok in zip(geom, lat.notna(), strict=True)],
                               crs=crs.WGS84)
        return io.geojson_text(gdf)
    raise InputError(f"--format {fmt}: unknown; use json, csv or geojson")


def gazetteer_add(path: str, name: str | None = None, progress=None) -> dict:
    """``geo-idlib gazetteer add``: index a GeoNames dump or CSV as a user gazetteer; ``progress(rows)``
    is called after each batch of a big file."""
    from .places import store

    return store.add_user_gazetteer(path, name, progress=progress)


def gazetteer_list() -> list[dict]:
    """``geo-idlib gazetteer list``: the user gazetteers (name, rows, source, added, format)."""
    from .places import store

    return store.list_user_gazetteers()


def gazetteer_remove(name: str) -> dict:
    """``geo-idlib gazetteer remove``: forget a user gazetteer."""
    from .places import store

    return store.remove_user_gazetteer(name)


# --- places, find_places, iter_places (toponyms area)
#: Properties of each feature of `geo-idlib places` (GeoJSON), in this order; CSV/JSON add lat, lon.
PLACE_PROPERTIES = ["report", "mention", "start", "end", "sentence", "name", "place_id", "country", "admin1",
                    "feature_code", "precision", "confidence", "status"]
#: Characters per block when streaming a report (paragraph-aligned): bounds memory, and is the
#: context within which mentions are disambiguated against each other.
PLACES_BLOCK_CHARS = 1 << 18


def find_places(text: str, *, report: str = "", country: str | None = None, index=None, online=None):
    """The places one text names, as a Places GeoDataFrame (EPSG:4326): for notebooks.

    Parameters
    ----------
    text : str
        Report text.
    report : str
        Stored in the ``report`` column.
    country : str, optional
        Context country (ISO 3166-1 alpha-2) for disambiguation; inferred when None.
    index : GazetteerIndex, optional
        Default :func:`geo_idlib.places.store.load_index`.
    online : bool or OnlineGeocoder, optional
        Ask an online geocoder (cached) for names the gazetteer lacks; off by default.

    Returns
    -------
    GeoDataFrame
        One row per mention (see DESIGN.md, "Places").

    Examples
    --------
    >>> p = find_places("Syrian forces shelled Sarmin, near Idlib.")
    >>> p[["mention", "start", "status"]].values.tolist()
    [['Sarmin', 22, 'resolved'], ['Idlib', 35, 'resolved']]
    """
    from .places import mentions, resolve, store

    idx = index if index is not None else store.load_index()
    cc = check_country(country)
    found = mentions.find_mentions(text, idx, report=report)
    return resolve.resolve(found, idx, country=cc, online=_online_geocoder(online))


def iter_places(reports: list[str], *, country: str | None = None, online=None, index=None,
                progress=no_progress):
    """Yield Places GeoDataFrames, one per block of each report (``-`` is stdin), streamed.

    Each report is read in paragraph-aligned blocks of about 256 K characters
    (:data:`PLACES_BLOCK_CHARS`, :func:`io.iter_report_blocks`),
    so a 50 MB text is processed in bounded memory; offsets are those of the whole report. Mentions
    are disambiguated against the other mentions of their block.
    """
    from .errors import InputError
    from .places import mentions, resolve, store

    if not reports:
        raise InputError("places: no report given; e.g. geo-idlib places report.txt (or - for stdin)")
    idx = index if index is not None else store.load_index()
    cc = check_country(country)
    geocoder = _online_geocoder(online)
    with progress(list(reports), "places", len(reports)) as it:
        for path in it:
            for offset, block in io.iter_report_blocks(path, block_chars=PLACES_BLOCK_CHARS):
                found = mentions.find_mentions(block, idx, report=path, offset=offset)
                yield resolve.resolve(found, idx, country=cc, online=geocoder)


def _place_records(gdf) -> list[dict]:
    """Rows as plain Python dicts (lat/lon NaN → None) with PLACE_PROPERTIES + lat, lon."""
    cols = PLACE_PROPERTIES + ["lat", "lon"]
    data = {c: gdf[c].astype(object).where(gdf[c].notna(), None).tolist() for c in cols}
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*(data[c] for c in cols), strict=True)]


def places(reports: list[str], *, country: str | None = None, fmt: str = "geojson", online=False,
           progress=no_progress) -> str:
    """``geo-idlib places``: every place the REPORTS name, as geojson | csv | json text.

    GeoJSON: a FeatureCollection with one Point feature per mention (geometry null when
    unresolved) whose properties are exactly :data:`PLACE_PROPERTIES`. CSV and JSON: one record per
    mention with those fields plus ``lat`` and ``lon``. Output is deterministic (sorted keys, 6
    decimals). Reports are read as UTF-8 (``-`` is stdin); empty, binary or non-UTF-8 input raises
    :class:`~geo_idlib.errors.InputError` before anything is written.

    Examples
    --------
    >>> import json, os, tempfile
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "r.txt")
    >>> with open(f, "w", encoding="utf-8") as fh:
    ...     _ = fh.write("Troops entered Saraqeb.")
    >>> fc = json.loads(places([f]))
    >>> [(x["properties"]["mention"], x["properties"]["place_id"]) for x in fc["features"]]
    [('Saraqeb', 'geonames:164816')]
    """
    return "".join(iter_places_text(reports, country=country, fmt=fmt, online=online, progress=progress))


def iter_places_text(reports: list[str], *, country: str | None = None, fmt: str = "geojson", online=False,
                     progress=no_progress):
    """The text of :func:`places`, in chunks, block by block: memory stays bounded by a block.

    ``"".join(iter_places_text(...)) == places(...)``. Used by :func:`write_places` to stream a
    large report's places into a file.
    """
    import csv
    import io as stdio

    from .errors import InputError

    if fmt not in ("geojson", "csv", "json"):
        raise InputError(f"--format {fmt}: unknown; use geojson, csv or json")
    first = True
    if fmt == "csv":
        buf = stdio.StringIO()
        w = csv.DictWriter(buf, fieldnames=PLACE_PROPERTIES + ["lat", "lon"], lineterminator="\n")
        w.writeheader()
    for gdf in iter_places(reports, country=country, online=online, progress=progress):
        records = _place_records(gdf)
        if fmt == "geojson":
            # the layout io.dumps_json gives the whole FeatureCollection: sorted keys, no spaces
            parts = [io.dumps_json({"type": "Feature", "properties": {k: r[k] for k in PLACE_PROPERTIES},
                                    "geometry": None if r["lat"] is None else
                                    {"type": "Point", "coordinates": [r["lon"], r["lat"]]}}) for r in records]
            if parts:
                yield ('{"features":[' if first else ",") + ",".join(parts)
                first = False
        elif fmt == "json":
            parts = ["  " + io.dumps_json(r, indent=2).replace("\n", "\n  ") for r in records]
            if parts:
                yield ("[\n" if first else ",\n") + ",\n".join(parts)
                first = False
        else:
            for r in records:
                w.writerow({k: (f"{v:.{io.FLOAT_DIGITS}f}" if isinstance(v, float) else "" if v is None else v)
                            for k, v in r.items()})
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if fmt == "geojson":
        yield ('{"features":[' if first else "") + '],"type":"FeatureCollection"}\n'
    elif fmt == "json":
        yield "[]\n" if first else "\n]\n"
    else:
        yield buf.getvalue()  # the header when there was no block


def write_places(reports: list[str], output: str, *, overwrite: bool = False, country: str | None = None,
                 fmt: str = "geojson", online=False, progress=no_progress) -> None:
    """``geo-idlib places -o OUTPUT``: stream the places into OUTPUT atomically (bounded memory)."""
    io.write_text_chunks(output, iter_places_text(reports, country=country, fmt=fmt, online=online,
                                                  progress=progress), overwrite=overwrite)


# ============================================================================ areas / join / change
#: The embedded NW Syria timeline (inferred from the sample observations), the default --areas.
NW_SYRIA_TIMELINE = "nw_syria_timeline.gpkg"
_GEOJSON_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons")


def default_timeline_path():
    """Path of the embedded NW Syria timeline (``shapefiles/nw_syria_timeline.gpkg``)."""
    return io.shapefiles_dir() / NW_SYRIA_TIMELINE


def read_timeline(path=None):
    """Read and validate a control timeline file (default: the embedded NW Syria timeline)."""
    from pathlib import Path

    from .errors import InputFileNotFound
    from .territory import timeline as timelines

    p = Path(path) if path else default_timeline_path()
    if not path and not p.exists():
        raise InputFileNotFound(f"{p}: the embedded NW Syria timeline is missing; pass --areas TIMELINE "
                                "or rebuild it with `geo-idlib areas infer`")
    gdf = io.read_vector(p, "timeline", datetime_as_string=True)
    return timelines.load_timeline(gdf, str(p), geojson=p.suffix.lower() in _GEOJSON_SUFFIXES)


def _storable(gdf):
    """Dates as ``YYYY-MM-DD`` text (empty valid_to → null) for writing to any format."""
    out = gdf.copy()
    for col in ("valid_from", "valid_to"):
        if col in out.columns:
            s = out[col]
            out[col] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
    return out


def _write_layer(gdf, output: str, overwrite: bool = False) -> None:
    """Atomically write a layer; the format follows the suffix (CSV: geometry as WKT)."""
    from pathlib import Path

    if Path(output).suffix.lower() == ".csv":
        io.write_text(output, io.csv_text(gdf), overwrite=overwrite)
    else:
        io.write_vector(gdf, output, overwrite=overwrite)


def write_timeline(timeline, output: str, overwrite: bool = False) -> None:
    """Atomically write a timeline (or snapshot); the format follows the suffix."""
    _write_layer(_storable(timeline), output, overwrite=overwrite)


def areas_build(files, output: str, actor: str | None = None, overwrite: bool = False,
                progress=no_progress):
    """`geo-idlib areas build`: a compact timeline from per-date files whose names carry the date.

    Writes the timeline to ``output`` and returns a one-line summary for stderr.
    """
    from pathlib import Path

    from .errors import DateError, InputError
    from .territory import timeline as timelines

    io.check_output(output, overwrite)
    if not files:
        raise InputError("areas build: no FILES given; pass the per-date files (e.g. data/*.geojson)")
    dated = sorted(((timelines.date_from_name(Path(f).name), str(f)) for f in files), key=lambda x: x[0])
    for (d1, f1), (d2, f2) in zip(dated, dated[1:], strict=False):
        if d1 == d2:
            raise DateError(f"{f1} and {f2} carry the same date {d1:%Y-%m-%d}; give one file per date")
    import numpy as np

    snaps = []
    with progress(dated, "reading per-date files", len(dated)) as it:
        for day, f in it:
            geoms, crs_text, fields = io.read_geometries(f, "per-date layer", columns=None if actor else ["actor"])
            if crs_text is None and Path(f).suffix.lower() in _GEOJSON_SUFFIXES:
                crs_text = "EPSG:4326"  # RFC 7946
            if actor:
                actors = np.full(len(geoms), actor, dtype=object)
            elif fields:
                actors = next(iter(fields.values()))
            else:
                raise InputError(f"{f}: no `actor` column; pass --actor NAME to name who controls these areas")
            snaps.append((day, timelines.snapshot_geometry(geoms, crs_text, actors, f)))
    timeline = timelines.timeline_from_snapshots(snaps)
    write_timeline(timeline, output, overwrite)
    return (f"wrote {output}: {len(timeline)} area row(s) from {len(dated)} file(s), "
            f"covering {timelines.coverage_text(timeline)}")


def areas_at(timeline: str | None, date: str, output: str | None = None, overwrite: bool = False):
    """`geo-idlib areas at`: the areas valid on ``date``; GeoJSON text when no ``output``."""
    from .territory import timeline as timelines

    if output:
        io.check_output(output, overwrite)
    snap = timelines.snapshot(read_timeline(timeline), date)
    if output:
        write_timeline(snap, output, overwrite)
        return None
    return io.geojson_text(_storable(snap))


def join_events(events: str, areas: str | None = None, date_column: str = "date",
                lat_column: str | None = None, lon_column: str | None = None, output: str | None = None,
                overwrite: bool = False, predicate: str = "intersects"):
    """`geo-idlib join`: the events file with ``actor`` and ``valid_from`` added.

    CSV events need latitude/longitude columns (default ``lat``/``lon``); GeoJSON/GeoPackage events
    use their geometry unless --lat-column/--lon-column are given. Returns the output text when no
    ``output`` (CSV for CSV input, GeoJSON otherwise).
    """
    from pathlib import Path

    import geopandas as gpd

    from . import crs
    from .territory import join

    if output:
        io.check_output(output, overwrite)
    p = Path(events)
    is_csv = p.suffix.lower() in (".csv", ".tsv", ".txt")
    df = io.read_table(p, "events table") if is_csv else io.read_vector(p, "events layer", datetime_as_string=True)
    if not isinstance(df, gpd.GeoDataFrame) or lat_column or lon_column:
        plain = df.drop(columns=df.geometry.name) if isinstance(df, gpd.GeoDataFrame) else df
        ev = join.events_from_table(plain, str(p), lat_column=lat_column or "lat", lon_column=lon_column or "lon")
    else:
        ev = df
    timeline = read_timeline(areas)
    out = join.asof_join(ev, timeline, date_column=date_column, predicate=predicate, what=str(p))
    out = _storable(crs.to_wgs84(out, str(p)))  # what geo_idlib writes is EPSG:4326
    # CSV: the input's columns (+ WKT geometry when the input had geometries) plus actor, valid_from
    table = out.drop(columns=out.geometry.name) if is_csv else out
    if output:
        if Path(output).suffix.lower() == ".csv":
            io.write_text(output, io.csv_text(table), overwrite=overwrite)
        else:
            io.write_vector(out, output, overwrite=overwrite)
        return None
    return io.csv_text(table) if is_csv else io.geojson_text(out)


_CHANGE_COLUMNS = ["actor", "area_from_km2", "area_to_km2", "gained_km2", "lost_km2", "net_km2"]


def _round_rows(rows: list[dict], digits: int = 3) -> list[dict]:
    return [{k: round(v, digits) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _table(rows: list[dict], cols: list[str]) -> str:
    """A plain-text table, numbers right-aligned with 3 decimals."""
    def cell(v):
        return f"{v:,.3f}" if isinstance(v, float) else str(v)

    body = [[cell(r.get(c, "")) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(b[i]) for b in body]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    for b, r in zip(body, rows, strict=True):
        lines.append("  ".join(v.rjust(w) if isinstance(r.get(c), (int, float)) else v.ljust(w)
                               for v, w, c in zip(b, widths, cols, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def change_report(d1: str, d2: str, areas: str | None = None, output: str | None = None,
                  overwrite: bool = False, fmt: str = "table", every: str | None = None,
                  progress=no_progress) -> str:
    """`geo-idlib change`: km² gained and lost per actor between two dates (or per period).

    Returns the text for stdout (a table, CSV or JSON). Without ``every``, ``output`` receives
    the change polygons (``actor_from, actor_to, area_km2``); with ``every``, the series itself
    (CSV or JSON by suffix, else ``fmt``).
    """
    from pathlib import Path

    from .errors import DateError
    from .territory import change
    from .territory import timeline as timelines

    t1, t2 = timelines.parse_date(d1, "--from"), timelines.parse_date(d2, "--to")
    if t1 > t2:
        raise DateError(f"--from {t1:%Y-%m-%d} is later than --to {t2:%Y-%m-%d}; give the earlier date to --from")
    if output:
        io.check_output(output, overwrite)
    timeline = read_timeline(areas)
    if every:
        rows = _round_rows(change.series(timeline, change.periods(t1, t2, every), progress=progress))
        cols = (["from", "to"] + _CHANGE_COLUMNS + ["slivers_dropped"]
                + (["uncertain_km2"] if any("uncertain_km2" in r for r in rows) else []))
        suffix = Path(output).suffix.lower() if output else ""
        kind = "csv" if suffix == ".csv" else "json" if suffix == ".json" else fmt
        text = (io.dumps_json({"every": every, "rows": rows}, indent=1) + "\n" if kind == "json"
                else io.csv_text(_rows_frame(rows, cols)) if kind == "csv" else _table(rows, cols))
        if output:
            io.write_text(output, text, overwrite=overwrite)
            return ""
        return text
    summary, polygons = change.compare(timeline, t1, t2)
    summary = _round_rows(summary)
    doc = {"from": f"{t1:%Y-%m-%d}", "to": f"{t2:%Y-%m-%d}", "actors": summary,
           "slivers_dropped": polygons.attrs["slivers_dropped"],
           "sliver_km2": round(polygons.attrs["sliver_km2"], 3),
           "sliver_threshold_km2": _sliver_threshold()}
    if output:
        _write_layer(polygons, output, overwrite=overwrite)
    if fmt == "json":
        return io.dumps_json(doc, indent=1) + "\n"
    cols = _CHANGE_COLUMNS + (["uncertain_km2"] if any("uncertain_km2" in r for r in summary) else [])
    if fmt == "csv":
        return io.csv_text(_rows_frame(summary, cols))
    return (f"change {doc['from']} → {doc['to']} (geodesic km²; {doc['slivers_dropped']} sliver(s) "
            f"< {_sliver_threshold()} km² dropped, {doc['sliver_km2']} km² in all)\n" + _table(summary, cols))


def _sliver_threshold() -> float:
    from .crs import SLIVER_KM2

    return SLIVER_KM2


def _rows_frame(rows: list[dict], cols: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=cols)


# ---- areas infer (control inference from dated point reports)
def read_boundary(within: str):
    """The --within boundary: a polygon file (any GDAL format), or governorate names of the
    embedded admin-1 layer separated by commas (e.g. ``Idlib,Aleppo``; alternate names work).

    Examples
    --------
    >>> read_boundary("Idleb, aleppo")["name"].tolist()
    ['Aleppo', 'Idlib']
    """
    from pathlib import Path

    from . import crs
    from .territory import infer

    p = Path(within)
    if p.exists() or p.suffix:
        gdf = io.read_vector(p, "boundary layer")
        if gdf.crs is None and p.suffix.lower() in _GEOJSON_SUFFIXES:
            gdf = gdf.set_crs(crs.WGS84)
        return crs.require_crs(gdf, str(p))
    return infer.units_named(load_admin1(), within, "--within")


def read_observations(path: str, country: str | None = None):
    """Observations (CSV, GeoJSON or GeoPackage: date, actor, lat + lon or place) as a point layer.

    Rows with a ``place`` but no lat/lon are geocoded through the gazetteer (exact names;
    ``country`` restricts the candidates). See :func:`geo_idlib.territory.infer.observation_table`
    and :func:`geo_idlib.territory.infer.prepare_observations`.

    Examples
    --------
    >>> obs = read_observations(str(io.shapefiles_dir() / "nw_syria_observations.csv"))
    >>> obs.columns.tolist()
    ['id', 'date', 'actor', 'place', 'source', 'note', 'geometry']
    >>> row = obs[obs["id"] == "ev076"].iloc[0]
    >>> str(row["date"].date()), row["actor"], row["place"]
    ('2020-01-28', 'government', "Ma'arat Al-Nu'man")
    """
    from pathlib import Path

    import geopandas as gpd

    from . import crs
    from .places import resolve
    from .territory import infer

    p = Path(path)
    if p.suffix.lower() in (".csv", ".tsv", ".txt"):
        layer = io.read_table(p, "observations table")
    else:
        layer = io.read_vector(p, "observations layer", datetime_as_string=True)
    if isinstance(layer, gpd.GeoDataFrame) and layer.crs is None and p.suffix.lower() in _GEOJSON_SUFFIXES:
        layer = layer.set_crs(crs.WGS84)
    table = infer.observation_table(layer, str(p))
    if "place" in table.columns:
        table = resolve.geocode_observation_places(table, str(p), country)
    return infer.prepare_observations(table, str(p))


def infer_areas(observations: str, within: str, output: str, max_distance_km: float | None = None,
                until: str | None = None, overwrite: bool = False, country: str | None = None,
                progress=no_progress) -> str:
    """`geo-idlib areas infer`: a control timeline inferred from dated point reports.

    Reads the observations (rows with date, actor and lat + lon or a place name), infers the areas
    with :func:`geo_idlib.territory.infer.infer` inside ``within`` and writes the timeline to ``output``.
    Returns a one-line summary for stderr.
    """
    from . import crs
    from .territory import infer
    from .territory import timeline as timelines

    io.check_output(output, overwrite)
    boundary = read_boundary(within)
    obs = read_observations(observations, country)
    end = timelines.parse_date(until, "--until") if until else None
    timeline = infer.infer(obs, boundary, max_distance_km=max_distance_km, until=end, progress=progress)
    write_timeline(timeline, output, overwrite)
    periods = timeline["valid_from"].nunique()
    last = timeline["valid_from"].max()
    known = timeline[(timeline["valid_from"] == last) & (timeline["actor"] != infer.UNKNOWN_ACTOR)]
    km2 = crs.geodesic_area_km2(known)
    latest = ", ".join(f"{a} {v:,.0f} km²" for a, v in zip(known["actor"], km2, strict=True))
    return (f"wrote {output}: {len(timeline)} area row(s) over {periods} period(s) from {len(obs)} observation(s), "
            f"covering {timelines.coverage_text(timeline)}; on {last:%Y-%m-%d}: {latest}")


def _map_date(texts: list[str], timeline, date, d1, d2):
    """The map's date: --date, else --to, else the first report's dateline, else the timeline's last day.

    An explicit date outside the timeline's coverage is an error stating the covered range; a date
    found in the text that falls outside it gives a warning and the nearest covered day.
    """
    import pandas as pd

    from .places import dates
    from .territory import timeline as timelines

    if date is not None:
        return timelines.check_covered(timeline, date, "--date")
    if d2 is not None:
        return timelines.check_covered(timeline, d2, "--to")
    first, last = timelines.coverage(timeline)
    last = last if last is not None else timelines.change_dates(timeline).max()
    for text in texts:
        found = dates.find_report_date(text)
        if found is None:
            continue
        day = pd.Timestamp(found)
        if first <= day <= last:
            log.info("map date %s, from the report's dateline", day.date())
            return day
        log.warning("the report is dated %s, outside the areas' coverage (%s); showing %s",
                    day.date(), timelines.coverage_text(timeline), pd.Timestamp(last).date())
        return pd.Timestamp(last)
    return pd.Timestamp(last)


def places_on(texts: dict, timeline, day, *, country=None, online=None, progress=no_progress):
    """Places named in ``texts`` ({report name: text}) with the ``actor`` holding each on ``day``.

    Returns None when there is no text; ``actor`` is ``""`` for unresolved places and places no
    area covers; ``front_km`` is the distance to ground held by another side that day (NaN when
    none), the measure of how sure the side is (see :func:`join.front_distance_km`).
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .territory import join

    frames = []
    with progress(list(texts.items()), "places", len(texts)) as it:
        for path, text in it:
            frames.append(find_places(text, report=path, country=country, online=online))
    if not frames:
        return None
    places = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    actor = np.full(len(places), "", dtype=object)
    resolved = places.geometry.notna().to_numpy()
    if resolved.any():
        events = places[resolved].assign(date=pd.Timestamp(day).strftime("%Y-%m-%d"))
        actor[resolved] = join.asof_join(events, timeline, what="places")["actor"].to_numpy()
    places["actor"] = actor
    places["front_km"] = join.front_distance_km(places.geometry.to_numpy(), actor, timeline, day)
    return places


#: The credit of the embedded NW Syria timeline (it has no ``source`` column).
SAMPLE_CREDIT = "geo_idlib NW Syria sample, inferred from dated reports"


def map_towns(index=None):
    """Town labels for a map: a function of the view's bounds giving the gazetteer's settlements in it."""
    import pandas as pd

    from . import crs
    from .places import store

    def towns(bounds):
        w, s, e, n = bounds
        lat, lon = (s + n) / 2, (w + e) / 2
        radius = float(crs.haversine_km(lat, lon, s, w)) + 1.0
        idx = index or store.load_index()
        found = idx.nearest(lat, lon, radius_km=radius, limit=1_000_000)
        rows = [{"name": c.name, "lat": c.lat, "lon": c.lon, "population": c.population or 0}
                for c, _ in found if c.feature_code.startswith("PPL")]
        return pd.DataFrame(rows, columns=["name", "lat", "lon", "population"])

    return towns


def _areas_source(timeline, areas) -> list[str]:
    """Who the areas come from: the timeline's ``source`` column, else its file's name, else the sample."""
    from pathlib import Path

    if "source" in timeline.columns:
        found = sorted({str(v) for v in timeline["source"].dropna() if str(v).strip()})
        if found:
            return found
    if areas is None or (isinstance(areas, (str, Path)) and Path(areas).resolve() == default_timeline_path().resolve()):
        return [SAMPLE_CREDIT]
    return [Path(areas).name] if isinstance(areas, (str, Path)) and str(areas) else []


def map_report(reports=(), *, areas=None, date=None, d1=None, d2=None, offline: bool = True,
               title: str | None = None, country: str | None = None, online=None,
               progress=no_progress, subtitle: str | None = None, credit: str | None = None,
               source_name: str | None = None, excerpts: bool = True, towns: bool = True):
    """``geo-idlib map`` as a function: reports → places → as-of join → change → ``folium.Map``.

    Parameters
    ----------
    reports : list of str
        Report files (``-`` is stdin). May be empty: the map then shows the areas alone.
    areas : str or GeoDataFrame, optional
        A control timeline (file path or loaded); default the embedded NW Syria timeline.
    date : str, optional
        Date shown (YYYY-MM-DD); default ``d2``, else the report's dateline, else the timeline's
        last date.
    d1, d2 : str, optional
        Change period: gained/lost areas with km² in the legend, key figures, a before/after swipe.
    offline : bool
        True (default): Leaflet inlined, vector basemap, zero network requests.
    title, subtitle, credit : str, optional
        The map's furniture (default: built from the data shown).
    source_name : str, optional
        The name popups and panels give the report (default: its base name; never its path).
    excerpts : bool
        False: no sentence of the report goes into the map.
    towns : bool
        Label the gazetteer's towns around the places (by population and zoom).
    country, online
        Context country and online fallback for geocoding (see :func:`places`).

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; :func:`write_map` writes it as HTML, PNG, PDF, SVG, GIF or MP4.
    """
    import geopandas as gpd

    from .errors import DateError
    from .maps import document
    from .territory import change
    from .territory import timeline as timelines

    if (d1 is None) != (d2 is None):
        raise DateError("--from and --to go together; give both (or neither)")
    if isinstance(areas, gpd.GeoDataFrame):
        timeline = timelines.load_timeline(areas, "areas")
    else:
        timeline = read_timeline(areas)
    texts = {path: io.read_report(path) for path in reports}
    day = _map_date(list(texts.values()), timeline, date, d1, d2)

    places = places_on(texts, timeline, day, country=country, online=online, progress=progress)
    notice = None
    if places is not None and not (places["status"] != "unresolved").any():
        notice = "No places were found in the report; the map shows the control areas only."
        log.warning("%s: %s", ", ".join(reports), notice)
    if places is not None and source_name is not None:
        places["report"] = source_name
    change_polys = change.compare(timeline, d1, d2)[1] if d1 is not None else None
    return document.build_map(places=places, timeline=timeline, date=day, change_polys=change_polys,
                              d1=d1, d2=d2, title=title, offline=offline, notice=notice, subtitle=subtitle,
                              credit=credit, areas_source=_areas_source(timeline, areas), excerpts=excerpts,
                              towns=map_towns() if towns else None)


def _map_format(output: str) -> str:
    """The map's format from OUTPUT's suffix; :class:`OutputError` naming the choices otherwise."""
    from pathlib import Path

    from .errors import OutputError
    from .maps import static

    suffix = Path(output).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix.lstrip(".") in static.FORMATS:
        return suffix.lstrip(".")
    raise OutputError(f"{output}: unknown map format {suffix or '(none)'!r}; use -o map.html, "
                      + ", ".join(f"map.{f}" for f in static.FORMATS))


def write_map(m, output: str, overwrite: bool = False, width: int = 1200, height: int = 800, scale: float = 1,
              d1=None, d2=None, every: str | None = None) -> str:
    """Write a map from :func:`map_report`: ``.html`` (self-contained), or a static export through
    headless Chromium: ``.png``/``.pdf``/``.svg`` (the publish layout) or ``.gif``/``.mp4`` (a
    timelapse from ``d1`` to ``d2``, one frame per date or per ``every`` day, week or month)."""
    from .maps import element, static

    fmt = _map_format(output)
    if fmt == "html":
        io.write_text(output, element.to_html(m), overwrite=overwrite)
    elif fmt in static.TIMELAPSE:
        static.timelapse(m, output, d1, d2, every=every, width=width, height=height, scale=scale,
                         overwrite=overwrite)
    else:
        static.export(m, output, width=width, height=height, scale=scale, overwrite=overwrite)
    return output


def map_command(reports, output: str, *, overwrite: bool = False, width: int = 1200, height: int = 800,
                scale: float = 1, every: str | None = None, **kwargs) -> str:
    """``geo-idlib map``: check OUTPUT first (no work wasted on a bad or unwritable path), build, write."""
    from .errors import InputError
    from .maps import static

    fmt = _map_format(output)
    if fmt in static.TIMELAPSE and kwargs.get("d1") is None:
        raise InputError(f"{output}: a timelapse needs --from D1 --to D2 (its first and last frames)")
    if every is not None and fmt not in static.TIMELAPSE:
        raise InputError(f"--every {every}: only a timelapse (-o map.gif or map.mp4) has frames")
    io.check_output(output, overwrite)
    return write_map(map_report(reports, **kwargs), output, overwrite=overwrite, width=width, height=height,
                     scale=scale, d1=kwargs.get("d1"), d2=kwargs.get("d2"), every=every)
