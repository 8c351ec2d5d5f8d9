"""The one lookup order and the one ranking policy of candidate places.

:func:`lookup` finds the candidates of normalised keys (exact key → key without spaces → fuzzy);
:func:`score` weighs a candidate (context country, feature class, population, the kind the text
asks for, proximity to the report's other places, match quality, user or built-in source);
:func:`confidence` turns the scores of the ranked candidates into a confidence and a status;
:func:`rank` orders the candidates of one name with both. :func:`search` (one name),
:func:`geo_idlib.places.resolve.resolve` (the mentions of a report) and
:func:`geo_idlib.places.resolve.geocode_observation_places` (observation tables) all use them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .. import crs, io
from . import automaton
from .normalize import arabic_latin, compact, exact_key, literal_key, normalize
from .store import Candidate, fuzzy_threshold

# =========================================================================== ranking
#: Weights of the ranking score (see :func:`score`). Chosen by reasoning, checked on the dev sets
#: by scripts/eval_places.py / scripts/tune_fuzzy.py; not fitted to single examples.
W_COUNTRY, W_FEATURE, W_POPULATION, W_KIND, W_PROXIMITY, W_MATCH = 1.0, 0.6, 0.6, 1.5, 1.0, 0.5


#: Entries of the user's own gazetteers win over GeoNames entries of the same name: the user added
#: them because they trust them for their area.
W_USER = 1.0


#: Entries of the built-in gazetteers (shapefiles/*_places.csv) likewise, a little less than yours.
W_BUILTIN = 0.8


#: Quality of each kind of match (also the ceiling of the confidence).
MATCH_QUALITY = {"exact": 1.0, "folded": 0.9, "compact": 0.8, "consonant": 0.8, "fuzzy": 0.8}


#: Matches whose quality is scaled by their similarity (the others are 1.0).
_SIMILAR = ("consonant", "fuzzy")


#: Two top candidates closer than this (km) are "the same place" for confidence and ambiguity.
SAME_PLACE_KM = 25.0


#: A settlement within this many km of a same-named division's point (or inside it by name), and
#: its main place (at least half its population: a division's population is its largest place's),
#: is that division's namesake town: "Kharkiv" the city and "Kharkiv" the oblast are one answer.
NAMESAKE_KM = 150.0


def same_answer(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates of one name answer it alike: closer than :data:`SAME_PLACE_KM`, or a
    division and its namesake settlement (:data:`NAMESAKE_KM`).

    >>> city = Candidate("geonames:1", "Kharkiv", 49.98, 36.25, "UA", "Kharkivs'ka", "PPLA", 1400000, "geonames")
    >>> oblast = Candidate("geonames:2", "Kharkivs'ka", 49.5, 36.5, "UA", "Kharkivs'ka", "ADM1", 1400000, "geonames")
    >>> same_answer(city, oblast), same_answer(city, Candidate("geonames:3", "Kharkiv", 40, 30, "TR", "", "PPL", 0, "geonames"))
    (True, False)
    """
    d = crs.haversine_km(a.lat, a.lon, b.lat, b.lon)
    if d <= SAME_PLACE_KM:
        return True
    div, town = (a, b) if a.precision in ("admin1", "admin2") else (b, a)
    return (div.precision in ("admin1", "admin2") and town.precision == "settlement" and div.country == town.country
            and (town.admin1 == div.name or d <= NAMESAKE_KM) and town.population >= 0.5 * div.population)


#: A margin (relative score difference) below this between far-apart top candidates → ambiguous.
AMBIGUOUS_MARGIN = 0.05


_RANKS: dict[str, float] = {}
_KINDS: dict[str, str] = {}


def feature_kind(feature_code: str) -> str | None:
    """The kind of feature a code stands for, beyond populated places and divisions (``water``,
    ``mountain``, ``airport``, ``road``, ``area``: ``geo_idlib/data/feature_kinds.csv``), or None.

    >>> feature_kind("STM"), feature_kind("AIRB"), feature_kind("PPL")
    ('water', 'airport', None)
    """
    if not _KINDS:
        _KINDS.update({r["feature_code"]: r["kind"] for r in io.package_data_rows("feature_kinds.csv")})
    return _KINDS.get((feature_code or "").upper())


