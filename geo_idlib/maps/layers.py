"""The steps from a map's inputs to the sections of its document, each a short named function.

- :func:`areas`: a control timeline (or one snapshot) cut into faces and their runs;
- :func:`places`: the report's places, split into located and unlocated, near and far, and the box
  the initial view must frame;
- :func:`change_box`, :func:`time`, :func:`frame`: what the view frames, the dates the slider and
  the swipe show, and the initial view with its zoom and the size of a pixel;
- :func:`area_data`, :func:`change_data`, :func:`markers`, :func:`panel_lists`, :func:`legend`,
  :func:`base`: the document's sections.

Sections hold data only (names, sentences, report base names, numbers, actor indices, dates), never
markup: the page builds every text from them with ``textContent`` (``assets/geo_idlib.js``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from . import context
from .faces import encode_polygons, iso_day, partition, simplify_within
from .palette import NO_ACTOR, Actors
from .view import (
    BROAD_PRECISIONS,
    DEFAULT_FOCUS,
    FAR_KM,
    VIEW_KM,
    bbox_distance_km,
    bounds_of,
    compass,
    fit_view,
    initial_zoom,
    pixel_degrees,
)


# --------------------------------------------------------------------------- values as data
def text(value) -> str:
    """A value shown as text: ``""`` for None and NaN, else ``str(value)`` as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def number(value) -> float | None:
    """A number, or None for None and NaN."""
    if value is None or pd.isna(value):
        return None
    return float(value)


def report_name(value) -> str:
    """A report's base name: popups and panels never show the local path of a report.

    Examples
    --------
    >>> report_name("/home/me/sources/wire 3.txt"), report_name("-")
    ('wire 3.txt', '-')
    """
    return text(value).rsplit("/", 1)[-1]


def place_name(row) -> str:
    """A place's display name: its gazetteer name, else the mention as written, else ``?``."""
    for key in ("name", "mention"):
        v = row.get(key)
        if isinstance(v, str) and v.strip():
            return v
    return "?"


def _groups(rows) -> list:
    """``(key, rows)`` per place, by key: its ``place_id``, else its name, else its mention."""
    empty = pd.Series("", index=rows.index)
    key = rows.get("place_id", empty).fillna("").astype(str)
    key = key.where(key != "", "name:" + rows.get("name", empty).fillna("").astype(str))
    if "mention" in rows.columns:
        key = key.where(key != "name:", "mention:" + rows["mention"].fillna("").astype(str))
    rows = rows.assign(_key=key.to_numpy())
    return sorted(rows.groupby("_key", sort=True), key=lambda kv: kv[0])


def _quote(row, excerpts: bool = True) -> dict:
    return {"sentence": text(row.get("sentence")) if excerpts else "", "report": report_name(row.get("report"))}


# --------------------------------------------------------------------------- areas
@dataclass(frozen=True)
class Areas:
    """A timeline cut into faces (:func:`geo_idlib.maps.faces.partition`)."""

    dates: np.ndarray
    faces: np.ndarray
    runs: list
    from_snapshot: bool  # one snapshot was given (``areas=``), not a timeline
    timeline: object = None  # the timeline cut (a snapshot made one), for the as-of join of places

    @property
    def bounds(self) -> tuple | None:
        return tuple(shapely.total_bounds(self.faces).tolist()) if len(self.faces) else None


def areas(snapshot, timeline, day, actors: Actors) -> Areas:
    """The timeline's faces; a ``snapshot`` (``actor, geometry``) holds from ``day`` on (or ever)."""
    from_snapshot = timeline is None and snapshot is not None and len(snapshot) > 0
    if from_snapshot:
        a = _crs.to_wgs84(snapshot, "areas")
        start = day if day is not None else np.datetime64("1970-01-01", "ns")
        timeline = a[["actor", "geometry"]].assign(valid_from=start, valid_to=pd.NaT).set_geometry("geometry")
    if timeline is None or not len(timeline):
        return Areas(np.array([], dtype="datetime64[ns]"), np.array([], dtype=object), [], from_snapshot)
    dates, faces, runs, _ = partition(timeline, actors)
    return Areas(dates, faces, runs, from_snapshot, timeline)


