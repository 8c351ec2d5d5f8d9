"""Maps a newsroom can publish (issue 11), checked as a person sees them in Debian's headless Chromium:
labels, the publish layout and its PNG/PDF/SVG, timelapses, privacy, the URL hash, phones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import test_browser
from click.testing import CliRunner
from conftest import IN_CI
from test_browser import Page, change, front_places, front_timeline

from geo_idlib import io
from geo_idlib.cli import cli
from geo_idlib.maps import document, element, static

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"

#: One headless Chromium per module, as in test_browser.
browser = test_browser.browser

#: Towns of the gazetteer around the test front (name, lat, lon, population): the fixture of context labels.
TOWNS = pd.DataFrame([("Big Town", 35.70, 36.55, 200000), ("Mid Town", 36.05, 37.05, 50000),
                      ("Small Village", 35.95, 36.95, 800), ("Saraqib", 35.865, 36.80, 30000)],
                     columns=["name", "lat", "lon", "population"])


def need(tool: str) -> None:
    """Skip without Debian's ``tool`` (fail under CI=true): ``make test`` installs it when run as root."""
    if not shutil.which(tool):
        msg = f"no {tool} (Debian's ffmpeg / poppler-utils: make test installs them when run as root)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def build(**kw):
    return document.build_map(places=front_places(), timeline=front_timeline(), change_polys=change(),
                              d1="2020-01-05", d2="2020-02-10", towns=TOWNS, **kw)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("publish")
    p = d / "front.html"
    io.write_text(p, element.to_html(build(title="Front")))
    return p


def open_page(browser, path, fragment="", width=1024, height=768):
    p = Page.__new__(Page)
    p.url = path.resolve().as_uri()
    p.requests, p.errors, p.dialogs = [], [], []
    p.page = browser.new_page(viewport={"width": width, "height": height})
    p.page.on("pageerror", lambda e: p.errors.append(str(e)))
    p.page.route("**/*", p._route)
    p.page.goto(p.url + fragment, wait_until="load")
    p.page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=10000)
    return p


LABEL_BOXES = """(() => Array.from(document.querySelectorAll('.gi-label')).filter(e => e.style.display !== 'none')
  .map(e => { const r = e.getBoundingClientRect(); return {text: e.textContent, kind: e.classList.contains('gi-label-place') ? 'place' : 'town',
    box: [r.left, r.top, r.right, r.bottom], onTop: (el => !!el && (el === e || e.contains(el)))(
      document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2))}; }))()"""