#: Kinds that only a place of that kind can be: "the Oskil river" is not the village of Oskil, "the
#: Zawiya mountains" not the Libyan town or province (an airbase may be its town's, so ``airport``
#: only prefers airports; a plain or valley may give its name to a district).
EXCLUSIVE_KINDS = ("water", "mountain", "road", "area")


def excluded_by_kind(c: Candidate, kind: str | None) -> bool:
    """Whether the kind the text asks for rules a candidate out (:data:`EXCLUSIVE_KINDS`)."""
    if kind not in EXCLUSIVE_KINDS or fits_kind(c, kind):
        return False
    return not (kind == "area" and c.precision in ("admin1", "admin2"))


def fits_kind(c: Candidate, kind: str | None) -> bool:
    """Whether a candidate is the kind of place the text asks for (precision or feature kind)."""
    return bool(kind) and (c.precision == kind or feature_kind(c.feature_code) == kind)


def feature_rank(feature_code: str) -> float:
    """Rank of a feature code in 0..1 (capital > admin seat > populated place), from
    ``geo_idlib/data/feature_ranks.csv``; unknown codes rank 0.3.

    >>> feature_rank("PPLC") > feature_rank("PPLA") > feature_rank("PPL")
    True
    """
    if not _RANKS:
        _RANKS.update({r["feature_code"]: float(r["rank"]) for r in io.package_data_rows("feature_ranks.csv")})
    return _RANKS.get((feature_code or "").upper(), 0.3)


def match_type(query: str, candidate: Candidate, via: str = "folded") -> str:
    """``exact`` when ``query`` is one of the candidate's names (case-insensitively), else ``via``.

    >>> c = Candidate("geonames:1", "Saraqib", 0, 0, "SY", "", "PPL", 0, "geonames", ("Saraqeb",))
    >>> match_type("saraqeb", c), match_type("Sarakeb", c)
    ('exact', 'folded')
    """
    return "exact" if exact_key(query) in _exact_names(candidate) else via


_PER_CANDIDATE_CACHE = 200_000


class _PerCandidate:
    """A cache of one value per candidate object, keyed by identity (a frozen dataclass hashes all its
    fields on every look-up; the candidate is kept, so its id is never another's)."""

    def __init__(self, compute):
        self.compute, self.values = compute, {}

    def __call__(self, c: Candidate):
        got = self.values.get(id(c))
        if got is None or got[0] is not c:
            if len(self.values) > _PER_CANDIDATE_CACHE:
                self.values.clear()
            got = self.values[id(c)] = (c, self.compute(c))
        return got[1]


#: The :func:`exact_key` of each name of a candidate.
_exact_names = _PerCandidate(lambda c: frozenset(exact_key(n) for n in (c.name, *c.alternatenames)))


#: The :func:`~geo_idlib.places.normalize.literal_key` of each name of a candidate: whether a word
#: is literally one of its names, not only shares its key.
literal_names = _PerCandidate(lambda c: frozenset(literal_key(n) for n in (c.name, *c.alternatenames)))


