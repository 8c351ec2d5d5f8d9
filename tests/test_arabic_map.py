"""Maps that speak Arabic (issue 16): --lang ar, right-to-left layout, Arabic labels in the page and in
the static exports, checked as a person sees them in Debian's headless Chromium.

The report below is written for these tests in the style of local news (never text from ../shared).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import test_browser
from click.testing import CliRunner
from conftest import IN_CI
from test_browser import PAYLOADS, Page, front_timeline, places
from test_publish import LABEL_BOXES, _intersect, need, open_page

from geo_idlib import io, pipeline
from geo_idlib.cli import cli
from geo_idlib.maps import document, element, furniture

pytestmark = pytest.mark.browser
browser = test_browser.browser

#: Our own Arabic report: shelling and fighting around Saraqib, Sarmin, Maarat al-Numan and Idlib.
REPORT_AR = (
    "إدلب - 20 شباط 2020\n"
    "قصفت قوات النظام مدينة سراقب وبلدة سرمين بالمدفعية الثقيلة صباح اليوم، فيما تواصلت الاشتباكات "
    "على أطراف معرة النعمان.\n"
    "وأفاد ناشطون بنزوح مئات العائلات من ريف إدلب الشرقي نحو المخيمات القريبة من الحدود.\n"
)
#: The report's places, each in its Arabic name.
ARABIC_NAMES = {"إدلب", "سراقب", "سرمين", "معرة النعمان"}
ARABIC_FONT = Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf")


def need_font():
    """Skip without Debian's Noto Naskh Arabic (fail under CI=true): ``make test`` installs fonts-noto-core."""
    if not ARABIC_FONT.exists():
        msg = "no Noto Naskh Arabic (Debian's fonts-noto-core: make test installs it when run as root)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    p = tmp_path_factory.mktemp("arabic") / "تقرير.txt"
    p.write_text(REPORT_AR, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def arabic_page(tmp_path_factory, report):
    out = tmp_path_factory.mktemp("arabic_map") / "map.html"
    r = run("map", report, "--from", "2019-12-19", "--to", "2020-02-20", "-o", out)  # no --lang: the script decides
    assert r.exit_code == 0, r.output
    return out


# --------------------------------------------------------------------------- the texts table
def test_the_arabic_table_has_every_text_of_the_english_one():
    en, ar = furniture.text_table("en"), furniture.text_table("ar")
    assert set(en) <= set(ar), set(en) - set(ar)
    assert (ar["lang"], ar["dir"], ar["months"][1]) == ("ar", "rtl", "شباط")
    for key, value in en.items():  # the same placeholders, so the page fills every one
        if isinstance(value, str):
            assert sorted(furniture.re.findall(r"\{(\w+)\}", value)) == \
                sorted(furniture.re.findall(r"\{(\w+)\}", ar[key])), key
    assert set(ar["actors"]) == set(document.palette()["actors"])   # every actor of the palette named


def test_the_reports_script_decides_the_language():
    assert furniture.lang_of([REPORT_AR]) == "ar"
    assert furniture.lang_of(["Government forces shelled Saraqib (سراقب) on Monday."]) == "en"


def test_an_unknown_language_is_bad_input(tmp_path, report):
    r = run("map", report, "--lang", "fr", "-o", tmp_path / "m.html")
    assert r.exit_code == 2 and "--lang" in r.output and not (tmp_path / "m.html").exists()
    with pytest.raises(Exception, match="--lang xx: no map texts in that language; give one of ar, en"):
        document.build_document(timeline=front_timeline(), lang="xx")


def test_arabic_names_come_from_the_gazetteer_by_id():
    idx = pipeline.gazetteer_index()
    assert pipeline.arabic_name(idx.get("geonames:164816")) == "سراقب"      # Saraqib
    assert pipeline.arabic_name(idx.get("geonames:169389")) == "إدلب"        # Idlib, hamza kept
    p = places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government")])
    p["place_id"] = "geonames:164816"
    assert pipeline.arabic_names(p, idx)["name_ar"].tolist() == ["سراقب"]
    p["name_ar"] = "سراقب (مدينة)"                                           # a name the places carry wins
    assert pipeline.arabic_names(p, idx)["name_ar"].tolist() == ["سراقب (مدينة)"]


# --------------------------------------------------------------------------- in the browser
def test_an_arabic_report_gives_an_arabic_map_laid_out_right_to_left(browser, arabic_page):
    need_font()
    p = open_page(browser, arabic_page)
    try:
        assert p.js("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
        labels = p.js(LABEL_BOXES)
        shown = {x["text"] for x in labels if x["kind"] == "place"}
        assert ARABIC_NAMES <= shown, shown                           # the labels, in Arabic
        for i, a in enumerate(labels):                                 # drawn, and never over each other
            assert a["box"][2] - a["box"][0] > 5, a
            for b in labels[i + 1:]:
                assert not _intersect(a["box"], b["box"]), (a, b)
        dirs = p.js("Array.from(document.querySelectorAll('.gi-label-place')).filter(e => e.style.display !== 'none')"
                    ".map(e => getComputedStyle(e).direction)")
        assert dirs and set(dirs) == {"rtl"}
        # the Arabic is drawn in Noto Naskh Arabic, Latin keeps the interface font
        fonts = p.js("document.fonts.check('600 12px \"GI Arabic\"', 'سراقب')")
        assert fonts is True
        # mirrored: the panel on the left, the slider on the right, the legend on the left
        corner = p.js("""(() => { const W = innerWidth, c = s => { const r = document.querySelector(s).getBoundingClientRect();
            return (r.left + r.right) / 2 < W / 2 ? 'left' : 'right'; };
            return [c('.gi-panel'), c('.gi-legend'), c('.gi-slider')]; })()""")
        assert corner == ["left", "left", "right"]
        panel = p.js("document.querySelector('.gi-panel').textContent")
        assert "التغير في السيطرة على الأرض من 19 كانون الأول 2019 إلى 20 شباط 2020" in panel
        legend = p.js("document.querySelector('.gi-legend').textContent")
        assert "الحكومة (الجيش السوري وحلفاؤه)" in legend and "كم²" in legend
        # a number keeps its sign on its left in right-to-left text: "+3,065", never "3,065+"
        signs = p.js("""(() => { const n = document.querySelector('.gi-figure').firstChild, t = n.textContent,
            r = document.createRange(), i = t.search(/[+\u2212]/), x = j => { r.setStart(n, j); r.setEnd(n, j + 1);
            return r.getBoundingClientRect().left; }; return [x(i), x(i + 1)]; })()""")
        assert signs[0] < signs[1], signs
        # the tooltip keeps the report's own spelling
        tips = []
        for i in range(p.js("document.querySelectorAll('path.gi-marker').length")):
            m = p.page.locator("path.gi-marker").nth(i)
            m.dispatch_event("mouseover")
            tips += p.js("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)")
            m.dispatch_event("mouseout")
        assert {"سراقب", "سرمين", "معرة النعمان"} <= set(tips), tips
        assert p.errors == []
    finally:
        p.page.close()


def test_english_reports_get_arabic_labels_and_arabic_reports_english_texts(tmp_path, report):
    out = tmp_path / "en.html"
    assert run("map", report, "--lang", "en", "--date", "2020-02-20", "-o", out).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert '<html lang="en" dir="ltr">' in html and '"label":"سراقب"' in html   # the report's own spelling
    english = tmp_path / "report.txt"
    english.write_text("Government forces shelled Saraqib and Sarmin on Thursday.\n", encoding="utf-8")
    out = tmp_path / "ar.html"
    assert run("map", english, "--lang", "ar", "--date", "2020-02-20", "-o", out).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    assert '"label":"سراقب"' in html and '"tip":"Saraqib"' in html               # Arabic name, report's spelling


def test_the_pdf_and_svg_keep_the_arabic_labels_as_text(chromium, tmp_path, report):
    need_font()
    need("pdftotext")
    pdf, svg = tmp_path / "m.pdf", tmp_path / "m.svg"
    for out in (pdf, svg):
        r = run("map", report, "--lang", "ar", "--date", "2020-02-20", "--size", "1000x700", "-o", out)
        assert r.exit_code == 0, r.output
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoNaskhArabic" in fonts                                   # shaped with Debian's font, embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = furniture.re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)  # pdftotext's own bidi marks
    for name in ARABIC_NAMES | {"مناطق السيطرة في", "شباط", "الأماكن المذكورة في"}:
        assert name in text, (name, text)                               # the logical characters, lam-alef too
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg.read_text(encoding="utf-8").split("\n", 1)[1])
    texts = {t.text: t.get("direction") for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert ARABIC_NAMES <= set(texts), texts
    assert all(texts[n] == "rtl" for n in ARABIC_NAMES)


def test_hostile_text_in_an_arabic_map_is_shown_as_text(browser, tmp_path):
    hostile = places([("سراقب " + PAYLOADS[1], 35.8646, 36.8003, "قصف على سراقب " + PAYLOADS[0], "government"),
                      ("سرمين", 35.9040, 36.7250, PAYLOADS[3] + " اشتباكات", "opposition"),
                      ("مكان " + PAYLOADS[2], None, None, "لم يحدد " + PAYLOADS[1], None)])
    f = tmp_path / "xss.html"
    io.write_text(f, element.to_html(document.build_map(places=hostile, timeline=front_timeline(), lang="ar",
                                                        title="عنوان " + PAYLOADS[3], notice=PAYLOADS[1])))
    p = Page(browser, f)
    try:
        labels = p.js("Array.from(document.querySelectorAll('.gi-label-place')).map(e => e.textContent)")
        assert "سراقب " + PAYLOADS[1] in labels
        p.page.locator("path.gi-marker").first.dispatch_event("click")
        popup = p.js("document.querySelector('.leaflet-popup-content').textContent")
        assert PAYLOADS[1] in popup or PAYLOADS[3] in popup
        panel = p.js("document.querySelector('.gi-panel').textContent")
        assert "عنوان " + PAYLOADS[3] in panel and "لم يحدد " + PAYLOADS[1] in panel and PAYLOADS[2] in panel
        p.page.wait_for_timeout(100)
        assert p.dialogs == [] and p.errors == [] and p.violations == []
        assert p.js("document.querySelectorAll('.gi-panel img, .gi-panel svg, .gi-label img, [onerror], [onload]')"
                    ".length") == 0
        assert p.js("document.querySelectorAll('script').length") == 4
    finally:
        p.page.close()
