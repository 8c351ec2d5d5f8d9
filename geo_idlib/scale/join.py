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
#: Rows of a staging row group: the unit a join task skips or reads.
_STAGING_GROUP = 1 << 16


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
    return Path(out_dir) / io.STAGING_NAME / f"piece-{i:06d}.parquet"


#: The staging column of each event's day (parsed once, in pass 1).
_DAY = "_day"


def _event_days(ev, ctx: dict, options: dict, what: str) -> np.ndarray:
    """The day of each event (datetime64[ns], NaT when undated): --date for all of them, else the
    date column :func:`geo_idlib.pipeline.join_events` would take, checked as it checks it."""
    if options["date"] is not None:
        crs.require_crs(ev, what)
        return np.full(len(ev), np.datetime64(options["date"], "ns"))
    column = join.date_column_of(ev, options["date_column"], what)
    join.asof_join(ev.iloc[:0], ctx["timeline"], date_column=column, what=what)  # its checks, on no rows
    return timelines.parse_dates(ev[column].to_numpy(), what, column, allow_missing=True)


def split_piece(i: int, piece: io.Piece, out_dir: str, key: str, options: dict) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1 for input piece ``i``: write its events sorted by key to the staging area; return
    its keys and their events (two arrays). A piece already staged (a resumed run) is only counted."""
    path = _staging_path(out_dir, i)
    if path.exists():
        keys = io.read_parquet_column(path, "_key")
    else:
        ctx = shared(key)
        ev = join.events_layer(io.read_piece(piece), piece.name, lat_column=options["lat_column"],
                               lon_column=options["lon_column"])
        days = _event_days(ev, ctx, options, piece.name)
        ev = crs.to_wgs84(ev, piece.name)
        interval = np.searchsorted(ctx["dates"], days, side="right") - 1
        keys = plan.event_keys(ev.geometry, interval, len(ctx["dates"]), ctx["bounds"])
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        rows = (np.int64(i) << plan.PIECE_SHIFT) + order.astype(np.int64)
        staged, about = _flat(ev.iloc[order].reset_index(drop=True))
        io.write_table(staged.assign(**{_DAY: days[order], "_key": keys, "_row": rows}), path, about=about,
                       row_group_size=_STAGING_GROUP)
    return np.unique(keys, return_counts=True)


def _flat(ev) -> tuple[pd.DataFrame, dict]:
    """Events as a plain table for staging: point coordinates as ``_x``, ``_y`` (cheaper to write,
    read and rebuild than WKB), other geometries as ``_wkb``; ``about`` says how to rebuild them."""
    import shapely

    name = ev.geometry.name
    geoms = ev.geometry.to_numpy()
    about = {"geometry": name, "position": list(ev.columns).index(name)}
    df = pd.DataFrame(ev.drop(columns=name))
    types = shapely.get_type_id(geoms)
    if ((types == shapely.GeometryType.POINT) | (types == shapely.GeometryType.MISSING)).all():
        return df.assign(_x=shapely.get_x(geoms), _y=shapely.get_y(geoms)), {**about, "kind": "xy"}
    return df.assign(_wkb=shapely.to_wkb(geoms)), {**about, "kind": "wkb"}


def _rebuilt(df: pd.DataFrame, about: dict):
    """The events of a staging table, as the GeoDataFrame (EPSG:4326) they were."""
    import geopandas as gpd
    import shapely

    if about["kind"] == "xy":
        x, y = df.pop("_x").to_numpy(), df.pop("_y").to_numpy()
        geoms = shapely.points(x, y)
        geoms[np.isnan(x)] = None
    else:
        geoms = shapely.from_wkb(df.pop("_wkb").to_numpy())
    df.insert(about["position"], about["geometry"], geoms)
    return gpd.GeoDataFrame(df, geometry=about["geometry"], crs=crs.WGS84)


def join_partition(part: tuple, out_dir: str, key: str, options: dict) -> tuple[int, int]:
    """Pass 2 for one output partition ``(name, start, stop, pieces)``: read its events from the
    staging files, join them, write them in input order. Returns (events, events with an actor)."""
    name, start, stop, pieces = part
    frames = []
    for p in pieces:
        lo, hi = plan.key_range(p, start, stop)
        df, about = io.read_table_rows(_staging_path(out_dir, p), filters=[("_key", ">=", lo), ("_key", "<", hi)])
        frames.append(_rebuilt(df, about))
    ev = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    ev = ev.iloc[np.argsort(ev["_row"].to_numpy(), kind="stable")].drop(columns=["_key", "_row"])
    ev = ev.reset_index(drop=True)
    with _quiet():
        out = join.asof_join(ev, shared(key)["timeline"], date_column=_DAY, predicate=options["predicate"],
                             what=name)
    io.write_partition(timelines.dates_as_text(out.drop(columns=[_DAY])), part_path(out_dir, name))
    return len(out), int((out["actor"] != "").sum())


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
