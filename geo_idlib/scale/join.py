"""The as-of join of an events dataset of any size, partition by partition, on any engine.

Two passes, each a set of independent tasks (:mod:`geo_idlib.scale.engine`):

1. **split**: each input piece (a row range of a GeoParquet file, a byte range of a CSV, a feature
   range of a GeoPackage) is read, its events keyed by date then space (:func:`plan.event_keys`:
   the snapshot interval of their date, their Hilbert cell over the timeline's extent) and written,
   sorted by key, to one staging file ``_staging/piece-NNNNNN.parquet``. The task returns how many
   events each key holds.
2. **join**: the client cuts the keys into output partitions of about ``rows`` events
   (:func:`plan.cut_partitions`); each task reads its key range from the staging files (row groups
   are skipped by their key statistics), runs :func:`geo_idlib.territory.join.asof_join` on the
   timeline its worker holds, puts the rows back in input order and writes one GeoParquet file.

The timeline reaches each worker once (:meth:`Engine.share`); its areas are prepared
(:func:`shapely.prepare`) by the first task that tests points against them and stay prepared for the
worker's later tasks. Every file is written atomically, so a run can stop anywhere and resume.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import crs, io
from ..errors import InputError
from ..territory import join
from ..territory import timeline as timelines
from . import plan
from .engine import Engine, fingerprint, finish_output, open_output, part_path, shared

log = logging.getLogger("geo_idlib")

#: Rows of an input piece (GeoParquet, GeoPackage).
PIECE_ROWS = 1_000_000
#: Rows of an output partition (about 25 MB of GeoParquet for points with a few columns).
PARTITION_ROWS = 250_000
#: Bytes of a CSV input piece (about a million short rows).
PIECE_BYTES = 64 << 20


@contextlib.contextmanager
def _quiet():
    """Per-partition log lines of asof_join are summed up by the client instead."""
    logger = logging.getLogger("geo_idlib")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _context(timeline) -> dict:
    return {"timeline": timeline, "dates": timelines.change_dates(timeline),
            "bounds": tuple(float(b) for b in timeline.total_bounds)}


def _staging_path(out_dir: str, i: int) -> Path:
    return Path(out_dir) / io.STAGING_NAME / f"piece-{i:06d}.arrow"


#: The staging columns: the events' WKB (EPSG:4326), day (parsed once, in pass 1), key and row.
_WKB, _DAY, _KEY, _ROW = "_wkb", "_day", "_key", "_row"


@dataclass
class _Events:
    """An input piece's events as pass 1 stages them: the attributes (Arrow), the geometries as WKB
    in EPSG:4326 (named ``name``, at ``position`` among the columns), their coordinates (centres
    of their bounds; NaN when missing) and their days."""

    table: object
    name: str
    position: int
    wkb: object
    x: np.ndarray
    y: np.ndarray
    days: np.ndarray


def _days(values, what: str, column: str) -> np.ndarray:
    """:func:`geo_idlib.territory.timeline.parse_dates` of an Arrow column of dates, parsing each
    distinct text once (a million events have a few hundred days)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return timelines.parse_dates(values.to_numpy(zero_copy_only=False), what, column, allow_missing=True)
    enc = pc.dictionary_encode(values).combine_chunks()
    try:
        distinct = timelines.parse_dates(enc.dictionary.to_numpy(zero_copy_only=False), what, column,
                                         allow_missing=True)
    except InputError:  # say which row, as for the whole column
        return timelines.parse_dates(values.to_numpy(zero_copy_only=False), what, column, allow_missing=True)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return np.append(distinct, np.datetime64("NaT", "ns"))[codes]


def _checked_days(frame, columns: list[str], n: int, ctx: dict, options: dict, what: str, parse) -> np.ndarray:
    """The day of each of the ``n`` events (datetime64[ns], NaT when undated): --date for all of
    them, else ``parse(column)`` of the date column :func:`geo_idlib.pipeline.join_events` would
    take, checked as it checks it (``frame``: the events' layer, or none of its rows)."""
    if options["date"] is not None:
        crs.require_crs(frame, what)
        return np.full(n, np.datetime64(options["date"], "ns"))
    column = join.date_column_of(columns, options["date_column"], what)
    join.asof_join(frame.iloc[:0], ctx["timeline"], date_column=column, what=what)  # its checks, on no rows
    return parse(column)


