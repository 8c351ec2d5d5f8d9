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

``confidence`` combines the match quality with the score margin over the best runner-up lying
more than 25 km away; ``status`` is ``ambiguous`` when that margin is under 5 %. Mentions without
any candidate get a fuzzy look-up (threshold tuned by ``scripts/tune_fuzzy.py``, restricted to the
context country when there is one), then the optional online geocoder, else ``unresolved``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import crs
from ..errors import GeocoderServiceError, InputError
from .normalize import normalize
from .rank import Match, kind_of, lookup, rank
from .store import Candidate, GazetteerIndex

log = logging.getLogger("geo_idlib")

#: Columns of the Places layer, in order (DESIGN.md).
PLACES_COLUMNS = ["report", "mention", "start", "end", "sentence", "name", "place_id", "country", "admin1",
                  "feature_code", "precision", "confidence", "status", "lat", "lon", "geometry"]
#: Columns of :func:`geocode_names` records, in order.
RECORD_COLUMNS = ["query", "name", "lat", "lon", "place_id", "country", "feature_code", "precision",
                  "confidence", "status"]
#: A country is the context when it gets at least this share of the mentions' votes (measured
#: against "leads the runner-up 1.5×": 1–2 points better Acc@161 on GeoWebNews and the Syria subset).
CONTEXT_SHARE = 0.4
#: Proximity decays as exp(-d / PROXIMITY_KM).
PROXIMITY_KM = 150.0


def infer_country(cands_per_mention: Iterable[list[Candidate]]) -> str | None:
    """The context country of a report: most mentions can be in it (``None`` when unclear).

    Each mention votes ``1/k`` for each of the ``k`` countries its candidates lie in; the leading
    country is the context when it gets at least :data:`CONTEXT_SHARE` of all votes.

    Examples
    --------
    >>> sy = Candidate("geonames:1", "A", 35, 36, "SY", "", "PPL", 0, "geonames")
    >>> us = Candidate("geonames:2", "B", 40, -90, "US", "", "PPL", 0, "geonames")
    >>> infer_country([[sy], [sy, us], [us, sy]]), infer_country([[sy], [us]]), infer_country([])
    ('SY', 'SY', None)
    """
    votes: Counter = Counter()
    for cands in cands_per_mention:
        countries = sorted({c.country for c in cands if c.country})
        for cc in countries:
            votes[cc] += 1 / len(countries)
    if not votes:
        return None
    total = sum(votes.values())
    (top, w), = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:1]
    return top if w / total >= CONTEXT_SHARE else None


#: Proximity compares a name with at most this many other names on each side in the order of first
#: mention (every other name in a report of up to 2·MUTUAL_WINDOW + 1 names): the work stays linear
#: in the number of names, and names mentioned together are the ones that place each other.
MUTUAL_WINDOW = 32


def _mutual_proximity(keys: list[str], found: dict) -> dict[str, dict[str, float]]:
    """Spatial minimality: a candidate scores ``exp(-d / PROXIMITY_KM)`` where ``d`` is the median,
    over the other names (``keys`` in order of first mention, :data:`MUTUAL_WINDOW` on each side), of
    its distance to the nearest candidate of that name."""
    out: dict[str, dict[str, float]] = {}
    pts = {k: ([c.lat for c, _ in found[k][1]], [c.lon for c, _ in found[k][1]]) for k in keys}
    for pos, k in enumerate(keys):
        cands = [c for c, _ in found[k][1]]
        others = keys[max(0, pos - MUTUAL_WINDOW):pos] + keys[pos + 1:pos + 1 + MUTUAL_WINDOW]
        if len(cands) < 2 or not others:
            continue
        nearest = np.column_stack([_haversine_matrix(pts[k][0], pts[k][1], *pts[j]).min(axis=1) for j in others])
        med = np.median(nearest, axis=1)
        out[k] = {c.place_id: float(math.exp(-m / PROXIMITY_KM)) for c, m in zip(cands, med, strict=True)}
    return out


