"""The map document: control areas over time, change between two dates, and places, as one folium map.

:func:`build_map` gathers everything the page shows into one JSON document (faces and their runs,
change polygons, markers, legend, panel, basemap) and hands it to the page's own element
(:mod:`geo_idlib.maps.element`).
"""

from __future__ import annotations

import html
import logging
import math

import folium
import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from .. import io
from ..errors import InputError
from .element import MAP_ID, GeoIdlibLayers, _assets, _Raw
from .faces import (
    QUANTUM,
    _day,
    _fmt,
    encode_polygons,
    partition,
    simplify_coverage,
    simplify_within,
)
from .palette import _NO_ACTOR, _Actors, palette
from .view import (
    BROAD_PRECISIONS,
    DEFAULT_FOCUS,
    FAR_KM,
    MAX_ZOOM,
    REF_HEIGHT,
    REF_WIDTH,
    VIEW_KM,
    _bbox_distance_km,
    _bounds_of,
    _compass,
    fit_view,
    initial_zoom,
    pixel_degrees,
)

log = logging.getLogger("geo_idlib")




# --------------------------------------------------------------------------- palette
# --------------------------------------------------------------------------- HTML fragments
def _name(r) -> str:
    """A place's display name: its gazetteer name, else the mention as written."""
    for key in ("name", "mention"):
        v = r.get(key)
        if isinstance(v, str) and v.strip():
            return v
    return "?"