def area_data(a: Areas, pixel_deg: float) -> tuple[dict, float]:
    """The faces simplified within a pixel and encoded, their runs; and the largest deviation (px)."""
    if not len(a.faces):
        return {"faces": [], "runs": []}, 0.0
    simplified, dev_px = simplify_within(a.faces, pixel_deg)
    encoded = encode_polygons(simplified)
    index: dict[int, int] = {}  # face → its index among the faces left after encoding
    for i, rings in enumerate(encoded):
        if rings:
            index[i] = len(index)
    runs = sorted([index[f], k0, k1, a_] for f, k0, k1, a_ in a.runs if f in index)
    return {"faces": [f for f in encoded if f], "runs": runs}, dev_px


# --------------------------------------------------------------------------- places
@dataclass(frozen=True)
class Places:
    """The report's places: ``located`` rows (with ``_drawn``: not too far), ``unlocated`` rows."""

    located: object = None
    unlocated: object = None
    framed: tuple | None = None  # the box of the places the initial view frames

    @property
    def drawn(self):
        return None if self.located is None else self.located[self.located["_drawn"].to_numpy()]


def places(rows, area_bounds) -> Places:
    """Located and unlocated places, which are drawn (within :data:`FAR_KM`), which are framed.

    The view frames the places near the areas (within :data:`VIEW_KM`) that are not a whole
    country's or region's point; without areas, the places near the default focus.
    """
    if rows is None or not len(rows):
        return Places()
    p = _crs.to_wgs84(rows, "places")
    geom = p.geometry.to_numpy()
    located = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    loc = p[located]
    lon, lat = shapely.get_x(loc.geometry.to_numpy()), shapely.get_y(loc.geometry.to_numpy())
    dist = bbox_distance_km(lat, lon, area_bounds or DEFAULT_FOCUS)
    far = dist > FAR_KM
    precision = loc.get("precision", pd.Series("", index=loc.index))
    broad = precision.fillna("").astype(str).str.lower().isin(BROAD_PRECISIONS).to_numpy()
    framed = ~far & ~broad & (dist <= VIEW_KM if area_bounds is not None else True)
    if not framed.any() and area_bounds is None:  # no areas, only country points: frame them
        framed = ~far
    box = None
    if framed.any():
        box = (float(lon[framed].min()), float(lat[framed].min()), float(lon[framed].max()), float(lat[framed].max()))
    return Places(loc.assign(_drawn=~far), p[~located], box)


def label(rows, lang: str = "en") -> str:
    """A place's label: the spelling the report uses most (the first of equals), else its name.

    In Arabic (``lang="ar"``): the place's Arabic name (column ``name_ar``), else the report's own
    spelling when it is Arabic, else as above.

    Examples
    --------
    >>> label(pd.DataFrame({"mention": ["Saraqeb", "Saraqib", "Saraqeb"], "name": ["Saraqib"] * 3}))
    'Saraqeb'
    >>> rows = pd.DataFrame({"mention": ["وسراقب", "Saraqeb"], "name": ["Saraqib"] * 2, "name_ar": ["سراقب", ""]})
    >>> label(rows, "ar"), label(rows.drop(columns="name_ar"), "ar"), label(rows.iloc[1:].drop(columns="name_ar"), "ar")
    ('سراقب', 'وسراقب', 'Saraqeb')
    """
    if lang == "ar":
        named = [n for n in rows.get("name_ar", pd.Series(dtype=object)).fillna("").astype(str) if n.strip()]
        if named:
            return named[0]
        if "mention" in rows.columns:
            arabic = rows[rows["mention"].fillna("").astype(str).str.contains(_ARABIC, regex=True)]
            if len(arabic):
                return label(arabic)
    if "mention" in rows.columns:
        m = rows["mention"].fillna("").astype(str)
        m = m[m.str.strip() != ""]
        if len(m):
            counts = m.value_counts(sort=False)
            return str(counts.index[int(np.argmax(counts.to_numpy()))])
    return place_name(rows.iloc[0])


