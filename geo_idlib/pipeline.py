"""The composed flow used by the CLI and by notebooks.

Each public function here is what one CLI command does, with plain Python arguments, so that a
notebook can call the same thing: read inputs (through :mod:`geo_idlib.io`), run the stages, and
return results or write outputs atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from . import io

log = logging.getLogger("geo_idlib")


def no_progress(items, label: str = "", length: int | None = None):
    """The default progress reporter: a context manager that yields ``items`` unchanged."""
    import contextlib

    return contextlib.nullcontext(items)


def remove_stale_temps(*outputs: str | None) -> list:
    """Remove the temporary files that killed runs left behind: in the folders of ``outputs``, the
    cache dir (gazetteer index, PNG pages) and the data dir (user gazetteers). Every command calls it
    first; files of processes still running are kept (:func:`geo_idlib.io.remove_stale_temps`)."""
    from pathlib import Path

    from .places import store

    folders = [Path(o).parent for o in outputs if o and o != "-"]
    return io.remove_stale_temps(*folders, own=(io.cache_dir(), io.data_dir(), store.user_index_path().parent))


def _points_layer(frame):
    """A table with ``lat``/``lon`` columns as a point layer (EPSG:4326); rows without both get no geometry."""
    import geopandas as gpd
    import numpy as np

    from . import crs

    lat = frame["lat"].astype(float).to_numpy()
    lon = frame["lon"].astype(float).to_numpy()
    geom = crs.points_from_latlon(lat, lon)
    geom[np.isnan(lat) | np.isnan(lon)] = None
    return gpd.GeoDataFrame(frame, geometry=geom, crs=crs.WGS84)


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
# --- geocode, gazetteer add|fetch|list|remove, check_country (gazetteer/geocode area)
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


def gazetteer_index(gazetteers=None):
    """The gazetteer index of a run: the built-in data and the user gazetteers ``gazetteers`` names
    (``--gazetteer``, repeatable; ``all`` or ``none``); default: the active ones. An unknown name is
    bad input (:func:`geo_idlib.places.store.user_scope`)."""
    from .places import store

    return store.load_index(gazetteers=store.user_scope(gazetteers))


#: What `geo-idlib geocode` writes: json (default on stdout) and csv are one record per name;
#: geojson, gpkg and parquet are points.
GEOCODE_FORMATS = ("json", "csv", "geojson", "gpkg", "parquet")


def geocode(names: list[str], *, country: str | None = None, fmt: str | None = None, online=None,
            output: str | None = None, overwrite: bool = False, raw_csv: bool = False, gazetteers=None) -> str:
    """``geo-idlib geocode``: one record per name, in input order (:data:`GEOCODE_FORMATS`).

    Each record: query, name, lat, lon, place_id, country, feature_code, precision, confidence,
    status (unresolved names have null lat/lon and an empty place_id). ``online``: True for the
    default online geocoder, or an :class:`~geo_idlib.places.online.OnlineGeocoder`;
    ``gazetteers``: the user gazetteers to use (:func:`gazetteer_index`). Returns the
    text (``fmt``, default json); with ``output`` the records are written there instead (format
    from its suffix unless ``fmt``) and ``""`` is returned. Empty names are bad input.

    Examples
    --------
    >>> import json
    >>> json.loads(geocode(["Saraqeb"]))[0]["place_id"]
    'geonames:164816'
    """
    import pandas as pd

    from .errors import InputError
    from .places import resolve

    if not names:
        raise InputError("geocode: no names given; e.g. geo-idlib geocode Saraqeb 'Idlib province'")
    empty = [i for i, n in enumerate(names, start=1) if not str(n).strip()]
    if empty:
        raise InputError(f"geocode: name {empty[0]} of {len(names)} is empty; give place names, "
                         "e.g. geo-idlib geocode Saraqeb 'Idlib province'")
    kind = io.output_format(output, fmt, GEOCODE_FORMATS, "json")
    if output:
        io.check_output(output, overwrite)  # fail before any work
    cc = check_country(country)
    records = resolve.geocode_names(names, gazetteer_index(gazetteers), country=cc, online=_online_geocoder(online))
    table = pd.DataFrame(records, columns=resolve.RECORD_COLUMNS)
    if kind in ("gpkg", "parquet"):
        io.write_vector(_points_layer(table), output, overwrite, fmt=kind)
        return ""
    text = (io.dumps_json(records, indent=2) + "\n" if kind == "json" else
            io.csv_text(table, raw=raw_csv) if kind == "csv" else io.geojson_text(_points_layer(table)))
    if output:
        io.write_text(output, text, overwrite=overwrite)
        return ""
    return text


def gazetteer_add(path: str, name: str | None = None, progress=None, active: bool = True) -> dict:
    """``geo-idlib gazetteer add``: index a GeoNames dump or CSV as a user gazetteer; ``progress(rows)``
    is called after each batch of a big file; ``active=False``: used only by runs that name it."""
    from .places import store

    io.writable_folder(store.user_index_path().parent, "user gazetteers",
                       "set GEO_IDLIB_HOME to a writable folder")
    return store.add_user_gazetteer(path, name, progress=progress, active=active)


def gazetteer_fetch(code: str, name: str | None = None, *, base_url: str | None = None, timeout: float = 60.0,
                    progress=None, rows_progress=None, active: bool = True) -> dict:
    """``geo-idlib gazetteer fetch``: download GeoNames' export of ``code`` (a country code or
    allCountries) and index it as a user gazetteer (:func:`geo_idlib.places.fetch.fetch_geonames`)."""
    from .places import fetch, store

    io.writable_folder(store.user_index_path().parent, "user gazetteers",
                       "set GEO_IDLIB_HOME to a writable folder")
    return fetch.fetch_geonames(code, name, url=base_url, timeout=timeout, progress=progress,
                                rows_progress=rows_progress, active=active)


def gazetteer_list() -> list[dict]:
    """``geo-idlib gazetteer list``: the user gazetteers (name, rows, source, added, format)."""
    from .places import store

    return store.list_user_gazetteers()


def gazetteer_activate(names: list[str], active: bool = True) -> list[dict]:
    """``geo-idlib gazetteer activate|deactivate``: whether runs use these user gazetteers by default."""
    from .places import store

    return store.set_active(names, active)


def gazetteer_remove(name: str) -> dict:
    """``geo-idlib gazetteer remove``: forget a user gazetteer."""
    from .places import store

    return store.remove_user_gazetteer(name)


# --- places, find_places, iter_places (toponyms area)
#: Properties of each feature of `geo-idlib places` (GeoJSON), in this order; CSV/JSON add lat, lon.
#: ``report_date`` (YYYY-MM-DD) is the report's dateline or --date, so `geo-idlib join` can use it.
PLACE_PROPERTIES = ["report", "report_date", "mention", "start", "end", "sentence", "name", "place_id", "country",
                    "admin1", "feature_code", "precision", "confidence", "status"]
#: What `geo-idlib places` writes: geojson (default), csv and json are streamed text.
PLACES_FORMATS = ("geojson", "csv", "json", "gpkg", "parquet")
#: Characters per block when streaming a report (paragraph-aligned): bounds memory, and is the
#: context within which mentions are disambiguated against each other.
PLACES_BLOCK_CHARS = 1 << 18


def report_date(text: str, date=None) -> str | None:
    """The date of a report as ``YYYY-MM-DD``: ``date`` (--date) when given, else the date of its
    headline or dateline (:func:`geo_idlib.places.dates.find_report_date`), else None.

    >>> report_date("IDLIB, Feb. 20, 2020 - Troops entered Saraqeb."), report_date("No date.", "2020-02-21")
    ('2020-02-20', '2020-02-21')
    """
    if date is not None:
        from .territory import timeline as timelines

        return f"{timelines.parse_date(date, '--date'):%Y-%m-%d}"
    from .places import dates

    found = dates.find_report_date(text)
    return found.isoformat() if found else None


def find_places(text: str, *, report: str = "", country: str | None = None, index=None, online=None,
                date=None):
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
    date : str, optional
        The ``report_date`` of every row (YYYY-MM-DD); default the text's dateline (:func:`report_date`).

    Returns
    -------
    GeoDataFrame
        One row per mention (see DESIGN.md, "Places"), with ``report_date`` after ``report``.

    Examples
    --------
    >>> p = find_places("Syrian forces shelled Sarmin, near Idlib.")
    >>> p[["mention", "start", "status"]].values.tolist()
    [['Sarmin', 22, 'resolved'], ['Idlib', 35, 'resolved']]
    """
    from .places import mentions, resolve, store

    idx = index if index is not None else store.load_index()
    cc = check_country(country)
    day = report_date(text, date)
    rows = resolve.resolve_rows(mentions.find(text, idx), idx, country=cc, online=_online_geocoder(online))
    gdf = resolve.places_frame(rows, report)
    gdf.insert(1, "report_date", day)
    return gdf