def _haversine_matrix(lat1, lon1, lat2, lon2) -> np.ndarray:
    return crs.haversine_km(np.asarray(lat1)[:, None], np.asarray(lon1)[:, None],
                            np.asarray(lat2)[None, :], np.asarray(lon2)[None, :])


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
        Allow the fuzzy fallback for keys without an exact match.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, columns :data:`PLACES_COLUMNS`; unresolved rows have no geometry, NaN lat/lon.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
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
    keys = [k if isinstance(k, str) and k else normalize(str(m)) for k, m in zip(df["key"], df["mention"], strict=True)]
    kinds = [k if isinstance(k, str) and k else None for k in df["kind_hint"]]
    found, ctx = _candidates(keys, index, country, fuzzy)
    choice = _choose([str(m) for m in df["mention"]], keys, kinds, found, ctx)
    unplaced = [str(m) for m, c in zip(df["mention"], choice, strict=True) if c is None]
    answers = _ask_online(unplaced, online, ctx) if online is not None else {}
    rows = []
    for i, m in enumerate(choice):
        base = {c: df.at[i, c] for c in ("report", "mention", "start", "end", "sentence")}
        rows.append(_place_row(base, m) if m is not None else _online_row(base, answers.get(str(df.at[i, "mention"]))))
    return _places_frame(rows)


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
    found = lookup(index, distinct, fuzzy=False)
    ctx = country.upper() if country else infer_country([[c for c, _ in found[k][1]] for k in keys if k in found])
    if fuzzy:
        found.update(lookup(index, [k for k in distinct if k not in found], country=ctx))
    return found, ctx


def _choose(mentions: list[str], keys: list[str], kinds: list[str | None], found: dict, ctx: str | None
            ) -> list[Match | None]:
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
            via, cands = found[key]
            ranked = rank(mention, via, cands, country=ctx, kind=kind, proximity=proximity.get(key), context=True)
            memo[(mention, key, kind)] = ranked[0] if ranked else None
        out.append(memo[(mention, key, kind)])
    return out


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


def _place_row(base: dict, m: Match) -> dict:
    c = m.candidate
    return {**base, "name": c.name, "place_id": c.place_id, "country": c.country, "admin1": c.admin1,
            "feature_code": c.feature_code, "precision": c.precision, "confidence": m.confidence,
            "status": m.status, "lat": c.lat, "lon": c.lon}


def _online_row(base: dict, rec: dict | None) -> dict:
    """A row from an online answer, or an unresolved row without one."""
    if not rec:
        return {**base, "name": "", "place_id": "", "country": "", "admin1": "", "feature_code": "",
                "precision": "", "confidence": 0.0, "status": "unresolved", "lat": np.nan, "lon": np.nan}
    return {**base, "name": rec.get("name") or "", "place_id": rec.get("place_id") or "",
            "country": rec.get("country") or "", "admin1": rec.get("admin1") or "",
            "feature_code": rec.get("feature_code") or "", "precision": rec.get("precision") or "settlement",
            "confidence": float(rec.get("confidence") or 0.0), "status": "resolved",
            "lat": float(rec["lat"]), "lon": float(rec["lon"])}


def _places_frame(rows: list[dict]):
    """The Places GeoDataFrame (EPSG:4326, :data:`PLACES_COLUMNS`) of row dicts."""
    import geopandas as gpd

    out = pd.DataFrame(rows, columns=PLACES_COLUMNS[:-1])
    out["start"] = out["start"].astype("int64")
    out["end"] = out["end"].astype("int64")
    out["confidence"] = out["confidence"].astype(float).round(4)
    out["lat"] = out["lat"].astype(float)
    out["lon"] = out["lon"].astype(float)
    geom = crs.points_from_latlon(out["lat"].to_numpy(), out["lon"].to_numpy())
    geom = np.where(out["lat"].isna().to_numpy(), None, geom)
    return gpd.GeoDataFrame(out, geometry=list(geom), crs=crs.WGS84)[PLACES_COLUMNS]


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
