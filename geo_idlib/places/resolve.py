"""Mentions → places: pick each mention's place among the gazetteer's candidates, in context.

For every mention (a row of :func:`geo_idlib.places.mentions.find_mentions`) the candidates of its
normalised key are ranked by :func:`geo_idlib.places.rank.score`:

- the report's **context country** (``country=`` given, or inferred: the country most mentions can
  be in, each mention voting ``1/k`` for each of its ``k`` candidate countries, when it gets at least
  40 % of the votes);
- **proximity** to the other places of the report ("spatial minimality"): a candidate gets
  ``exp(-d / 150 km)`` where ``d`` is the median, over the report's *other* names, of its distance
  to the nearest candidate of that name — Canterbury next to Maidstone is the English city, not
  New Zealand's region. (It replaced "the median distance to the other names' confident first
  choices": LGL Acc@161 65.3 → 74.4 %, TR-News 74.7 → 75.8, GeoVirus 77.2 → 78.6, GeoWebNews
  68.9 → 68.5, Syria subset unchanged);
- the **feature class** (capital > admin seat > populated place) and the **population**;
- a country fits any report's context, except where the context country has a first-level division
  of the same name ("Georgia" in a report about the US is the state);
- the **kind** the words ask for (``kind_hint``: "Idlib province" → admin1, "the city of Idlib" →
  settlement) and the **match type** (exact name > folded spelling > space-insensitive > fuzzy).

``confidence`` is the probability that the place is right (within 161 km), calibrated on the dev
sets (:func:`geo_idlib.places.rank.calibrated`) from the ranking's raw confidence, which combines
the match quality with the score margin over the best runner-up that is another answer;
``status`` is ``ambiguous`` when that margin is under 5 %. Mentions without
an exact or space-insensitive match get the consonant-skeleton look-up (spellings that differ in
vowels: "Edlib"), in the context country, within 100 km of the report's other places (its capital
and first-level seats anywhere; tuned by ``scripts/tune_consonant.py``); with ``fuzzy``, then a
fuzzy look-up (threshold tuned by ``scripts/tune_fuzzy.py``; only names long enough to reach it);
then the optional online geocoder, else ``unresolved``. Last, regional plausibility
(:func:`_plausible`) keeps minor places from being put far from the report's region.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import crs
from ..errors import GeocoderServiceError, InputError
from . import automaton
from .build import country_neighbours
from .mentions import Mention
from .normalize import normalize
from .rank import Match, anchors, infer_country, kind_of, lookup, rank
from .store import Candidate, GazetteerIndex

if TYPE_CHECKING:  # pandas is imported where a table is built, not to find places
    import pandas as pd

log = logging.getLogger("geo_idlib")

#: Columns of the Places layer, in order (DESIGN.md).
PLACES_COLUMNS = ["report", "mention", "start", "end", "sentence", "name", "place_id", "country", "admin1",
                  "feature_code", "precision", "confidence", "status", "lat", "lon", "geometry"]
#: Columns of :func:`geocode_names` records, in order.
RECORD_COLUMNS = ["query", "name", "lat", "lon", "place_id", "country", "feature_code", "precision",
                  "confidence", "status"]
#: Proximity decays as exp(-d / PROXIMITY_KM).
PROXIMITY_KM = 150.0


#: Proximity compares a name with at most this many other names on each side in the order of first
#: mention (every other name in a report of up to 2·MUTUAL_WINDOW + 1 names): the work stays linear
#: in the number of names, and names mentioned together are the ones that place each other.
MUTUAL_WINDOW = 32


def _mutual_proximity(keys: list[str], found: dict) -> dict[str, dict[str, float]]:
    """Spatial minimality: a candidate scores ``exp(-d / PROXIMITY_KM)`` where ``d`` is the median,
    over the other names (``keys`` in order of first mention, :data:`MUTUAL_WINDOW` on each side), of
    its distance to the nearest candidate of that name.

    Vectorised: the distances from every candidate to every candidate of the names in its window,
    reduced to the nearest per name (``np.minimum.reduceat``), in one pass when every name sees
    every other, else name by name.
    """
    points = [_points(*found[k]) for k in keys]
    cands = [p[0] for p in points]
    sizes = np.array([len(cl) for cl in cands], dtype=np.intp)
    if len(keys) < 2 or not (sizes >= 2).any():
        return {}
    lat = np.concatenate([p[1] for p in points])
    lon = np.concatenate([p[2] for p in points])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if len(keys) <= MUTUAL_WINDOW + 1:  # every name's window holds every other name
        near = np.minimum.reduceat(_haversine_matrix(lat, lon, lat, lon), starts, axis=1)
        near[np.arange(len(lat)), np.repeat(np.arange(len(keys)), sizes)] = np.inf  # not itself: sorted last
        near.sort(axis=1)
        m = len(keys) - 1  # the median of the other names' distances
        med = near[:, m // 2] if m % 2 else (near[:, m // 2 - 1] + near[:, m // 2]) / 2
        return {k: _proximity(cands[pos], med[starts[pos]:starts[pos] + sizes[pos]])
                for pos, k in enumerate(keys) if sizes[pos] >= 2}
    out = {}
    for pos, k in enumerate(keys):
        if sizes[pos] < 2:
            continue
        lo, hi = max(0, pos - MUTUAL_WINDOW), min(len(keys), pos + 1 + MUTUAL_WINDOW)
        window = [j for j in range(lo, hi) if j != pos]
        cols = np.concatenate([np.arange(starts[j], starts[j] + sizes[j]) for j in window])
        group = np.concatenate([[0], np.cumsum(sizes[window])[:-1]])
        rows = slice(starts[pos], starts[pos] + sizes[pos])
        near = np.minimum.reduceat(_haversine_matrix(lat[rows], lon[rows], lat[cols], lon[cols]), group, axis=1)
        out[k] = _proximity(cands[pos], np.median(near, axis=1))
    return out


#: The points of at most this many names' own candidate lists (one list per name and process,
#: :meth:`~geo_idlib.places.automaton.NameAutomaton.pairs`) are kept.
POINTS_CACHE = 10_000
_POINTS: dict[int, tuple] = {}


def _points(via: str, pairs: list[tuple[Candidate, float]]) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """The candidates of a name (``via`` and ``[(candidate, similarity)]`` as :func:`rank.lookup`
    gives them) and their latitudes and longitudes; made once for a name's own candidates."""
    got = _POINTS.get(id(pairs)) if via == "folded" else None
    if got is None or got[0] is not pairs:
        cands = [c for c, _ in pairs]
        got = (pairs, cands, np.array([c.lat for c in cands], dtype=float), np.array([c.lon for c in cands], dtype=float))
        if via == "folded":
            if len(_POINTS) >= POINTS_CACHE:
                _POINTS.clear()
            _POINTS[id(pairs)] = got
    return got[1:]