def _esc(value) -> str:
    """HTML-escape any value shown to the user (report text is data)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _km2(x: float) -> str:
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:,.1f}" if abs(x) < 10 else f"{x:,.0f}"


#: A place closer than this (km) to another side's ground is flagged as near the front in its popup.
FRONT_KM = 5.0


def _place_popup(rows: pd.DataFrame, actor_label: str, date_txt: str | None) -> str:
    r = rows.iloc[0]
    conf = r.get("confidence")
    conf_txt = "" if conf is None or (isinstance(conf, float) and math.isnan(conf)) else f"{float(conf):.2f}"
    parts = [f'<div class="gi-popup"><b class="gi-name">{_esc(_name(r))}</b>',
             f'<div class="gi-meta">{_esc(r.get("precision"))} · confidence {_esc(conf_txt)}'
             f'{" · " + _esc(r.get("admin1")) if _esc(r.get("admin1")) else ""}'
             f'{" · " + _esc(r.get("country")) if _esc(r.get("country")) else ""}</div>',
             f'<div class="gi-actor">Held by: {_esc(actor_label)}{" on " + _esc(date_txt) if date_txt else ""}</div>']
    front = r.get("front_km")
    if front is not None and not pd.isna(front):
        near = " — near the front: the side here is uncertain" if float(front) < FRONT_KM else ""
        parts.append(f'<div class="gi-front">{float(front):.1f} km from ground held by another side{near}</div>')
    shown = rows.drop_duplicates(["report", "sentence"]).head(5)
    for _, m in shown.iterrows():
        parts.append(f'<blockquote class="gi-sentence">{_esc(m.get("sentence"))}'
                     f'<cite>{_esc(m.get("report"))}</cite></blockquote>')
    if len(rows) > len(shown):
        parts.append(f'<div class="gi-more">{len(rows) - len(shown)} more mention(s)</div>')
    parts.append("</div>")
    return "".join(parts)


def _online_tiles() -> list[dict]:
    import warnings

    import xyzservices.providers as xyz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xyzservices warns that CARTO may want an API key
        providers = [("OpenStreetMap", xyz.OpenStreetMap.Mapnik), ("CartoDB Positron", xyz.CartoDB.Positron)]
        return [{"name": n, "url": p.build_url(), "attribution": p.html_attribution,
                 "max_zoom": int(p.get("max_zoom", 18))} for n, p in providers]


def _basemap(view, tolerance: float) -> dict | None:
    """Country outlines and Syrian governorates from shapefiles/, clipped around the view."""
    layers = {}
    w, s, e, n = view
    pad = max(e - w, n - s, 2.0)
    clip = shapely.box(w - pad, s - pad, e + pad, n + pad)
    for key, name in (("countries", "countries.gpkg"), ("admin1", "syria_admin1.gpkg")):
        g = io.shapefile_layer(name)
        if g is None:
            continue
        g = _crs.to_wgs84(g, name)
        geoms = np.asarray(g.geometry.values, dtype=object)
        geoms = geoms[shapely.intersects(geoms, clip)]
        geoms = simplify_coverage(geoms, tolerance)
        geoms = shapely.intersection(geoms, clip)
        enc = [r for r in encode_polygons(geoms) if r]
        if enc:
            layers[key] = enc
    return layers or None


def build_map(areas=None, places=None, *, timeline=None, date=None, change_polys=None, d1=None, d2=None,
              title: str | None = None, offline: bool = True, basemap: bool | None = None,
              notice: str | None = None) -> folium.Map:
    """A self-contained Leaflet map of control areas, change and places.

    Parameters
    ----------
    areas : GeoDataFrame, optional
        A snapshot (``actor, geometry``), used when ``timeline`` is not given.
    places : GeoDataFrame, optional
        Places (DESIGN.md columns) with an optional ``actor`` column from the as-of join. Places more
        than :data:`FAR_KM` from the focus region are not drawn. The initial view frames the places
        (see :func:`fit_view`); every located place outside it, and every unresolved place, is listed
        in the side panel.
    timeline : GeoDataFrame, optional
        ``actor, valid_from, valid_to, geometry``; gives the time slider.
    date : date-like, optional
        The date shown first (default: ``d2``, else the timeline's last change date).
    change_polys : GeoDataFrame, optional
        ``actor_from, actor_to, area_km2, geometry`` from :func:`geo_idlib.territory.change.compare`.
    d1, d2 : date-like, optional
        The change period; with a timeline (not a single snapshot) they also give the
        before/after swipe.
    title : str, optional
    offline : bool
        True (default): no network at all; light vector basemap from shapefiles/. False: tiles
        (OpenStreetMap, CARTO Positron) through xyzservices.
    basemap : bool, optional
        Draw the offline vector basemap (default: when offline and the files exist).
    notice : str, optional
        A line shown in the side panel (e.g. "no places found in the report").

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; :func:`to_html` gives the deterministic HTML.

    Examples
    --------
    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    >>> m = build_map(a, basemap=False)
    >>> from geo_idlib.maps.element import to_html
    >>> to_html(m) == to_html(build_map(a, basemap=False))
    True
    """
    pal = palette()
    actors = _Actors(pal)
    date_d = _day(date) if date is not None else None
    d1_d = _day(d1) if d1 is not None else None
    d2_d = _day(d2) if d2 is not None else None
    if d1_d is not None and d2_d is not None and d1_d > d2_d:
        raise InputError(f"--from {_fmt(d1_d)} is after --to {_fmt(d2_d)}; swap them")

    # ---- areas → faces
    timeline_from_areas = timeline is None and areas is not None and len(areas) > 0
    if timeline_from_areas:
        a = _crs.to_wgs84(areas, "areas")
        day = date_d if date_d is not None else np.datetime64("1970-01-01", "ns")
        timeline = a[["actor", "geometry"]].assign(valid_from=day, valid_to=pd.NaT)
        timeline = timeline.set_geometry("geometry")
    dates = np.array([], dtype="datetime64[ns]")
    faces = np.array([], dtype=object)
    runs: list = []
    area_bounds = None
    if timeline is not None and len(timeline):
        dates, faces, runs, actors = partition(timeline, actors)
        if len(faces):
            area_bounds = tuple(shapely.total_bounds(faces).tolist())

    # ---- places
    near_rows, unlocated_rows, located_rows = None, None, None
    framed_bounds = None
    if places is not None and len(places):
        p = _crs.to_wgs84(places, "places")
        geom = p.geometry.to_numpy()
        located = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
        unlocated_rows = p[~located]
        located_rows = p[located]
        lon, lat = shapely.get_x(located_rows.geometry.to_numpy()), shapely.get_y(located_rows.geometry.to_numpy())
        focus = area_bounds or DEFAULT_FOCUS
        dist = _bbox_distance_km(lat, lon, focus)
        far = dist > FAR_KM
        near_rows = located_rows[~far]
        # the places the initial view frames: near the areas, and not a whole country's point
        precision = located_rows.get("precision", pd.Series("", index=located_rows.index))
        broad = precision.fillna("").astype(str).str.lower().isin(BROAD_PRECISIONS).to_numpy()
        framed = ~far & ~broad & (dist <= VIEW_KM if area_bounds is not None else True)
        if not framed.any() and area_bounds is None:  # no areas, only country points: frame them
            framed = ~far
        if framed.any():
            framed_bounds = (float(lon[framed].min()), float(lat[framed].min()),
                             float(lon[framed].max()), float(lat[framed].max()))

    # ---- dates shown by the slider and the swipe
    def index_of(d):
        if d is None or len(dates) == 0:
            return None
        i = int(np.searchsorted(dates, d, side="right")) - 1
        return i if i >= 0 else None  # before the timeline: nothing to show

    cover = np.zeros(len(dates) + 1, dtype=int)  # how many runs are active in each interval
    if runs:
        r = np.asarray(runs, dtype=int)
        np.add.at(cover, r[:, 1], 1)
        np.add.at(cover, np.minimum(r[:, 2], len(dates)), -1)
    shown = np.flatnonzero(np.cumsum(cover)[:len(dates)] > 0).tolist()
    start = date_d if date_d is not None else d2_d
    k_start = index_of(start) if start is not None else (shown[-1] if shown else None)
    swipe = None
    change_bounds = None
    if change_polys is not None and len(change_polys):
        cg = _crs.to_wgs84(change_polys, "change").geometry.to_numpy()
        cg = cg[~(shapely.is_missing(cg) | shapely.is_empty(cg))]
        if len(cg):
            change_bounds = tuple(shapely.total_bounds(cg).tolist())
    if d1_d is not None and d2_d is not None and len(dates) and not timeline_from_areas:
        swipe = {"left": index_of(d1_d), "right": index_of(d2_d), "left_label": _fmt(d1_d),
                 "right_label": _fmt(d2_d), "lon": None}
        if change_bounds is not None:  # the swipe starts on the change
            swipe["lon"] = round((change_bounds[0] + change_bounds[2]) / 2, 5)
        if date_d is None:
            k_start = index_of(d2_d)

    # ---- the initial view: the report's places and the change, with the known sides around them
    # (not every area: a big "unknown" area would shrink the front to a corner); else all areas
    first = {k for k in (k_start, swipe["left"] if swipe else None) if k is not None}
    known_ids = {i for i, st in enumerate(actors.table) if st["id"] != "unknown"}
    known_faces = sorted({f for f, k0, k1, a in runs if a in known_ids and (not first or any(k0 <= k < k1 for k in first))})
    view = fit_view(_bounds_of([framed_bounds, change_bounds]), faces[known_faces] if known_faces else None,
                    area_bounds)
    zoom = initial_zoom(view)
    tol = pixel_degrees(view, zoom)

    simp_faces, dev_px = simplify_within(faces, tol) if len(faces) else (faces, 0.0)
    enc_faces = encode_polygons(simp_faces) if len(faces) else []
    keep_face = [bool(r) for r in enc_faces]
    face_map = {}
    for i, ok in enumerate(keep_face):
        if ok:
            face_map[i] = len(face_map)
    data: dict = {
        "v": 1,
        "map_id": MAP_ID,
        "bounds": [[round(view[1], 5), round(view[0], 5)], [round(view[3], 5), round(view[2], 5)]],
        "quantum": QUANTUM,
        "dates": [_fmt(d) for d in dates],
        "date_label": not (timeline_from_areas and date_d is None),  # no made-up date on screen
        "slider": shown,
        "start": k_start,
        "faces": [f for f in enc_faces if f],
        "runs": sorted([face_map[f], k0, k1, a] for f, k0, k1, a in runs if f in face_map),
        "swipe": swipe,
        "background": pal["background"],
        "basemap_style": pal["basemap"],
        "area_opacity": pal["area_fill_opacity"],
        "marker_opacity": pal["marker_fill_opacity"],
        "marker_stroke": pal["marker_stroke"],
        "simplify": {"zoom": zoom, "pixel_deg": round(tol, 8), "ref_view": [REF_WIDTH, REF_HEIGHT],
                     "max_dev_px": round(dev_px, 3)},
    }

    # ---- change polygons
    change_rows = []
    legend_change = ""
    if change_polys is not None and len(change_polys):
        c = _crs.to_wgs84(change_polys, "change polygons")
        c = c[~(c.geometry.isna() | c.geometry.is_empty)]
        if "area_km2" in c.columns:
            km2 = c["area_km2"].to_numpy(dtype=float)
        else:
            km2 = _crs.geodesic_area_km2(c)
        af = actors.get_many(c["actor_from"].to_numpy())
        at = actors.get_many(c["actor_to"].to_numpy())
        enc = encode_polygons(simplify_within(c.geometry.to_numpy(), tol)[0])
        for g, f, t, k in zip(enc, af, at, km2, strict=True):
            if g:
                change_rows.append({"g": g, "from": int(f), "to": int(t), "km2": round(float(k), 3)})
        change_rows.sort(key=lambda r: (r["from"], r["to"], -r["km2"], r["g"]))
        gained = pd.Series(km2).groupby(at).sum()
        lost = pd.Series(km2).groupby(af).sum()
        ids = sorted(set(gained.index) | set(lost.index), key=lambda i: actors.label(i))
        period = f"{_fmt(d1_d)} → {_fmt(d2_d)}" if d1_d is not None and d2_d is not None else "change"
        lines = [f'<div class="gi-legend-title">Change {_esc(period)}</div>',
                 '<div class="gi-legend-note">hatched: gained by · dashed outline: lost by</div>']
        for i in ids:
            if i == _NO_ACTOR:
                continue
            lines.append(f'<div class="gi-legend-row"><span class="gi-swatch gi-hatch" style="--c:{_esc(actors.color(i))}">'
                         f'</span>{_esc(actors.label(i))}: +{_km2(gained.get(i, 0.0))} km² / '
                         f'−{_km2(lost.get(i, 0.0))} km²</div>')
        legend_change = "".join(lines)
    data["change"] = change_rows

    # ---- markers and side panel
    markers = []
    panel_unlocated = []
    date_txt = _fmt(dates[k_start]) if k_start is not None and len(dates) else (_fmt(date_d) if date_d is not None else None)
    if date_d is not None:
        date_txt = _fmt(date_d)

    def groups(rows):
        empty = pd.Series("", index=rows.index)
        key = rows.get("place_id", empty).fillna("").astype(str)
        key = key.where(key != "", "name:" + rows.get("name", empty).fillna("").astype(str))
        if "mention" in rows.columns:
            key = key.where(key != "name:", "mention:" + rows["mention"].fillna("").astype(str))
        rows = rows.assign(_key=key.to_numpy())
        return sorted(rows.groupby("_key", sort=True), key=lambda kv: kv[0])

    if near_rows is not None and len(near_rows):
        for _, g in groups(near_rows):
            r = g.iloc[0]
            ai = actors.get(r.get("actor")) if "actor" in g.columns else _NO_ACTOR
            markers.append({"lat": round(float(r.geometry.y), 5), "lon": round(float(r.geometry.x), 5),
                            "actor": ai, "popup": _place_popup(g, actors.label(ai), date_txt),
                            "tooltip": _esc(_name(r)), "n": int(len(g))})
        markers.sort(key=lambda m: (m["lat"], m["lon"], m["tooltip"]))
    def panel_item(r, cls: str, meta: str) -> str:  # meta is already escaped
        # one line per place (its name and where it is); its sentence folds out under it
        return (f'<li class="{cls}"><details><summary><b>{_esc(_name(r))}</b> <span class="gi-meta">{meta}</span>'
                f'</summary><blockquote class="gi-sentence">{_esc(r.get("sentence"))}<cite>{_esc(r.get("report"))}'
                f'</cite></blockquote></details></li>')

    # every located place is either inside the initial view or listed here, nearest first
    off_view = []
    if located_rows is not None and len(located_rows):
        w, s_, e, n = view
        clat, clon = (s_ + n) / 2, (w + e) / 2
        for _, g in groups(located_rows.assign(_drawn=~far)):
            r = g.iloc[0]
            y, x = float(r.geometry.y), float(r.geometry.x)
            if w <= x <= e and s_ <= y <= n:
                continue
            km = float(_bbox_distance_km(np.array([y]), np.array([x]), view)[0])
            prec = str(r.get("precision") or "").lower()
            meta = [f'{"&lt;1" if km < 1 else f"{km:,.0f}"} km {_compass(clat, clon, y, x)}']
            if prec in BROAD_PRECISIONS:
                meta.append(_esc(prec))
            if _esc(r.get("country")):
                meta.append(_esc(r.get("country")))
            meta.append("zoom out" if bool(r["_drawn"]) else f"not drawn (over {FAR_KM:.0f} km)")
            off_view.append((round(km, 3), _name(r), panel_item(r, "gi-off", " · ".join(meta))))
        off_view.sort(key=lambda t: (t[0], t[1]))
    if unlocated_rows is not None and len(unlocated_rows):
        for _, g in groups(unlocated_rows):
            panel_unlocated.append(panel_item(g.iloc[0], "gi-unlocated", _esc(g.iloc[0].get("status"))))
    data["markers"] = markers
    panel = []
    if notice:
        panel.append(f'<div class="gi-notice">{_esc(notice)}</div>')

    def section(cls: str, heading: str, items: list[str]) -> str:
        return (f'<details class="gi-section {cls}" open><summary class="gi-panel-title">{heading}</summary>'
                f'<ul>{"".join(items)}</ul></details>')

    if off_view:
        panel.append(section("gi-outside", f"Outside this view ({len(off_view)})", [t[2] for t in off_view]))
    if panel_unlocated:
        panel.append(section("gi-not-located", f"Not located ({len(panel_unlocated)})", panel_unlocated))
    data["panel"] = "".join(panel)

    # ---- legend (actors actually drawn, in palette order, then others by name)
    used = sorted({a for *_, a in runs} | {m["actor"] for m in markers if m["actor"] != _NO_ACTOR}
                  | {r["to"] for r in change_rows if r["to"] != _NO_ACTOR}
                  | {r["from"] for r in change_rows if r["from"] != _NO_ACTOR})
    order = {k: i for i, k in enumerate(pal["actors"])}
    used.sort(key=lambda i: (order.get(actors.table[i]["id"], len(order)), actors.table[i]["id"]))
    rows = []
    for i in used:
        st = actors.table[i]
        cls = "gi-swatch gi-hatch" if st["hatch"] else "gi-swatch"
        rows.append(f'<div class="gi-legend-row" data-actor="{_esc(st["id"])}"><span class="{cls}" '
                    f'style="--c:{_esc(st["color"])}"></span>{_esc(st["label"])}'
                    f'{"" if st["known"] else " (unrecognised)"}</div>')
    if markers and any(m["actor"] == _NO_ACTOR for m in markers):
        rows.append(f'<div class="gi-legend-row"><span class="gi-swatch gi-dot" style="--c:{_esc(pal["no_actor"]["color"])}">'
                    f'</span>{_esc(pal["no_actor"]["label"])}</div>')
    data["legend"] = "".join(rows) + legend_change
    data["actors"] = actors.table
    data["title"] = _esc(title) if title else ""

    # ---- base layers
    if offline:
        data["tiles"] = []
        want = basemap if basemap is not None else True
        data["basemap"] = _basemap(view, tol) if want else None
    else:
        data["tiles"] = _online_tiles()
        data["basemap"] = _basemap(view, tol) if basemap else None

    css, js = _assets()
    m = folium.Map(location=[(view[1] + view[3]) / 2, (view[0] + view[2]) / 2], zoom_start=zoom,
                   tiles=None, control_scale=True, max_zoom=MAX_ZOOM)
    m._id = MAP_ID
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root._id = MAP_ID
    if title:
        root.header.add_child(_Raw(f"<title>{_esc(title)}</title>"), name="title")
    layer = GeoIdlibLayers(data, css, js)
    m.add_child(layer, name="geo_idlib_layers")
    m.geo_idlib = data          # the map's data document (what the HTML embeds)
    m.geo_idlib_faces = faces   # the exact faces before simplification (for size/deviation checks)
    m.geo_idlib_runs = runs     # their runs (face, k_from, k_to, actor index) over data["dates"]
    return m

