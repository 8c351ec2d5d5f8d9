"""notebooks/explore_idlib.ipynb runs top to bottom in the project's kernel, offline, and shows the
same figures the API computes; its inline map starts in Chromium as Jupyter would show it.

The notebook is executed once per module with nbclient (kernel ``python3``, which jupyter_client
launches with this interpreter, so the .venv's geo_idlib is used; checked below) from the
``notebooks/`` folder. A first cell, added in memory only, makes every non-loopback socket
connection and DNS lookup of the kernel fail and records it; the last one reports what was blocked.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time

import nbformat
import pytest
from conftest import ROOT

from geo_idlib import crs, pipeline
from geo_idlib.maps import static
from geo_idlib.territory import change
from geo_idlib.territory import timeline as timelines

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "explore_idlib.ipynb"
REPORT = "examples/idlib_report_2020-02-20.txt"
D1, D2 = "2019-12-19", "2020-02-20"
CELL_TIMEOUT_S = 240  # the first run in a fresh cache builds the gazetteer index (about a minute)

GUARD = r'''
import socket as _socket
_GEO_IDLIB_BLOCKED = []
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_connect, _connect_ex, _getaddrinfo = _socket.socket.connect, _socket.socket.connect_ex, _socket.getaddrinfo

def _blocked(what, address):
    _GEO_IDLIB_BLOCKED.append(f"{what} {address!r}")
    raise OSError(f"network access blocked by tests/test_notebook.py: {what} {address!r}")

def _guard_connect(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6) and address[0] not in _LOOPBACK:
        _blocked("connect", address)
    return _connect(self, address)

def _guard_connect_ex(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6) and address[0] not in _LOOPBACK:
        _blocked("connect_ex", address)
    return _connect_ex(self, address)

def _guard_getaddrinfo(host, *args, **kwargs):
    if host not in _LOOPBACK and host is not None:
        _blocked("getaddrinfo", host)
    return _getaddrinfo(host, *args, **kwargs)

_socket.socket.connect, _socket.socket.connect_ex = _guard_connect, _guard_connect_ex
_socket.getaddrinfo = _guard_getaddrinfo
'''
REPORT_BACK = r'''
import json as _json, sys as _sys
print("GEO_IDLIB_KERNEL " + _json.dumps({"prefix": _sys.prefix, "blocked": _GEO_IDLIB_BLOCKED,
                                         "cwd": __import__("os").getcwd()}))
'''


def _kernel_env(tmp_path_factory) -> dict:
    """The test session's private user dirs, which conftest sets in the environment at import."""
    return dict(os.environ)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed from notebooks/: {cell id: cell}, the kernel's report, seconds taken."""
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(GUARD, id="test-network-guard"))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_BACK, id="test-report-back"))
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    t0 = time.perf_counter()
    client.execute(env=_kernel_env(tmp_path_factory))
    seconds = time.perf_counter() - t0
    cells = {c.id: c for c in nb.cells}
    line = next(t for t in _streams(cells["test-report-back"]).splitlines() if t.startswith("GEO_IDLIB_KERNEL "))
    return cells, json.loads(line.split(" ", 1)[1]), seconds