def _proximity(cands: list[Candidate], median_km) -> dict[str, float]:
    return {c.place_id: math.exp(-m / PROXIMITY_KM) for c, m in zip(cands, median_km.tolist(), strict=True)}


def _haversine_matrix(lat1, lon1, lat2, lon2) -> np.ndarray:
    return crs.haversine_km(np.asarray(lat1)[:, None], np.asarray(lon1)[:, None],
                            np.asarray(lat2)[None, :], np.asarray(lon2)[None, :])


class Place(NamedTuple):
    """One row of the Places layer (DESIGN.md), without ``report`` and ``geometry``."""

    mention: str
    start: int
    end: int
    sentence: str
    name: str
    place_id: str
    country: str
    admin1: str
    feature_code: str
    precision: str
    confidence: float
    status: str
    lat: float
    lon: float


def resolve_rows(rows: list[Mention], index: GazetteerIndex, *, country: str | None = None, online=None,
                 fuzzy: bool = True) -> list[Place]:
    """Places for mentions (:func:`geo_idlib.places.mentions.find`'s rows): one :class:`Place` per
    mention, in order. What :func:`resolve` does, without tables (the fast path of ``places``)."""
    keys = [r.key or normalize(r.mention) for r in rows]
    kinds = [r.kind_hint or None for r in rows]
    found, ctx = _candidates(keys, index, country, fuzzy)
    choice = _choose([r.mention for r in rows], keys, kinds, found, ctx, automaton.load(index).generation)
    choice = _plausible(rows, keys, kinds, choice, found, ctx)
    unplaced = [r.mention for r, c in zip(rows, choice, strict=True) if c is None]
    answers = _ask_online(unplaced, online, ctx) if online is not None else {}
    return [_place(r, m) if m is not None else _online_place(r, answers.get(r.mention))
            for r, m in zip(rows, choice, strict=True)]