def _intersect(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_report_places_are_labelled_without_overlaps_and_towns_by_zoom(browser, page_file):
    p = open_page(browser, page_file)
    try:
        labels = p.js(LABEL_BOXES)
        places = {x["text"] for x in labels if x["kind"] == "place"}
        assert {"Saraqib", "Sarmin", "Hama"} <= places, labels   # the report's places in view, by name
        for i, a in enumerate(labels):
            assert a["box"][2] - a["box"][0] > 5, a            # drawn, with a size
            for b in labels[i + 1:]:
                assert not _intersect(a["box"], b["box"]), (a, b)
        # a town at a report place is not labelled twice; the biggest town shows at the first zoom
        texts = [x["text"] for x in labels]
        assert texts.count("Saraqib") == 1 and "Big Town" in texts and "Small Village" not in texts
        z = p.js("map_geo_idlib.getZoom()")
        p.js(f"map_geo_idlib.setView([35.95, 36.95], {z + 2}, {{animate: false}})")
        assert "Small Village" in [x["text"] for x in p.js(LABEL_BOXES)]   # smaller towns from zoom + 2
        assert p.errors == []
    finally:
        p.page.close()


def test_labels_that_would_collide_are_hidden_not_stacked(browser, tmp_path):
    crowded = pd.DataFrame([(f"Town {i:02d}", 35.80 + 0.001 * i, 36.60, 1000 * (50 - i)) for i in range(40)],
                           columns=["name", "lat", "lon", "population"])
    f = tmp_path / "crowded.html"
    io.write_text(f, element.to_html(document.build_map(places=front_places(), timeline=front_timeline(),
                                                        towns=crowded)))
    p = open_page(browser, f)
    try:
        labels = p.js(LABEL_BOXES)
        shown = [x for x in labels if x["kind"] == "town"]
        assert 0 < len(shown) < 10                                  # most of the pile is hidden
        assert shown[0]["text"] == "Town 00"                         # the most populous wins
        assert all(not _intersect(a["box"], b["box"]) for i, a in enumerate(labels) for b in labels[i + 1:])
    finally:
        p.page.close()


WIDGETS = (".leaflet-control-zoom, .gi-slider, .leaflet-control-layers, .gi-swipe, .gi-panel, .gi-legend, "
           "details, summary")


def test_the_publish_layout_has_no_widgets_and_carries_title_figures_legend_and_credit(browser, page_file):
    p = open_page(browser, page_file, "#publish=1", 1000, 700)
    try:
        visible = p.js(f"Array.from(document.querySelectorAll('{WIDGETS}')).filter(e => e.offsetWidth > 0).length")
        assert visible == 0
        head = p.js("document.querySelector('.gi-publish-head').textContent")
        assert head.startswith("Front") and "10 February 2020" in head
        assert "Government +" in head and "km² since 2020-01-05" in head
        foot = p.js("document.querySelector('.gi-publish-foot').textContent")
        assert "Government (SAA and allies)" in foot and "Natural Earth" in foot and "GeoNames" in foot
        # the map fills the page between header and footer
        geo = p.js("(() => { const r = map_geo_idlib.getContainer().getBoundingClientRect(); return [r.top, r.bottom]; })()")
        assert geo[0] > 40 and geo[1] < 700 and geo[1] - geo[0] > 400
    finally:
        p.page.close()


def test_png_pdf_and_svg_exports_keep_text_as_text(chromium, tmp_path):
    from PIL import Image

    m = build(title="Front line")
    png, pdf, svg = tmp_path / "m.png", tmp_path / "m.pdf", tmp_path / "m.svg"
    static.export(m, png, 800, 600, scale=2, chromium=chromium)
    with Image.open(png) as img:
        assert img.size == (1600, 1200)                  # --scale 2: retina pixels
    static.export(m, pdf, 800, 600, chromium=chromium)
    need("pdftotext")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for want in ("Front line", "Saraqib", "Sarmin", "Sources: places: GeoNames (CC BY 4.0)", "Natural Earth"):
        assert want in text, (want, text)
    static.export(m, svg, 800, 600, chromium=chromium)
    body = svg.read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    texts = [t.text for t in ET.fromstring(body.split("\n", 1)[1]).iter("{http://www.w3.org/2000/svg}text")]
    assert {"Saraqib", "Sarmin", "Front line"} <= set(texts), texts
    assert any(t and t.startswith("Sources: ") for t in texts)
    assert body.count("<path") > 5   # the map's own areas, change and markers as vectors


def test_a_timelapse_has_one_frame_per_date_and_shows_the_front_moving(chromium, tmp_path):
    from PIL import Image, ImageChops

    need("ffmpeg")
    gif = tmp_path / "front.gif"
    m = build()
    static.timelapse(m, gif, "2020-01-05", "2020-02-10", every="week", width=640, height=480, chromium=chromium)
    dates = static.frame_dates("2020-01-05", "2020-02-10", "week")
    with Image.open(gif) as img:
        assert img.n_frames == len(dates) == 7
        frames = []
        for i in range(img.n_frames):
            img.seek(i)
            frames.append(img.convert("RGB"))
    diff = np.asarray(ImageChops.difference(frames[0], frames[-1])).sum(axis=2) > 40
    assert diff.mean() > 0.01, "the front moved between the first and the last frame"
    assert gif.stat().st_size < 2_000_000
    mp4 = tmp_path / "front.mp4"
    static.timelapse(m, mp4, "2020-01-05", "2020-02-10", width=640, height=480, chromium=chromium)
    assert mp4.read_bytes()[4:8] == b"ftyp"


def test_the_url_hash_reopens_a_date_and_the_slider_shows_the_date_chosen(browser, page_file):
    p = open_page(browser, page_file, "#date=2020-01-07")
    try:
        assert p.js("map_geo_idlib.getContainer().getAttribute('data-gi-date')") == "2020-01-07"
        assert p.js("map_geo_idlib.getContainer().getAttribute('data-gi-main')") == "2020-01-01"  # the areas then
        assert "2020-01-07" in p.js("document.querySelector('.gi-slider-label').textContent")
        # markers follow the date: Saraqib (36.80 E) was the opposition's until the government took 36.7–36.9 E
        held = p.js("Array.from(document.querySelectorAll('path.gi-marker')).map(e => e.getAttribute('data-gi-actor'))")
        assert "opposition" in held
        p.page.locator("input.gi-slider-input").focus()
        p.page.keyboard.press("End")
        assert "government" in p.js("Array.from(document.querySelectorAll('path.gi-marker'))"
                                    ".map(e => e.getAttribute('data-gi-actor'))")
        assert "date=2020-02-01" in p.js("location.hash")   # the hash keeps the state for a link
    finally:
        p.page.close()


def test_the_slider_shows_the_date_asked_for_not_the_last_change(browser, tmp_path):
    f = tmp_path / "d.html"
    io.write_text(f, element.to_html(document.build_map(timeline=front_timeline(), date="2020-02-05")))
    p = open_page(browser, f)
    try:
        assert p.js("document.querySelector('.gi-slider-label').textContent") == "2020-02-05"
    finally:
        p.page.close()


def test_a_phone_sees_the_slider_and_most_of_the_map(browser, page_file):
    p = open_page(browser, page_file, "", 390, 844)
    try:
        r = p.js("""(() => {
          const W = innerWidth, H = innerHeight, step = 6; let free = 0, all = 0;
          const covered = el => el && el.closest('.leaflet-control, .gi-swipe');
          for (let y = step / 2; y < H; y += step) for (let x = step / 2; x < W; x += step) {
            all++; if (!covered(document.elementFromPoint(x, y))) free++; }
          const s = document.querySelector('.gi-slider-input').getBoundingClientRect();
          const at = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
          return {free: free / all, slider: s.bottom <= H && s.top >= 0 && s.width > 200,
                  sliderOnTop: !!at && at.classList.contains('gi-slider-input')}; })()""")
        assert r["slider"] and r["sliderOnTop"], r
        assert r["free"] >= 0.6, r
    finally:
        p.page.close()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_no_output_names_the_report_path_and_no_excerpts_means_no_sentence(chromium, tmp_path):
    report = tmp_path / "secret source" / "wire-7.txt"
    report.parent.mkdir()
    shutil.copy(REPORT, report)
    sentences = [s for s in REPORT.read_text(encoding="utf-8").replace("\n", " ").split(". ") if len(s) > 40]
    outs = {}
    for suffix in ("html", "svg"):
        out = tmp_path / f"m.{suffix}"
        r = run("map", report, "--date", "2020-02-20", "--no-excerpts", "--source-name", "Agency wire", "-o", out)
        assert r.exit_code == 0, r.output
        outs[suffix] = out.read_text(encoding="utf-8")
    for text in outs.values():
        assert str(tmp_path) not in text and "secret source" not in text and "wire-7" not in text
        for s in sentences:
            assert s[:40] not in text, s
    assert "Agency wire" in outs["html"]
    out = tmp_path / "with.html"
    assert run("map", report, "--date", "2020-02-20", "-o", out).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert str(tmp_path) not in html and "wire-7.txt" in html              # the base name only
    assert any(s[:40] in html for s in sentences)                          # excerpts by default


def test_cli_static_exports_and_furniture_options(chromium, tmp_path):
    out = tmp_path / "m.pdf"
    r = run("map", REPORT, "--from", "2019-12-19", "--to", "2020-02-20", "--title", "Idlib offensive",
            "--subtitle", "As reported", "--credit", "Graphic: desk", "--size", "900x650", "-o", out)
    assert r.exit_code == 0, r.output
    need("pdftotext")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Idlib offensive" in text and "As reported" in text and "Graphic: desk" in text
    from geo_idlib import pipeline
    from geo_idlib.territory import change as ch

    gov = next(r for r in ch.compare(pipeline.read_timeline(), "2019-12-19", "2020-02-20")[0] if r["actor"] == "government")
    assert f"Government +{gov['net_km2']:,.0f} ± {gov['uncertain_km2']:,.0f} km² since 2019-12-19" in text  # as `change` says


def test_the_key_figures_match_change(tmp_path):
    """The running figures are the faces' geodesic km²: equal to change.compare's net within 0.1 km²."""
    from geo_idlib import pipeline
    from geo_idlib.territory import change as ch

    t = pipeline.read_timeline()
    summary, polys = ch.compare(t, "2019-12-19", "2020-02-20")
    doc = document.build_document(timeline=t, change_polys=polys, d1="2019-12-19", d2="2020-02-20", basemap=False)
    T, ids = doc["time"], [a["id"] for a in doc["actors"]]
    k = T["start"]
    for row in summary:
        a = ids.index(row["actor"])
        net = T["area_km2"][k][a] - T["area_km2"][T["base"]][a]
        assert net == pytest.approx(row["net_km2"], abs=0.2), row
        if "uncertain_km2" in row:
            u = T["uncertain_km2"][k][a]
            assert u == pytest.approx(row["uncertain_km2"], abs=0.2)


def test_title_is_always_there():
    a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    html = element.to_html(document.build_map(a, basemap=False, date="2020-02-20"))
    assert "<title>Areas of control, 20 February 2020</title>" in html


def test_faces_of_one_side_show_no_seams_between_them(chromium, tmp_path):
    """Ground one side holds, made of faces with different histories (each taken on its own day),
    is drawn in one even colour: Leaflet's own per-ring simplification would part the faces'
    shared, wiggly edges and draw light hairlines between them (0.7 % of the pixels here)."""
    from PIL import Image

    from geo_idlib.territory.timeline import load_timeline

    rng = np.random.default_rng(3)
    along = np.linspace(0.0, 1.0, 400)
    lines = [shapely.LineString(np.column_stack([36.0 + along, y0 + 0.0008 * np.cumsum(rng.normal(size=400))]))
             for y0 in np.arange(35.1, 36.0, 0.1)]
    lines += [shapely.LineString(np.column_stack([x0 + 0.0008 * np.cumsum(rng.normal(size=400)), 35.0 + along]))
              for x0 in np.arange(36.1, 37.0, 0.1)]
    lines.append(shapely.box(36.0, 35.0, 37.0, 36.0).boundary)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    assert len(faces) == 100
    taken = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(len(faces)) % 28 + 1, unit="D")
    rows = [gpd.GeoDataFrame({"actor": "government", "valid_from": taken, "valid_to": pd.NaT}, geometry=list(faces),
                             crs="EPSG:4326"),
            gpd.GeoDataFrame({"actor": "opposition", "valid_from": pd.Timestamp("2020-01-01"), "valid_to": taken},
                             geometry=list(faces), crs="EPSG:4326")]
    t = load_timeline(pd.concat(rows, ignore_index=True), "faces")
    png = tmp_path / "faces.png"
    static.export(document.build_map(timeline=t, date="2020-02-15", title="Faces", basemap=False), png, 800, 600,
                  chromium=chromium)
    with Image.open(png) as img:
        px = np.asarray(img.convert("RGB")).astype(int)
    inside = px[200:450, 250:550]  # well inside the area (the box spans about x 220-580, y 85-530)
    fill = np.median(inside.reshape(-1, 3), axis=0)
    off = np.abs(inside - fill).sum(axis=2)
    assert (off > 30).mean() < 0.002, f"{(off > 30).mean():.2%} of the pixels stray from the fill colour"
