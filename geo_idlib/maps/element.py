"""The map's folium element and its page: one template, Leaflet and the project's JS/CSS, data as JSON.

One HTML file that opens anywhere, offline: Leaflet 1.9.4 (from the pinned PyPI package
``django-js-lib-leaflet``) and the project's own JS/CSS (``geo_idlib/assets/``: time slider,
before/after swipe, legend, side panel, popups) are inlined; folium's CDN assets are dropped.

- **Markup lives in one template**, ``assets/geo_idlib.html.jinja`` (the page and the element's
  header, body and script parts), rendered once per page with autoescape. Python writes no HTML.
- **Text is data.** The map's document (:func:`geo_idlib.maps.document.build_document`) is one
  ``<script type="application/json">`` block in which ``<``, ``>``, ``&``, U+2028 and U+2029 are
  written as ``\\u003c``..., so nothing in it can close the script element; the page's script
  builds every popup, panel item, legend row and title from it with ``textContent``. Nothing a
  user wrote ever passes through a template engine (folium's ``MacroElement`` re-parses what it
  renders as a template: the element's parts go in as :class:`_Raw` text instead).
- **A Content-Security-Policy** (a ``<meta http-equiv>``, first in the page) allows only the page's
  own inline scripts and styles, by their SHA-256 hashes (folium's blocks included), images from
  ``data:`` (Leaflet's) and, online, from the tile servers; nothing else: no ``unsafe-inline``, no
  ``unsafe-eval``, no other origin. So an escaping slip could not run script either.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from urllib.parse import urlsplit

import folium
import jinja2
from branca.element import Element, Figure, MacroElement
from markupsafe import Markup

from .. import io
from ..errors import RenderError

#: Fixed element ids (folium uses random uuids; we want byte-identical output).
MAP_ID = "geo_idlib"

#: The id of the map's JSON document in the page.
DATA_ID = "geo_idlib_data"

#: The template file in ``geo_idlib/assets/``.
TEMPLATE = "geo_idlib.html.jinja"


def script_json(obj) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` at all.

    Examples
    --------
    >>> script_json({"s": "</script><!--"})
    '{"s":"\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = io.dumps_json(obj)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.lru_cache(maxsize=1)
def _template():
    """The template's macros (``page``, ``header``, ``html``, ``script``), autoescaped."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(io.package_asset_text(TEMPLATE)).module


def _leaflet_css() -> str:
    """Leaflet's stylesheet with its images as data URIs."""
    css = io.leaflet_dist_bytes("leaflet.css").decode("utf-8")

    def inline(m):
        data = base64.b64encode(io.leaflet_dist_bytes(f"images/{m.group(1)}")).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)


def _lf(text: str) -> str:
    """``text`` with the line ends an HTML parser leaves (CR LF and CR become LF; leaflet.css has CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@functools.lru_cache(maxsize=1)
def _assets() -> tuple[Markup, Markup]:
    """Leaflet's and the project's CSS and JS, as the bodies of a ``<style>`` and a ``<script>``."""
    css = _lf(_leaflet_css() + "\n" + io.package_asset_text("geo_idlib.css"))
    js = _lf(io.leaflet_dist_bytes("leaflet.js").decode("utf-8") + "\n" + io.package_asset_text("geo_idlib.js"))
    # the project's own code, never data: made unable to close its element, then trusted as it is
    return Markup(css.replace("</", "<\\/")), Markup(re.sub("</(script)", r"<\\/\1", js, flags=re.I))


# --------------------------------------------------------------------------- the element
class _Raw(Element):
    """A finished piece of the page, inserted as it is: never parsed as a template.

    branca's :class:`~branca.element.MacroElement` wraps each macro's output in ``Element(text)``,
    which parses that text as a Jinja template again; data in it (report text, titles, file names)
    would then run as template code. Everything geo_idlib adds to a page goes in as a ``_Raw``.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "Raw"
        self._text = str(text)

    def render(self, **kwargs) -> str:
        return self._text


class GeoIdlibMap(MacroElement):
    """A map document drawn by Leaflet and ``assets/geo_idlib.js``: the folium element of a map.

    Like a folium plugin, one class holds its template (the ``header``, ``html`` and ``script``
    macros of ``assets/geo_idlib.html.jinja``) and its assets (inlined, not linked). Its template is
    rendered exactly once per page render; the results reach the page as :class:`_Raw` text.
    """

    def __init__(self, document: dict):
        super().__init__()
        self._name = "GeoIdlibMap"
        self._id = MAP_ID
        self.document = document
        self.data_id = DATA_ID
        self.data_json = Markup(script_json(document))
        self.css, self.js = _assets()

    @property
    def map_name(self) -> str:
        return self._parent.get_name()

    def render(self, **kwargs):
        figure = self.get_root()
        t = _template()
        for part in ("header", "html", "script"):
            getattr(figure, part).add_child(_Raw(getattr(t, part)(self)), name=self.get_name())