def iter_places(reports: list[str], *, country: str | None = None, online=None, index=None,
                progress=no_progress, date=None, gazetteers=None):
    """Yield Places GeoDataFrames, one per block of each report (``-`` is stdin), streamed.

    Each report is read in paragraph-aligned blocks of about 256 K characters
    (:data:`PLACES_BLOCK_CHARS`, :func:`io.iter_report_blocks`; a report that is one long line in
    overlapping blocks cut at sentence ends, each mention kept once: :func:`io.owned_blocks`), so a
    50 MB text is processed in bounded memory; offsets are those of the whole report. Mentions are
    disambiguated against the other mentions of their block. ``report_date`` is ``date`` when
    given, else each report's dateline (found in its first block). ``index``: default
    :func:`gazetteer_index` of ``gazetteers``.
    """
    from .places import resolve

    for path, day, rows in iter_place_rows(reports, country=country, online=online, index=index,
                                           progress=progress, date=date, gazetteers=gazetteers):
        gdf = resolve.places_frame(rows, path)
        gdf.insert(1, "report_date", day)
        yield gdf


def iter_place_rows(reports: list[str], *, country: str | None = None, online=None, index=None,
                    progress=no_progress, date=None, gazetteers=None):
    """What :func:`iter_places` yields, as ``(report, report_date, [Place])`` per block, without
    tables (:class:`geo_idlib.places.resolve.Place` rows): the fast path of the text formats."""
    from .errors import InputError
    from .places import mentions, resolve

    if not reports:
        raise InputError("places: no report given; e.g. geo-idlib places report.txt (or - for stdin)")
    fixed = report_date("", date) if date is not None else None  # a bad --date fails before any work
    idx = index if index is not None else gazetteer_index(gazetteers)
    cc = check_country(country)
    geocoder = _online_geocoder(online)
    with progress(list(reports), "places", len(reports)) as it:
        for path in it:
            day = fixed
            blocks = io.owned_blocks(io.iter_report_blocks(path, block_chars=PLACES_BLOCK_CHARS))
            for offset, block, own_start, own_end in blocks:
                if offset == 0 and fixed is None:
                    day = report_date(block)
                found = mentions.find(block, idx, offset=offset)
                if own_start > offset or own_end < offset + len(block):  # a long line cut: blocks overlap
                    found = [m for m in found if own_start <= m.start < own_end]
                yield path, day, resolve.resolve_rows(found, idx, country=cc, online=geocoder)