def resolve(mentions: pd.DataFrame, index: GazetteerIndex, *, country: str | None = None, online=None,
            fuzzy: bool = True):
    """Places for mentions: one row per mention, in the Places layout of DESIGN.md.

    Parameters
    ----------
    mentions : DataFrame
        Columns ``report, mention, start, end, sentence, key, kind_hint`` (``key`` may be empty:
        the mention is then normalised here).
    index : GazetteerIndex
        From :func:`geo_idlib.places.store.load_index`.
    country : str, optional
        Context country (ISO2); inferred from the mentions when not given.
    online : OnlineGeocoder, optional
        Asked (through its cache) for mentions the gazetteer cannot place; off when None. When the
        service fails, a warning is logged and the remaining mentions stay unresolved.
    fuzzy : bool
        Also the fuzzy look-up for keys that no other step finds (see the module docstring).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, columns :data:`PLACES_COLUMNS`; unresolved rows have no geometry, NaN lat/lon.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> import pandas as pd
    >>> m = pd.DataFrame({"report": "r", "mention": ["Saraqeb", "Idlib province"], "start": [0, 12],
    ...                   "end": [7, 26], "sentence": "s", "key": ["sarakib", "idlib"],
    ...                   "kind_hint": [None, "admin1"]})
    >>> p = resolve(m, load_index())
    >>> p[["place_id", "precision", "status"]].values.tolist()
    [['geonames:164816', 'settlement', 'resolved'], ['geonames:169387', 'admin1', 'resolved']]
    >>> p.crs.to_epsg()
    4326
    """
    df = _mentions_table(mentions)
    rows = [Mention(str(m), int(a), int(b), str(sen), k if isinstance(k, str) else "",
                    h if isinstance(h, str) and h else None)
            for m, a, b, sen, k, h in zip(df["mention"], df["start"], df["end"], df["sentence"], df["key"],
                                          df["kind_hint"], strict=True)]
    return places_frame(resolve_rows(rows, index, country=country, online=online, fuzzy=fuzzy),
                        df["report"].tolist())


def _mentions_table(mentions: pd.DataFrame) -> pd.DataFrame:
    """``mentions`` with every column :func:`resolve` reads (missing ones empty)."""
    df = mentions.reset_index(drop=True).copy()
    for col in ("report", "mention", "sentence"):
        if col not in df:
            df[col] = ""
    for col in ("start", "end"):
        if col not in df:
            df[col] = 0
    for col in ("kind_hint", "key"):
        if col not in df:
            df[col] = None
    return df


def _candidates(keys: list[str], index: GazetteerIndex, country: str | None, fuzzy: bool):
    """The candidates of every key (:func:`rank.lookup`) and the context country.

    The context country is inferred from the candidates of the exact and space-insensitive
    matches (one vote per mention); it then restricts the fuzzy look-up of the keys left.
    """
    distinct = sorted({k for k in keys if k})
    found = lookup(index, distinct, fuzzy=False, consonant=False)
    if not country:  # one candidate list per name, given once per mention
        named = {k: [c for c, _ in found[k][1]] for k in distinct if k in found}
    ctx = country.upper() if country else infer_country([named[k] for k in keys if k in found])
    missing = [k for k in distinct if k not in found]
    if missing:
        near = anchors([[c for c, _ in cands] for _, cands in found.values()], ctx)
        found.update(lookup(index, missing, country=ctx, fuzzy=fuzzy, near=near))
    return found, ctx


