"""The NW Syria sample's places looked up through the library's own gazetteer index.

Helpers of :mod:`scripts.build_nw_syria_sample` (which documents the whole build):

* :func:`sample_free_index` opens the library's gazetteer index (GeoNames, OCHA, the built-in Syria
  gazetteer) *without* the sample's own gazetteer, ``shapefiles/nw_syria_places.csv``: that file is
  made from this sample's observations, so looking the facts' names up in it would be circular (and
  a rebuild would change what the next rebuild finds); no user gazetteer either;
* :func:`library_options` finds each fact place's candidates with :func:`geo_idlib.places.rank.lookup`
  (the library's lookup order: the normalised key, the key without spaces, the tuned fuzzy step):
  entries in Syria that are a settlement, hill, base or air base (not an admin area's label point);
* :func:`admissible` keeps those (and the builder's own spelling matches) that can be the place:
  inside the facts' governorates (Idlib, Aleppo, Hama, Latakia) and, when a row of the place carries
  a 2017 marker of the changes file, within :data:`MARKER_KM` of it;
* :func:`spot_check` compares placements with the markers of the 2017 map in ``../shared``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_idlib import io
from geo_idlib.crs import haversine_km
from geo_idlib.places import store
from geo_idlib.places.normalize import loose_key, normalize, skeleton
from geo_idlib.places.rank import lookup

#: Feature codes a fact place can be: settlements, hills, bases, air bases (not ADM2/ADM3 label points,
#: not named areas).
FEATURES = ("PPL", "HLL", "MILB", "AIRB", "AIRH")
#: A name match is not trusted when it lands farther than this from the fact's own 2017 marker
#: (the changes file's ``map_lat``/``map_lon``, even one its note calls a probable match).
MARKER_KM = 10.0
#: The library's candidates of a place come before the builder's own spelling rules.
LEVEL = "gazetteer"


def sample_free_index():
    """The library's gazetteer index built without ``shapefiles/*_places.csv`` and user gazetteers.

    Built once (about half a minute) into ``<cache>/nw_syria_build/`` (its own folder: an index build
    removes the other indexes of its folder) and reused while the library's code and data are unchanged.
    """
    cache = io.cache_dir() / "nw_syria_build"
    saved = {k: os.environ.get(k) for k in ("GEO_IDLIB_SHAPEFILES", "GEO_IDLIB_CACHE")}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "countries.gpkg").symlink_to(io.shapefiles_dir() / "countries.gpkg")
        os.environ.update(GEO_IDLIB_SHAPEFILES=tmp, GEO_IDLIB_CACHE=str(cache))
        store.forget_loaded()
        try:
            return store.load_index(gazetteers=())
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            store.forget_loaded()


def all_spellings(rows: pd.DataFrame) -> list[str]:
    """Every spelling of some rows (``place`` and ``place_alt`` entries), Arabic script included."""
    out = {s.strip() for p, a in zip(rows["place"], rows["place_alt"], strict=True)
           for s in [p, *str(a or "").split("|")]}
    return sorted(s for s in out if s)


def markers(rows: pd.DataFrame) -> np.ndarray:
    """The 2017 markers the changes file gives for some rows (``[[lat, lon], ...]``; maybe none)."""
    m = rows[rows["map_lat"].astype(str) != ""]
    return np.unique(m[["map_lat", "map_lon"]].astype(float).to_numpy(), axis=0).reshape(-1, 2)


def candidate_table(cands) -> pd.DataFrame:
    """Index entries ``[(candidate, via)]`` in the builder's candidate shape (source, ref, name, skel,
    lat, lon, rank, soft, via): one row per spelling of each entry (``soft``: its loose key)."""
    rows = [(c.source, c.place_id, c.name, skeleton(n), c.lat, c.lon, -1, loose_key(n), via)
            for c, via in cands for n in dict.fromkeys((c.name, *c.alternatenames)) if loose_key(n)]
    return pd.DataFrame(rows, columns=["source", "ref", "name", "skel", "lat", "lon", "rank", "soft", "via"])


def article_optional(key: str) -> tuple[str, ...]:
    """A normalised key and, when it starts with the article, the key without it (as the index keys
    its own names: "al-Hamidiah" is also looked up as "Hamidiah").

    >>> article_optional("al hamidia"), article_optional("saraqib")
    (('al hamidia', 'hamidia'), ('saraqib',))
    """
    return (key, key[3:]) if key.startswith("al ") and len(key) > 3 else (key,)


def library_options(index, groups: dict) -> tuple[dict, pd.DataFrame]:
    """``({g: (level, candidates)}, every spelling of the candidates)`` for the place groups ``{g: rows}``:
    the index entries of each group's spellings (one row per entry), before :func:`admissible`."""
    keys = {g: sorted({k for s in all_spellings(r) for k in article_optional(normalize(s))} - {""})
            for g, r in groups.items()}
    found = lookup(index, [k for ks in keys.values() for k in ks], fuzzy=True, country="SY")
    options, spelt = {}, []
    for g in groups:
        cands = {}
        for k in keys[g]:
            via, hits = found.get(k, ("", []))
            for c, _sim in hits:
                if c.country == "SY" and c.feature_code.startswith(FEATURES) and c.place_id not in cands:
                    cands[c.place_id] = (c, via)
        if cands:
            every = candidate_table(sorted(cands.values(), key=lambda cv: cv[0].place_id))
            spelt.append(every)
            options[g] = (LEVEL, every.drop_duplicates("ref").reset_index(drop=True))
    spelt = pd.concat(spelt, ignore_index=True).drop_duplicates(["ref", "soft"]) if spelt else candidate_table([])
    return options, spelt


