"""The map document: everything a map shows as plain JSON-able data, and the folium map made from it.

:func:`build_document` checks its inputs and composes the steps of :mod:`geo_idlib.maps.layers`:
areas → faces, places → markers and panel lists, change → change layer and km² totals, the dates
shown, the initial view, the legend and the base layers. The result holds data only (names,
sentences, report base names, numbers, actor indices, dates, palette values), never markup.
:func:`build_map` hands it to the map's folium element (:mod:`geo_idlib.maps.element`), whose
script builds every text of the page from it with ``textContent``.

The document (version :data:`VERSION`) is described by the JSON Schema
``geo_idlib/assets/geo_idlib.schema.json``: ``v``, ``map_id``, ``title``, ``notice``, ``view``,
``time``, ``quantum``, ``actors``, ``areas``, ``change``, ``places``, ``legend``, ``base``, ``style``.
"""

from __future__ import annotations

import folium
import numpy as np

from ..errors import InputError
from . import context, element, furniture, layers
from .faces import QUANTUM, as_day, iso_day
from .palette import Actors, palette, style
from .view import FAR_KM, MAX_ZOOM, REF_HEIGHT, REF_WIDTH

#: The version of the document's layout (``v``); the page's script reads this one only.
VERSION = 3

#: A place closer than this (km) to another side's ground is flagged as near the front in its popup.
FRONT_KM = 5.0

#: The columns each layer needs (the other columns of DESIGN.md are optional).
REQUIRED_COLUMNS = {"areas": ("actor",), "timeline": ("actor", "valid_from", "valid_to"),
                    "change_polys": ("actor_from", "actor_to"), "places": ()}


# --------------------------------------------------------------------------- inputs
def _check_layer(what: str, gdf) -> None:
    """A layer is a GeoDataFrame with its columns; else :class:`InputError` naming the fix."""
    if gdf is None:
        return
    if not hasattr(gdf, "geometry") or not hasattr(gdf, "crs"):
        raise InputError(f"map {what}: expected a GeoDataFrame, got {type(gdf).__name__}; "
                         "read it with geopandas or geo_idlib.pipeline")
    missing = [c for c in REQUIRED_COLUMNS[what] if c not in gdf.columns]
    if missing:
        raise InputError(f"map {what}: no column {', '.join(map(repr, missing))}; "
                         f"give {', '.join(REQUIRED_COLUMNS[what])} (DESIGN.md)")


def _check_places(places) -> None:
    if places is None or not len(places):
        return
    types = set(places.geometry.dropna()[~places.geometry.dropna().is_empty].geom_type)
    if types - {"Point"}:
        raise InputError(f"map places: geometries must be points, not {', '.join(sorted(types - {'Point'}))}; "
                         "give each place its point (lat/lon)")


def _check_text(what: str, value) -> None:
    if value is not None and not isinstance(value, str):
        raise InputError(f"map {what}: expected text, got {type(value).__name__}; pass a str")


def _day_or_none(what: str, value):
    if value is None:
        return None
    try:
        return as_day(value)
    except (ValueError, TypeError):
        raise InputError(f"map {what}: {value!r} is not a date; give YYYY-MM-DD") from None


def _inputs(areas, places, timeline, change_polys, texts: dict, date, d1, d2) -> tuple:
    """Check every input; return the days ``(date, d1, d2)``."""
    for what, gdf in (("areas", areas), ("places", places), ("timeline", timeline), ("change_polys", change_polys)):
        _check_layer(what, gdf)
    _check_places(places)
    for what, value in texts.items():
        _check_text(what, value)
    day, d1, d2 = (_day_or_none(w, v) for w, v in (("date", date), ("d1", d1), ("d2", d2)))
    if d1 is not None and d2 is not None and d1 > d2:
        raise InputError(f"--from {iso_day(d1)} is after --to {iso_day(d2)}; swap them")
    return day, d1, d2


