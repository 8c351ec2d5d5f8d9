"""`make eval`: hostile text in every field of a map, opened in headless Chromium; none runs, all show as written.

The corpus (:func:`corpus`, issue 15) holds HTML and SVG event handlers, ``javascript:`` and
``data:`` URLs, ``</script>``, comment, CDATA and quote breakouts, Jinja ``{{ }}``, ``{% %}`` and
``{# #}``, JS ``${}`` and other template syntaxes, U+2028/U+2029, bidi and zero-width marks,
control characters (no NUL), entities and escapes that must stay literal, and 100,000-character
lines. Each payload that could run calls ``__giRan(<its number>)``; the page records those calls and
every ``alert``/``confirm``/``prompt``/``print``.

One map (:func:`hostile_map`) carries every payload in every field that reaches the page: the
title, the notice, a place's gazetteer name, a mention (of an unlocated place), the report's
sentence and file name, admin1, country, the actor of an area, and the actors of a change. The
page is opened twice in Debian's headless Chromium (:func:`check`):

- **without** its Content-Security-Policy (the meta removed), so that escaping alone must hold:
  no payload runs, no element or ``on*`` attribute appears from text, and the DOM shows each
  payload exactly as written (popups, tooltips, legend, side panel, ``<title>``);
- **with** it: the same, and no CSP violation at all (any injected markup would trip one).

The Python side is checked too: a ``{{ lipsum.__globals__.os.mkdir(...) }}`` payload would create a
directory in the working directory if any template engine evaluated text.

Prints ``payloads: N tried in F fields, N shown as text, 0 ran`` (and the failures, if any); exits
1 when a payload ran or was not shown as written. Needs ``/usr/bin/chromium`` (or
$GEO_IDLIB_CHROMIUM) and playwright; without them it says so and exits 0.

Usage: .venv/bin/python -m scripts.eval_payloads
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_idlib.maps import document, element, static

#: The working-directory canary of the Python-side payload.
CANARY = "gi_canary_jinja_ran"

#: The fields every payload goes into.
FIELDS = ("title", "notice", "place name", "mention", "sentence", "report file name", "admin1", "country",
          "area actor", "change actors")

#: The day the map shows (the popups say "held ... on" it).
DAY = "2020-01-01"


def corpus() -> list[str]:
    """The hostile payloads, each distinct; ``__giRan(i)`` in payload ``i`` reports that it ran."""
    r = "__giRan({})"
    handlers = [
        '<img src=x onerror={}>', '<svg onload={}>', '<svg><script>{}</script></svg>', '<body onload={}>',
        '<iframe srcdoc="<script>parent.{}</script>"></iframe>', '<details open ontoggle={}>',
        '<video><source onerror={}></video>', '<audio src=x onerror={}>', '<input autofocus onfocus={}>',
        '<marquee onstart={}>', '<object data="javascript:{}"></object>', '<embed src="javascript:{}">',
        '<math><mtext><table><mglyph><style><img src=x onerror={}>', '<div style="background:url(javascript:{})">',
        '<a href="javascript:{}">click me</a>', '<form action="javascript:{}"><button>go</button></form>',
        '<meta http-equiv="refresh" content="0;url=javascript:{}">', '<base href="javascript:{}//">',
        '<noscript><p title="</noscript><img src=x onerror={}>">', '<template><script>{}</script></template>',
        '<svg><a xlink:href="javascript:{}"><text x="1" y="9">x</text></a></svg>',
        '<img src="x` `<script>{}</script>"` `>', '<svg><animate onbegin={} attributeName=x dur=1s>',
        '<style>@import "javascript:{}";</style>', '<link rel=stylesheet href="javascript:{}">',
    ]
    urls = ['javascript:{}', 'JaVaScRiPt:{}//', ' javascript:{}', 'data:text/html,<script>{}</script>',
            'vbscript:{}', 'data:text/html;base64,PHNjcmlwdD5fX2dpUmFuKDEpPC9zY3JpcHQ+']
    breakouts = [
        '</script><script>{}</script>', '</SCRIPT ><script>{}</script>', '<!--<script>{}</script>-->',
        ']]><script>{}</script>', '</title><script>{}</script>', '</style><script>{}</script>',
        '</textarea><script>{}</script>', '"><script>{}</script>', "'><img src=x onerror={}>",
        '" onmouseover="{}" x="', "' onfocus='{}' autofocus x='", '\\"}};{};//', "'}};{};//", '");{};//',
        '\u2028{}\u2029', '<script>{}</script>', '<<script>{}//<</script>', '</div></div><script>{}</script>',
        '-->{}<!--', '*/{};/*',
    ]
    templates = [
        '{{{{ 7*7 }}}}', "{{{{ lipsum.__globals__.os.mkdir('" + CANARY + "') }}}}",
        '{{% for x in range(3) %}}{{{{ x }}}}{{% endfor %}}', '{{# hidden #}}visible', '{{% raw %}}',
        '{{{{ config.items() }}}}', "{{{{ ''.__class__.__mro__[1].__subclasses__() }}}}", '{{{{ name }}}}',
        '${{{}}}', '`${{{}}}`', "{{{{constructor.constructor('{}')()}}}}", '#{{{}}}', '<%= {} %>',
        '{{{{=it.{}}}}}', '[[{}]]', '@{{{}}}',
    ]
    text = [
        'a\u2028b\u2029c', '\u202eevil.txt\u202c \u200f\u200e \u2066isolate\u2069 \u061cmark',
        'bell\x07 tab\t nl\n cr\r esc\x1b del\x7f \x01\x02\x1f end', 'Sar\u200bmin\ufeff\u00ad',
        '&lt;script&gt;{}&lt;/script&gt; &amp;amp; &#x3c;b&#62;', '\\u003cscript\\u003e{}\\u003c/script\\u003e',
        '%3Cscript%3E{}%3C/script%3E', '\U0001f468\u200d\U0001f469\u200d\U0001f467 e\u0301 \u0625\u062f\u0644\u0628',
        '__proto__', 'constructor', '=HYPERLINK("http://example.invalid/?"&A1,"x")',
        '+ADw-script+AD4-{}+ADw-/script+AD4-', '\\', "'", '"', '<', '>', '&', '  leading and trailing  ',
    ]
    out = []
    for group in (handlers, urls, breakouts, templates, text):
        for p in group:
            out.append(p.format(r.format(len(out))) if "{}" in p else p.replace("{{", "{").replace("}}", "}"))
    out.append("A" * 100_000 + r.format(len(out)).join(["<img src=x onerror=", ">"]))
    out.append(("<b>" * 2000 + r.format(len(out)) + "</b>" * 2000)[:100_000])
    assert len(set(out)) == len(out), "payloads must be distinct"
    return out


# --------------------------------------------------------------------------- the map
def _timeline(payloads):
    boxes = [shapely.box(36 + (i % 10) * 0.1, 35 + (i // 10) * 0.1, 36.09 + (i % 10) * 0.1, 35.09 + (i // 10) * 0.1)
             for i in range(len(payloads))]
    return gpd.GeoDataFrame({"actor": payloads, "valid_from": pd.Timestamp(DAY), "valid_to": pd.NaT},
                            geometry=boxes, crs="EPSG:4326"), boxes


def _change(payloads, boxes):
    """Even payloads lose a corner of their area to the government, odd ones gain one from it."""
    rows = [(p, "government") if i % 2 == 0 else ("government", p) for i, p in enumerate(payloads)]
    corners = [shapely.box(b.bounds[0], b.bounds[1], b.bounds[0] + 0.02, b.bounds[1] + 0.02) for b in boxes]
    return gpd.GeoDataFrame({"actor_from": [a for a, _ in rows], "actor_to": [b for _, b in rows],
                             "area_km2": 1.5}, geometry=corners, crs="EPSG:4326")


def _places(payloads, boxes):
    """Per payload: a place on its area, a far place (listed, not drawn) and an unlocated mention."""
    recs, geom = [], []
    for i, p in enumerate(payloads):
        c = boxes[i].centroid
        for kind, point in (("near", c), ("far", shapely.Point(10.0, 50.0 + i * 0.05)), ("lost", None)):
            recs.append({"report": "/srv/reports/" + p, "mention": p if kind == "lost" else f"m{i}",
                         "start": 0, "end": 1, "sentence": p, "name": "" if kind == "lost" else p,
                         "place_id": "" if kind == "lost" else f"test:{kind}:{i}", "country": p, "admin1": p,
                         "feature_code": "PPL", "precision": "settlement" if point else "",
                         "confidence": 0.9 if point else 0.0, "status": "resolved" if point else "unresolved",
                         "lat": point.y if point else np.nan, "lon": point.x if point else np.nan,
                         "actor": p if kind == "near" else ""})
            geom.append(point)
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=geom, crs="EPSG:4326")


def hostile_map(payloads):
    """A map with every payload in every field (see the module's docstring)."""
    t, boxes = _timeline(payloads)
    joined = " \u00a6 ".join(payloads)
    return document.build_map(places=_places(payloads, boxes), timeline=t, date=DAY, d1=DAY, d2=DAY,
                              change_polys=_change(payloads, boxes), title=joined, notice=joined, basemap=False)


# --------------------------------------------------------------------------- the browser
WATCH = """
window.__giRanIds = [];
window.__giRan = id => window.__giRanIds.push(String(id));
['alert', 'confirm', 'prompt', 'print'].forEach(f => { window[f] = a => window.__giRanIds.push(f + ':' + a); });
window.__giCsp = [];
document.addEventListener('securitypolicyviolation', e => window.__giCsp.push(e.violatedDirective + ' ' + e.blockedURI));
"""

#: Elements that text must never become (inside the map's own controls and popups).
INJECTED = ("img, svg, script, iframe, object, embed, a, form, video, audio, input, math, style, link, meta, "
            "base, template, noscript, marquee, body, source, button")

READ = """(() => {
  const bad = root => Array.from(root.querySelectorAll('*')).filter(e =>
      e.matches(INJECTED_SELECTOR) || Array.from(e.attributes).some(a => /^on/i.test(a.name))).length;
  const txt = (root, sel) => { const e = root.querySelector(sel); return e ? e.textContent : null; };
  const quote = b => b ? {sentence: b.firstChild ? b.firstChild.textContent : '', cite: txt(b, 'cite')} : null;
  const out = {popups: [], tips: [], injected: 0};
  const markers = [];
  map_geo_idlib.eachLayer(l => { if (l.options && l.options.className === 'gi-marker') markers.push(l); });
  for (const l of markers) {
    l.openPopup();
    const c = l.getPopup().getElement();
    out.injected += bad(c.querySelector('.leaflet-popup-content'));
    out.popups.push(Object.assign({name: txt(c, '.gi-name'), meta: txt(c, '.gi-meta'), actor: txt(c, '.gi-actor')},
                                  quote(c.querySelector('blockquote'))));
    l.closePopup();
    l.openTooltip();
    const t = l.getTooltip().getElement();
    out.injected += bad(t);
    out.tips.push(t.textContent);
    l.closeTooltip();
  }
  const item = li => Object.assign({name: txt(li, 'summary b'), meta: txt(li, 'summary .gi-meta')},
                                   quote(li.querySelector('blockquote')));
  out.outside = Array.from(document.querySelectorAll('.gi-outside li')).map(item);
  out.unlocated = Array.from(document.querySelectorAll('.gi-not-located li')).map(item);
  out.legend = Array.from(document.querySelectorAll('.gi-legend-row')).map(r => r.textContent);
  out.title = txt(document, '.gi-title');
  out.notice = txt(document, '.gi-notice');
  out.page_title = document.querySelector('title').textContent;
  out.injected += bad(document.querySelector('.gi-panel')) + bad(document.querySelector('.gi-legend'));
  out.injected += document.querySelectorAll('[onerror], [onload], [onfocus], [onmouseover], [ontoggle]').length;
  return out;
})()""".replace("INJECTED_SELECTOR", json.dumps(INJECTED))


def _open(browser, path: Path, timeout_ms: int = 60_000) -> dict:
    """Open ``path``, read what it shows, and what ran."""
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append("dialog " + d.message), d.dismiss()))
        page.add_init_script(WATCH)
        url = path.resolve().as_uri()
        page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
        page.goto(url, wait_until="load", timeout=timeout_ms)
        page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=timeout_ms)
        shown = page.evaluate(READ)
        page.wait_for_timeout(300)  # an onerror/onload/onfocus would have fired by now
        shown.update(ran=page.evaluate("window.__giRanIds"), csp=page.evaluate("window.__giCsp"), errors=errors)
        return shown
    finally:
        page.close()