#: An Arabic letter (a mention written in Arabic script).
_ARABIC = "[\u0621-\u064a\u0671-\u06d3]"


def held(xy: np.ndarray, a: Areas, actors: Actors) -> list[list[list[int]]]:
    """Who held each point (``xy``: lon/lat rows) in each date interval of ``a``, by the as-of join:
    per point, runs ``[k_from, k_to, actor]`` (intervals nobody held are left out)."""
    if a.timeline is None or not len(a.dates) or not len(xy):
        return [[] for _ in range(len(xy))]
    import geopandas as gpd

    from ..territory import join
    from ..territory.timeline import coverage

    last = coverage(a.timeline)[1]
    ks = np.arange(len(a.dates)) if last is None else np.flatnonzero(a.dates <= np.datetime64(last, "ns"))
    p = np.repeat(np.arange(len(xy)), len(ks))
    ev = gpd.GeoDataFrame({"date": np.tile(a.dates[ks], len(xy))},
                          geometry=_crs.points_from_latlon(xy[p, 1], xy[p, 0]), crs=_crs.WGS84)
    got = actors.get_many(join.asof_join(ev, a.timeline, what="places")["actor"].to_numpy()).reshape(len(xy), len(ks))
    out = []
    for row in got.tolist():
        runs: list[list[int]] = []
        for k, who in zip(ks.tolist(), row, strict=True):
            if runs and runs[-1][2] == who and runs[-1][1] == k:
                runs[-1][1] = k + 1
            else:
                runs.append([k, k + 1, who])
        out.append([r for r in runs if r[2] != NO_ACTOR])
    return out


def markers(spots: Places, actors: Actors, a: Areas | None = None, excerpts: bool = True,
            lang: str = "en") -> list[dict]:
    """One marker per drawn place: where, its label (in ``lang``; then ``tip``, the report's own
    spelling, is its tooltip), who held it (on the map's date and on each date of the slider), what
    the report says about it (``excerpts=False``: the report's name only)."""
    out = []
    drawn = spots.drawn
    for _, g in (_groups(drawn) if drawn is not None and len(drawn) else []):
        r = g.iloc[0]
        quoted = g.drop_duplicates(["report", "sentence"]) if {"report", "sentence"} <= set(g.columns) else g
        if not excerpts:
            quoted = quoted.drop_duplicates(["report"]) if "report" in quoted.columns else quoted.head(1)
        out.append({"lat": round(float(r.geometry.y), 5), "lon": round(float(r.geometry.x), 5), "label": label(g, lang),
                    "actor": actors.get(r.get("actor")) if "actor" in g.columns else NO_ACTOR,
                    "name": place_name(r), "precision": text(r.get("precision")),
                    "confidence": number(r.get("confidence")), "admin1": text(r.get("admin1")),
                    "country": text(r.get("country")), "front_km": number(r.get("front_km")),
                    "mentions": [_quote(m, excerpts) for _, m in quoted.head(5).iterrows()], "n": int(len(g))})
        if lang != "en":
            out[-1]["tip"] = label(g)
    xy = np.array([[m["lon"], m["lat"]] for m in out], dtype=float).reshape(-1, 2)
    for m, runs in zip(out, held(xy, a, actors) if a is not None else [[]] * len(out), strict=True):
        m["held"] = runs
    out.sort(key=lambda m: (m["lat"], m["lon"], m["name"]))
    return out


