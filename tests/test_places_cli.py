"""`geo-idlib places`: output contract (GeoJSON/CSV/JSON), stdin, -o, bad input, streaming of large text."""

from __future__ import annotations

import csv
import io as stdio
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_idlib import pipeline
from geo_idlib.cli import cli

PROPS = ["admin1", "confidence", "country", "end", "feature_code", "mention", "name", "place_id", "precision",
         "report", "report_date", "sentence", "start", "status"]
REPORT = ("Syrian forces shelled Sarmin, near Idlib, on Thursday. Government troops captured the village of "
          "Kafr Qwzy. Erdogan said Turkey would respond.\n")


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture
def report(tmp_path) -> Path:
    p = tmp_path / "report.txt"
    p.write_text(REPORT, encoding="utf-8")
    return p


def test_geojson_feature_per_mention_with_exact_properties(report):
    r = run("places", report)
    assert r.exit_code == 0, r.stderr
    fc = json.loads(r.stdout)
    assert fc["type"] == "FeatureCollection"
    feats = fc["features"]
    assert [f["properties"]["mention"] for f in feats] == ["Sarmin", "Idlib", "Kafr Qwzy", "Turkey"]
    for f in feats:
        assert sorted(f["properties"]) == PROPS
        p = f["properties"]
        assert REPORT[p["start"]:p["end"]] == p["mention"]
        assert p["report"] == str(report) and p["report_date"] is None  # no dateline, no --date
    sarmin = feats[0]
    assert sarmin["geometry"]["type"] == "Point"
    lon, lat = sarmin["geometry"]["coordinates"]
    assert abs(lat - 35.904) < 0.05 and abs(lon - 36.725) < 0.05
    assert sarmin["properties"]["place_id"].startswith("geonames:") and sarmin["properties"]["country"] == "SY"
    assert sarmin["properties"]["status"] == "resolved" and 0 < sarmin["properties"]["confidence"] <= 1
    assert sarmin["properties"]["sentence"] == "Syrian forces shelled Sarmin, near Idlib, on Thursday."
    made_up = feats[2]
    assert made_up["geometry"] is None and made_up["properties"]["status"] == "unresolved"
    assert made_up["properties"]["place_id"] in ("", None)


def test_output_is_deterministic_and_stdout_is_only_output(report):
    a, b = run("places", report), run("places", report)
    assert a.stdout == b.stdout and a.stdout.endswith("\n")
    json.loads(a.stdout)


@pytest.mark.parametrize("fmt", ["geojson", "json", "csv"])
def test_streamed_text_is_the_canonical_document(report, tmp_path, fmt):
    """Written block by block, the output equals the whole document dumped at once (and the file)."""
    text = pipeline.places([str(report), str(report)], fmt=fmt)
    if fmt == "geojson":
        assert text == pipeline.io.dumps_json(json.loads(text)) + "\n"
    elif fmt == "json":
        assert text == pipeline.io.dumps_json(json.loads(text), indent=2) + "\n"
    else:
        assert len(text.splitlines()) == 1 + 2 * 4
    out = tmp_path / f"p.{fmt}"
    assert run("places", report, report, "--format", fmt, "-o", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == text


def test_csv_and_json_formats(report):
    r = run("places", report, "--format", "csv")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(stdio.StringIO(r.stdout)))
    assert list(rows[0]) == pipeline.PLACE_PROPERTIES + ["lat", "lon"]
    assert [x["mention"] for x in rows] == ["Sarmin", "Idlib", "Kafr Qwzy", "Turkey"]
    assert rows[2]["lat"] == "" and rows[0]["lat"].startswith("35.9")
    r = run("places", report, "--format", "json")
    recs = json.loads(r.stdout)
    assert [x["mention"] for x in recs] == ["Sarmin", "Idlib", "Kafr Qwzy", "Turkey"]
    assert recs[2]["lat"] is None and isinstance(recs[0]["start"], int)


def test_stdin_and_output_file(tmp_path, report):
    r = run("places", "-", input=REPORT)
    assert r.exit_code == 0, r.stderr
    assert [f["properties"]["report"] for f in json.loads(r.stdout)["features"]][0] == "-"
    out = tmp_path / "p.geojson"
    r = run("places", report, "-o", out)
    assert r.exit_code == 0 and r.stdout == "" and json.loads(out.read_text())["features"]
    r = run("places", report, "-o", out)
    assert r.exit_code == 2 and "--overwrite" in r.stderr
    assert run("places", report, "-o", out, "--overwrite").exit_code == 0


def test_country_context(report):
    r = run("places", report, "--country", "sy")
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
    (b"Idlib caf\xe9 report", "UTF-8"),
])
def test_bad_input_one_line_error_exit_2_no_output(tmp_path, content, needle):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    out = tmp_path / "out.geojson"
    r = run("places", p, "-o", out)
    assert r.exit_code == 2
    assert needle in r.stderr and str(p) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists() and r.stdout == ""


