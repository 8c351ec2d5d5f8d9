"""`geo-idlib map`: the README's main job, its defaults, and its bad-input contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geo_idlib import pipeline
from geo_idlib.cli import cli

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def timeline():
    return pipeline.read_timeline()


def test_example_report_map_is_offline_and_deterministic(tmp_path):
    out1, out2 = tmp_path / "a.html", tmp_path / "b.html"
    r = run("map", REPORT, "--date", "2020-02-20", "-o", out1)
    assert r.exit_code == 0, r.output
    assert run("map", REPORT, "--date", "2020-02-20", "-o", out2).exit_code == 0
    html = out1.read_text(encoding="utf-8")
    assert out1.read_bytes() == out2.read_bytes()
    assert "<script src" not in html and "<link " not in html
    # nothing is fetched from a CDN (Leaflet's own attribution <a href> is a link, not a fetch)
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", html)
    for name in ("Sarmin", "Saraqeb", "Maarat al-Numan", "Kafr Naha"):
        assert name in html
    assert "near the front: the side here is uncertain" in html  # Sarmin's popup
    assert '"1.9.4"' in html  # Leaflet itself is inlined


def test_places_are_joined_to_who_held_them_on_the_date(timeline):
    text = REPORT.read_text(encoding="utf-8")
    day = pd.Timestamp("2020-02-20")
    p = pipeline.places_on({"r.txt": text}, timeline, day)
    actor_of = dict(zip(p["mention"], p["actor"], strict=True))
    held = {m: a for m, a in actor_of.items() if a}
    # per the dated facts: Maarat al-Numan fell on 28 Jan, Saraqib on 5-6 Feb, Kafr Naha on 15 Feb
    # and Anadan on 16 Feb (the last two are villages GeoNames cities500 lacks: the sample's places)
    assert held["Maarat al-Numan"] == "government"
    assert held["Saraqeb"] == "government"
    assert held["Kafr Naha"] == "government"
    assert held["Anadan"] == "government"
    # Atarib, west of Aleppo, stayed in opposition hands (baseline; no reported change)
    assert held["Atarib"] == "opposition"
    # and on 18 Dec 2019, before the offensive, Saraqeb was opposition-held
    p0 = pipeline.places_on({"r.txt": text}, timeline, pd.Timestamp("2019-12-18"))
    assert dict(zip(p0["mention"], p0["actor"], strict=True))["Saraqeb"] == "opposition"
    # places outside the areas (Moscow) carry no actor
    assert actor_of["Moscow"] == ""
    # honest uncertainty: Sarmin, inferred government-held, lies within 5 km of opposition ground
    front = dict(zip(p["mention"], p["front_km"], strict=True))
    assert front["Sarmin"] < 5 and front["Anadan"] > 5
    assert np.isnan(front["Moscow"])


def test_default_date_comes_from_the_dateline(timeline):
    day = pipeline._map_date([REPORT.read_text(encoding="utf-8")], timeline, None, None, None)
    assert day == pd.Timestamp("2020-02-20")
    # no date in the text: the timeline's last day
    assert pipeline._map_date(["no date"], timeline, None, None, None) == pd.Timestamp("2020-03-06")


def test_report_without_places_still_maps_the_areas(tmp_path):
    rep = tmp_path / "empty_places.txt"
    rep.write_text("Nothing here names a place at all, said the spokesman.\n")
    out = tmp_path / "m.html"
    r = run("map", rep, "-o", out)
    assert r.exit_code == 0, r.output
    assert "No places were found in the report" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["missing.txt"], "missing.txt: no such report file"),
    ([REPORT, "--date", "2021-05-01"], "--date: 2021-05-01 is outside the timeline, which covers 2019-12-18"),
    ([REPORT, "--date", "20/02/2020"], "--date"),
    ([REPORT, "--from", "2020-02-20", "--to", "2019-12-19"], "is later than --to"),
    ([REPORT, "--from", "2020-02-20"], "--from and --to go together"),
    ([REPORT, "--size", "big"], "--size"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "m.html"
    r = run("map", *args, "-o", out)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert not out.exists()


def test_existing_output_is_not_clobbered(tmp_path):
    out = tmp_path / "m.html"
    out.write_text("keep me")
    r = run("map", REPORT, "-o", out)
    assert r.exit_code == 2 and "already exists; pass --overwrite" in r.output
    assert out.read_text() == "keep me"
    bad = tmp_path / "no_such_dir" / "m.html"
    r = run("map", REPORT, "-o", bad)
    assert r.exit_code == 2 and "does not exist" in r.output
    r = run("map", REPORT, "-o", tmp_path / "m.tiff")
    assert r.exit_code == 2 and "name the file .html, .htm, .png, .pdf, .svg, .gif or .mp4, or pass --format" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = run("map", REPORT, "-o", tmp_path / "m.gif")
    assert r.exit_code == 2 and "a timelapse needs --from D1 --to D2" in r.output
    r = run("map", REPORT, "--format", "mp4", "-o", tmp_path / "m.out")
    assert r.exit_code == 2 and "a timelapse needs --from D1 --to D2" in r.output
    r = run("map", REPORT, "--every", "week", "-o", tmp_path / "m.png")
    assert r.exit_code == 2 and "only a timelapse" in r.output
    r = run("map", REPORT, "--every", "week", "--format", "png", "-o", tmp_path / "m.gif")
    assert r.exit_code == 2 and "only a timelapse" in r.output
    assert sorted(p.name for p in tmp_path.glob("m.*")) == ["m.html"]  # the one kept above


def test_console_script_help_and_version():
    exe = Path(sys.executable).parent / "geo-idlib"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("places", "geocode", "gazetteer", "areas", "join", "change", "map"):
        assert cmd in out
    v = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert v.startswith("geo-idlib, version ")


def test_the_credit_names_the_licence_of_every_place_source_drawn(timeline):
    """Places of the built-in Syria gazetteer come from Wikipedia's 2017 map (CC BY-SA 4.0): a map
    that draws one says so (regression: the credit once named GeoNames alone)."""
    from geo_idlib.maps import document

    p = pipeline.places_on({"r.txt": REPORT.read_text(encoding="utf-8")}, timeline, pd.Timestamp("2020-02-20"))
    ids = set(p["place_id"])
    assert any(i.startswith("syria:") for i in ids) and any(i.startswith("geonames:") for i in ids)
    credit = document.build_document(places=p, timeline=timeline, basemap=False)["furniture"]["credit"]
    assert "places: GeoNames (CC BY 4.0)" in credit and "Syrian Civil War map, 2017 (CC BY-SA 4.0)" in credit