# --------------------------------------------------------------------------- the document
def _build(areas=None, places=None, *, timeline=None, date=None, change_polys=None, d1=None, d2=None,
           title=None, offline=True, basemap=None, notice=None, subtitle=None, credit=None, areas_source=None,
           towns=None, excerpts=True, lang=furniture.DEFAULT_LANG) -> tuple[dict, layers.Areas]:
    """The document and the exact (unsimplified) faces behind it."""
    day, d1, d2 = _inputs(areas, places, timeline, change_polys,
                          {"title": title, "notice": notice, "subtitle": subtitle, "credit": credit}, date, d1, d2)
    pal = palette()
    text = furniture.text_table(lang)
    names, no_actor = text.pop("actors", None), text.pop("no_actor", None)  # the palette's words in this language
    actors = Actors(pal, names)
    area = layers.areas(areas, timeline, day, actors)
    spots = layers.places(places, area.bounds)
    change_bounds = layers.change_box(change_polys)
    when = layers.time(area, day, d1, d2, change_bounds)
    view = layers.frame(area, spots, change_bounds, when, actors)
    area_doc, dev_px = layers.area_data(area, view.pixel_deg)
    change = layers.change_data(change_polys, actors, view.pixel_deg, d1, d2)
    marks = layers.markers(spots, actors, area, excerpts, lang)
    outside, unlocated = layers.panel_lists(spots, view.bounds, excerpts)
    base = layers.base(view, offline, basemap)
    town_rows = towns(view.bounds) if callable(towns) else towns
    xy = np.array([[m["lon"], m["lat"]] for m in marks]).reshape(-1, 2)
    town_labels = context.towns(town_rows, view.bounds, view.zoom, xy)
    w, s, e, n = view.bounds
    doc = {
        "v": VERSION, "map_id": element.MAP_ID, "notice": notice or None,
        "view": {"bounds": [[round(s, 5), round(w, 5)], [round(n, 5), round(e, 5)]], "zoom": view.zoom,
                 "max_zoom": MAX_ZOOM, "pixel_deg": round(view.pixel_deg, 8),
                 "ref_view": [REF_WIDTH, REF_HEIGHT], "max_dev_px": round(dev_px, 3)},
        "time": {"dates": [iso_day(d) for d in area.dates], "slider": when.slider, "start": when.start,
                 "swipe": when.swipe, "held_on": when.held_on, "date_label": when.date_label},
        "quantum": QUANTUM,
        "areas": area_doc,
        "change": change,
        "places": {"markers": marks, "outside": outside, "unlocated": unlocated, "far_km": FAR_KM,
                   "front_km": FRONT_KM},
        "labels": {"towns": town_labels},
        "legend": layers.legend(area, change, marks, actors),
        "base": base,
        "style": style(pal, no_actor),
        "text": text,
    }
    doc["actors"] = actors.table  # the change and the markers may have added actors
    doc["time"].update(_series(area, actors, d1, when))
    reports = sorted({layers.report_name(r) for r in (places["report"] if places is not None and "report" in places
                                                      else []) if layers.text(r)})
    place_ids = places["place_id"].fillna("").tolist() if places is not None and "place_id" in places else []
    shown = doc["title"] = furniture.title(text, title, day if day is not None else when.held_on, d1, d2)
    doc["furniture"] = {
        "title": shown, "subtitle": furniture.subtitle(text, subtitle, reports),
        "subtitle_fixed": subtitle is not None,
        "since": iso_day(d1) if d1 is not None and doc["time"]["base"] is not None else None,
        "figures": furniture.figure_actors(np.asarray(doc["time"]["area_km2"] or []), doc["time"]["base"],
                                           when.start, {i for i, a in enumerate(actors.table) if a["id"] != "unknown"}),
        "credit": credit if credit is not None else furniture.credit(
            text, place_ids, areas_source, base["basemap"] is not None, base["tiles"], bool(town_labels)),
    }
    return doc, area