def score(c: Candidate, *, match: str = "folded", match_score: float = 1.0, country: str | None = None,
          kind: str | None = None, proximity: float = 0.0, home_division: bool = False) -> float:
    """The ranking score of a candidate (higher is better; always ≥ 1).

    ``1 + W_COUNTRY·[in the context country, or a country/region] + W_FEATURE·feature_rank + W_POPULATION·
    min(1, log10(population + 1)/7) + W_KIND·[precision is the kind the text asked for] +
    W_PROXIMITY·proximity + W_MATCH·match quality + W_USER·[from a user gazetteer] + W_BUILTIN·[from a built-in one]``, where ``proximity`` ∈ [0, 1] measures how near
    the candidate lies to the other places of the same report, and ``kind`` is ``settlement``,
    ``admin2``, ``admin1`` or ``country`` (from words such as "district", "province" or "the city of").
    ``home_division``: the name is also a first-level division of the context country, so a foreign
    country of that name does not fit the context ("Georgia" in a report about the US).

    >>> a = Candidate("geonames:1", "Damascus", 33.5, 36.3, "SY", "", "PPLC", 1569394, "geonames")
    >>> b = Candidate("geonames:2", "Damascus", 39.1, -77.2, "US", "", "PPL", 15257, "geonames")
    >>> score(a) > score(b), score(b, country="US") > score(a, country="US")
    (True, True)
    """
    return _static_score(c) + _context_score(c, match, match_score, country, kind, proximity, home_division)


def _static(c: Candidate) -> float:
    pop = min(1.0, math.log10(max(c.population, 0) + 1) / 7)
    return (1.0 + W_FEATURE * feature_rank(c.feature_code) + W_POPULATION * pop
            + W_USER * c.source.startswith("user:") + W_BUILTIN * c.source.startswith("builtin:"))


#: The part of :func:`score` that depends on the candidate alone.
_static_score = _PerCandidate(_static)


def _context_score(c: Candidate, match: str, match_score: float, country: str | None, kind: str | None,
                   proximity: float, home_division: bool) -> float:
    """The part of :func:`score` that depends on the name and the report."""
    quality = MATCH_QUALITY.get(match, 0.5) * (match_score if match in _SIMILAR else 1.0)
    # countries, continents and regions fit any report's context (a foreign country not when the name is
    # also a division at home); the bonus separates same-name towns
    precision = c.precision
    in_context = bool(country) and (c.country == country.upper() or precision == "region"
                                    or (precision == "country" and not home_division))
    return (W_COUNTRY * in_context + W_KIND * fits_kind(c, kind) + W_PROXIMITY * proximity
            + W_MATCH * quality)


def confidence(ranked: list[tuple[Candidate, float]], match: str, match_score: float = 1.0) -> tuple[float, str]:
    """``(confidence, status)`` of the top of ``ranked`` (``[(candidate, score)]``, best first).

    The confidence is the match quality (exact 1.0 > folded 0.9 > compact/fuzzy 0.8 × similarity)
    times ``0.55 + 0.45·min(1, margin/0.3)``, where the margin is the relative score lead over the
    best runner-up that is not the same answer (:func:`same_answer`; none: margin 1). The
    status is ``ambiguous`` when that margin is below :data:`AMBIGUOUS_MARGIN`, else ``resolved``.

    >>> a = Candidate("geonames:1", "A", 35.0, 36.0, "SY", "", "PPL", 0, "geonames")
    >>> b = Candidate("geonames:2", "A", 45.0, 16.0, "HR", "", "PPL", 0, "geonames")
    >>> confidence([(a, 3.0)], "exact"), confidence([(a, 3.0), (b, 3.0)], "exact")
    ((1.0, 'resolved'), (0.55, 'ambiguous'))
    """
    if not ranked:
        return 0.0, "unresolved"
    top, s1 = ranked[0]
    margin = 1.0
    for c, s in ranked[1:]:
        if not same_answer(top, c):
            margin = max(0.0, (s1 - s) / s1) if s1 > 0 else 0.0
            break
    quality = MATCH_QUALITY.get(match, 0.5) * (match_score if match in _SIMILAR else 1.0)
    conf = quality * (0.55 + 0.45 * min(1.0, margin / 0.3))
    return round(conf, 4), "ambiguous" if margin < AMBIGUOUS_MARGIN else "resolved"


@dataclass(frozen=True)
class Match:
    """A ranked answer for one name: the candidate, its score, how it matched, confidence and status.

    ``confidence`` is calibrated (:func:`calibrated`: the share of answers like it that are right);
    ``raw_confidence`` is what the ranking computed (:func:`confidence`), which the rules that
    compare answers use.
    """

    candidate: Candidate
    score: float
    match: str
    match_score: float
    confidence: float
    status: str
    raw_confidence: float = 0.0