def _choose(mentions: list[str], keys: list[str], kinds: list[str | None], found: dict, ctx: str | None,
            generation: int = 0) -> list[Match | None]:
    """The best :class:`Match` of each mention (None without candidates), ranked in context.

    Proximity ("spatial minimality") compares each candidate with the nearest candidate of the
    other names; the same name and kind always rank the same, so each is ranked once per report.
    """
    proximity = _mutual_proximity(list(dict.fromkeys(k for k in keys if k in found)), found)
    memo: dict[tuple, Match | None] = {}
    out: list[Match | None] = []
    for mention, key, kind in zip(mentions, keys, kinds, strict=True):
        if key not in found:
            out.append(None)
            continue
        if (mention, key, kind) not in memo:
            memo[(mention, key, kind)] = _best(mention, key, kind, found[key], ctx, proximity.get(key), generation)
        out.append(memo[(mention, key, kind)])
    return out


#: The report's region is where its confident places lie: divisions and settlements resolved with
#: at least this confidence, but not capitals (a capital stands for its government: "Damascus
#: said", "from Damascus"), with their countries' neighbours.
REGION_CONFIDENCE = 0.8


#: A place this populous is known beyond its region ("talks in Geneva"): never moved. On GeoWebNews
#: and LGL, 100,000 moved Saipan (48,000) away from a list of US places; 30,000 moved no right
#: answer (scripts/eval_places.py).
KNOWN_POPULATION = 30_000


def _plausible(rows: list[Mention], keys: list[str], kinds: list, choice: list, found: dict, ctx: str | None
               ) -> list[Match | None]:
    """Regional plausibility: a minor place (a settlement or district of fewer than
    :data:`KNOWN_POPULATION` people, or a settlement that only a spelling fold found) chosen
    outside the report's region (the countries of the report's other confident places and their
    neighbours, :data:`REGION_CONFIDENCE`), in a sentence that names one of those places and not
    the minor place's own country, takes its best-ranked candidate in the region, or none
    (unresolved, its span kept): "Glide bombs struck Kharkiv" is not Glide, Oregon; villages in a
    list about Idlib are not their namesakes in France, Malaysia or Iran."""
    anchor = [m is not None and m.status == "resolved" and m.raw_confidence >= REGION_CONFIDENCE
              and m.candidate.precision in ("settlement", "admin1", "admin2") and m.candidate.feature_code != "PPLC"
              for m in choice]
    if not any(anchor):
        return choice
    neighbours = country_neighbours()
    countries_named = {(r.sentence, m.candidate.country) for r, m in zip(rows, choice, strict=True)
                       if m is not None and m.candidate.precision == "country"}
    out = list(choice)
    for k, m in enumerate(choice):
        c = m.candidate if m is not None else None
        if c is None or not (_local(c, KNOWN_POPULATION) or _folded_settlement(m)) or c.precision == "admin1" \
                or (rows[k].sentence, c.country) in countries_named:
            continue
        others = [j for j, ok in enumerate(anchor) if ok and choice[j].candidate.place_id != c.place_id]
        home = {choice[j].candidate.country for j in others}
        region = home.union(*(neighbours.get(cc, ()) for cc in home))
        if not home or c.country in region or not any(rows[j].sentence == rows[k].sentence for j in others):
            continue  # in the region, or not standing among the region's places
        via, cands = found[keys[k]]
        ranked = rank(rows[k].mention, via, cands, country=ctx, kind=kinds[k], context=True)
        out[k] = next((x for x in ranked if x.candidate.country in region), None)
    return out


def _folded_settlement(m: Match) -> bool:
    """A settlement found only through a spelling fold, not one of its names as written: however
    populous, a fold says nothing of being known beyond its region ("Foua" among Idlib's villages
    is not Huế)."""
    return m.candidate.precision == "settlement" and m.match != "exact"


def _local(c: Candidate, population: int) -> bool:
    """A division, or a settlement of fewer than ``population`` people."""
    return c.precision in ("admin1", "admin2") or (c.precision == "settlement" and c.population < population)