def panel_lists(spots: Places, view: tuple, excerpts: bool = True) -> tuple[list[dict], list[dict]]:
    """The side panel's lists: located places outside ``view`` (nearest first), unlocated places."""
    outside = []
    if spots.located is not None and len(spots.located):
        w, s, e, n = view
        clat, clon = (s + n) / 2, (w + e) / 2
        for _, g in _groups(spots.located):
            r = g.iloc[0]
            y, x = float(r.geometry.y), float(r.geometry.x)
            if w <= x <= e and s <= y <= n:
                continue
            km = float(bbox_distance_km(np.array([y]), np.array([x]), view)[0])
            precision = text(r.get("precision")).lower()
            outside.append({"name": place_name(r), **_quote(r, excerpts), "km": round(km, 3),
                            "compass": compass(clat, clon, y, x), "country": text(r.get("country")),
                            "broad": precision if precision in BROAD_PRECISIONS else "",
                            "drawn": bool(r["_drawn"])})
        outside.sort(key=lambda t: (t["km"], t["name"]))
    unlocated = []
    if spots.unlocated is not None and len(spots.unlocated):
        for _, g in _groups(spots.unlocated):
            r = g.iloc[0]
            unlocated.append({"name": place_name(r), **_quote(r, excerpts), "status": text(r.get("status"))})
    return outside, unlocated


# --------------------------------------------------------------------------- change
def change_box(change_polys) -> tuple | None:
    """The box of the non-empty change polygons, or None."""
    if change_polys is None or not len(change_polys):
        return None
    g = _crs.to_wgs84(change_polys, "change").geometry.to_numpy()
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    return tuple(shapely.total_bounds(g).tolist()) if len(g) else None


def change_data(change_polys, actors: Actors, pixel_deg: float, d1, d2) -> dict | None:
    """The change polygons (gained by ``to``, lost by ``from``) and each side's km² totals."""
    if change_polys is None or not len(change_polys):
        return None
    c = _crs.to_wgs84(change_polys, "change polygons")
    c = c[~(c.geometry.isna() | c.geometry.is_empty)]
    km2 = c["area_km2"].to_numpy(dtype=float) if "area_km2" in c.columns else _crs.geodesic_area_km2(c)
    af = actors.get_many(c["actor_from"].to_numpy())
    at = actors.get_many(c["actor_to"].to_numpy())
    encoded = encode_polygons(simplify_within(c.geometry.to_numpy(), pixel_deg)[0])
    polygons = [{"g": g, "from": int(f), "to": int(t), "km2": round(float(k), 3)}
                for g, f, t, k in zip(encoded, af, at, km2, strict=True) if g]
    polygons.sort(key=lambda r: (r["from"], r["to"], -r["km2"], r["g"]))
    gained = pd.Series(km2, dtype=float).groupby(at).sum()
    lost = pd.Series(km2, dtype=float).groupby(af).sum()
    sides = sorted((set(gained.index) | set(lost.index)) - {NO_ACTOR}, key=actors.label)
    totals = [{"actor": int(i), "gained_km2": round(float(gained.get(i, 0.0)), 3),
               "lost_km2": round(float(lost.get(i, 0.0)), 3)} for i in sides]
    return {"d1": iso_day(d1) if d1 is not None else None, "d2": iso_day(d2) if d2 is not None else None,
            "polygons": polygons, "totals": totals}


# --------------------------------------------------------------------------- time and view
@dataclass(frozen=True)
class Time:
    """The dates shown: slider positions, the first one, the swipe's two sides, the popups' date."""

    slider: list
    start: int | None
    swipe: dict | None
    held_on: str | None
    date_label: bool


def index_of(dates, d) -> int | None:
    """The interval of ``dates`` that holds day ``d``; None before the timeline (nothing to show)."""
    if d is None or len(dates) == 0:
        return None
    i = int(np.searchsorted(dates, d, side="right")) - 1
    return i if i >= 0 else None


def _with_areas(dates, runs) -> list[int]:
    """The intervals of ``dates`` in which some face is held (the slider's positions)."""
    cover = np.zeros(len(dates) + 1, dtype=int)
    if runs:
        r = np.asarray(runs, dtype=int)
        np.add.at(cover, r[:, 1], 1)
        np.add.at(cover, np.minimum(r[:, 2], len(dates)), -1)
    return np.flatnonzero(np.cumsum(cover)[:len(dates)] > 0).tolist()