def _streams(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _result(cell, mime="text/plain") -> str:
    found = [o.data[mime] for o in cell.outputs if o.output_type in ("execute_result", "display_data")
             and mime in o.data]
    assert found, f"cell {cell.id!r} shows no {mime} result"
    return found[-1]


def _table(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """A DataFrame's text repr with an ``actor`` index → (columns, {actor: values})."""
    lines = [t for t in text.splitlines() if t.strip()]
    cols = lines[0].split()
    rows = {t.split()[0]: t.split()[1:] for t in lines[1:] if t.split()[0] != "actor"}
    return cols, rows


def test_the_committed_notebook_is_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code), "save it with outputs cleared"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert set(nb.metadata) <= {"kernelspec", "language_info"}


def test_runs_in_the_venv_kernel_offline_without_errors(executed):
    cells, kernel, seconds = executed
    assert not [c.id for c in cells.values() if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert kernel["prefix"] == sys.prefix, "the kernel is not this interpreter's (the .venv's) python"
    assert kernel["cwd"] == str(ROOT), "the notebook works from the repository root it found"
    assert kernel["blocked"] == [], f"the notebook tried the network: {kernel['blocked']}"
    print(f"notebook executed in {seconds:.1f} s")


def test_places_table_and_geocoded_variants(executed):
    cells, _, _ = executed
    text = (ROOT / REPORT).read_text(encoding="utf-8")
    expected = pipeline.find_places(text, report=REPORT)
    lines = _result(cells["places"]).splitlines()
    header = lines[0].split()
    assert header == ["mention", "start", "end", "name", "place_id", "precision", "confidence", "status"]
    assert len(lines) == 1 + len(expected), (lines, expected["mention"].tolist())
    for line, row in zip(lines[1:], expected.itertuples(), strict=True):
        assert f" {row.mention} " in line and f" {row.start} " in line and line.endswith(row.status), (line, row)
        if row.status == "resolved":
            assert f" {row.place_id} " in line, (line, row)
    sarmin = [t for t in lines if " Sarmin " in t]
    saraqeb = [t for t in lines if " Saraqeb " in t]
    assert sarmin and all("geonames:164782" in t and "settlement" in t for t in sarmin)
    assert len(saraqeb) == 1 and "geonames:164816" in saraqeb[0]

    geocoded = _result(cells["geocode"])
    ids = {"Saraqeb": "geonames:164816", "Saraqib": "geonames:164816", "Maarat al-Numan": "geonames:167611",
           "Ma'arrat al-Nu'man": "geonames:167611", "إدلب": "geonames:169389"}
    for query, place_id in ids.items():
        row = [t for t in geocoded.splitlines() if f" {query} " in t]
        assert len(row) == 1 and place_id in row[0], (query, geocoded)


def test_areas_and_change_match_the_api(executed):
    cells, _, _ = executed
    timeline = pipeline.read_timeline()
    snap = timelines.snapshot(timeline, D2).dissolve("actor")
    km2 = dict(zip(snap.index, crs.geodesic_area_km2(snap), strict=True))
    cols, rows = _table(_result(cells["snapshot"]))
    assert cols == ["area_km2", "uncertain_km2"]
    assert set(rows) == set(km2)
    for actor, area in km2.items():
        assert float(rows[actor][0]) == pytest.approx(round(area, 1), abs=0.051)

    summary = {r["actor"]: r for r in change.compare(timeline, D1, D2)[0]}
    cols, rows = _table(_result(cells["change"]))
    gov = dict(zip(cols, map(float, rows["government"]), strict=True))
    assert gov["gained_km2"] > 0
    assert gov["gained_km2"] == pytest.approx(summary["government"]["gained_km2"], abs=0.051)
    assert gov["net_low_km2"] == pytest.approx(gov["net_km2"] - gov["uncertain_km2"], abs=0.11)
    assert gov["net_high_km2"] == pytest.approx(gov["net_km2"] + gov["uncertain_km2"], abs=0.11)
    opp = dict(zip(cols, map(float, rows["opposition"]), strict=True))
    assert opp["lost_km2"] == pytest.approx(summary["opposition"]["lost_km2"], abs=0.051)
    notes = "".join(c.source for c in cells.values() if c.cell_type == "markdown")
    assert "docs/sample.md" in notes and "approximate" in notes


def test_places_joined_to_who_held_them(executed):
    cells, _, _ = executed
    text = (ROOT / REPORT).read_text(encoding="utf-8")
    held = pipeline.places_on({REPORT: text}, pipeline.read_timeline(), D2)
    actor = dict(zip(held["mention"], held["actor"], strict=False))
    shown = _result(cells["join"]).splitlines()
    for mention in ("Sarmin", "Saraqeb", "Atarib"):
        line = [t for t in shown if f" {mention} " in t]
        assert len(line) == 1 and actor[mention] and line[0].rstrip().endswith(actor[mention]), (mention, shown)
    assert actor["Saraqeb"] == "government"


def test_the_map_shows_inline_and_offline(executed):
    cells, _, _ = executed
    out = _result(cells["map"], "text/html")
    doc = html.unescape(re.search(r'srcdoc="([^"]*)"', out).group(1))
    assert "geoIdlib.init" in doc and "map_geo_idlib" in doc
    assert "NW Syria, 20 February 2020" in doc
    assert not re.search(r"<script[^>]*\bsrc=", doc), "the inline map loads a script from elsewhere"
    assert not re.search(r"<link[^>]*\bhref=", doc), "the inline map loads a stylesheet from elsewhere"
    assert not re.search(r"https?://(?:cdn|unpkg|code\.jquery|netdna)", doc)
    data = json.loads(re.search(r'<script type="application/json" id="geo_idlib_data">(.*?)</script>',
                                doc, re.S).group(1))
    assert data["base"]["tiles"] == []  # offline: no tile layer
    # the page's own Content-Security-Policy travels with it into the iframe
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', doc).group(1)
    assert policy.startswith("default-src 'none'; script-src 'sha256-") and "unsafe" not in policy
    assert "Sarm" in json.dumps(data, ensure_ascii=False)


@pytest.mark.browser
def test_the_inline_map_starts_in_chromium(executed, chromium, tmp_path):
    """The cell's output as Jupyter shows it (folium's iframe) starts, with no request and no error."""
    from playwright.sync_api import sync_playwright

    cells, _, _ = executed
    page_file = tmp_path / "output.html"
    page_file.write_text("<!doctype html><html><body style='width:1000px'>"
                         + _result(cells["map"], "text/html") + "</body></html>", encoding="utf-8")
    url = page_file.resolve().as_uri()
    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=static.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 900})
            # in every frame: CSP violations (a blocked inline block would leave the map half-drawn)
            page.add_init_script("window.__giCsp = []; document.addEventListener('securitypolicyviolation', "
                                 "e => window.__giCsp.push(e.violatedDirective + ' ' + e.blockedURI))")
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: (r.continue_() if r.request.url == url
                                          else (requests.append(r.request.url), r.abort())))
            page.goto(url, wait_until="load")
            frame = page.frames[1]
            # polled with evaluate: wait_for_function compiles its predicate with eval, which the
            # page's CSP (no 'unsafe-eval') rightly refuses inside the notebook's frame
            for _ in range(300):
                if frame.evaluate("Boolean(window.geoIdlib && window.geoIdlib.ready === true)"):
                    break
                page.wait_for_timeout(100)
            else:
                raise AssertionError("the inline map did not become ready within 30 s")
            paths = frame.locator("path.leaflet-interactive").count()
            violations = frame.evaluate("window.__giCsp")
            policy = frame.evaluate("document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
        finally:
            browser.close()
    assert requests == [] and errors == [] and violations == []
    assert policy.startswith("default-src 'none'")
    assert paths > 5  # areas and place markers drawn
