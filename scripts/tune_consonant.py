"""Tune the consonant-skeleton lookup step (and decide about fuzzy) on the dev sets in ../shared/eval.

The consonant step (:func:`geo_idlib.places.rank.lookup`, ``via="consonant"``) acts only on names
whose normalised key has no exact or space-insensitive match; so does the fuzzy step after it. This
script takes every gold toponym of GeoWebNews, LGL, TR-News, GeoVirus and the Syria subset that
reaches those steps, resolves each document's gold spans through ``resolve.resolve_rows`` exactly as
the product does (context country, proximity, ranking), and counts for each variant of the steps:

* ``correct``: placed within 161 km of the gold coordinates;
* ``wrong``: placed farther away (a false place on the map);
* ``none``: left unresolved;
* ``false``: a place found for a GeoWebNews span annotated as not a place (Non_Toponym, Homonym).

Variants: the fewest consonants a skeleton needs (:data:`geo_idlib.places.normalize.CONSONANT_MIN`),
the least rapidfuzz ratio between the two keys (:data:`geo_idlib.places.rank.CONSONANT_MIN_RATIO`),
whether it looks only in the report's context country (``CONSONANT_NEEDS_COUNTRY``), and whether
fuzzy still follows. The best variant maximises ``correct - wrong - false`` (a wrong place costs as
much as a right one gains); ties go to the stricter variant. Run:
``python -m scripts.tune_consonant``; it prints the table (the chosen values are set in the code,
with this table's figures in docs/gazetteer.md).
"""

from __future__ import annotations

import argparse
import sys
import time

from geo_idlib.places import mentions, normalize, rank, resolve
from geo_idlib.places.store import load_index
from scripts import corpora
from scripts.common import missing

#: (label, CONSONANT_MIN, CONSONANT_MIN_RATIO, CONSONANT_NEAR_KM, consonant step on, fuzzy on)
VARIANTS = [("fuzzy only (before)", 3, 0.0, None, False, True), ("neither", 3, 0.0, None, False, False)]
VARIANTS += [(f"consonant min {m}, ratio {r}, {'within ' + str(km) + ' km' if km else 'in the country'}", m, r, km,
              True, False)
             for m in (3, 4, 5) for r in (0.0, 0.8) for km in (None, 100, 50)]
VARIANTS += [("consonant min 4, ratio 0.8, within 100 km, + fuzzy", 4, 0.8, 100, True, True),
             ("consonant min 4, ratio 0.8, within 200 km", 4, 0.8, 200, True, False),
             ("consonant min 4, ratio 0.7, within 100 km", 4, 0.7, 100, True, False)]
#: the same with a country's capital and first-level seats matching wherever they lie
SEAT_VARIANTS = [(f"{label}, seats anywhere", m, r, km, on, fz) for label, m, r, km, on, fz in VARIANTS
                 if label.startswith("consonant") and km == 100 and not fz]


def _jobs(index, dev_sets: dict, demonyms) -> list[tuple]:
    """``(mention rows, gold points, indexes of the rows past exact and compact, negative?)`` of each
    document that has such rows."""
    jobs = []
    for docs in dev_sets.values():
        for d in docs:
            g = corpora.gold_mentions(d, demonyms)
            if g.empty:
                continue
            rows = [mentions.Mention(*r) for r in g[mentions.COLUMNS[1:]].itertuples(index=False, name=None)]
            found = rank.lookup(index, sorted(set(g["key"])), fuzzy=False, consonant=False)
            past = [i for i, k in enumerate(g["key"]) if k not in found]
            if past:
                jobs.append((rows, list(zip(g["gold_lat"], g["gold_lon"], strict=True)), past, bool(d.get("negative"))))
    return jobs


def _score(index, jobs: list[tuple], label: str, consonant: bool, fuzzy: bool) -> dict:
    def outcomes():
        for rows, gold, past, neg in jobs:
            places = _resolve(rows, index, consonant, fuzzy)
            for i in past:
                yield neg, places[i].status, gold[i][0], gold[i][1], places[i].lat, places[i].lon

    return corpora.tally(outcomes(), variant=label)


def _resolve(rows, index, consonant: bool, fuzzy: bool):
    saved = rank.lookup
    if not consonant:
        def lookup(*a, **k):
            return saved(*a, **dict(k, consonant=False))
        rank.lookup = resolve.lookup = lookup
    try:
        return resolve.resolve_rows(rows, index, fuzzy=fuzzy)
    finally:
        rank.lookup = resolve.lookup = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    if missing(corpora.GEO, needed_for="the dev sets"):
        return 1
    t0 = time.time()
    index = load_index()
    demonyms = corpora.load_demonyms()
    dev_sets = {"GWN": corpora.load_gwn(corpora.GEO / "GWN.xml"), "LGL": corpora.load_gaztag(corpora.GEO / "lgl.xml"),
                "TR-News": corpora.load_gaztag(corpora.GEO / "TR-News.xml"),
                "GeoVirus": corpora.load_geovirus(corpora.GEO / "GeoVirus.xml"),
                "Syria": corpora.load_syria(corpora.GEO / "syria_subset.jsonl"),
                "negatives": corpora.load_gwn_negatives(corpora.GEO / "GWN.xml")}
    jobs = _jobs(index, dev_sets, demonyms)
    n_pos = sum(len(p) for *_, p, neg in jobs if not neg)
    n_neg = sum(len(p) for *_, p, neg in jobs if neg)
    print(f"{n_pos} gold toponyms and {n_neg} non-place spans get past the exact and space-insensitive keys "
          f"({len(jobs)} documents)", file=sys.stderr)
    saved = (normalize.CONSONANT_MIN, rank.CONSONANT_MIN_RATIO, rank.CONSONANT_NEAR_KM, rank.CONSONANT_SEATS_ANYWHERE)
    table = []
    try:
        for label, m, r, c, on, fz in VARIANTS + SEAT_VARIANTS:
            normalize.CONSONANT_MIN, rank.CONSONANT_MIN_RATIO, rank.CONSONANT_NEAR_KM = m, r, c
            rank.CONSONANT_SEATS_ANYWHERE = label.endswith("seats anywhere")
            resolve._RANKED.clear()
            table.append(_score(index, jobs, label, on, fz))
            print(f"  {label}: {time.time() - t0:.0f} s", file=sys.stderr)
    finally:
        normalize.CONSONANT_MIN, rank.CONSONANT_MIN_RATIO, rank.CONSONANT_NEAR_KM, rank.CONSONANT_SEATS_ANYWHERE = saved
    w = max(len(r["variant"]) for r in table)
    print(f"{'variant':<{w}}  correct  wrong  none  false  precision   net")
    for r in table:
        print(f"{r['variant']:<{w}}  {r['correct']:7d}  {r['wrong']:5d}  {r['none']:4d}  {r['false']:5d}  "
              f"{r['precision'] if r['precision'] is not None else '-':>9}  {r['net']:4d}")
    best = max(table, key=lambda r: r["net"])
    print(f"\nbest: {best['variant']} (net {best['net']}; {n_pos} gold toponyms, {n_neg} non-place spans; "
          f"{time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