#: Answers for names whose candidates the report's other names do not weigh (no proximity, no
#: consonant match near them): they depend only on the name, its kind, the context country and the
#: index (its automaton's ``generation``), so they are kept across reports (at most this many).
RANKED_CACHE = 50_000
_RANKED: dict[tuple, Match | None] = {}


def _best(mention: str, key: str, kind: str | None, found: tuple, ctx: str | None, proximity, generation: int
          ) -> Match | None:
    """The best :class:`Match` of one name (:func:`rank.rank` in the report's context)."""
    via, cands = found
    if proximity is not None or via == "consonant":  # the report's other places weigh in
        ranked = rank(mention, via, cands, country=ctx, kind=kind, proximity=proximity, context=True, limit=1)
        return ranked[0] if ranked else None
    ck = (mention, key, kind, ctx, via, generation)
    if ck not in _RANKED:
        if len(_RANKED) >= RANKED_CACHE:
            _RANKED.clear()
        ranked = rank(mention, via, cands, country=ctx, kind=kind, context=True, limit=1)
        _RANKED[ck] = ranked[0] if ranked else None
    return _RANKED[ck]


def _ask_online(queries: list[str], online, country: str | None) -> dict[str, dict | None]:
    """The online geocoder's answer for each distinct query, in order; after a service error (logged
    once) the remaining queries are not asked."""
    answers: dict[str, dict | None] = {}
    for q in dict.fromkeys(queries):
        try:
            answers[q] = online.lookup(q, country=country)
        except GeocoderServiceError as exc:
            log.warning("%s; the remaining unplaced names stay unresolved", exc)
            break
    return answers


def _place(r: Mention, m: Match) -> Place:
    c = m.candidate
    return Place(r.mention, r.start, r.end, r.sentence, c.name, c.place_id, c.country, c.admin1, c.feature_code,
                 c.precision, m.confidence, m.status, c.lat, c.lon)


def _online_place(r: Mention, rec: dict | None) -> Place:
    """A place from an online answer, or an unresolved one without one."""
    if not rec:
        return Place(r.mention, r.start, r.end, r.sentence, "", "", "", "", "", "", 0.0, "unresolved",
                     math.nan, math.nan)
    return Place(r.mention, r.start, r.end, r.sentence, rec.get("name") or "", rec.get("place_id") or "",
                 rec.get("country") or "", rec.get("admin1") or "", rec.get("feature_code") or "",
                 rec.get("precision") or "settlement", float(rec.get("confidence") or 0.0), "resolved",
                 float(rec["lat"]), float(rec["lon"]))


def places_frame(places: list[Place], report: str | list[str] = ""):
    """The Places GeoDataFrame (EPSG:4326, :data:`PLACES_COLUMNS`) of :class:`Place` rows;
    ``report``: one name for every row, or one per row."""
    import geopandas as gpd
    import pandas as pd

    cols = list(zip(*places, strict=True)) if places else [()] * len(Place._fields)
    out = pd.DataFrame({"report": pd.Series(report if isinstance(report, list) else [report] * len(places),
                                            dtype=object),
                        **{f: pd.Series(v, dtype=_DTYPES.get(f, object)) for f, v in zip(Place._fields, cols, strict=True)}},
                       columns=PLACES_COLUMNS[:-1])
    out["confidence"] = out["confidence"].round(4)
    geom = crs.points_from_latlon(out["lat"].to_numpy(), out["lon"].to_numpy())
    geom = np.where(out["lat"].isna().to_numpy(), None, geom)
    return gpd.GeoDataFrame(out, geometry=list(geom), crs=crs.WGS84)[PLACES_COLUMNS]


_DTYPES = {"start": "int64", "end": "int64", "confidence": float, "lat": float, "lon": float}