def kind_of(query: str) -> tuple[str, str | None]:
    """Split a kind word off a name: ``("Idlib", "admin1")`` for "Idlib province".

    >>> kind_of("Idlib province"), kind_of("the city of Idlib"), kind_of("Idlib")
    (('Idlib', 'admin1'), ('Idlib', 'settlement'), ('Idlib', None))
    >>> kind_of("Harim district")
    ('Harim', 'admin2')
    """
    q = " ".join(query.split())
    m = _KIND_SUFFIX.match(q)
    if m:
        return m.group(1), "admin1"
    m = _KIND_DISTRICT.match(q)
    if m:
        return m.group(1), "admin2"
    m = _KIND_PREFIX.match(q)
    if m:
        return m.group(1), "settlement"
    return q, None


_KIND_SUFFIX = re.compile(r"^(?:the\s+)?(.+?)\s+(?:province|governorate|governate|muhafazat|region)$", re.I)


_KIND_DISTRICT = re.compile(r"^(?:the\s+)?(.+?)\s+(?:district|sub-?district|nahiya|nahia|mintaqa|county)$", re.I)


_KIND_PREFIX = re.compile(r"^(?:the\s+)?(?:city|town|village)\s+of\s+(.+)$", re.I)


# =========================================================================== the lookup order
#: Keys with fewer letters than this (spaces aside) get no fuzzy look-up.
FUZZY_MIN_CHARS = 4


#: The consonant step looks only in the report's context country (without one it is skipped):
#: spellings that differ in vowels are one name in the region a report is about, not across the
#: world ("Edlib" is Idlib, not Dali Ba). Tuned by scripts/tune_consonant.py.
CONSONANT_NEEDS_COUNTRY = True


#: A consonant match needs at least this rapidfuzz ratio between the two keys (tuned likewise).
CONSONANT_MIN_RATIO = 0.8


#: An Arabic name matched through the skeleton bridge (its consonants read in Latin letters,
#: :func:`~geo_idlib.places.normalize.arabic_latin`) needs at least this ratio between its Latin
#: reading and the other key: Arabic writes no short vowels, so "kfrsjna" against "kafr sajna" is
#: 0.82. Tuned on the Arabic dev set (scripts/eval_arabic.py).
BRIDGE_MIN_RATIO = 0.7


def lookup(index, keys: Iterable[str], *, fuzzy: bool = True, country: str | None = None,
           consonant: bool = True, near=None) -> dict[str, tuple[str, list[tuple[Candidate, float]]]]:
    """How each normalised key matches, and its candidates: ``{key: (via, [(candidate, similarity)])}``.

    THE lookup order of geo_idlib: the key itself (``via="folded"``), else the key without spaces
    (``"compact"``: "kafrnabl" finds "kafr nabl"), else, with ``consonant``, the keys with its
    consonant skeleton (``"consonant"``, :func:`~geo_idlib.places.normalize.consonant_key`: "edlib"
    finds "idlib"; only places in ``country``, see :data:`CONSONANT_NEEDS_COUNTRY`; the similarity
    is rapidfuzz's ratio of the two keys), else, with ``fuzzy`` and at least :data:`FUZZY_MIN_CHARS`
    letters, the near keys of the index (``"fuzzy"``; the similarity is rapidfuzz's ratio, cut off
    at the tuned threshold; only places in ``country`` when given). The first three ask the name
    automaton (:mod:`~geo_idlib.places.automaton`), whose candidates come from the index in one
    query per batch of keys it has not seen; fuzzy asks the index. Keys without any candidate are
    absent.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> found = lookup(load_index(), [normalize("Saraqeb"), "kafrnabl", normalize("Jisr al-Shughr")])
    >>> {k: (via, cands[0][0].place_id) for k, (via, cands) in sorted(found.items())}  # doctest: +NORMALIZE_WHITESPACE
    {'jisr al shugr': ('fuzzy', 'geonames:169023'), 'kafrnabl': ('compact', 'geonames:168661'),
     'sarakib': ('folded', 'geonames:164816')}
    """
    names = automaton.load(index)
    keys = sorted({k for k in keys if k})
    out = {k: ("folded", pairs) for k, pairs in names.pairs(keys).items()}
    for k in keys:
        if k not in out:
            cands = names.merged(names.compact(k))
            if cands:
                out[k] = ("compact", [(c, 1.0) for c in cands])
    if consonant and (country or not CONSONANT_NEEDS_COUNTRY):
        for k in keys:
            if k not in out:
                hits = _consonant_matches(names, k, country, near)
                if hits:
                    out[k] = ("consonant", hits)
    for k in keys if fuzzy else ():
        if k not in out and len(compact(k)) >= FUZZY_MIN_CHARS and _fuzzy_reachable(k):
            hits = names.fuzzy(k, country)
            if hits:
                out[k] = ("fuzzy", hits)
    return out