def _geoparquet_events(piece: io.Piece, ctx: dict, options: dict) -> _Events | None:
    """The events of a GeoParquet piece in EPSG:4326, straight from Arrow: no geometry is built
    for points (their WKB is kept as it is and its coordinates read as numbers). None when the
    piece is another kind, in another CRS, or read through latitude/longitude columns."""
    import geopandas as gpd
    import pyproj
    import shapely

    if piece.kind != "parquet" or options["lat_column"] or options["lon_column"]:
        return None
    table, geo = io.read_piece_arrow(piece)
    spec = (geo or {}).get("columns", {}).get((geo or {}).get("primary_column"), {})
    if str(spec.get("encoding", "")).upper() != "WKB" or spec.get("crs") is None \
            or pyproj.CRS.from_user_input(spec["crs"]).to_epsg() != 4326:
        return None
    name = geo["primary_column"]
    position = table.column_names.index(name)
    wkb = table.column(name).combine_chunks()
    attrs = table.drop_columns([name])
    xy = io.wkb_points_xy(wkb)
    if xy is None:  # other geometries: the centres of their bounds, as geopandas' curve takes them
        b = shapely.bounds(shapely.from_wkb(wkb.to_numpy(zero_copy_only=False)))
        xy = ((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    frame = gpd.GeoDataFrame(attrs.slice(0, 0).to_pandas(), geometry=gpd.GeoSeries([], crs=crs.WGS84, name=name))
    days = _checked_days(frame, attrs.column_names, len(attrs), ctx, options, piece.name,
                         lambda c: _days(attrs.column(c), piece.name, c))
    return _Events(attrs, name, position, wkb, xy[0], xy[1], days)


def _layer_events(piece: io.Piece, ctx: dict, options: dict) -> _Events:
    """The events of any piece (CSV, GDAL layers, plain Parquet, another CRS) through a GeoDataFrame."""
    import pyarrow as pa
    import shapely

    ev = join.events_layer(io.read_piece(piece), piece.name, lat_column=options["lat_column"],
                           lon_column=options["lon_column"])
    name = ev.geometry.name
    columns = [c for c in ev.columns if c != name]
    days = _checked_days(ev, columns, len(ev), ctx, options, piece.name,
                         lambda c: timelines.parse_dates(ev[c].to_numpy(), piece.name, c, allow_missing=True))
    ev = crs.to_wgs84(ev, piece.name)
    geoms = ev.geometry.to_numpy()
    b = shapely.bounds(geoms)
    attrs = pa.Table.from_pandas(pd.DataFrame(ev[columns]), preserve_index=False)
    wkb = pa.array(shapely.to_wkb(geoms), type=pa.binary())
    return _Events(attrs, name, list(ev.columns).index(name), wkb, (b[:, 0] + b[:, 2]) / 2,
                   (b[:, 1] + b[:, 3]) / 2, days)


def split_piece(i: int, piece: io.Piece, out_dir: str, key: str, options: dict) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1 for input piece ``i``: write its events sorted by key to the staging area; return
    its keys and their events (two arrays). A piece already staged (a resumed run) is only counted."""
    import pyarrow as pa

    path = _staging_path(out_dir, i)
    if path.exists():
        keys = io.read_staging(path)[0].column(_KEY).to_numpy()
    else:
        ctx = shared(key)
        ev = _geoparquet_events(piece, ctx, options) or _layer_events(piece, ctx, options)
        interval = np.searchsorted(ctx["dates"], ev.days, side="right") - 1
        keys = plan.event_keys(ev.x, ev.y, interval, len(ctx["dates"]), ctx["bounds"])
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        take = pa.array(order)
        staged = ev.table.take(take)
        for col, values in ((_WKB, ev.wkb.take(take)), (_DAY, pa.array(ev.days[order])), (_KEY, pa.array(keys)),
                            (_ROW, pa.array((np.int64(i) << plan.PIECE_SHIFT) + order.astype(np.int64)))):
            staged = staged.append_column(col, values)
        io.write_staging(staged, path, about={"geometry": ev.name, "position": ev.position})
    return np.unique(keys, return_counts=True)


def _points(wkb) -> np.ndarray:
    """The geometries of an Arrow array of WKB: points built from their coordinates (read as
    numbers, :func:`geo_idlib.io.wkb_points_xy`), anything else decoded."""
    import shapely

    xy = io.wkb_points_xy(wkb)
    if xy is None:
        return shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    x, y = xy
    ok = ~np.isnan(x)
    geoms = np.full(len(x), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    return geoms


def _output_table(staged, about: dict, actor: np.ndarray, valid_from: pd.Series):
    """A partition as it is written: the input's columns in their order with the geometry (WKB)
    back at its place, then ``actor`` and ``valid_from`` (replacing columns of those names in
    place, as :func:`~geo_idlib.territory.join.asof_join` does)."""
    import pyarrow as pa

    t = staged.drop_columns([_DAY, _KEY, _ROW])
    wkb = t.column(_WKB)
    t = t.drop_columns([_WKB]).add_column(about["position"], about["geometry"], wkb)
    for col, values in (("actor", pa.array(actor, type=pa.string())),
                        ("valid_from", pa.array(valid_from.to_numpy(dtype=object), type=pa.string()))):
        t = (t.set_column(t.column_names.index(col), col, values) if col in t.column_names
             else t.append_column(col, values))
    return t


def join_partition(part: tuple, out_dir: str, key: str, options: dict) -> tuple[int, int]:
    """Pass 2 for one output partition ``(name, start, stop, pieces)``: read its events from the
    staging files, put them back in input order, join them, write them. Only the geometries and
    days go through :func:`~geo_idlib.territory.join.asof_join`; the other columns and the WKB go
    from the staging file to the partition as they are. Returns (events, events with an actor)."""
    import geopandas as gpd
    import pyarrow as pa

    name, start, stop, pieces = part
    tables = []
    for p in pieces:  # the piece's events are sorted by key: its rows of the partition are one run
        staged, about = io.read_staging(_staging_path(out_dir, p))
        a, b = np.searchsorted(staged.column(_KEY).chunk(0).to_numpy(), plan.key_range(p, start, stop))
        tables.append(staged.slice(a, b - a))
    t = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    t = t.take(pa.array(np.argsort(t.column(_ROW).to_numpy(), kind="stable")))
    ev = gpd.GeoDataFrame({_DAY: t.column(_DAY).to_numpy()}, geometry=_points(t.column(_WKB).combine_chunks()),
                          crs=crs.WGS84)
    with _quiet():
        out = join.asof_join(ev, shared(key)["timeline"], date_column=_DAY, predicate=options["predicate"], what=name)
    actor = out["actor"].to_numpy(dtype=object)
    valid_from = timelines.dates_as_text(out[["valid_from"]])["valid_from"]
    io.write_partition(_output_table(t, about, actor, valid_from), part_path(out_dir, name),
                       geometry=about["geometry"], crs=crs.WGS84)
    return len(out), int((actor != "").sum())


def _partitions(counts: dict[int, tuple], dates, rows: int) -> list[tuple]:
    """The output partitions ``(file name, start, stop, pieces with rows in it, rows)``."""
    if not counts:
        return []
    keys = np.concatenate([k for k, _ in counts.values()])
    n = np.concatenate([c for _, c in counts.values()])
    pieces = np.repeat(list(counts), [len(k) for k, _ in counts.values()])
    return [(f"{plan.key_label(start[0], dates)}_p{start[1]:05d}.parquet", start, stop, ps, total)
            for start, stop, total, ps in plan.cut_partitions(keys, pieces, n, rows)]


def join_dataset(pieces: list[io.Piece], timeline, out_dir: str, *, engine: Engine, date_column: str | None = None,
                 date: str | None = None, lat_column: str | None = None, lon_column: str | None = None, predicate: str = "intersects",
                 rows: int = PARTITION_ROWS, overwrite: bool = False, resume: bool = False, skip_bad: bool = False,
                 progress=None) -> dict:
    """Join every event of ``pieces`` to ``timeline`` into a partitioned GeoParquet ``out_dir``.

    Returns the manifest (also written as ``out_dir/_manifest.json``): partitions and rows, the
    skipped pieces, events with an actor. See the module doc for how the work is cut.
    """
    if not pieces:
        raise InputError("join: no events given; name a CSV, GeoPackage or GeoParquet file or directory")
    if predicate not in join.PREDICATES:
        raise InputError(f"predicate {predicate!r} is not supported; use one of {', '.join(join.PREDICATES)}")
    options = {"date_column": date_column, "date": date, "lat_column": lat_column, "lon_column": lon_column,
               "predicate": predicate}
    ctx = _context(timeline)
    print_ = fingerprint(command="join", pieces=[p.name for p in pieces], options=options, rows=rows,
                         dates=[str(d) for d in ctx["dates"]], bounds=ctx["bounds"], areas=len(timeline))
    done = open_output(out_dir, print_, overwrite=overwrite, resume=resume)
    key = f"join-{print_}"
    engine.share(key, ctx)
    try:
        counts, skipped = {}, []
        tasks = [(p.name, (i, p, out_dir, key, options)) for i, p in enumerate(pieces)]
        number = {p.name: i for i, p in enumerate(pieces)}
        with _progress(progress, engine.run(split_piece, tasks, skip_bad=skip_bad, unit="pieces"),
                       "join: split", len(tasks)) as it:
            for outcome in it:
                if outcome.error:
                    skipped.append(outcome.name)
                else:
                    counts[number[outcome.name]] = outcome.result
        parts = _partitions(counts, ctx["dates"], rows)
        todo = [(name, ((name, start, stop, ps), out_dir, key, options)) for name, start, stop, ps, _ in parts
                if name not in done]
        matched = 0
        with _progress(progress, engine.run(join_partition, todo, unit="partitions"), "join: partitions",
                       len(todo)) as it:
            for outcome in it:
                matched += outcome.result[1]
    finally:
        engine.forget(key)
    sizes = {name: n for name, _, _, _, n in parts}
    blocks = [(k >> plan.HILBERT_BITS, c) for k, c in counts.values()]
    undated = int(sum(c[b > len(ctx["dates"])].sum() for b, c in blocks))
    before = int(sum(c[b == 0].sum() for b, c in blocks))
    return finish_output(out_dir, print_, sizes, skipped, command="join", engine=engine.description,
                         resumed=len(done & set(sizes)), undated=undated, before_timeline=before,
                         matched=matched if not done else None)


def _progress(progress, items, label: str, length: int):
    if progress is None:
        return contextlib.nullcontext(items)
    return progress(items, label, length)
