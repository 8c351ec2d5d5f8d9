"""Tune the fuzzy-match threshold of the gazetteer on the dev sets in ../shared/eval.

The fuzzy fallback only acts on names whose normalised key has no exact (or space-insensitive)
match. This script takes every gold toponym of GeoWebNews, LGL, TR-News, GeoVirus and the Syria
subset, resolves each document's gold spans with ``resolve.resolve`` exactly as the product does
(context country, proximity, ranking), and for the spans that reach the fuzzy fallback counts, at
each threshold:

* ``correct``: placed within 161 km of the gold coordinates;
* ``wrong``: placed farther away (a false place on the map);
* ``none``: left unresolved.

Negatives: GeoWebNews ``Non_Toponym`` and ``Homonym`` spans (capitalised words that are not places,
e.g. organisations) go through the same path; any place found for them is a ``false`` answer.

The chosen threshold maximises ``correct - wrong - false`` (a wrong place costs as much as a right
one gains); ties go to the higher (safer) threshold. With ``--write`` it is stored in
``geo_idlib/data/fuzzy.json`` with the table. Run: ``.venv/bin/python -m scripts.tune_fuzzy [--write]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

from geo_idlib import io
from geo_idlib.places import mentions, rank, resolve, store
from geo_idlib.places.normalize import compact
from geo_idlib.places.store import load_index
from scripts import corpora
from scripts.common import missing

THRESHOLDS = [0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.92, 0.95, 0.98, 1.01]


class _FuzzyAt:
    """The index, with its fuzzy answers computed once at the lowest threshold and cut at
    ``threshold`` (same results as asking at each threshold, in less time)."""

    def __init__(self, index):
        self.index, self.threshold, self._cache = index, store.fuzzy_threshold(), {}

    def __getattr__(self, name):
        return getattr(self.index, name)

    def fuzzy(self, key, limit=5, *, score_cutoff=None, country=None):
        cut = self.threshold if score_cutoff is None else score_cutoff
        ck = (key, limit, country)
        if ck not in self._cache:
            self._cache[ck] = self.index.fuzzy(key, limit, score_cutoff=min(THRESHOLDS), country=country)
        return [(c, s) for c, s in self._cache[ck] if s >= cut]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="store the chosen threshold in geo_idlib/data/fuzzy.json")
    args = ap.parse_args()
    if missing(corpora.GEO, needed_for="the dev sets"):
        return 1
    t0 = time.time()
    index = _FuzzyAt(load_index())
    demonyms = corpora.load_demonyms()
    dev_sets = {"GWN": corpora.load_gwn(corpora.GEO / "GWN.xml"), "LGL": corpora.load_gaztag(corpora.GEO / "lgl.xml"),
               "TR-News": corpora.load_gaztag(corpora.GEO / "TR-News.xml"), "GeoVirus": corpora.load_geovirus(corpora.GEO / "GeoVirus.xml"),
               "Syria": corpora.load_syria(corpora.GEO / "syria_subset.jsonl"), "negatives": corpora.load_gwn_negatives(corpora.GEO / "GWN.xml")}
    jobs = _jobs(index, dev_sets, demonyms)
    n_pos = sum(len(r) for c, g, r, neg in jobs if not neg)
    n_neg = sum(len(r) for c, g, r, neg in jobs if neg)
    print(f"{n_pos} gold toponyms and {n_neg} non-place spans reach the fuzzy fallback "
          f"({len(jobs)} documents)", file=sys.stderr)
    table = []
    for t in THRESHOLDS:
        index.threshold = t
        table.append(_score(index, jobs, t))
    print(pd.DataFrame(table).to_string(index=False))
    best = max(table, key=lambda r: (r["net"], r["threshold"]))
    print(f"\nchosen threshold: {best['threshold']} (net {best['net']}; {time.time() - t0:.0f} s)")
    if args.write:
        _write(best, table, n_pos, n_neg)
    return 0


def _jobs(index, dev_sets: dict, demonyms) -> list[tuple]:
    """``(corpus, gold mentions, rows that reach the fuzzy fallback, negative?)`` of each document
    whose gold spans include a key without an exact or space-insensitive match."""
    jobs = []
    for cname, docs in dev_sets.items():
        for d in docs:
            g = corpora.gold_mentions(d, demonyms)
            if g.empty:
                continue
            found = rank.lookup(index, sorted(set(g["key"])), fuzzy=False)
            fuzzy_rows = [i for i, k in enumerate(g["key"]) if k not in found and len(compact(k)) >= rank.FUZZY_MIN_CHARS]
            if fuzzy_rows:
                jobs.append((cname, g, fuzzy_rows, bool(d.get("negative"))))
    return jobs


def _score(index, jobs: list[tuple], t: float) -> dict:
    """Right (within 161 km), wrong and unanswered gold toponyms, and places found for non-places."""
    def outcomes():
        for _, g, rows, neg in jobs:
            places = resolve.resolve(g[mentions.COLUMNS], index)
            for i in rows:
                p, gold = places.iloc[i], g.iloc[i]
                yield neg, p["status"], gold["gold_lat"], gold["gold_lon"], p["lat"], p["lon"]

    return corpora.tally(outcomes(), threshold=t)


def _write(best: dict, table: list[dict], n_pos: int, n_neg: int) -> None:
    out = io.package_data("fuzzy.json")
    doc = {"threshold": best["threshold"],
           "how": ("chosen by scripts/tune_fuzzy.py: the threshold maximising correct - wrong - false over the gold "
                   f"toponyms of GeoWebNews, LGL, TR-News, GeoVirus and the Syria subset that reach the fuzzy "
                   f"fallback ({n_pos}) and GeoWebNews non-place spans ({n_neg}); correct = within 161 km; "
                   "ties to the higher threshold"),
           "table": table}
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