def time(a: Areas, day, d1, d2, change_bounds) -> Time:
    """The slider's dates, the one shown first (``day``, else ``d2``, else the last), the swipe."""
    shown = _with_areas(a.dates, a.runs)
    first = day if day is not None else d2
    start = index_of(a.dates, first) if first is not None else (shown[-1] if shown else None)
    swipe = None
    if d1 is not None and d2 is not None and len(a.dates) and not a.from_snapshot:
        swipe = {"left": index_of(a.dates, d1), "right": index_of(a.dates, d2), "left_label": iso_day(d1),
                 "right_label": iso_day(d2), "lon": None}
        if change_bounds is not None:  # the swipe starts on the change
            swipe["lon"] = round((change_bounds[0] + change_bounds[2]) / 2, 5)
    if first is not None:  # the date asked for (or D2), not the change date before it
        held_on = iso_day(first)
    else:
        held_on = iso_day(a.dates[start]) if start is not None and len(a.dates) else None
    return Time(shown, start, swipe, held_on, not (a.from_snapshot and day is None))


@dataclass(frozen=True)
class Frame:
    """The initial view (west, south, east, north), its zoom, and one pixel in degrees there."""

    bounds: tuple
    zoom: int
    pixel_deg: float


def frame(a: Areas, spots: Places, change_bounds, t: Time, actors: Actors) -> Frame:
    """The initial view: the report's places and the change, with the known sides around them.

    Not every area: a big ``unknown`` area would shrink the front to a corner; all the areas only
    when there is nothing else (:func:`geo_idlib.maps.view.fit_view`).
    """
    first = {k for k in (t.start, t.swipe["left"] if t.swipe else None) if k is not None}
    known = {i for i, st in enumerate(actors.table) if st["id"] != "unknown"}
    faces = sorted({f for f, k0, k1, a_ in a.runs
                    if a_ in known and (not first or any(k0 <= k < k1 for k in first))})
    view = fit_view(bounds_of([spots.framed, change_bounds]), a.faces[faces] if faces else None, a.bounds)
    zoom = initial_zoom(view)
    return Frame(view, zoom, pixel_degrees(view, zoom))


# --------------------------------------------------------------------------- legend and base layers
def legend(a: Areas, change: dict | None, marks: list[dict], actors: Actors) -> dict:
    """The actors drawn (in palette order, then others by id), and whether a place has no actor."""
    used = {a_ for *_, a_ in a.runs} | {m["actor"] for m in marks}
    if change:
        used |= {r["to"] for r in change["polygons"]} | {r["from"] for r in change["polygons"]}
    order = {k: i for i, k in enumerate(actors.pal["actors"])}
    ids = sorted(used - {NO_ACTOR}, key=lambda i: (order.get(actors.table[i]["id"], len(order)), actors.table[i]["id"]))
    return {"actors": ids, "no_actor": any(m["actor"] == NO_ACTOR for m in marks)}


def _online_tiles() -> list[dict]:
    """OpenStreetMap and CARTO Positron through xyzservices, with their attribution."""
    import xyzservices.providers as xyz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xyzservices warns that CARTO may want an API key
        providers = [("OpenStreetMap", xyz.OpenStreetMap.Mapnik), ("CartoDB Positron", xyz.CartoDB.Positron)]
        return [{"name": n, "url": p.build_url(), "attribution": p.html_attribution,
                 "attribution_text": p.attribution, "max_zoom": int(p.get("max_zoom", 18))} for n, p in providers]


def base(view: Frame, offline: bool, basemap: bool | None) -> dict:
    """Tiles (online only, through xyzservices) and the offline vector basemap."""
    want = (basemap if basemap is not None else True) if offline else bool(basemap)
    return {"tiles": [] if offline else _online_tiles(),
            "basemap": context.basemap(view.bounds, view.pixel_deg) if want else None}