def _place_records(report: str, day: str | None, rows) -> list[tuple]:
    """Rows as tuples of :data:`PLACE_PROPERTIES` + lat, lon (NaN → None)."""
    return [(report, day, r.mention, r.start, r.end, r.sentence, r.name, r.place_id, r.country, r.admin1,
             r.feature_code, r.precision, round(r.confidence, 4), r.status,
             None if r.lat != r.lat else r.lat, None if r.lon != r.lon else r.lon) for r in rows]


#: Rows the text formats gather before formatting them at once (bounds memory, amortises the work
#: over many short reports).
_TEXT_BATCH_ROWS = 4096


def places(reports: list[str], *, country: str | None = None, fmt: str | None = None, online=False,
           progress=no_progress, date=None, raw_csv: bool = False, gazetteers=None) -> str:
    """``geo-idlib places``: every place the REPORTS name, as geojson (default) | csv | json text.

    GeoJSON: a FeatureCollection with one Point feature per mention (geometry null when
    unresolved) whose properties are exactly :data:`PLACE_PROPERTIES`. CSV and JSON: one record per
    mention with those fields plus ``lat`` and ``lon``; CSV cells that would start a spreadsheet
    formula get a leading ``'`` unless ``raw_csv`` (:func:`geo_idlib.io.spreadsheet_safe`). Output is
    deterministic (sorted keys, 6 decimals). Reports are read as UTF-8, or UTF-16/32 with a
    byte-order mark (``-`` is stdin); empty, binary or undecodable input raises
    :class:`~geo_idlib.errors.InputError` before anything is written. ``date`` sets every
    ``report_date`` (default: each report's dateline). ``gazetteers``: the user gazetteers to use
    (:func:`gazetteer_index`).

    Examples
    --------
    >>> import json, os, tempfile
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "r.txt")
    >>> with open(f, "w", encoding="utf-8") as fh:
    ...     _ = fh.write("Troops entered Saraqeb.")
    >>> fc = json.loads(places([f], date="2020-02-20"))
    >>> [(x["properties"]["mention"], x["properties"]["place_id"], x["properties"]["report_date"])
    ...  for x in fc["features"]]
    [('Saraqeb', 'geonames:164816', '2020-02-20')]
    """
    kind = io.output_format(None, fmt, PLACES_FORMATS, "geojson")
    return "".join(iter_places_text(reports, country=country, fmt=kind, online=online, progress=progress,
                                    date=date, raw_csv=raw_csv, gazetteers=gazetteers))