def admissible(option: tuple, rows: pd.DataFrame, area) -> tuple[tuple | None, str]:
    """``(option, "")`` keeping the candidates that can be the place of ``rows``, or ``(None, why)``.

    A candidate must lie in ``area`` (the governorates the facts name, with a margin: never outside
    the sample's area); namesakes in it are told apart later, by the places reported with it. When a
    row carries a 2017 marker of the changes file, a candidate must lie within :data:`MARKER_KM` of it
    (those left get ``marker_km``).
    """
    level, table = option
    table = table[shapely.intersects_xy(area, table["lon"].to_numpy(), table["lat"].to_numpy())]
    if not len(table):
        return None, f"{level} match {option[1]['ref'].iloc[0]} lies outside the facts' governorates"
    mk = markers(rows)
    if len(mk):
        d = haversine_km(table["lat"].to_numpy()[:, None], table["lon"].to_numpy()[:, None],
                         mk[:, 0][None, :], mk[:, 1][None, :]).min(axis=1)
        if (d > MARKER_KM).all():
            return None, (f"{level} match {table['ref'].iloc[int(np.argmin(d))]} lies {d.min():.0f} km from the "
                          f"changes file's 2017 marker")
        table = table[d <= MARKER_KM].assign(marker_km=d[d <= MARKER_KM])
    return (level, table.reset_index(drop=True)), ""


def spot_check(placed: pd.DataFrame, wiki: pd.DataFrame, n: int = 20) -> list[str]:
    """Lines comparing ``n`` placements (columns names, lat, lon, coord_source) with the 2017 map.

    For each, the distance to its entry's own 2017 marker (``syria:w<line>``: the map's marker at
    that line) and to the nearest marker whose name has a key of one of the place's spellings
    (:func:`article_optional`). Deterministic: the first ``n`` by name.
    """
    w = wiki.assign(key=[normalize(x) for x in wiki["name"]])
    w_lat, w_lon = w["lat"].astype(float).to_numpy(), w["lon"].astype(float).to_numpy()
    out = []
    for _, r in placed.sort_values("names", kind="stable").head(n).iterrows():
        own = w["line_no"].to_numpy() == r["coord_source"].removeprefix("syria:w")
        ks = {k for s in r["names"].split("|") for k in article_optional(normalize(s))}
        same = w["key"].isin(ks).to_numpy()
        text = []
        for what, m in (("its own marker", own), ("same-name marker", same)):
            if m.any():
                d = haversine_km(r["lat"], r["lon"], w_lat[m], w_lon[m])
                i = int(np.argmin(d))
                text.append(f"{what} '{w['name'].to_numpy()[m][i]}' {float(d[i]):.2f} km")
        out.append(f"  {r['names'][:36]:36s} {r['lat']:.4f},{r['lon']:.4f} {r['coord_source']:16s} "
                   + ("; ".join(text) or "no 2017 marker of that name"))
    return out