#: With the points of the report's other places (``near``), a consonant match must lie within this
#: many km of one of them (None: anywhere in the country). Tuned by scripts/tune_consonant.py: on the
#: 989 gold names of the dev sets that no exact or space-insensitive key finds, consonant matches in
#: the whole country placed 12 right and 40 wrong; within 100 km of the report's places (seats
#: anywhere), 11 right and 1 wrong (fuzzy matching: 3 right, at one index scan per name).
CONSONANT_NEAR_KM: float | None = 100.0


#: A capital or first-level seat of the country matches wherever it lies (a country's best-known
#: places are the ones written every which way).
CONSONANT_SEATS_ANYWHERE = True
_SEATS = ("PPLC", "PPLA", "ADM1")


def _fuzzy_reachable(key: str) -> bool:
    """Whether any key the fuzzy look-up compares with ``key`` (up to 1.4 times as long) can reach the
    tuned threshold: a ratio ``1 - d / (n + m)`` of at least ``t`` needs ``n + m >= 1 / (1 - t)``,
    so short names (fewer than 8 letters at 0.95) are not even tried (same answers, no index scan)."""
    n = len(key)
    return n + math.ceil(n * 1.4) + 1 >= 1 / max(1e-9, 1 - fuzzy_threshold())


def _consonant_matches(names, key: str, country: str | None, near) -> list[tuple[Candidate, float]]:
    """The places whose key has the consonant skeleton of ``key`` (in ``country`` when given, near
    the points ``near`` when given), each with the best rapidfuzz ratio of its keys to ``key``, best
    first."""
    from rapidfuzz import fuzz

    if key.isascii():
        ratios = {other: fuzz.ratio(key, other) / 100 for other in names.consonant(key)}
        least = CONSONANT_MIN_RATIO
    else:  # the skeleton bridge: an Arabic name read in Latin letters against the Latin names
        latin = arabic_latin(key)
        ratios = {other: fuzz.ratio(latin, arabic_latin(other)) / 100 for other in names.consonant(key)}
        least = BRIDGE_MIN_RATIO
    best: dict[str, tuple[Candidate, float]] = {}
    for other, cands in names.candidates(k for k, r in ratios.items() if r >= least).items():
        for c in cands:
            if (not country or c.country == country.upper()) and (c.place_id not in best or best[c.place_id][1] < ratios[other]):
                best[c.place_id] = (c, ratios[other])
    if near is not None and CONSONANT_NEAR_KM is not None and best:
        lat, lon = near
        best = {pid: (c, r) for pid, (c, r) in best.items()
                if (CONSONANT_SEATS_ANYWHERE and c.feature_code in _SEATS)
                or (len(lat) and float(crs.haversine_km(c.lat, c.lon, lat, lon).min()) <= CONSONANT_NEAR_KM)}
    return sorted(best.values(), key=lambda cs: (-cs[1], -cs[0].population, cs[0].place_id))