def test_missing_file_and_unknown_country(tmp_path, report):
    r = run("places", tmp_path / "nope.txt")
    assert r.exit_code == 2 and "no such report file" in r.stderr
    r = run("places", report, "--country", "XX")
    assert r.exit_code == 2 and "--country" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_installed_console_script_keeps_stdout_pure(tmp_path, report):
    exe = Path(sys.executable).with_name("geo-idlib")
    if not exe.exists():
        pytest.skip(f"{exe} not installed (pip install -e .)")
    r = subprocess.run([str(exe), "places", str(report), "--format", "json"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert [x["mention"] for x in json.loads(r.stdout)] == ["Sarmin", "Idlib", "Kafr Qwzy", "Turkey"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe broken")
    r = subprocess.run([str(exe), "places", str(bad)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().startswith("Error:") or "UTF-8" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_large_text_streams_in_bounded_memory_with_whole_report_offsets(tmp_path, monkeypatch):
    """A ~1.2 MB report read in 16 K blocks: offsets refer to the whole text, and peak memory stays
    well below the text's size (it is bounded by the block size, not by the report). Small blocks
    keep the test fast under tracemalloc; the default block is 256 K characters."""
    monkeypatch.setattr(pipeline, "PLACES_BLOCK_CHARS", 1 << 14)
    para = ("Shelling was reported again overnight and residents said the roads were closed while aid "
            "convoys waited for permission to move north; the monitors counted the damage carefully.\n\n")
    marker = "Shelling hit Sarmin, near Idlib.\n\n"
    parts, expected = [], []
    pos = 0
    for k in range(7000):
        chunk = marker if k % 1000 == 0 else para
        if chunk is marker:
            expected += [pos + chunk.index("Sarmin"), pos + chunk.index("Idlib")]
        parts.append(chunk)
        pos += len(chunk)
    text = "".join(parts)
    assert len(text) > 1_200_000
    p = tmp_path / "big.txt"
    p.write_text(text, encoding="utf-8")
    from geo_idlib.places.store import load_index

    idx = load_index()
    pipeline.find_places(para + marker, index=idx)  # load lookup tables and word frequencies first
    tracemalloc.start()
    try:
        starts, mentions = [], []
        for gdf in pipeline.iter_places([str(p)], index=idx):
            starts += gdf["start"].tolist()
            mentions += gdf["mention"].tolist()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert starts == expected
    assert all(text[s:s + len(m)] == m for s, m in zip(starts, mentions, strict=True))
    assert peak < 0.5 * len(text.encode("utf-8")), f"peak {peak / 1e6:.2f} MB for a {len(text) / 1e6:.1f} MB text"


def test_kind_hint_reaches_geocoding_province_vs_city():
    """"Idlib province" is the governorate, "the city of Idlib" the city (toponyms → geocode contract)."""
    p = pipeline.find_places("Shelling hit Idlib province on Monday. Later the city of Idlib was calm.")
    assert p["mention"].tolist() == ["Idlib", "Idlib"]
    assert p["precision"].tolist() == ["admin1", "settlement"]
    assert p["feature_code"].iloc[0] == "ADM1" and p["feature_code"].iloc[1].startswith("PPL")
    assert list(p.columns[:14]) == pipeline.PLACE_PROPERTIES and p.crs.to_epsg() == 4326


@pytest.mark.slow
def test_a_report_on_one_line_gives_the_places_of_the_same_text_in_paragraphs(tmp_path, monkeypatch):
    """Issue 15: one long line (scraped page, PDF text) is cut into overlapping blocks; every mention
    is reported once, with the same span and place as in the same text written in paragraphs, and
    the time grows linearly with the size."""
    import time

    monkeypatch.setattr(pipeline, "PLACES_BLOCK_CHARS", 1 << 13)
    paras = ["Government forces captured Kafr Nabl and the village of Hish near Maarat al-Numan on Thursday.",
             "Airstrikes hit Sarmin, Saraqeb and Ariha while residents fled towards the Turkish border.",
             "Shelling continued in southern Idlib and western Aleppo, monitors said."]
    para_text = "\n\n".join(paras[k % 3] for k in range(600)) + "\n"
    line_text = para_text.replace("\n\n", "  ")
    out = {}
    for name, text in (("para", para_text), ("line", line_text)):
        p = tmp_path / f"{name}.txt"
        p.write_text(text, encoding="utf-8")
        rows = [r for _, _, rs in pipeline.iter_place_rows([str(p)]) for r in rs]
        assert all(text[r.start:r.end] == r.mention for r in rows)
        out[name] = [(r.start, r.mention, r.place_id) for r in rows]
    assert len(out["line"]) == len(out["para"]) == 600 // 3 * 8 and out["line"] == out["para"]
    times = {}
    for n in (300, 1200):   # 4x the text: about 4x the time, not 16x
        p = tmp_path / f"long{n}.txt"
        p.write_text("  ".join(paras[k % 3] for k in range(n)), encoding="utf-8")
        t = time.process_time()
        sum(len(rs) for _, _, rs in pipeline.iter_place_rows([str(p)]))
        times[n] = time.process_time() - t
    assert times[1200] < 8 * times[300], times