def geocode_names(names: Iterable[str], index: GazetteerIndex, country: str | None = None, *, online=None,
                  fuzzy: bool = True) -> list[dict]:
    """One record per input name, in input order (the ``geo-idlib geocode`` command).

    Names are resolved together, so they give each other context (country, proximity); a kind word
    is honoured ("Idlib province" → the governorate). Keys: :data:`RECORD_COLUMNS`.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> [(r["query"], r["place_id"], r["precision"]) for r in geocode_names(["Saraqeb", "Idlib province"], load_index())]
    [('Saraqeb', 'geonames:164816', 'settlement'), ('Idlib province', 'geonames:169387', 'admin1')]
    """
    import pandas as pd

    names = [str(n) for n in names]
    split = [kind_of(n) for n in names]
    # a name that is in the gazetteer with its kind word ("Saraqib District") is looked up whole
    whole = index.lookup_many([normalize(n) for n in names])
    mention = [n if normalize(n) in whole else s[0] for n, s in zip(names, split, strict=True)]
    mentions = pd.DataFrame({"report": "", "mention": mention, "start": 0,
                             "end": [len(n) for n in names], "sentence": names,
                             "key": [normalize(m) for m in mention], "kind_hint": [s[1] for s in split]})
    places = resolve(mentions, index, country=country, online=online, fuzzy=fuzzy)
    out = []
    for q, row in zip(names, places.itertuples(index=False), strict=True):
        rec = {"query": q}
        for col in RECORD_COLUMNS[1:]:
            v = getattr(row, col)
            rec[col] = None if isinstance(v, float) and math.isnan(v) else v
        out.append(rec)
    return out


def geocode_observation_places(df, what: str, country: str | None, index=None):
    """Fill lat/lon of rows that only name a ``place``, through the gazetteer (no fuzzy matching).

    Each distinct name takes its best-ranked candidate (:func:`rank.lookup` without the fuzzy step,
    then :func:`rank.rank`), in ``country`` when given. A name without a candidate is refused
    (``InputError`` naming the row); ambiguous names are taken with a warning. ``index``: the
    gazetteer index (default :func:`store.load_index`).
    """
    import pandas as pd

    from . import store

    df = df.copy()
    for c in ("lat", "lon"):
        if c not in df.columns:
            df[c] = ""
    lat = pd.to_numeric(df["lat"].astype(str).str.strip().replace("", "nan"), errors="coerce")
    lon = pd.to_numeric(df["lon"].astype(str).str.strip().replace("", "nan"), errors="coerce")
    todo = (lat.isna() | lon.isna()).to_numpy() & (df["place"].astype(str).str.strip() != "").to_numpy()
    if not todo.any():
        return df
    names = df.loc[todo, "place"].astype(str).str.strip()
    keys = {n: normalize(n) for n in names.unique()}
    found = lookup(index if index is not None else store.load_index(), keys.values(), fuzzy=False)
    cc = (country or "").upper()
    chosen: dict[str, Match] = {}
    for name, key in keys.items():
        via, cands = found.get(key, ("none", []))
        ranked = rank(name, via, [(c, s) for c, s in cands if not cc or c.country == cc], country=cc or None)
        if ranked:
            chosen[name] = ranked[0]
    unresolved = sorted(set(keys) - set(chosen))
    if unresolved:
        i = int(np.flatnonzero(todo & df["place"].astype(str).str.strip().isin(unresolved).to_numpy())[0])
        raise InputError(f"{what}: row {i + 1}: place {df['place'].iloc[i]!r} is not in the gazetteer "
                         f"({len(unresolved)} unknown place name(s)"
                         f"{' in ' + cc if cc else ''}); give its lat and lon, or add it with `geo-idlib gazetteer add`")
    ambiguous = sum(m.status == "ambiguous" for m in chosen.values())
    if ambiguous:
        log.warning("%s: %d place name(s) match several places about equally well; took the best-ranked (give "
                    "lat/lon or --country to be sure)", what, ambiguous)
    df.loc[todo, "lat"] = [f"{chosen[n].candidate.lat:.6f}" for n in names]
    df.loc[todo, "lon"] = [f"{chosen[n].candidate.lon:.6f}" for n in names]
    log.info("%s: geocoded %d row(s) from their place names", what, int(todo.sum()))
    return df
