"""A small TopoJSON → GeoJSON-geometry decoder (TopoJSON spec 1.0), used by build_boundaries.py.

Only what the spec needs: quantised, delta-encoded arcs (when the topology has a ``transform``),
arc references with ``~i`` (= ``-i - 1``) meaning "arc i reversed", rings stitched from several arcs
(the first point of each following arc repeats the last point of the previous one and is dropped),
and the geometry types Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon,
GeometryCollection and null. Coordinates come back as Python floats, exactly as the spec's
arithmetic gives them (``x * scale + translate``), so the decoder can be tested to the last digit.

Examples
--------
>>> topo = {"type": "Topology", "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
...         "arcs": [[[0, 0], [2, 0], [0, 4]], [[2, 4], [-2, 0], [0, -4]]],
...         "objects": {"sq": {"type": "Polygon", "arcs": [[0, 1]]}}}
>>> object_geometries(topo, "sq")[0]["coordinates"]
[[[10.0, 20.0], [11.0, 20.0], [11.0, 21.0], [10.0, 21.0], [10.0, 20.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence


def decode_arcs(topology: dict) -> list[list[list[float]]]:
    """All arcs of ``topology`` as absolute ``[x, y]`` coordinates.

    With a ``transform``, each arc's positions are delta-encoded integers: position *k* is the running
    sum of the first *k + 1* deltas, then ``x * scale + translate``. Without one, arcs are absolute.

    Examples
    --------
    >>> decode_arcs({"transform": {"scale": [2, 3], "translate": [1, 1]}, "arcs": [[[1, 1], [1, -1]]]})
    [[[3, 4], [5, 1]]]
    >>> decode_arcs({"arcs": [[[1.5, 2.5], [3.0, 4.0]]]})
    [[[1.5, 2.5], [3.0, 4.0]]]
    """
    tr = topology.get("transform")
    if tr is None:
        return [[list(p[:2]) for p in arc] for arc in topology["arcs"]]
    (sx, sy), (tx, ty) = tr["scale"], tr["translate"]
    out = []
    for arc in topology["arcs"]:
        x = y = 0
        pts = []
        for p in arc:
            x += p[0]
            y += p[1]
            pts.append([x * sx + tx, y * sy + ty])
        out.append(pts)
    return out


def _point(topology: dict, p: Sequence[float]) -> list[float]:
    tr = topology.get("transform")
    if tr is None:
        return list(p[:2])
    (sx, sy), (tx, ty) = tr["scale"], tr["translate"]
    return [p[0] * sx + tx, p[1] * sy + ty]


def _line(arcs: list, refs: Sequence[int]) -> list[list[float]]:
    """Stitch arc references into one coordinate list (``~i`` reverses arc i)."""
    coords: list[list[float]] = []
    for k, ref in enumerate(refs):
        pts = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
        coords.extend(pts if k == 0 else pts[1:])
    return coords


def _ring(arcs: list, refs: Sequence[int]) -> list[list[float]]:
    ring = _line(arcs, refs)
    if ring and ring[0] != ring[-1]:  # the spec requires closed rings; be robust to rounding
        ring.append(list(ring[0]))
    return ring


def geometry(topology: dict, obj: dict, arcs: list | None = None) -> dict | None:
    """One TopoJSON geometry object as a GeoJSON geometry dict (``None`` for a null geometry).

    Examples
    --------
    >>> geometry({"arcs": [[[0, 0], [1, 1]]]}, {"type": "LineString", "arcs": [~0]})
    {'type': 'LineString', 'coordinates': [[1, 1], [0, 0]]}
    >>> geometry({"arcs": []}, {"type": None}) is None
    True
    """
    arcs = decode_arcs(topology) if arcs is None else arcs
    t = obj.get("type")
    if t is None:
        return None
    if t == "Point":
        return {"type": t, "coordinates": _point(topology, obj["coordinates"])}
    if t == "MultiPoint":
        return {"type": t, "coordinates": [_point(topology, p) for p in obj["coordinates"]]}
    if t == "LineString":
        return {"type": t, "coordinates": _line(arcs, obj["arcs"])}
    if t == "MultiLineString":
        return {"type": t, "coordinates": [_line(arcs, refs) for refs in obj["arcs"]]}
    if t == "Polygon":
        return {"type": t, "coordinates": [_ring(arcs, refs) for refs in obj["arcs"]]}
    if t == "MultiPolygon":
        return {"type": t, "coordinates": [[_ring(arcs, refs) for refs in poly] for poly in obj["arcs"]]}
    if t == "GeometryCollection":
        return {"type": t, "geometries": [g for g in (geometry(topology, o, arcs) for o in obj["geometries"])
                                          if g is not None]}
    raise ValueError(f"unknown TopoJSON geometry type {t!r}")


def object_geometries(topology: dict, name: str) -> list[dict | None]:
    """The member geometries of ``topology["objects"][name]`` (a GeometryCollection) as GeoJSON dicts."""
    if topology.get("type") != "Topology":
        raise ValueError(f"not a TopoJSON topology (type={topology.get('type')!r})")
    obj = topology["objects"][name]
    arcs = decode_arcs(topology)
    members = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    return [geometry(topology, o, arcs) for o in members]


def features(topology: dict, name: str) -> list[dict]:
    """GeoJSON Features (``id``, ``properties``, ``geometry``) of a TopoJSON GeometryCollection."""
    obj = topology["objects"][name]
    members = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    geoms = object_geometries(topology, name)
    return [{"type": "Feature", "id": o.get("id"), "properties": dict(o.get("properties") or {}),
             "geometry": g} for o, g in zip(members, geoms, strict=True)]
