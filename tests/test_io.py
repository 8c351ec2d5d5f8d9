from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo_idlib import io
from geo_idlib.errors import InputError, InputFileNotFound, OutputError, OutputExists


def test_atomic_write_refuses_to_clobber(tmp_path):
    p = tmp_path / "out.txt"
    io.write_text(p, "first")
    with pytest.raises(OutputExists, match="already exists; pass --overwrite"):
        io.write_text(p, "second")
    assert p.read_text() == "first"
    io.write_text(p, "second", overwrite=True)
    assert p.read_text() == "second"


def test_failed_write_leaves_nothing(tmp_path):
    p = tmp_path / "out.geojson"
    with pytest.raises(RuntimeError):
        with io.atomic_output(p) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_one_clear_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        io.write_text(tmp_path / "nope" / "x.html", "x")


def test_read_report_errors(tmp_path):
    with pytest.raises(InputFileNotFound, match="no such report file"):
        io.read_report(str(tmp_path / "missing.txt"))
    (tmp_path / "bin.txt").write_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(InputError, match="binary"):
        io.read_report(str(tmp_path / "bin.txt"))
    (tmp_path / "latin.txt").write_bytes("Ma\xe2rrat".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 0xe2 at offset 2\)"):
        io.read_report(str(tmp_path / "latin.txt"))
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        io.read_report(str(tmp_path / "empty.txt"))
    assert isinstance(InputError("x"), ValueError)


def test_blocks_keep_offsets(tmp_path):
    text = "".join(f"Paragraph {i} about Sarmin.\n\n" for i in range(5000))
    (tmp_path / "big.txt").write_text(text)
    blocks = list(io.iter_report_blocks(str(tmp_path / "big.txt"), block_chars=4096))
    assert len(blocks) > 10
    assert "".join(b for _, b in blocks) == text
    for off, b in blocks:
        assert text[off: off + len(b)] == b


def test_geojson_is_deterministic_and_rounded(tmp_path):
    g = gpd.GeoDataFrame({"b": [1], "a": ["x"]}, geometry=[shapely.Point(36.725012345678, 35.904031234)], crs=4326)
    t = io.geojson_text(g)
    assert '"coordinates":[36.725012,35.904031]' in t
    assert t.index('"a"') < t.index('"b"')
    io.write_vector(g, tmp_path / "p.geojson")
    io.write_vector(g, tmp_path / "p.gpkg")
    back = gpd.read_file(tmp_path / "p.gpkg")
    assert back.crs.to_epsg() == 4326
