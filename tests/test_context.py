"""The offline map context (shapefiles/context.bin.xz): stored as the map's own integers, read back
exactly, and refused in one line when damaged."""

from __future__ import annotations

import lzma

import numpy as np
import pytest
import shapely
from conftest import ROOT

from geo_idlib import io
from geo_idlib.errors import InputError
from geo_idlib.maps import context
from geo_idlib.maps.faces import decode_polygons, decode_ring, encode_lines, encode_polygons

#: Features per layer of the shipped context (scripts/build_context.py prints the same counts).
SHIPPED = {"land": 476, "lakes": 263, "border": 385, "admin1": 9032, "river": 362, "world_land": 1,
           "world_border": 325}


def _features(geoms, lines: bool) -> list[dict]:
    enc = encode_lines(geoms) if lines else encode_polygons(geoms)
    return [{"b": [round(v, 5) for v in shapely.bounds(g).tolist()], "g": e} for g, e in zip(geoms, enc, strict=True)]


def test_packed_layers_read_back_to_the_same_integers_and_boxes():
    polys = [shapely.box(36.0, 35.0, 36.5, 35.25).difference(shapely.box(36.1, 35.1, 36.2, 35.2)),
             shapely.box(-179.9, -20.123456, -179.5, -19.5)]
    lines = [shapely.LineString([(30.5, 50.45), (30.52, 50.46), (31.0, 50.0)]),
             shapely.LineString([(179.9, -17.0), (179.95, -16.9)])]
    layers = {"land": _features(polys, lines=False), "border": _features(lines, lines=True), "river": []}
    back = context.unpack_layers(context.pack_layers(layers, "test"))
    assert list(back) == ["land", "border", "river"]
    assert back["land"].polygons and not back["border"].polygons
    assert back["land"].boxes.tolist() == [f["b"] for f in layers["land"]]  # the same floats, not near ones
    assert [[r.tolist() for r in g] for g in back["land"].geoms] == [f["g"] for f in layers["land"]]
    assert [g.tolist() for g in back["border"].geoms] == [f["g"] for f in layers["border"]]
    assert len(back["land"].geoms[0]) == 2  # a shell and its hole
    assert back["river"].boxes.shape == (0, 4) and back["river"].geoms == []
    # a box query decodes what meets it, as the map draws it
    near = back["land"].near((36.4, 35.2, 40.0, 40.0))
    assert len(near) == 1 and near[0].equals(decode_polygons(layers["land"][0]["g"]))
    far = back["border"].near((179.0, -18.0, 180.0, -16.0))
    assert len(far) == 1 and np.array_equal(shapely.get_coordinates(far[0]), decode_ring(layers["border"][1]["g"]))


def test_pack_refuses_a_box_off_the_grid():
    with pytest.raises(ValueError, match="not on the 1e-05° grid"):
        context.pack_layers({"land": [{"b": [36.000001, 35.0, 36.5, 35.25], "g": [[3600000, 3500000, 1, 0, 0, 1]]}]},
                            "test")


def test_the_shipped_context_has_every_layer_and_stays_small():
    path = ROOT / "shapefiles" / context.CONTEXT_FILE
    assert path.stat().st_size < 2 * 1024 * 1024
    data = io.read_xz_file(path)
    assert data.startswith(context.CONTEXT_MAGIC) and b"Natural Earth" in data[:400]
    layers = context.unpack_layers(data)
    assert {k: len(v.geoms) for k, v in layers.items()} == SHIPPED
    assert {k for k, v in layers.items() if v.polygons} == {"land", "lakes", "world_land"}
    b = layers["land"].boxes
    assert (b[:, 0] <= b[:, 2]).all() and (b[:, 1] <= b[:, 3]).all() and b.min() >= -180 and b.max() <= 180


def test_a_damaged_context_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_IDLIB_SHAPEFILES", str(tmp_path))
    target = tmp_path / context.CONTEXT_FILE
    good = (ROOT / "shapefiles" / context.CONTEXT_FILE).read_bytes()
    target.write_bytes(good[: len(good) // 2])  # cut short
    with pytest.raises(InputError, match="not a complete .xz file") as err:
        context._layers.__wrapped__()
    assert "\n" not in str(err.value)
    target.write_bytes(lzma.compress(b"something else\n"))
    with pytest.raises(InputError, match="damaged map context.*make data"):
        context._layers.__wrapped__()
    target.unlink()
    assert context._layers.__wrapped__() is None  # no context file: maps without a basemap