# =========================================================================== the report's country
#: A country is the context when it gets at least this share of the mentions' votes (measured
#: against "leads the runner-up 1.5×": 1–2 points better Acc@161 on GeoWebNews and the Syria subset).
CONTEXT_SHARE = 0.4
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
    seen: dict[int, tuple[list, list[str]]] = {}  # a list given again (a name mentioned again): its countries
    for cands in cands_per_mention:
        got = seen.get(id(cands))
        if got is None or got[0] is not cands:
            got = seen[id(cands)] = (cands, sorted({c.country for c in cands if c.country}))
        countries = got[1]
        for cc in countries:
            votes[cc] += 1 / len(countries)
    if not votes:
        return None
    total = sum(votes.values())
    (top, w), = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:1]
    return top if w / total >= CONTEXT_SHARE else None


def anchors(cands_per_name: Iterable[list[Candidate]], ctx: str | None):
    """Where a report's places are, before ranking: the candidates in the context country ``ctx``
    of the names that have only one place there (settlements and districts; a town and its
    namesake sub-district within :data:`SAME_PLACE_KM` are one), as ``(lat, lon)`` arrays (the
    ``near`` of :func:`lookup`)."""
    import numpy as np

    pts = []
    for cands in cands_per_name:
        home = [c for c in cands if c.country == ctx and c.precision in ("settlement", "admin2")]
        if home and all(crs.haversine_km(home[0].lat, home[0].lon, c.lat, c.lon) <= SAME_PLACE_KM for c in home[1:]):
            pts.append((home[0].lat, home[0].lon))
    return np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)


# =========================================================================== the ranking
#: With a context country, a settlement abroad that matches only through spelling folds (not one of
#: its names as written) is not a candidate ("Ghouta" is not Gúta in Slovakia). Measured on the dev
#: sets (see docs/gazetteer.md).
DROP_FOREIGN_FOLDED = True


def rank(name: str, via: str, cands: list[tuple[Candidate, float]], *, country: str | None = None,
         kind: str | None = None, proximity: dict[str, float] | None = None, context: bool = False,
         limit: int | None = None) -> list[Match]:
    """The candidates of one name ranked best first (THE ranking policy): ``[Match]``.

    Each candidate gets its :func:`match_type` (``fuzzy`` when ``via`` is) and its :func:`score`
    (``proximity``: place id → proximity in [0, 1]); ties go to the smaller place id. The first
    :class:`Match` carries the :func:`confidence` and status of the answer; the others are
    ``candidate`` with a confidence scaled by their score. ``context``: ``country`` is the context
    of a whole report (:func:`geo_idlib.places.resolve.resolve`): then a foreign settlement that
    matches only through spelling folds is left out (:data:`DROP_FOREIGN_FOLDED`), and a country
    named like one of the context country's first-level divisions does not get the context bonus.
    ``[]`` when no candidate is left; ``limit``: only the first ``limit`` matches.

    Examples
    --------
    >>> a = Candidate("geonames:1", "Damascus", 33.5, 36.3, "SY", "", "PPLC", 1569394, "geonames")
    >>> b = Candidate("geonames:2", "Damascus", 39.1, -77.2, "US", "", "PPL", 15257, "geonames")
    >>> [(m.candidate.country, m.status) for m in rank("Damascus", "folded", [(b, 1.0), (a, 1.0)])]
    [('SY', 'resolved'), ('US', 'candidate')]
    """
    home_division = context and bool(country) and any(c.country == country and c.precision == "admin1"
                                                      for c, _ in cands)
    q = exact_key(name)
    scored = []
    similar, drop, exclusive = via in _SIMILAR, context and DROP_FOREIGN_FOLDED and country, kind in EXCLUSIVE_KINDS
    for c, sim in cands:
        m = via if similar else "exact" if q in _exact_names(c) else via
        if (drop and m != "exact" and c.precision == "settlement"
                and c.country != country and not c.source.startswith(("user:", "builtin:"))):
            continue  # a spelling fold found a village abroad: not what a report about the country means
        if exclusive and excluded_by_kind(c, kind):
            continue  # a river, mountain, road or plain is not the village of that name
        prox = proximity.get(c.place_id, 0.0) if proximity else 0.0
        scored.append((c, _static_score(c) + _context_score(c, m, sim, country, kind, prox, home_division), m, sim))
    if not scored:
        return []
    scored.sort(key=lambda t: (-t[1], t[0].place_id))
    if not kind and scored[0][0].precision in ("admin1", "admin2"):
        # a bare name that is a division and its namesake town means the town ("Kharkiv was hit");
        # the words say when it is the division ("the Kharkiv region", "Idlib province")
        town = next((t for t in scored[1:] if t[0].precision == "settlement" and same_answer(scored[0][0], t[0])), None)
        if town is not None:
            scored.remove(town)
            scored.insert(0, town)
    _, top, top_match, top_sim = scored[0]
    conf, status = confidence([(c, sc) for c, sc, _, _ in scored], top_match, top_sim)
    cal = calibrated(conf)
    return [Match(c, round(sc, 6), m, round(sim, 4), round(cal * sc / top, 4), status if i == 0 else "candidate",
                  round(conf * sc / top, 4))
            for i, (c, sc, m, sim) in enumerate(scored[:limit])]


