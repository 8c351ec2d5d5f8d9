"""Report text is data: no user string ever runs, in Python or in the browser, and each shows as written.

Regression test for the code-execution hole of issue 15: folium's ``MacroElement`` parsed the text
it rendered as a Jinja template a second time, so ``{{ ... }}`` in a report, a title, a file name
or a gazetteer name was evaluated (and could run shell commands through ``lipsum.__globals__``).
Then the payload corpus of ``scripts/eval_payloads.py`` (which `make eval` prints) in every field of
a map, in headless Chromium, with and without the page's Content-Security-Policy.
"""

from __future__ import annotations

import json
import re

import pytest
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


# --------------------------------------------------------------------------- the corpus, in Chromium
def _eval_payloads():
    """scripts/eval_payloads.py: the payload corpus and its check (also printed by `make eval`)."""
    from scripts import eval_payloads

    return eval_payloads


@pytest.mark.browser
def test_no_payload_runs_and_each_shows_as_written_in_every_field(chromium):
    ev = _eval_payloads()
    payloads = ev.corpus()
    assert len(payloads) >= 50 and any(len(p) >= 100_000 for p in payloads)
    r = ev.check(chromium, payloads)
    print(r.line())
    assert r.ran == [], r.ran                              # nothing ran, not even without the CSP
    assert r.failures == {}, r.failures                    # every payload shown exactly as written
    assert r.shown == r.tried == len(payloads) and r.fields == len(ev.FIELDS) == 10
    assert r.csp_violations == [] and r.errors == []       # no markup ever reached the DOM


@pytest.mark.browser
def test_the_corpus_check_catches_a_page_that_reads_text_as_html(chromium, tmp_path):
    """Negative control: the same page with one ``textContent`` turned into ``innerHTML``."""
    from geo_idlib.maps import element

    ev = _eval_payloads()
    payloads = ev.corpus()
    html, _ = ev.build(payloads, str(tmp_path))
    needle = "if (text !== undefined && text !== null) e.textContent = text;"
    assert needle in html
    broken = html.replace(needle, needle.replace("textContent", "innerHTML"))
    policy = element.content_security_policy(broken)  # the broken page's own blocks, so that it starts
    broken = re.sub(r'(<meta http-equiv="Content-Security-Policy" content=")[^"]*', lambda m: m.group(1) + policy,
                    broken, count=1)
    r = ev.check(chromium, payloads, html=broken)
    assert len(r.ran) >= 5 and "markup from text" in r.ran        # handlers ran without the CSP
    assert len(r.csp_violations) >= 10                            # ... and were blocked by it
    assert r.shown < r.tried


@pytest.mark.browser
def test_the_command_line_map_shows_hostile_text_as_written(chromium, tmp_path, monkeypatch):
    """End to end: report text, its file name, a gazetteer name and the title, through `geo-idlib map`."""
    ev = _eval_payloads()
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    gazetteer_name = "Tell {{ 6*7 }} <svg onload=__giRan('gazetteer')> Jinja"
    gaz = tmp_path / "gaz.csv"
    gaz.write_text("name,lat,lon,alternatenames,feature_code,country_code\n"
                   f"\"{gazetteer_name}\",35.87,36.73,Tell Jinja,PPL,SY\n", encoding="utf-8")
    assert run("gazetteer", "add", gaz, "--name", "hostile").exit_code == 0
    file_name = "wire {{ 3*3 }} <img src=x onerror=__giRan('file')> ${__giRan('f')}.txt"
    sentence = ("Syrian forces shelled Tell Jinja </script><script>__giRan('text')</script> "
                "'\"><img src=x onerror=__giRan('quote')> {% raw %} ${__giRan('js')} \u2028 \u202eok.")
    (tmp_path / file_name).write_text(sentence + "\n", encoding="utf-8")
    title = "Title </title><script>__giRan('title')</script> {{ 6*6 }}"
    out = tmp_path / "map.html"
    r = run("map", tmp_path / file_name, "--date", "2020-02-20", "--title", title, "-o", out)
    assert r.exit_code == 0, r.output
    shown = ev.open_map(chromium, out)
    assert shown["ran"] == [] and shown["injected"] == 0 and shown["csp"] == [] and shown["errors"] == []
    popup = next(x for x in shown["popups"] if x["name"] == gazetteer_name)
    assert (popup["sentence"], popup["cite"]) == (sentence, file_name)
    assert gazetteer_name in shown["tips"]
    assert shown["title"] == title and shown["page_title"] == title