def iter_places_text(reports: list[str], *, country: str | None = None, fmt: str = "geojson", online=False,
                     progress=no_progress, date=None, raw_csv: bool = False, gazetteers=None):
    """The text of :func:`places`, in chunks, block by block: memory stays bounded by a block.

    ``"".join(iter_places_text(...)) == places(...)``. Used by :func:`write_places` to stream a
    large report's places into a file.
    """
    from .errors import InputError

    if fmt not in ("geojson", "csv", "json"):
        raise InputError(f"--format {fmt}: not a text format; use geojson, csv or json")
    columns = PLACE_PROPERTIES + ["lat", "lon"]
    first = True
    if fmt == "csv":
        yield io.csv_rows([], columns, raw=raw_csv)
    for batch in _batches(iter_place_rows(reports, country=country, online=online, progress=progress, date=date,
                                          gazetteers=gazetteers)):
        if fmt == "csv":
            yield io.csv_rows(batch, raw=raw_csv)
            continue
        records = [dict(zip(columns, r, strict=True)) for r in batch]
        if fmt == "geojson":
            # the layout io.dumps_json gives the whole FeatureCollection: sorted keys, no spaces
            parts = [io.dumps_json({"type": "Feature", "properties": {k: r[k] for k in PLACE_PROPERTIES},
                                    "geometry": None if r["lat"] is None else
                                    {"type": "Point", "coordinates": [r["lon"], r["lat"]]}}) for r in records]
            yield ('{"features":[' if first else ",") + ",".join(parts)
        else:
            parts = ["  " + io.dumps_json(r, indent=2).replace("\n", "\n  ") for r in records]
            yield ("[\n" if first else ",\n") + ",\n".join(parts)
        first = False
    if fmt == "geojson":
        yield ('{"features":[' if first else "") + '],"type":"FeatureCollection"}\n'
    elif fmt == "json":
        yield "[]\n" if first else "\n]\n"


def _batches(blocks) -> Iterator[list[tuple]]:
    """The records of :func:`iter_place_rows`' blocks in batches of about :data:`_TEXT_BATCH_ROWS`
    (never empty)."""
    batch: list[tuple] = []
    for path, day, rows in blocks:
        batch += _place_records(path, day, rows)
        if len(batch) >= _TEXT_BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def write_places(reports: list[str], output: str, *, overwrite: bool = False, country: str | None = None,
                 fmt: str | None = None, online=False, progress=no_progress, date=None,
                 raw_csv: bool = False, gazetteers=None) -> None:
    """``geo-idlib places -o OUTPUT``: the places written atomically, as ``fmt`` or by OUTPUT's suffix.

    geojson, csv and json are streamed block by block (bounded memory); gpkg and parquet
    (GeoParquet) hold every row of :data:`PLACE_PROPERTIES` with its point.
    """
    import geopandas as gpd
    import pandas as pd

    kind = io.output_format(output, fmt, PLACES_FORMATS, "geojson")
    io.check_output(output, overwrite)
    if kind in ("geojson", "csv", "json"):
        io.write_text_chunks(output, iter_places_text(reports, country=country, fmt=kind, online=online,
                                                      progress=progress, date=date, raw_csv=raw_csv,
                                                      gazetteers=gazetteers),
                             overwrite=overwrite)
        return
    frames = [g[PLACE_PROPERTIES + ["geometry"]] for g in iter_places(reports, country=country, online=online,
                                                                       progress=progress, date=date,
                                                                       gazetteers=gazetteers)]
    layer = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    io.write_vector(layer, output, overwrite, fmt=kind)


# ============================================================================ areas / join / change
#: The embedded NW Syria timeline (inferred from the sample observations), the default --areas.
NW_SYRIA_TIMELINE = "nw_syria_timeline.gpkg"
#: What the commands that write a layer (join, areas, change polygons) write: by -o's suffix or --format.
LAYER_FORMATS = io.VECTOR_FORMATS
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
    layers = io.layer_names(p)
    band = FRONT_BAND_LAYER in layers
    layer = {"layer": next(x for x in layers if x != FRONT_BAND_LAYER)} if band else {}
    gdf = io.read_vector(p, "timeline", datetime_as_string=True, **layer)
    timeline = timelines.load_timeline(gdf, str(p), geojson=p.suffix.lower() in _GEOJSON_SUFFIXES)
    if band:
        timeline.attrs["front_band"] = _read_band(p)
    return timeline


#: The layer of a timeline GeoPackage that holds the front band of an inferred timeline
#: (:func:`geo_idlib.territory.infer.infer`, ``attrs["front_band"]``).
FRONT_BAND_LAYER = "front_band"


def _read_band(p):
    """The front band layer, dates as datetime64."""
    import pandas as pd

    band = io.read_vector(p, "timeline", layer=FRONT_BAND_LAYER, datetime_as_string=True)
    for col in ("valid_from", "valid_to"):
        band[col] = pd.to_datetime(band[col]).astype("datetime64[ns]")
    return band


def _storable(gdf):
    """Dates as ``YYYY-MM-DD`` text (empty valid_to → null) for writing to any format."""
    from .territory import timeline as timelines

    return timelines.dates_as_text(gdf)


def write_timeline(timeline, output: str, overwrite: bool = False, *, fmt: str | None = None,
                   raw_csv: bool = False) -> None:
    """Atomically write a timeline (or snapshot) as ``fmt``, by default by the suffix
    (:data:`geo_idlib.io.VECTOR_FORMATS`; CSV: geometry as WKT). An inferred timeline's front band
    (``attrs["front_band"]``) goes into a GeoPackage as a second layer, :data:`FRONT_BAND_LAYER`
    (other formats hold one layer: the band is left out, and change falls back to the band's area
    on either date)."""
    from pathlib import Path

    band = timeline.attrs.get("front_band")
    kind = fmt or io.output_format(output, None, io.VECTOR_FORMATS, "geojson")
    if band is not None and kind == "gpkg":
        io.write_layers({Path(output).stem: _storable(timeline), FRONT_BAND_LAYER: _storable(band)}, output, overwrite)
        return
    io.write_vector(_storable(timeline), output, overwrite, fmt=fmt, raw_csv=raw_csv)