def open_map(chromium: str, path: Path) -> dict:
    """What a map file shows, and what ran, in a fresh headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=static.CHROMIUM_ARGS)
        try:
            return _open(browser, path)
        finally:
            browser.close()


def _lf(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n")


def _expected(p: str, i: int, km2) -> dict:
    """What the page must show for payload ``p``. Actor ids are trimmed (``palette.Actors``): an actor
    is named by its id without surrounding whitespace; every other text is shown exactly as written."""
    base = ("/srv/reports/" + p).rsplit("/", 1)[-1]
    a = p.strip()
    change = f"{a}: +0 km\u00b2 / \u2212{km2} km\u00b2" if i % 2 == 0 else f"{a}: +{km2} km\u00b2 / \u22120 km\u00b2"
    return {"popup": {"name": p, "meta": f"settlement \u00b7 confidence 0.90 \u00b7 {p} \u00b7 {p}",
                      "actor": f"Held by: {a} on {DAY}", "sentence": p, "cite": base},
            "tip": p, "legend": [a + " (unrecognised)", change],
            "outside": (p, f" \u00b7 {p} \u00b7 not drawn (over 500 km)", p, base),
            "unlocated": {"name": p, "meta": "unresolved", "sentence": p, "cite": base}}


def _failures(payloads: list[str], shown: dict) -> dict[int, list[str]]:
    """Per payload, the fields where it did not show exactly as written."""
    joined = " \u00a6 ".join(payloads)
    popups = {x["name"]: x for x in shown["popups"]}
    outside = {x["name"]: x for x in shown["outside"]}
    unlocated = {x["name"]: x for x in shown["unlocated"]}
    legend = set(shown["legend"])
    tips = set(shown["tips"])
    out: dict[int, list[str]] = {}
    for i, p in enumerate(payloads):
        e, bad = _expected(p, i, "1.5"), []
        if popups.get(p, {}) != e["popup"]:
            bad.append("popup")
        if p not in tips:
            bad.append("tooltip")
        bad += [f"legend {row[:40]!r}" for row in e["legend"] if row not in legend]
        o = outside.get(p)
        if not o or not (o["meta"].endswith(e["outside"][1]) and (o["sentence"], o["cite"]) == e["outside"][2:]):
            bad.append("panel outside")
        if unlocated.get(p) != e["unlocated"]:
            bad.append("panel not located")
        if shown["title"] != joined or shown["notice"] != joined:
            bad.append("title/notice")
        if _lf(shown["page_title"]) != _lf(joined):
            bad.append("<title>")
        if bad:
            out[i] = bad
    return out


def _without_csp(html: str) -> str:
    return re.sub(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">', "", html, count=1)


@dataclass
class Result:
    tried: int
    fields: int
    shown: int
    ran: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)
    csp_violations: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def line(self) -> str:
        return (f"payloads: {self.tried} tried in {self.fields} fields, {self.shown} shown as text, "
                f"{len(self.ran)} ran (escaping alone, and again under the CSP: {len(self.csp_violations)} "
                f"violations)")


def build(payloads: list[str], directory: str) -> tuple[str, bool]:
    """The hostile map's HTML, built in ``directory``; and whether the Python-side canary appeared."""
    cwd = os.getcwd()
    quiet = logging.getLogger("geo_idlib")
    level = quiet.level
    os.chdir(directory)  # the Python-side canary would land here
    quiet.setLevel(logging.ERROR)  # one "unknown actor" warning per payload is expected here
    try:
        return element.to_html(hostile_map(payloads)), os.path.exists(CANARY)
    finally:
        os.chdir(cwd)
        quiet.setLevel(level)


