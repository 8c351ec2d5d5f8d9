"""A map's furniture: its texts, title and subtitle, key figures and credit line, as data.

Every text a page shows that is not data comes from ``geo_idlib/data/map_text.json`` (one table per
language, with its direction), so that another language is a new table, not new code. The key
figures are each side's net km² since D1 on the date shown, with ± the ground in doubt in that
change (:func:`geo_idlib.territory.change.uncertain_between`, the figure ``geo-idlib change`` gives):
the page recomputes them for any slider date from the per-date areas carried in the document.
The credit line names the data actually shown: GeoNames and OCHA for places, the timeline's own
source for the areas, Natural Earth or the tile provider for the basemap.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import crs as _crs
from .. import io
from ..errors import InputError
from .palette import NO_ACTOR

#: The language of a map's texts when none is asked for.
DEFAULT_LANG = "en"

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def languages() -> list[str]:
    """The languages a map can speak: the tables of ``map_text.json``.

    >>> languages()
    ['ar', 'en']
    """
    return sorted(k for k in io.package_data_json("map_text.json") if not k.startswith("_"))


def text_table(lang: str = DEFAULT_LANG) -> dict:
    """The texts of a map in ``lang`` (``map_text.json``).

    Examples
    --------
    >>> text_table()["dir"], text_table()["months"][1], text_table("ar")["dir"]
    ('ltr', 'February', 'rtl')
    >>> text_table("xx")
    Traceback (most recent call last):
    ...
    geo_idlib.errors.InputError: --lang xx: no map texts in that language; give one of ar, en
    """
    tables = io.package_data_json("map_text.json")
    if lang not in languages():
        raise InputError(f"--lang {lang}: no map texts in that language; give one of {', '.join(languages())}")
    return dict(tables[lang])


def lang_of(texts) -> str:
    """The language a map of ``texts`` speaks by default: Arabic when their letters are mostly
    Arabic, else :data:`DEFAULT_LANG`.

    >>> lang_of(["قصفت قوات النظام مدينة سراقب"]), lang_of(["Shelling hit Saraqib (سراقب)"]), lang_of([])
    ('ar', 'en', 'en')
    """
    arabic = sum(len(_ARABIC_LETTER.findall(t)) for t in texts)
    latin = sum(len(_LATIN_LETTER.findall(t)) for t in texts)
    return "ar" if arabic > latin else DEFAULT_LANG


def fill(template: str, **values) -> str:
    """``template`` with ``{name}`` replaced by ``values`` (text only: no format specs, no attributes).

    Examples
    --------
    >>> fill("areas as of {date}", date="2020-02-20")
    'areas as of 2020-02-20'
    >>> fill("{a} {{b}}", a="{x}")
    '{x} {{b}}'
    """
    out, i = [], 0
    while i < len(template):
        j = template.find("{", i)
        k = template.find("}", j) if j >= 0 else -1
        if j < 0 or k < 0:
            out.append(template[i:])
            break
        key = template[j + 1:k]
        out.append(template[i:j])
        out.append(str(values[key]) if key in values else template[j:k + 1])
        i = k + 1
    return "".join(out)


def human_date(day, text: dict) -> str:
    """A day as a reader writes it: ``20 February 2020``.

    Examples
    --------
    >>> human_date("2020-02-20", text_table())
    '20 February 2020'
    """
    d = pd.Timestamp(day)
    return f"{d.day} {text['months'][d.month - 1]} {d.year}"


def title(text: dict, given, day, d1, d2) -> str:
    """The map's title: ``given``, else the change period, else the date shown."""
    if given:
        return given
    if d1 is not None and d2 is not None:
        return fill(text["title_change"], d1=human_date(d1, text), d2=human_date(d2, text))
    if day is not None:
        return fill(text["title_date"], date=human_date(day, text))
    return text["title_none"]


def subtitle(text: dict, given, reports: list[str]) -> str:
    """The subtitle's fixed part: ``given``, else the reports the places come from (base names)."""
    if given is not None:
        return given
    return fill(text["subtitle_places"], reports=", ".join(reports)) if reports else ""