def areas_build(files, output: str, actor: str | None = None, overwrite: bool = False,
                progress=no_progress, *, fmt: str | None = None, raw_csv: bool = False):
    """`geo-idlib areas build`: a compact timeline from per-date files whose names carry the date.

    Writes the timeline to ``output`` and returns a one-line summary for stderr.
    """
    from pathlib import Path

    from .errors import DateError, InputError
    from .territory import timeline as timelines

    kind = io.output_format(output, fmt, io.VECTOR_FORMATS, "gpkg")
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
    write_timeline(timeline, output, overwrite, fmt=kind, raw_csv=raw_csv)
    return (f"wrote {output}: {len(timeline)} area row(s) from {len(dated)} file(s), "
            f"covering {timelines.coverage_text(timeline)}")


def areas_at(timeline: str | None, date: str, output: str | None = None, overwrite: bool = False, *,
             fmt: str | None = None, raw_csv: bool = False):
    """`geo-idlib areas at`: the areas valid on ``date``; text (GeoJSON unless ``fmt``) when no ``output``."""
    from .territory import timeline as timelines

    kind = io.output_format(output, fmt, io.VECTOR_FORMATS, "geojson")
    if output:
        io.check_output(output, overwrite)
    snap = timelines.snapshot(read_timeline(timeline), date)
    if output:
        write_timeline(snap, output, overwrite, fmt=kind, raw_csv=raw_csv)
        return None
    return io.csv_text(_storable(snap), raw=raw_csv) if kind == "csv" else io.geojson_text(_storable(snap))


_ONE_DATE = "__geo_idlib_join_date__"


def join_events(events: str, areas: str | None = None, date_column: str | None = None,
                lat_column: str | None = None, lon_column: str | None = None, output: str | None = None,
                overwrite: bool = False, predicate: str = "intersects", *, date=None, fmt: str | None = None,
                raw_csv: bool = False):
    """`geo-idlib join`: the events file with ``actor`` and ``valid_from`` added.

    CSV events need latitude/longitude columns (default ``lat``/``lon``); GeoJSON/GeoPackage events
    use their geometry unless --lat-column/--lon-column are given. The dates come from
    ``date_column``, else the first of :data:`geo_idlib.territory.join.DATE_COLUMNS` the events have; ``date`` gives
    every row that one date instead. Returns the output text when no ``output`` (``fmt``, default
    CSV for CSV input, GeoJSON otherwise); with ``output``, writes it (format from its suffix unless
    ``fmt``) and returns None.
    """
    from pathlib import Path

    from . import crs
    from .territory import join

    p = Path(events)
    is_csv = p.suffix.lower() in (".csv", ".tsv", ".txt")
    kind = io.output_format(output, fmt, io.VECTOR_FORMATS, "csv" if is_csv else "geojson")
    if output:
        io.check_output(output, overwrite)
    fixed = report_date("", date) if date is not None else None
    df = io.read_table(p, "events table") if is_csv else io.read_vector(p, "events layer", datetime_as_string=True)
    ev = join.events_layer(df, str(p), lat_column=lat_column, lon_column=lon_column)
    columns = [c for c in ev.columns if c != ev.geometry.name]
    column = _ONE_DATE if fixed is not None else join.date_column_of(columns, date_column, str(p))
    if fixed is not None:
        ev = ev.assign(**{column: fixed})
    timeline = read_timeline(areas)
    out = join.asof_join(ev, timeline, date_column=column, predicate=predicate, what=str(p))
    out = _storable(crs.to_wgs84(out.drop(columns=[_ONE_DATE], errors="ignore"), str(p)))  # written in EPSG:4326
    # CSV: the input's columns (+ WKT geometry when the input had geometries) plus actor, valid_from
    table = out.drop(columns=out.geometry.name) if is_csv else out
    if kind in ("gpkg", "parquet", "fgb"):
        io.write_vector(out, output, overwrite, fmt=kind)
        return None
    text = io.csv_text(table, raw=raw_csv) if kind == "csv" else io.geojson_text(out)
    if output:
        io.write_text(output, text, overwrite=overwrite)
        return None
    return text


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
                  progress=no_progress, *, raw_csv: bool = False) -> str:
    """`geo-idlib change`: km² gained and lost per actor between two dates (or per period).

    Returns the text for stdout (``fmt``: a table, CSV or JSON). Without ``every``, ``output``
    receives the change polygons (``actor_from, actor_to, area_km2``; format from its suffix,
    :data:`geo_idlib.io.VECTOR_FORMATS`); with ``every``, the series itself (CSV or JSON: ``fmt``
    when it is one of them, else the suffix) and nothing is returned.
    """
    from .errors import DateError
    from .territory import change
    from .territory import timeline as timelines

    t1, t2 = timelines.parse_date(d1, "--from"), timelines.parse_date(d2, "--to")
    if t1 > t2:
        raise DateError(f"--from {t1:%Y-%m-%d} is later than --to {t2:%Y-%m-%d}; give the earlier date to --from")
    if output:
        kind = (io.output_format(output, fmt if fmt in ("csv", "json") else None, ("csv", "json"), "csv") if every
                else io.output_format(output, None, io.VECTOR_FORMATS, "geojson"))
        io.check_output(output, overwrite)
    timeline = read_timeline(areas)
    if every:
        rows = _round_rows(change.series(timeline, change.periods(t1, t2, every), progress=progress))
        cols = (["from", "to"] + _CHANGE_COLUMNS + ["slivers_dropped"]
                + (["uncertain_km2"] if any("uncertain_km2" in r for r in rows) else []))
        kind = kind if output else fmt
        text = (io.dumps_json({"every": every, "rows": rows}, indent=1) + "\n" if kind == "json"
                else io.csv_text(_rows_frame(rows, cols), raw=raw_csv) if kind == "csv" else _table(rows, cols))
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
        io.write_vector(polygons, output, overwrite, fmt=kind, raw_csv=raw_csv)
    if fmt == "json":
        return io.dumps_json(doc, indent=1) + "\n"
    cols = _CHANGE_COLUMNS + (["uncertain_km2"] if any("uncertain_km2" in r for r in summary) else [])
    if fmt == "csv":
        return io.csv_text(_rows_frame(summary, cols), raw=raw_csv)
    if "uncertain_km2" in cols:  # the figure with its range: net ± uncertain
        summary = [{**r, "net_low_km2": round(r["net_km2"] - r.get("uncertain_km2", 0.0), 3),
                    "net_high_km2": round(r["net_km2"] + r.get("uncertain_km2", 0.0), 3)} for r in summary]
        cols = cols + ["net_low_km2", "net_high_km2"]
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