def check(chromium: str, payloads: list[str] | None = None, html: str | None = None) -> Result:
    """Build the hostile map (or take its ``html``) and open it with and without its CSP.

    See the module's docstring; ``html`` lets a test check that a broken page is caught.
    """
    from playwright.sync_api import sync_playwright

    payloads = corpus() if payloads is None else payloads
    with tempfile.TemporaryDirectory(prefix="gi_payloads_") as tmp:
        built, python_ran = build(payloads, tmp)
        html = built if html is None else html
        files = {"without CSP": Path(tmp) / "bare.html", "with CSP": Path(tmp) / "csp.html"}
        files["without CSP"].write_text(_without_csp(html), encoding="utf-8")
        files["with CSP"].write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=static.CHROMIUM_ARGS)
            try:
                seen = {name: _open(browser, f) for name, f in files.items()}
            finally:
                browser.close()
    ran = sorted({x for s in seen.values() for x in s["ran"]} | ({"python"} if python_ran else set()))
    if any(s["injected"] for s in seen.values()):
        ran.append("markup from text")
    failures: dict[int, list[str]] = {}
    for name, s in seen.items():
        for i, bad in _failures(payloads, s).items():
            failures.setdefault(i, []).extend(f"{b} ({name})" for b in bad)
    return Result(len(payloads), len(FIELDS), len(payloads) - len(failures), ran, failures,
                  seen["with CSP"]["csp"], [e for s in seen.values() for e in s["errors"]])


def main() -> int:
    try:
        chromium = static.find_chromium()
        import playwright  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a missing browser is reported, not a failure of the corpus
        print(f"payloads: skipped ({str(exc).splitlines()[0]})")
        return 0
    r = check(chromium)
    print(r.line())
    for i, bad in sorted(r.failures.items()):
        print(f"  payload {i} {corpus()[i][:60]!r}: not shown as written in {', '.join(bad)}")
    for x in r.ran + r.csp_violations + r.errors:
        print(f"  {x}")
    return 0 if not (r.ran or r.failures or r.csp_violations or r.errors) else 1


if __name__ == "__main__":
    sys.exit(main())
