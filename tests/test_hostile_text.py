"""Report text is data: template syntax in any user string never runs when a map is built.

Regression test for the code-execution hole of issue 15: folium's ``MacroElement`` parsed the text
it rendered as a Jinja template a second time, so ``{{ ... }}`` in a report, a title, a file name
or a gazetteer name was evaluated (and could run shell commands through ``lipsum.__globals__``).
"""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from geo_idlib.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def data_document(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="geo_idlib_data">(.*?)</script>', html, re.S)
    assert m, "the map's data document is missing"
    return json.loads(m.group(1))


def test_template_syntax_in_report_title_file_and_gazetteer_names_stays_text(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    # without quotes, so that HTML escaping cannot defuse it: mkdir ./generate_lorem_ipsum42
    payload = "{{ lipsum.__globals__.os.mkdir(lipsum.__name__ ~ 42) }}"
    canary = tmp_path / "generate_lorem_ipsum42"  # created only if a payload is executed
    gaz = tmp_path / "gaz.csv"
    gaz.write_text("name,lat,lon,alternatenames,feature_code,country_code\n"
                   "Tell {{ 6*7 }} Jinja,35.87,36.73,Tell Jinja,PPL,SY\n", encoding="utf-8")
    r = run("gazetteer", "add", gaz, "--name", "hostile")
    assert r.exit_code == 0, r.output
    report = tmp_path / "report {{ 3*3 }}.txt"
    sentence = (f"Syrian forces shelled Sarmin {{{{ 7*7 }}}} and Tell Jinja {payload}, near Idlib, "
                "{% if x %} {# kept #} {{ name }}.")
    report.write_text(sentence + "\n", encoding="utf-8")
    out = tmp_path / "map.html"
    r = run("map", report, "--date", "2020-02-20", "--title", "Title {{ 6*6 }} {% raw %}", "-o", out)
    assert r.exit_code == 0, r.output
    assert not canary.exists(), "a template payload in the report ran"
    html = out.read_text(encoding="utf-8")
    assert "<title>Title {{ 6*6 }} {% raw %}</title>" in html
    d = data_document(html)
    popups = " ".join(q["sentence"] + " " + q["report"] for m in d["places"]["markers"] for q in m["mentions"])
    assert "Sarmin {{ 7*7 }}" in popups and "Sarmin 49" not in popups
    assert "{% if x %} {# kept #} {{ name }}." in popups  # nothing deleted by the template engine
    assert "report {{ 3*3 }}.txt" in popups and "report 9.txt" not in popups
    tooltips = [m["name"] for m in d["places"]["markers"]]
    assert "Tell {{ 6*7 }} Jinja" in tooltips and "Tell 42 Jinja" not in tooltips
