"""The map's folium element: Leaflet and the project's JS/CSS inlined, and the map's data as JSON.

One HTML file that opens anywhere, offline: Leaflet 1.9.4 (from the pinned PyPI package
``django-js-lib-leaflet``) and the project's own small JS/CSS (``geo_idlib/assets/``: time slider,
before/after swipe, legend, side panel) are inlined; folium's CDN assets are dropped. The map data is
one JSON document in a ``<script type="application/json">`` block, with ``<``, ``>`` and ``&``
written as ``\\u003c``... so that nothing in it can close the script element. Nothing a user wrote
ever passes through a template engine: the element's own template is rendered once and its output
reaches the page as :class:`_Raw` text.
"""

from __future__ import annotations

import json

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from .. import io
from ..errors import RenderError

#: Fixed element ids (folium uses random uuids; we want byte-identical output).
MAP_ID = "geo_idlib"


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


# --------------------------------------------------------------------------- the map element
_TEMPLATE = Template("""
{% macro header(this, kwargs) %}
<style>{{ this.css }}</style>
<script>{{ this.js }}</script>
{% endmacro %}
{% macro html(this, kwargs) %}
<script type="application/json" id="geo_idlib_data">{{ this.data_json }}</script>
{% endmacro %}
{% macro script(this, kwargs) %}
geoIdlib.init({{ this._parent.get_name() }}, JSON.parse(document.getElementById("geo_idlib_data").textContent));
{% endmacro %}
""")


class _Raw(Element):
    """A finished piece of the page, inserted as it is: never parsed as a template.

    branca's :class:`~branca.element.MacroElement` wraps each macro's output in ``Element(text)``,
    which parses that text as a Jinja template again; data in it (report text, titles, file names)
    would then run as template code. Everything geo_idlib adds to a page goes in as a ``_Raw``.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "Raw"
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class GeoIdlibLayers(MacroElement):
    """The map's data and the project's JS/CSS (Leaflet inlined) as one folium element.

    Its template is rendered exactly once; the results reach the page as :class:`_Raw` text.
    """

    _template = _TEMPLATE

    def __init__(self, data: dict, css: str, js: str):
        super().__init__()
        self._name = "GeoIdlibLayers"
        self._id = MAP_ID
        self.data = data
        self.data_json = script_json(data)
        self.css = css.replace("</", "<\\/")
        self.js = js.replace("</script", "<\\/script")

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            getattr(figure, part).add_child(_Raw(module[part](self, kwargs)), name=self.get_name())


def _leaflet_css() -> str:
    import base64
    import re

    css = io.leaflet_dist_bytes("leaflet.css").decode("utf-8")

    def inline(m):
        name = m.group(1)
        data = base64.b64encode(io.leaflet_dist_bytes(f"images/{name}")).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)


#: The side panel: the title stays put and the list scrolls on its own, within half the window, with
#: a shadow at the edge where more items are (a scrollbar alone does not show in every browser);
#: each section and each place folds (its name and distance on one line, its sentence under it).
PANEL_CSS = """
.gi-panel { max-height: none; overflow: visible; max-width: 360px; }
.gi-panel-body { max-height: max(7em, calc(50vh - 60px)); overflow-y: auto; overscroll-behavior: contain;
  margin-right: -6px; padding-right: 6px; scrollbar-width: thin; scrollbar-color: #8a8a8a #eee;
  background: linear-gradient(#fff 30%, rgba(255, 255, 255, 0)) top / 100% 28px no-repeat local,
    linear-gradient(rgba(255, 255, 255, 0), #fff 70%) bottom / 100% 28px no-repeat local,
    radial-gradient(farthest-side at 50% 0, rgba(0, 0, 0, .3), rgba(0, 0, 0, 0)) top / 100% 10px no-repeat scroll,
    radial-gradient(farthest-side at 50% 100%, rgba(0, 0, 0, .3), rgba(0, 0, 0, 0)) bottom / 100% 10px no-repeat scroll,
    #fff; }
.gi-panel-body::-webkit-scrollbar { width: 8px; }
.gi-panel-body::-webkit-scrollbar-track { background: #eee; border-radius: 4px; }
.gi-panel-body::-webkit-scrollbar-thumb { background: #8a8a8a; border-radius: 4px; }
.gi-panel summary { cursor: pointer; }
.gi-panel summary.gi-panel-title { margin: 4px 0 1px; }
.gi-panel ul { margin: 1px 0 4px; padding-left: 4px; list-style: none; }
.gi-panel li { margin: 1px 0; }
.gi-panel li summary { list-style-position: outside; margin-left: 12px; }
.gi-panel li .gi-sentence { margin: 2px 0 5px 12px; }
"""


def _assets() -> tuple[str, str]:
    css = _leaflet_css() + "\n" + io.package_asset_text("geo_idlib.css") + PANEL_CSS
    js = io.leaflet_dist_bytes("leaflet.js").decode("utf-8") + "\n" + io.package_asset_text("geo_idlib.js")
    return css, js


def to_html(m: folium.Map) -> str:
    """The map's complete HTML, byte-identical for identical inputs.

    Examples
    --------
    >>> from geo_idlib.maps.document import build_map
    >>> m = build_map(basemap=False)
    >>> html_text = to_html(m)
    >>> "<script src" in html_text or "<link" in html_text
    False
    """
    text = m.get_root().render()
    if "geoIdlib.init" not in text:
        raise RenderError("map: not built by geo_idlib.maps.document.build_map; build it with build_map()")
    return text


def dumps_debug(m: folium.Map) -> str:
    """The map's data document as indented JSON (for inspection and tests)."""
    return json.dumps(m.geo_idlib, indent=1, sort_keys=True, ensure_ascii=False)