# =========================================================================== calibration
_CALIBRATION: dict = {}


def calibrated(raw: float) -> float:
    """The probability that an answer of raw confidence ``raw`` (:func:`confidence`) is right (within
    161 km): the share of right answers among the dev-set answers in the same tenth of raw
    confidence (histogram binning), read from ``geo_idlib/data/calibration.json``, fitted by
    scripts/fit_calibration.py on one half of the dev documents (the other half is held out for
    the reliability table of `make eval`). Without that file: ``raw``.

    >>> 0.0 <= calibrated(0.99) <= 1.0, calibrated(0.0)
    (True, 0.0)
    """
    if not _CALIBRATION:
        p = io.package_data("calibration.json")
        _CALIBRATION.update(io.read_json_file(p) if p.exists() else {"accuracy": None})
    acc = _CALIBRATION.get("accuracy")
    if not acc or raw <= 0:
        return raw
    return float(acc[min(len(acc) - 1, int(raw * len(acc)))])


def search(index, query: str, *, country: str | None = None, kind: str | None = None,
           restrict: Iterable[str] | None = None, fuzzy: bool = True, limit: int = 5) -> list[Match]:
    """Ranked answers for one place name, best first (``[]`` when nothing matches).

    Parameters
    ----------
    query : str
        A name as written; a kind word is split off ("Idlib province" → admin1).
    country : str, optional
        Context country (ISO2): preferred, not required.
    kind : {"settlement", "admin2", "admin1", "country"}, optional
        The kind of place the text asks for (overrides the one found in ``query``).
    restrict : iterable of str, optional
        Only candidates in these countries (ISO2).
    fuzzy : bool
        Fall back to fuzzy matching when no key matches.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> m = search(load_index(), "Saraqeb")[0]
    >>> m.candidate.name, m.match, m.status, m.raw_confidence, m.confidence == calibrated(1.0)
    ('Saraqib', 'exact', 'resolved', 1.0, True)
    >>> search(load_index(), "Idlib province")[0].candidate.feature_code
    'ADM1'
    """
    name, k = kind_of(query)
    kind = kind or k
    if name != query and index.lookup(normalize(query)):
        name = query  # in the gazetteer with its kind word ("Saraqib District")
    allowed = {c.upper() for c in restrict} if restrict else None
    only = next(iter(allowed)) if allowed and len(allowed) == 1 else None
    key = normalize(name)
    via, cands = lookup(index, [key], fuzzy=fuzzy, country=country or only).get(key, ("none", []))
    if allowed:
        cands = [(c, sim) for c, sim in cands if c.country in allowed]
    return rank(name, via, cands, country=country, kind=kind)[:limit]