def read_observations(path: str, country: str | None = None, gazetteers=None):
    """Observations (CSV, GeoJSON or GeoPackage: date, actor, lat + lon or place) as a point layer.

    Rows with a ``place`` but no lat/lon are geocoded through the gazetteer (exact names;
    ``country`` restricts the candidates; ``gazetteers``: the user gazetteers, :func:`gazetteer_index`). See :func:`geo_idlib.territory.infer.observation_table`
    and :func:`geo_idlib.territory.infer.prepare_observations`.

    Examples
    --------
    >>> obs = read_observations(str(io.shapefiles_dir() / "nw_syria_observations.csv"))
    >>> obs.columns.tolist()
    ['id', 'date', 'actor', 'place', 'source', 'note', 'derived', 'geometry']
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
        table = resolve.geocode_observation_places(table, str(p), country, index=gazetteer_index(gazetteers))
    return infer.prepare_observations(table, str(p))


def infer_areas(observations: str, within: str, output: str, max_distance_km: float | None = None,
                until: str | None = None, overwrite: bool = False, country: str | None = None,
                progress=no_progress, *, fmt: str | None = None, raw_csv: bool = False, gazetteers=None) -> str:
    """`geo-idlib areas infer`: a control timeline inferred from dated point reports.

    Reads the observations (rows with date, actor and lat + lon or a place name), infers the areas
    with :func:`geo_idlib.territory.infer.infer` inside ``within`` and writes the timeline to ``output``.
    Returns a one-line summary for stderr.
    """
    from . import crs
    from .territory import infer
    from .territory import timeline as timelines

    kind = io.output_format(output, fmt, io.VECTOR_FORMATS, "gpkg")
    io.check_output(output, overwrite)
    boundary = read_boundary(within)
    obs = read_observations(observations, country, gazetteers)
    end = timelines.parse_date(until, "--until") if until else None
    timeline = infer.infer(obs, boundary, max_distance_km=max_distance_km, until=end, progress=progress)
    write_timeline(timeline, output, overwrite, fmt=kind, raw_csv=raw_csv)
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


def places_on(texts: dict, timeline, day, *, country=None, online=None, progress=no_progress, index=None):
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
            frames.append(find_places(text, report=path, country=country, online=online, index=index))
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


def map_report(reports=(), *, areas=None, date=None, d1=None, d2=None, offline: bool = True,
               title: str | None = None, country: str | None = None, online=None,
               progress=no_progress, gazetteers=None):
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
        Change period: gained/lost areas with km² in the legend, and a before/after swipe.
    offline : bool
        True (default): Leaflet inlined, vector basemap, zero network requests.
    title, country, online, gazetteers
        Map title; context country, online fallback and user gazetteers for geocoding (see
        :func:`places`).

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; :func:`write_map` writes it as HTML or PNG.
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
    index = gazetteer_index(gazetteers) if reports else None
    texts = {path: io.read_report(path) for path in reports}
    day = _map_date(list(texts.values()), timeline, date, d1, d2)

    places = places_on(texts, timeline, day, country=country, online=online, progress=progress, index=index)
    notice = None
    if places is not None and not (places["status"] != "unresolved").any():
        notice = "No places were found in the report; the map shows the control areas only."
        log.warning("%s: %s", ", ".join(reports), notice)
    change_polys = change.compare(timeline, d1, d2)[1] if d1 is not None else None
    return document.build_map(places=places, timeline=timeline, date=day, change_polys=change_polys,
                            d1=d1, d2=d2, title=title, offline=offline, notice=notice)


#: What `geo-idlib map` writes: a self-contained page, or its picture (headless Chromium).
MAP_FORMATS = ("html", "png")


def write_map(m, output: str, overwrite: bool = False, width: int = 1200, height: int = 800, *,
              fmt: str | None = None) -> str:
    """Write a map from :func:`map_report` as ``html`` (self-contained) or ``png`` (headless
    Chromium): ``fmt``, by default OUTPUT's suffix (``.html``, ``.htm``, ``.png``)."""
    from .maps import element, static

    if io.output_format(output, fmt, MAP_FORMATS, "html") == "html":
        io.write_text(output, element.to_html(m), overwrite=overwrite)
    else:
        static.to_png(m, output, width=width, height=height, overwrite=overwrite)
    return output