# --------------------------------------------------------------------------- the page and its CSP
_BLOCK = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.S | re.I)


def inline_hashes(page: str) -> tuple[list[str], list[str]]:
    """CSP sources (``'sha256-…'``) of the inline scripts and styles of ``page``, in page order.

    JSON data blocks (``type="application/json"``) are not scripts and are left out.

    Examples
    --------
    >>> inline_hashes("<style>b{}</style><script>1</script><script type='application/json'>{}</script>")
    (["'sha256-a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s='"], ["'sha256-7yqHVAesot11p6HczDsgKRipvI5UPgs97z80zNXlans='"])
    """
    scripts: dict[str, None] = {}
    styles: dict[str, None] = {}
    for m in _BLOCK.finditer(page):
        tag, attrs, body = m.group(1).lower(), m.group(2), m.group(3)
        if tag == "script" and "application/json" in attrs:
            continue
        # the browser hashes the text as parsed: its line ends normalised
        digest = base64.b64encode(hashlib.sha256(_lf(body).encode("utf-8")).digest()).decode("ascii")
        (scripts if tag == "script" else styles)[f"'sha256-{digest}'"] = None
    return list(scripts), list(styles)


def tile_origin(url: str) -> str:
    """The CSP source of a tile URL template: its scheme and host (``{s}`` subdomains as ``*``).

    Examples
    --------
    >>> tile_origin("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png")
    'https://*.basemaps.cartocdn.com'
    """
    u = urlsplit(url.replace("{s}", "*"))
    return f"{u.scheme}://{u.netloc}"


def content_security_policy(page: str, img_sources=()) -> str:
    """The page's policy: its own inline scripts and styles by hash, images from data: and ``img_sources``."""
    scripts, styles = inline_hashes(page)
    return "; ".join(["default-src 'none'", "script-src " + " ".join(scripts), "style-src " + " ".join(styles),
                      "img-src " + " ".join(["data:", *img_sources]), "base-uri 'none'", "form-action 'none'"])


class MapPage(Figure):
    """The HTML page of a map: the template's ``page``, with a CSP computed from its final blocks."""

    def __init__(self, title: str | None = None, img_sources=()):
        super().__init__(title=title)
        self._id = MAP_ID
        self.header._children.pop("meta_http", None)  # the template writes <meta charset> first
        self.img_sources = tuple(img_sources)

    def render(self, **kwargs) -> str:
        for child in self._children.values():
            child.render(**kwargs)
        parts = [Markup(getattr(self, p).render(**kwargs)) for p in ("header", "html", "script")]
        page = _template().page
        draft = str(page(self, "", *parts))  # the same blocks as the final page: only the policy differs
        csp = content_security_policy(draft, self.img_sources)
        if not re.fullmatch(r"[A-Za-z0-9 '+/=:;.*_-]+", csp):
            raise RenderError(f"map: unexpected characters in the page's Content-Security-Policy {csp!r}")
        return str(page(self, Markup(csp), *parts))


def folium_map(document: dict) -> folium.Map:
    """A folium map showing ``document`` (:func:`geo_idlib.maps.document.build_document`)."""
    (s, w), (n, e) = document["view"]["bounds"]
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=document["view"]["zoom"], tiles=None,
                   control_scale=True, max_zoom=document["view"]["max_zoom"])
    m._id = MAP_ID
    m.default_js = []
    m.default_css = []
    MapPage(document["title"], [tile_origin(t["url"]) for t in document["base"]["tiles"]]).add_child(m)
    m.add_child(GeoIdlibMap(document), name="geo_idlib_layers")
    m.geo_idlib = document  # the map's data document (what the HTML embeds)
    return m


def to_html(m: folium.Map) -> str:
    """The map's complete HTML, byte-identical for identical inputs.

    Examples
    --------
    >>> from geo_idlib.maps.document import build_map
    >>> html_text = to_html(build_map(basemap=False))
    >>> "<script src" in html_text or "<link" in html_text, "Content-Security-Policy" in html_text
    (False, True)
    """
    root = m.get_root()
    if not isinstance(root, MapPage):
        raise RenderError("map: not built by geo_idlib.maps.document.build_map; build it with build_map()")
    return root.render()