def _series(area: layers.Areas, actors: Actors, d1, when) -> dict:
    """The km² each actor holds per date (and in doubt), and the index of D1: the running key figures."""
    base = layers.index_of(area.dates, d1) if d1 is not None else None
    if base is None or not len(area.dates):
        return {"area_km2": None, "uncertain_km2": None, "base": None}
    km2 = furniture.series(area.faces, area.runs, len(area.dates), len(actors.table))
    unc = furniture.uncertain_series(area.timeline, area.dates, base, actors)
    # to 0.001 km², not to the 0.1 km² shown under 10 km²: rounding twice (2,498.47 → 2,498.5
    # → 2,499) would show another figure than `geo-idlib change` prints for the same dates
    return {"area_km2": np.round(km2, 3).tolist(), "base": base,
            "uncertain_km2": np.round(unc, 3).tolist() if unc is not None else None}


def build_document(areas=None, places=None, *, timeline=None, date=None, change_polys=None, d1=None,
                   d2=None, title: str | None = None, offline: bool = True, basemap: bool | None = None,
                   notice: str | None = None, **options) -> dict:
    """Everything a map of control areas, change and places shows, as plain JSON-able data.

    Takes the parameters of :func:`build_map`. Bad inputs raise :class:`~geo_idlib.errors.InputError`
    (or :class:`~geo_idlib.errors.CRSError`) with one line naming the input and the fix.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    >>> doc = build_document(a, basemap=False, title="Idlib")
    >>> doc["v"], doc["title"], [x["id"] for x in doc["actors"]], doc["areas"]["runs"]
    (3, 'Idlib', ['government'], [[0, 0, 1, 0]])
    >>> build_document(a, date="yesterday-ish")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.InputError: map date: 'yesterday-ish' is not a date; give YYYY-MM-DD
    """
    return _build(areas, places, timeline=timeline, date=date, change_polys=change_polys, d1=d1, d2=d2,
                  title=title, offline=offline, basemap=basemap, notice=notice, **options)[0]


def build_map(areas=None, places=None, *, timeline=None, date=None, change_polys=None, d1=None, d2=None,
              title: str | None = None, offline: bool = True, basemap: bool | None = None,
              notice: str | None = None, **options) -> folium.Map:
    """A self-contained Leaflet map of control areas, change and places.

    Parameters
    ----------
    areas : GeoDataFrame, optional
        A snapshot (``actor, geometry``), used when ``timeline`` is not given.
    places : GeoDataFrame, optional
        Places (DESIGN.md columns) with an optional ``actor`` column from the as-of join. Places more
        than :data:`~geo_idlib.maps.view.FAR_KM` from the focus region are not drawn. The initial
        view frames the places (see :func:`~geo_idlib.maps.view.fit_view`); every located place
        outside it, and every unresolved place, is listed in the side panel. Reports are named by
        their base name, never by their path.
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
    **options
        ``subtitle`` (default: the reports' names; the date shown is added), ``credit`` (default:
        built from the data shown), ``areas_source`` (names of the areas' sources, for the credit),
        ``towns`` (the gazetteer's settlements, ``name, lat, lon, population``, or a function of the
        view's bounds giving them: context labels), ``excerpts`` (False: no report sentence in the
        document), ``lang`` (the texts' table in ``data/map_text.json``: ``en``, or ``ar``: Arabic texts
        laid out right to left, place labels in Arabic, from the places' ``name_ar`` column or
        else the report's own Arabic spelling; tooltips keep the report's spelling).

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; :func:`~geo_idlib.maps.element.to_html` gives the deterministic
        HTML. ``m.geo_idlib`` is its document (:func:`build_document`); ``m.geo_idlib_faces`` and
        ``m.geo_idlib_runs`` the exact faces before simplification and their runs.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    >>> m = build_map(a, basemap=False)
    >>> element.to_html(m) == element.to_html(build_map(a, basemap=False))
    True
    """
    doc, area = _build(areas, places, timeline=timeline, date=date, change_polys=change_polys, d1=d1, d2=d2,
                       title=title, offline=offline, basemap=basemap, notice=notice, **options)
    m = element.folium_map(doc)
    m.geo_idlib_faces = area.faces  # the exact faces before simplification (for size/deviation checks)
    m.geo_idlib_runs = area.runs    # their runs (face, k_from, k_to, actor index) over doc["time"]["dates"]
    return m