def map_command(reports, output: str, *, overwrite: bool = False, width: int = 1200, height: int = 800,
                fmt: str | None = None, **kwargs) -> str:
    """``geo-idlib map``: check OUTPUT first (no work wasted on a bad or unwritable path), build, write."""
    io.output_format(output, fmt, MAP_FORMATS, "html")
    io.check_output(output, overwrite)
    return write_map(map_report(reports, **kwargs), output, overwrite=overwrite, width=width, height=height,
                     fmt=fmt)


# ============================================================================ scale (partitioned datasets)
# `places` and `join` with -o DIR/: partitioned GeoParquet (io.dataset_output), on this process or Dask
#: Documents of a `places` partition (report files, or records of a JSON Lines / Parquet file).
PLACES_PIECE_DOCS = 100
#: Bytes of a JSON Lines piece of documents.
PLACES_PIECE_BYTES = 1 << 18


def engine_for(workers: int | None = None, scheduler: str | None = None):
    """The engine the flags ask for: none → this process (no Dask); ``workers`` → a local Dask
    cluster of that many processes; ``scheduler`` → the running Dask cluster at that address."""
    from .errors import InputError
    from .scale import engine

    if workers is not None and scheduler:
        raise InputError("--workers and --scheduler: give one of them (a local cluster of N processes, "
                         "or the address of a running scheduler)")
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: give a number of worker processes of 1 or more")
    if workers is None and not scheduler:
        return engine.Engine()
    from .scale import cluster

    return cluster.DaskEngine(workers=workers, scheduler=scheduler)


def _dataset_output(output: str | None, command: str) -> str:
    from .errors import InputError

    if not output:
        raise InputError(f"{command}: give the directory to write the partitions to, e.g. -o out/")
    return output


def _document_date(value, what: str) -> str | None:
    """A document's own ``date`` field as ``YYYY-MM-DD``; None when it has none."""
    from .territory import timeline as timelines

    if value is None or value != value or not str(value).strip():  # None, NaN, ""
        return None
    return f"{timelines.parse_date(value, what):%Y-%m-%d}"


def places_partition(piece, path: str, key: str, country: str | None, date: str | None) -> tuple[int, int]:
    """One partition of ``places -o DIR/``: the places of the documents of ``piece``, written
    atomically to ``path`` with the columns of ``places -o FILE.parquet`` (:data:`PLACE_PROPERTIES`
    and the point). ``report_date`` is ``date`` (--date) when given, else the document's own
    ``date`` field, else its dateline (:func:`report_date`). Returns (documents, rows)."""
    import geopandas as gpd
    import pandas as pd

    from . import crs
    from .scale import engine

    idx = engine.shared(key)
    docs = io.read_documents(piece)
    columns = PLACE_PROPERTIES + ["geometry"]
    frames = [find_places(text, report=doc_id, country=country, index=idx,
                          date=date or _document_date(day, f"{piece.name}: document {doc_id!r}: date"))[columns]
              for doc_id, text, day in docs.itertuples(index=False)]
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True) if frames else find_places("", index=idx)[columns],
                           geometry="geometry", crs=crs.WGS84)
    io.write_partition(gdf, path)
    return len(docs), len(gdf)


