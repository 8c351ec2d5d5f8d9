"""Maps as a person sees them: Debian's headless Chromium driven by playwright (one browser per module).

Skips without /usr/bin/chromium (fails under CI=true, see conftest.chromium). Every page counts its
requests through route interception, its console errors and its dialogs.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_idlib import io
from geo_idlib.maps import document, element, palette, static

pytestmark = pytest.mark.browser
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
            "</script><script>alert(1)</script>"]
W, H = 1024, 768


def timeline():
    w, e, s, n = 36.4, 37.4, 35.6, 36.2
    rows = [("opposition", "2020-01-01", "2020-02-01", shapely.box(w, s, 36.9, n)),
            ("government", "2020-01-01", "2020-02-01", shapely.box(36.9, s, e, n)),
            ("opposition", "2020-02-01", None, shapely.box(w, s, 36.7, n)),
            ("government", "2020-02-01", None, shapely.box(36.7, s, e, n)),
            ("isis", "2020-01-01", "2020-01-10", shapely.box(37.0, 36.2, 37.4, 36.5)),
            ("turkish_backed", "2020-01-01", None, shapely.box(w, 36.2, 36.9, 36.5))]
    df = pd.DataFrame(rows, columns=["actor", "valid_from", "valid_to", "geometry"])
    df["valid_from"], df["valid_to"] = pd.to_datetime(df["valid_from"]), pd.to_datetime(df["valid_to"])
    return gpd.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")


def places(rows):
    recs, geom = [], []
    for i, (name, lat, lon, sentence, actor) in enumerate(rows):
        ok = lat is not None
        recs.append({"report": "wire <b>report</b>.txt", "mention": name, "start": i, "end": i + 1, "sentence": sentence,
                     "name": name, "place_id": f"geonames:{i}" if ok else "", "country": "SY", "admin1": "Idlib",
                     "feature_code": "PPL", "precision": "settlement", "confidence": 0.8,
                     "status": "resolved" if ok else "unresolved", "lat": lat if ok else np.nan,
                     "lon": lon if ok else np.nan, "actor": actor})
        geom.append(shapely.Point(lon, lat) if ok else None)
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=geom, crs="EPSG:4326")


def change():
    return gpd.GeoDataFrame({"actor_from": ["opposition"], "actor_to": ["government"], "area_km2": [1090.0]},
                            geometry=[shapely.box(36.7, 35.6, 36.9, 36.2)], crs="EPSG:4326")


def front_timeline():
    """Two sides along a front (the government gains 36.8–36.9 E on 1 Feb) and a big unknown area east."""
    t = timeline()
    t = t[t.actor.isin(["opposition", "government"])].copy()
    t.loc[t.actor == "government", "geometry"] = [shapely.box(36.9, 35.6, 37.3, 36.3), shapely.box(36.7, 35.6, 37.3, 36.3)]
    t.loc[t.actor == "opposition", "geometry"] = [shapely.box(36.4, 35.6, 36.9, 36.3), shapely.box(36.4, 35.6, 36.7, 36.3)]
    unknown = gpd.GeoDataFrame({"actor": ["unknown"], "valid_from": pd.to_datetime(["2020-01-01"]),
                                "valid_to": pd.to_datetime([None])}, geometry=[shapely.box(37.3, 35.3, 39.0, 37.0)],
                               crs="EPSG:4326")
    return pd.concat([t, unknown], ignore_index=True)


def front_places():
    p = places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government"),
                ("Sarmin", 35.9040, 36.7250, "Shelling hit Sarmin.", "opposition"),
                ("Hama", 35.1318, 36.7578, "The M5 between Hama and Aleppo.", None),
                ("Syria", 34.9880, 38.5343, "The offensive in northwest Syria.", None),
                ("Ankara", 39.9199, 32.8543, "Talks in Ankara.", None),
                ("Moscow", 55.7522, 37.6156, "And in Moscow.", None)])
    p.loc[p["name"] == "Syria", "precision"] = "country"
    return p


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=static.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("maps")
    main = document.build_map(places=places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government"),
                                           ("Sarmin", 35.9040, 36.7250, "Shelling hit Sarmin.", "opposition"),
                                           ("Moscow", 55.7522, 37.6156, "Talks in Moscow.", None)]),
                            timeline=timeline(), change_polys=change(), d1="2020-01-05", d2="2020-02-10",
                            title="Test map")
    xss = document.build_map(places=places([("Saraqib " + PAYLOADS[1], 35.8646, 36.8003, "Near " + PAYLOADS[0], PAYLOADS[2]),
                                          ("Sarmin", 35.9040, 36.7250, PAYLOADS[3], None),
                                          ("Moscow " + PAYLOADS[2], 55.75, 37.61, "Far " + PAYLOADS[1], None),
                                          ("Nowhere", None, None, "Lost " + PAYLOADS[0], None)]),
                           timeline=timeline(), title=PAYLOADS[3], notice=PAYLOADS[1], basemap=False)
    front = document.build_map(places=front_places(), timeline=front_timeline(), change_polys=change(),
                             d1="2020-01-05", d2="2020-02-10", title="Front")
    many = [(f"Far place {i:02d} " + PAYLOADS[i % 3], 48.0 + i * 0.2, 10.0 + i * 0.1, f"Sentence {i} " + PAYLOADS[1], None)
            for i in range(40)]
    long = document.build_map(places=places(many + [(f"Lost {i}", None, None, "Not found.", None) for i in range(12)]),
                            timeline=timeline(), change_polys=change(), d1="2020-01-05", d2="2020-02-10",
                            title="Long panel")
    out = {}
    for name, m in (("main", main), ("xss", xss), ("front", front), ("long", long)):
        out[name] = d / f"{name}.html"
        io.write_text(out[name], element.to_html(m))
    return out


#: Records every Content-Security-Policy violation of a page (read back as ``Page.violations``).
WATCH_CSP = ("window.__giCsp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__giCsp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample))")


class Page:
    """A page with its requests, console errors, dialogs and CSP violations recorded."""

    def __init__(self, browser, path):
        self.url = path.resolve().as_uri()
        self.requests, self.errors, self.dialogs = [], [], []
        self.page = browser.new_page(viewport={"width": W, "height": H})
        self.page.add_init_script(WATCH_CSP)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(self.url, wait_until="load")
        self.page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=10000)

    def _route(self, route):
        self.requests.append(route.request.url)
        return route.continue_() if route.request.url == self.url else route.abort()

    def js(self, expr):
        return self.page.evaluate(expr)

    @property
    def violations(self):
        return self.js("window.__giCsp")

    def classes(self, pane):
        return sorted(self.js(f"Array.from(document.querySelectorAll('.leaflet-{pane}-pane path.gi-area'))"
                              ".map(p => p.getAttribute('class').match(/gi-actor-(\\S+)/)[1])"))


@pytest.fixture(scope="module")
def main_page(browser, files):
    p = Page(browser, files["main"])
    yield p
    p.page.close()


def test_offline_map_starts_with_no_errors_and_no_requests(main_page):
    p = main_page
    assert p.js("typeof L !== 'undefined' && L.version") == "1.9.4"
    assert p.js("map_geo_idlib instanceof L.Map")
    assert p.errors == [] and p.violations == []
    assert p.requests == [p.url], "an offline map must not request anything but itself"
    policy = p.js("document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
    assert policy.startswith("default-src 'none'; script-src 'sha256-") and "unsafe" not in policy
    assert p.js("document.querySelector('#map_geo_idlib').getAttribute('data-gi-basemap')") in ("1", None)


def test_areas_markers_and_change_are_drawn(main_page):
    p = main_page
    # right of the swipe: 2020-02-10 (the snapshot from 2020-02-01); left: 2020-01-05 (with ISIS)
    assert p.classes("gi-main") == ["government", "opposition", "turkish_backed"]
    assert p.classes("gi-left") == ["government", "isis", "opposition", "turkish_backed"]
    # faces of one actor are one path; shells CCW and holes CW under the non-zero rule, so faces
    # that touch or overlap after simplification never cancel out (even-odd would punch holes)
    assert p.js("Array.from(document.querySelectorAll('path.gi-area')).every(e => e.getAttribute('fill-rule') === 'nonzero')")
    assert p.js("document.querySelectorAll('path.gi-marker').length") == 2          # Moscow is in the panel
    assert p.js("document.querySelectorAll('path.gi-change').length") == 1
    # the change is outlined with the palette's dash, in the colour of the side that lost it
    pal = palette.palette()
    dash, stroke = p.js("(e => [e.getAttribute('stroke-dasharray'), e.getAttribute('stroke')])"
                        "(document.querySelector('path.gi-change'))")
    assert dash == pal["change"]["lost_dash"] and stroke == pal["actors"]["opposition"]["color"]
    assert "Moscow" in p.js("document.querySelector('.gi-panel').textContent")
    legend = p.js("document.querySelector('.gi-legend').textContent")
    assert "+1,090 km²" in legend and "−1,090 km²" in legend
    fills = p.js("Array.from(document.querySelectorAll('path.gi-marker')).map(e => e.getAttribute('fill')).sort()")
    assert fills == sorted([pal["actors"]["government"]["color"], pal["actors"]["opposition"]["color"]])
    # legend swatches take their colour from the document (a CSS custom property, no style attribute)
    swatch = p.js("getComputedStyle(document.querySelector('.gi-legend-row[data-actor=government] .gi-swatch'))"
                  ".backgroundColor")
    assert swatch == "rgb({}, {}, {})".format(*_hex(pal["actors"]["government"]["color"]))
    assert p.violations == []


def test_slider_changes_the_visible_areas(main_page):
    p = main_page
    slider = p.page.locator("input.gi-slider-input")
    slider.focus()
    p.page.keyboard.press("Home")
    assert p.js("map_geo_idlib.getContainer().getAttribute('data-gi-main')") == "2020-01-01"
    assert p.classes("gi-main") == ["government", "isis", "opposition", "turkish_backed"]
    p.page.keyboard.press("ArrowRight")  # 2020-01-10: ISIS gone
    assert p.classes("gi-main") == ["government", "opposition", "turkish_backed"]
    assert "2020-01-10" in p.js("document.querySelector('.gi-slider-label').textContent")
    p.page.keyboard.press("End")
    assert p.js("map_geo_idlib.getContainer().getAttribute('data-gi-main')") == "2020-02-01"
    assert p.errors == []


def _clip_x(style):
    # polygon(Lpx Tpx, Rpx Tpx, ...): the left and right x of the clip rectangle
    xs = [float(v) for v in re.findall(r"(-?[\d.]+)px -?[\d.]+px", style)]
    return min(xs), max(xs)


def test_dragging_the_swipe_moves_the_clip(main_page):
    p = main_page
    get = "[map_geo_idlib.getPane('gi-left').style.clipPath, map_geo_idlib.getPane('gi-main').style.clipPath]"
    left0, main0 = p.js(get)
    start = p.js("parseFloat(document.querySelector('.gi-swipe').style.left)")
    # the swipe starts on the change (its bounds' centre longitude), not blindly at mid-width
    on_change = p.js("Math.round(map_geo_idlib.latLngToContainerPoint([map_geo_idlib.getCenter().lat, "
                     "JSON.parse(document.getElementById('geo_idlib_data').textContent).time.swipe.lon]).x)")
    assert start == pytest.approx(min(max(on_change, 0.1 * W), 0.9 * W), abs=2)
    box = p.page.locator(".gi-swipe-handle").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    p.page.mouse.move(x, y)
    p.page.mouse.down()
    p.page.mouse.move(x - 150, y, steps=5)
    p.page.mouse.move(x - 300, y, steps=5)
    p.page.mouse.up()
    left1, main1 = p.js(get)
    assert left1 != left0 and main1 != main0
    assert _clip_x(left0)[1] - _clip_x(left1)[1] == pytest.approx(300, abs=3)   # the left side shrank
    assert _clip_x(main0)[0] - _clip_x(main1)[0] == pytest.approx(300, abs=3)   # the right side grew
    assert p.js("parseFloat(document.querySelector('.gi-swipe').style.left)") == pytest.approx(start - 300, abs=3)
    # the map itself did not pan while dragging the handle
    assert p.js("map_geo_idlib.dragging.enabled()")
    assert p.errors == []


def test_report_text_payloads_never_run(browser, files):
    p = Page(browser, files["xss"])
    try:
        n = p.js("document.querySelectorAll('path.gi-marker').length")
        assert n == 2
        texts = []
        for i in range(n):  # click every marker and read its popup; hover it and read its tooltip
            marker = p.page.locator("path.gi-marker").nth(i)
            marker.dispatch_event("click")  # on the marker itself, even if a popup or label covers it
            p.page.wait_for_selector(".leaflet-popup-content")
            # the newest popup is the last one (Leaflet removes a closed one only after its 200 ms fade)
            texts.append(p.js("Array.from(document.querySelectorAll('.leaflet-popup-content')).pop().textContent"))
            p.js("map_geo_idlib.closePopup()")
            marker.dispatch_event("mouseover")
            tips = p.js("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)")
            assert texts[-1].split("settlement")[0] in tips, tips  # the name, as text
            marker.dispatch_event("mouseout")
        assert len(set(texts)) == n
        joined = " ".join(texts)
        assert PAYLOADS[0] in joined and PAYLOADS[2] in joined and PAYLOADS[3] in joined  # shown as text
        panel = p.js("document.querySelector('.gi-panel').textContent")
        assert PAYLOADS[1] in panel and "Far " + PAYLOADS[1] in panel and "Lost " + PAYLOADS[0] in panel
        assert p.js("document.querySelector('.gi-title').textContent") == PAYLOADS[3]
        p.page.wait_for_timeout(100)  # an onerror/onload would have fired by now
        assert p.dialogs == []
        injected = p.js("document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content svg, "
                        ".leaflet-popup-content script, .gi-panel img, .gi-panel svg, .gi-panel script, "
                        ".leaflet-tooltip img, .gi-title script, [onerror], [onload]').length")
        assert injected == 0
        # folium's L_NO_TOUCH flags, Leaflet + ours, the data, the init call: no script came from the text
        assert p.js("document.querySelectorAll('script').length") == 4
        legend = p.js("Array.from(document.querySelectorAll('.gi-legend-row')).map(r => r.textContent)")
        assert PAYLOADS[2] + " (unrecognised)" in legend  # the unknown actor, named as written
        assert p.errors == [] and p.requests == [p.url] and p.violations == []
    finally:
        p.page.close()


def test_the_policy_blocks_any_script_the_map_did_not_bring(browser, files, tmp_path):
    """Negative control: a script slipped into the page (as an escaping slip would) does not run."""
    html = files["main"].read_text(encoding="utf-8")
    slipped = tmp_path / "slipped.html"
    slipped.write_text(html.replace("</body>", "<script>window.__giSlipped = 1</script>"
                                    "<img src=x onerror='window.__giSlipped = 2'></body>", 1), encoding="utf-8")
    p = Page(browser, slipped)
    try:
        p.page.wait_for_timeout(100)
        assert p.js("window.__giSlipped") is None
        assert {v.split()[0] for v in p.violations} >= {"script-src-elem", "script-src-attr"}, p.violations
        assert p.js("map_geo_idlib.getContainer().getAttribute('data-gi-ready')") == "1"  # the map itself runs
    finally:
        p.page.close()


def test_online_tiles_are_allowed_by_the_policy(browser, tmp_path):
    """offline=False: the policy lets the page ask xyzservices' tile servers for images, and only them
    (the requests are aborted here: the test never goes online)."""
    page_file = tmp_path / "online.html"
    io.write_text(page_file, element.to_html(document.build_map(timeline=timeline(), offline=False)))
    p = Page(browser, page_file)
    try:
        p.page.wait_for_timeout(200)
        tiles = [u for u in p.requests if u.startswith("https://tile.openstreetmap.org/")]
        assert tiles and all(re.fullmatch(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png", u) for u in tiles)
        assert p.violations == [] and set(p.requests) == {p.url, *tiles}
    finally:
        p.page.close()


def _near(rgb, colour, tol=6):
    return (np.abs(rgb.astype(int) - np.array(colour)) <= tol).all(axis=-1)


def _hex(c):
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])


def test_png_export_shows_the_palette(chromium, tmp_path):
    from PIL import Image

    m = document.build_map(timeline=timeline(), date="2020-02-10", basemap=False, title="PNG")
    out = tmp_path / "map.png"
    assert static.to_png(m, out, width=800, height=600, chromium=chromium) == str(out)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (600, 800, 3)
    pal = palette.palette()
    a, bg = pal["area_fill_opacity"], _hex(pal["background"])
    share = {}
    for actor in ("government", "opposition", "turkish_backed"):
        blended = np.rint(a * _hex(pal["actors"][actor]["color"]) + (1 - a) * bg)
        share[actor] = _near(img, blended).mean()
    assert share["government"] > 0.05 and share["opposition"] > 0.03 and share["turkish_backed"] > 0.03, share
    assert share["government"] > share["opposition"]  # 36.7–37.4 E vs 36.4–36.7 E on that date
    with pytest.raises(Exception, match="already exists"):
        static.to_png(m, out, width=800, height=600, chromium=chromium)


def test_png_export_from_an_html_file_and_from_html_text(chromium, files, tmp_path):
    from PIL import Image

    a, b = tmp_path / "from_file.png", tmp_path / "from_text.png"
    static.to_png(files["main"], a, width=640, height=480, chromium=chromium)
    static.to_png(files["main"].read_text(encoding="utf-8"), b, width=640, height=480, chromium=chromium)
    ia, ib = np.asarray(Image.open(a).convert("RGB")), np.asarray(Image.open(b).convert("RGB"))
    assert ia.shape == ib.shape == (480, 640, 3)
    # the same map, whichever way it was given: equal up to sub-pixel anti-aliasing (edges and
    # hatching may land a fraction of a pixel apart), so compare 8x8-pixel block means
    blocks_a, blocks_b = (x.astype(float).reshape(60, 8, 80, 8, 3).mean(axis=(1, 3)) for x in (ia, ib))
    assert (np.abs(blocks_a - blocks_b).max(axis=2) <= 12).mean() > 0.99
    assert len(np.unique(ia.reshape(-1, 3), axis=0)) > 50   # not a blank page
    with pytest.raises(Exception, match="no such HTML file"):
        static.to_png(tmp_path / "missing.html", tmp_path / "c.png", chromium=chromium)


# --------------------------------------------------------------------------- what the first view shows
def _first_view(p):
    """Per marker: its name, whether the map's view contains it, and whether a person sees it there
    (the element at its centre is a marker, not a control drawn over it); plus the view and the panel."""
    return p.js("""(() => {
      const view = map_geo_idlib.getBounds(), box = map_geo_idlib.getContainer().getBoundingClientRect();
      const out = {markers: [], change: [], unknown: [], panel: document.querySelector('.gi-panel-body').textContent,
                   view: [view.getSouth(), view.getWest(), view.getNorth(), view.getEast()]};
      map_geo_idlib.eachLayer(l => {
        const c = l.options && l.options.className;
        if (c === 'gi-marker') {
          const ll = l.getLatLng(), pt = map_geo_idlib.latLngToContainerPoint(ll), inView = view.contains(ll);
          const el = inView ? document.elementFromPoint(box.left + pt.x, box.top + pt.y) : null;
          out.markers.push({name: l.options.giName, inView: inView,
                            seen: !!el && el.classList.contains('gi-marker')});
        }
        if (c === 'gi-change') out.change.push(view.contains(l.getBounds()));
        if (c && c.indexOf('gi-actor-unknown') >= 0 && l.getLatLngs().length) out.unknown.push(view.contains(l.getBounds()));
      });
      return out; })()""")


@pytest.fixture(scope="module")
def front_page(browser, files):
    p = Page(browser, files["front"])
    yield p
    p.page.close()


def test_first_view_shows_the_places_and_the_change_not_the_whole_unknown_area(front_page):
    v = _first_view(front_page)
    seen = sorted(m["name"] for m in v["markers"] if m["inView"] and m["seen"])
    assert seen == ["Hama", "Saraqib", "Sarmin"], v["markers"]
    assert v["change"] == [True]                      # the change polygon is wholly in view
    assert v["unknown"] == [False, False]             # the unknown area (to 39.0 E; both sides of the swipe)
    south, west, north, east = v["view"]
    assert east < 39.0 and north < 37.0
    assert front_page.errors == [] and front_page.requests == [front_page.url]


def test_every_located_place_is_seen_or_listed_by_name_with_its_distance(front_page):
    p = front_page
    v = _first_view(p)
    off = [m["name"] for m in v["markers"] if not m["inView"]]
    assert sorted(off) == ["Ankara", "Syria"]
    items = p.js("Array.from(document.querySelectorAll('.gi-outside li summary')).map(s => s.textContent)")
    assert [t.split(" ")[0] for t in items] == ["Syria", "Ankara", "Moscow"]   # nearest first
    assert re.fullmatch(r"Syria \d+ km SE · country · SY · zoom out", items[0]), items[0]
    assert re.fullmatch(r"Ankara \d{3} km NW · SY · zoom out", items[1]), items[1]
    assert re.fullmatch(r"Moscow [\d,]+ km N · SY · not drawn \(over 500 km\)", items[2]), items[2]
    assert "Outside this view (3)" in v["panel"]
    for m in v["markers"]:
        assert m["seen"] or m["name"] in v["panel"], m
    # a place's sentence folds out under its name
    s = p.page.locator(".gi-outside li summary").nth(1)
    quote = p.page.locator(".gi-outside li blockquote").nth(1)
    assert not quote.is_visible()
    s.click()
    assert quote.is_visible() and "Talks in Ankara." in quote.text_content()
    s.click()
    # a short list is shown whole: nothing to scroll
    assert p.js("(() => { const b = document.querySelector('.gi-panel-body'); return b.scrollHeight <= b.clientHeight; })()")


def test_a_long_side_panel_scrolls_on_its_own_to_its_last_item(browser, files):
    p = Page(browser, files["long"])
    try:
        body = "document.querySelector('.gi-panel-body')"
        geo = p.js(f"""(() => {{ const b = {body}, r = b.getBoundingClientRect(),
            panel = document.querySelector('.gi-panel').getBoundingClientRect(),
            legend = document.querySelector('.gi-legend').getBoundingClientRect();
            return {{scroll: b.scrollHeight, client: b.clientHeight, overflow: getComputedStyle(b).overflowY,
                     top: r.top, bottom: r.bottom, panelBottom: panel.bottom, legendTop: legend.top,
                     items: b.querySelectorAll('li').length, title: document.querySelector('.gi-title').textContent}}; }})()""")
        assert geo["items"] == 52 and geo["title"] == "Long panel"
        assert geo["overflow"] in ("auto", "scroll") and geo["scroll"] > geo["client"] + 100
        # the box stays on the page, above the legend, and is tall enough to read
        assert geo["panelBottom"] <= H and geo["panelBottom"] < geo["legendTop"]
        assert geo["client"] >= 200
        # the mouse wheel over the list scrolls the list, not the map
        zoom = p.js("map_geo_idlib.getZoom()")
        box = p.page.locator(".gi-panel-body").bounding_box()
        p.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(60):
            p.page.mouse.wheel(0, 400)
        p.page.wait_for_timeout(300)
        assert p.js(f"{body}.scrollTop") > 0 and p.js("map_geo_idlib.getZoom()") == zoom
        assert p.js(f"(() => {{ const b = {body}; return Math.abs(b.scrollTop + b.clientHeight - b.scrollHeight) <= 2; }})()")
        # ... down to its last item, which is then seen: inside the box, on top at its centre
        last = p.js(f"""(() => {{ const b = {body}, li = b.querySelector('.gi-not-located li:last-child'),
            r = li.getBoundingClientRect(), br = b.getBoundingClientRect(),
            el = document.elementFromPoint(r.left + 20, r.top + r.height / 2);
            return {{text: li.querySelector('summary').textContent, inside: r.top >= br.top - 1 && r.bottom <= br.bottom + 1,
                     onTop: li.contains(el)}}; }})()""")
        assert last == {"text": "Lost 9 unresolved", "inside": True, "onTop": True}
        # every item can be scrolled into view (the first, the middle and the last one)
        for i in (0, 26, 51):
            ok = p.js(f"""(() => {{ const b = {body}, li = b.querySelectorAll('li')[{i}]; li.scrollIntoView({{block: 'nearest'}});
                const r = li.getBoundingClientRect(), br = b.getBoundingClientRect();
                return r.top >= br.top - 1 && r.bottom <= br.bottom + 1; }})()""")
            assert ok, i
        # the far places are listed by name, escaped (the payloads are text)
        text = p.js(f"{body}.textContent")
        assert "Outside this view (40)" in text and "Not located (12)" in text and "Far place 39 " + PAYLOADS[0] in text
        assert p.dialogs == [] and p.errors == [] and p.requests == [p.url]
    finally:
        p.page.close()