# --------------------------------------------------------------------------- the km² per date
def series(faces, runs, n_dates: int, n_actors: int) -> np.ndarray:
    """Geodesic km² each actor holds in each date interval: an ``(n_dates, n_actors)`` array.

    The faces form a coverage, so an actor's area on a date is the sum of its faces then.
    """
    out = np.zeros((n_dates + 1, max(n_actors, 1)))
    if not len(faces) or not runs:
        return out[:n_dates]
    km2 = _crs.geodesic_area_km2(np.asarray(faces, dtype=object))
    for f, k0, k1, a in runs:
        out[k0, a] += km2[f]
        out[min(k1, n_dates), a] -= km2[f]
    return np.cumsum(out, axis=0)[:n_dates]


def uncertain_series(timeline, dates, base: int, actors) -> np.ndarray | None:
    """The ± of each actor's net km² from ``dates[base]`` to each date
    (:func:`geo_idlib.territory.change.uncertain_between`, as ``geo-idlib change`` reports it), or
    None when the timeline has no ``uncertain_km2`` column."""
    if timeline is None or "uncertain_km2" not in timeline.columns or not len(dates):
        return None
    from ..territory import change
    from ..territory.timeline import actor_areas

    out = np.zeros((len(dates), len(actors.table)))
    d1 = pd.Timestamp(dates[base])
    a1 = actor_areas(timeline, d1)
    for k, day in enumerate(dates):
        if k == base:
            continue
        u = change.uncertain_between(timeline, d1, pd.Timestamp(day), a1)
        for name, km2 in (u or {}).items():
            a = actors.get(name)
            if a != NO_ACTOR:
                out[k, a] += km2
    return out


def figure_actors(area_km2: np.ndarray, base: int | None, start: int | None, known) -> list[int]:
    """The actors of the key figures: those whose area changed since ``base``, largest change first."""
    if base is None or start is None or not len(area_km2):
        return []
    net = area_km2[start] - area_km2[base]
    order = sorted((i for i in range(len(net)) if abs(net[i]) >= 0.05 and i in known), key=lambda i: (-abs(net[i]), i))
    return order[:3]


# --------------------------------------------------------------------------- credit
def credit(text: dict, place_ids, areas_source, basemap: bool, tiles: list[dict], towns: bool) -> str:
    """The credit line: the sources of the places, areas and basemap actually drawn.

    Examples
    --------
    >>> credit(text_table(), ["geonames:1", "ocha:SY07"], ["DeepState"], True, [], False)
    'Sources: places: GeoNames (CC BY 4.0), OCHA (CC BY 3.0 IGO); areas: DeepState; basemap: Natural Earth'
    >>> credit(text_table(), ["syria:w1234"], [], False, [], False)
    "Sources: places: Wikipedia's Syrian Civil War map, 2017 (CC BY-SA 4.0)"
    """
    places: list[str] = []
    for pid in sorted({str(p) for p in place_ids if p}):
        kind = pid.split(":", 1)[0]
        if kind in ("geonames", "admin1", "region", "builtin"):
            item = text["geonames"]
        elif kind == "ocha":
            item = text["ocha"]
        elif kind == "syria":  # the built-in Syria gazetteer: the 2017 Wikipedia map's places
            item = text["syria_gazetteer"]
        elif kind == "user":
            item = fill(text["user_gazetteer"], name=pid.split(":")[1])
        elif kind == "online":
            item = fill(text["online"], service=pid.split(":")[1])
        else:
            continue
        if item not in places:
            places.append(item)
    if towns and text["geonames"] not in places:
        places.append(text["geonames"])
    parts = []
    if places:
        parts.append(fill(text["credit_places"], list=", ".join(places)))
    sources = [s for s in dict.fromkeys(areas_source or []) if s]
    if sources:
        parts.append(fill(text["credit_areas"], list=", ".join(sources)))
    base = ([text["natural_earth"]] if basemap else []) + [t["attribution_text"] for t in tiles]
    if base:
        parts.append(fill(text["credit_basemap"], list=", ".join(base)))
    return text["credit_prefix"] + text["credit_sep"].join(parts) if parts else ""