def places_dataset(reports: list[str], output: str | None, *, country: str | None = None, date=None,
                   workers: int | None = None, scheduler: str | None = None, overwrite: bool = False,
                   resume: bool = False, skip_bad: bool = False, progress=no_progress,
                   piece_docs: int = PLACES_PIECE_DOCS, gazetteers=None) -> str:
    """``geo-idlib places -o DIR/``: the places of every document, as partitioned GeoParquet.

    REPORTS are report files, directories of them, globs, or JSON Lines / Parquet files of
    documents (``id``, ``text``, optional ``date``). Each partition holds the places of about
    ``piece_docs`` documents (:func:`places_partition`); the partitions are published together
    when the run ends, and ``resume`` skips those a stopped run finished. ``gazetteers``: the user
    gazetteers to use (:func:`gazetteer_index`), the same in every worker. Returns a one-line summary.
    """
    import functools

    from .places import store
    from .scale import engine as engines

    out = _dataset_output(output, "places")
    fixed = report_date("", date) if date is not None else None  # a bad --date fails before any work
    cc = check_country(country)
    pieces = io.document_pieces(reports, piece_docs=piece_docs, piece_bytes=PLACES_PIECE_BYTES)
    scope = store.user_scope(gazetteers)
    store.load_index(gazetteers=scope)  # built here once, before any worker needs it
    print_ = engines.fingerprint(command="places", pieces=[p.name for p in pieces], country=cc, date=fixed,
                                 gazetteers=scope)
    done = engines.open_output(out, print_, overwrite=overwrite, resume=resume)
    names = [f"part-{i:06d}.parquet" for i in range(len(pieces))]
    key = f"index-{print_}"
    tasks = [(p.name, (p, engines.part_path(out, n), key, cc, fixed))
             for p, n in zip(pieces, names, strict=True) if n not in done]
    sizes, skipped, ndocs = {}, [], 0
    with engine_for(workers, scheduler) as eng:
        eng.share(key, load=functools.partial(store.load_index, gazetteers=scope))
        number = {p.name: n for p, n in zip(pieces, names, strict=True)}
        with progress(eng.run(places_partition, tasks, skip_bad=skip_bad), "places: partitions", len(tasks)) as it:
            for outcome in it:
                if outcome.error:
                    skipped.append(outcome.name)
                else:
                    ndocs += outcome.result[0]
                    sizes[number[outcome.name]] = outcome.result[1]
        eng.forget(key)
        where = eng.description
    sizes |= {n: engines.partition_rows(out, n) for n in done}
    manifest = engines.finish_output(out, print_, sizes, skipped, command="places", engine=where)
    return (f"wrote {out}: {len(sizes)} partition(s), {manifest['rows']:,} place mention(s) from {ndocs:,} "
            f"document(s) on {where}" + (f"; {len(done)} partition(s) kept from the earlier run" if done else "")
            + (f"; skipped {len(skipped)} bad piece(s): {', '.join(skipped)}" if skipped else ""))


def join_dataset(events: list[str], output: str | None, *, areas: str | None = None, date_column: str | None = None,
                 date=None, lat_column: str | None = None, lon_column: str | None = None,
                 predicate: str = "intersects", workers: int | None = None, scheduler: str | None = None,
                 overwrite: bool = False, resume: bool = False, skip_bad: bool = False, progress=no_progress,
                 rows: int | None = None) -> str:
    """``geo-idlib join -o DIR/``: the as-of join of an events dataset of any size.

    EVENTS are CSV files, GDAL layers (GeoPackage...) or GeoParquet (files, a directory of
    partitions, a glob). The dates come from the column :func:`join_events` would take, or are
    ``date`` for every event. The output is partitioned GeoParquet: each partition holds the events
    of a few snapshot intervals in a compact area, in input order, with ``actor`` and
    ``valid_from`` (see :mod:`geo_idlib.scale.join`). Returns a one-line summary.
    """
    from .scale import join as scale_join

    out = _dataset_output(output, "join")
    fixed = report_date("", date) if date is not None else None  # a bad --date fails before any work
    rows = rows or scale_join.PARTITION_ROWS
    pieces = io.event_pieces(events, piece_rows=scale_join.PIECE_ROWS, piece_bytes=scale_join.PIECE_BYTES)
    timeline = read_timeline(areas)
    with engine_for(workers, scheduler) as eng:
        m = scale_join.join_dataset(pieces, timeline, out, engine=eng, date_column=date_column, date=fixed,
                                    lat_column=lat_column, lon_column=lon_column, predicate=predicate, rows=rows,
                                    overwrite=overwrite, resume=resume, skip_bad=skip_bad, progress=progress)
    for n, what in ((m["undated"], "have no date"), (m["before_timeline"], "are dated before the timeline")):
        if n:
            log.warning("%s: %d event(s) %s; they get no actor", ", ".join(events), n, what)
    return (f"wrote {out}: {len(m['partitions'])} partition(s), {m['rows']:,} event(s)"
            + (f", {m['matched']:,} in a control area" if m["matched"] is not None else "")
            + f" on {m['engine']}" + (f"; {m['resumed']} partition(s) kept from the earlier run" if m["resumed"] else "")
            + (f"; skipped {len(m['skipped'])} bad piece(s): {', '.join(m['skipped'])}" if m["skipped"] else ""))
