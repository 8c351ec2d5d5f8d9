"""`make eval` — places in Arabic news: the development set ../shared/eval/arabic_news.

Prints one table:

* recall of the named places (``listed_places``, each distinct string once per excerpt, a clitic form
  merged with its bare name by the file's ``clitic_forms``): a place is found when `geo-idlib places`
  reports a mention whose text is the bare name or one of its written forms (resolved or not); split
  by kind of name (written with a clitic, a named region, the others);
* the mentions reported that are no listed place (organisations, outlets, demonyms, words);
* the share of resolved places within Syria or its neighbours, a foreign country or capital apart;
* the consonant-skeleton bridge (an Arabic name placed through the skeleton of a Latin name): how
  many mentions it places, and, with ``--show``, each one with the place it chose;
* ``report_date`` found for the excerpts whose date the file gives.

Targets: recall >= 90 %, >= 98 % of resolved places within Syria or its neighbours; a missed one is
printed as "target missed: ..." (exit status ``scripts.common.TARGET_MISSED``). Run: ``python -m
scripts.eval_arabic [--show]`` (``--show``: every miss, extra mention and bridged place).
"""

from __future__ import annotations

import argparse
import json
import sys

from geo_idlib import pipeline
from geo_idlib.places.store import load_index
from scripts.common import SHARED, TARGET_MISSED, missing

#: The development set.
DEV = SHARED / "eval" / "arabic_news" / "nw_syria_arabic_dev.jsonl"
#: Syria and its neighbours: a resolved place elsewhere is "abroad" unless it is a country or capital.
REGION = {"SY", "TR", "LB", "JO", "IQ", "IL", "PS"}
RECALL_TARGET, REGION_TARGET = 0.90, 0.98


def load_dev(path=DEV) -> list[dict]:
    """The excerpts, each with ``gold``: {bare name: the set of its written forms}."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        cf = d.get("clitic_forms") or {}
        gold: dict[str, set[str]] = {}
        for s in d["listed_places"]:
            gold.setdefault(cf.get(s, s), set()).update({s, cf.get(s, s)})
        d["gold"] = gold
        docs.append(d)
    return docs


def kind_of_gold(d: dict, bare: str) -> str:
    """``clitic`` (written with a clitic somewhere), ``region`` (a named region), else ``plain``."""
    if any(f != bare for f in d["gold"][bare]):
        return "clitic"
    return "region" if bare in (d.get("region_names") or []) else "plain"


def score(docs, index) -> dict:
    """Recall by kind, extra mentions, resolved places by region, bridged places, report dates."""
    found: dict[str, list[int]] = {}
    misses, extras, abroad, bridged, dates = [], [], [], [], []
    n_resolved = in_region = 0
    for k, d in enumerate(docs):
        p = pipeline.find_places(d["text"], index=index)
        said = set(p["mention"])
        for bare, forms in d["gold"].items():
            hit = bool(forms & said)
            found.setdefault(kind_of_gold(d, bare), [0, 0])
            found[kind_of_gold(d, bare)][0] += hit
            found[kind_of_gold(d, bare)][1] += 1
            if not hit:
                misses.append((k, bare, d["outlet"]))
        listed = set().union(*d["gold"].values()) if d["gold"] else set()
        for r in p.itertuples():
            if r.mention not in listed:
                extras.append((k, r.mention, r.status, r.name))
            if r.status == "unresolved":
                continue
            n_resolved += 1
            ok = r.country in REGION or str(r.feature_code).startswith(("PCL", "PPLC")) or r.precision == "country"
            in_region += ok
            if not ok:
                abroad.append((k, r.mention, r.name, r.country, r.feature_code))
            if r.mention not in r.name and _latin(r.name) and not _arabic_alias(r, index):
                bridged.append((k, r.mention, r.name, r.place_id, round(float(r.lat), 3), round(float(r.lon), 3)))
        if d.get("date"):
            got = pipeline.report_date(d["text"])
            dates.append((k, d["date"], got))
    return {"found": found, "misses": misses, "extras": extras, "abroad": abroad, "bridged": bridged,
            "n_resolved": n_resolved, "in_region": in_region, "dates": dates}


def _latin(name: str) -> bool:
    return any("a" <= c.lower() <= "z" for c in name)


def _arabic_alias(r, index) -> bool:
    """Whether the place has an Arabic name of its own in the index that the mention's key finds
    (then the skeleton bridge did not place it)."""
    from geo_idlib.places.normalize import normalize

    key = normalize(r.mention)
    return any(c.place_id == r.place_id for c in index.lookup(key))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every miss, extra mention and bridged place")
    args = ap.parse_args(argv)
    if missing(DEV, needed_for="the Arabic evaluation"):
        return 1
    docs = load_dev()
    s = score(docs, load_index())
    hit = sum(f for f, _ in s["found"].values())
    total = sum(n for _, n in s["found"].values())
    recall = hit / total if total else 0.0
    share = s["in_region"] / s["n_resolved"] if s["n_resolved"] else 1.0
    rows = [("named places found (clitic forms merged)", f"{hit}/{total} = {recall:.1%}")]
    for kind in ("plain", "clitic", "region"):
        f, n = s["found"].get(kind, (0, 0))
        rows.append((f"  {kind} names", f"{f}/{n}" + (f" = {f / n:.1%}" if n else "")))
    rows += [("mentions reported that are no listed place", str(len(s["extras"]))),
             ("resolved places in Syria or a neighbour (or a country/capital)",
              f"{s['in_region']}/{s['n_resolved']} = {share:.1%}"),
             ("mentions placed through the skeleton bridge", str(len(s["bridged"]))),
             ("report_date found / right (excerpts with a date)",
              f"{sum(g is not None for _, _, g in s['dates'])} / {sum(g == w for _, w, g in s['dates'])} "
              f"of {len(s['dates'])}")]
    w = max(len(r[0]) for r in rows)
    print(f"Arabic news dev set ({len(docs)} excerpts)")
    for a, b in rows:
        print(f"{a:<{w}}  {b}")
    if args.show:
        for m in s["misses"]:
            print("MISS  ", *m)
        for e in s["extras"]:
            print("EXTRA ", *e)
        for a in s["abroad"]:
            print("ABROAD", *a)
        for b in s["bridged"]:
            print("BRIDGE", *b)
        for dt in s["dates"]:
            print("DATE  ", *dt)
    missed = []
    if recall < RECALL_TARGET:
        missed.append(f"Arabic dev set recall >= {RECALL_TARGET:.0%} ({recall:.1%})")
    if share < REGION_TARGET:
        missed.append(f"Arabic dev set: >= {REGION_TARGET:.0%} of resolved places in Syria or a neighbour ({share:.1%})")
    for m in missed:
        print(f"target missed: {m}", file=sys.stderr)
    return TARGET_MISSED if missed else 0


if __name__ == "__main__":
    sys.exit(main())
