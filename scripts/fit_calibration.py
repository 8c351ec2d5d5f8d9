"""Fit the calibration of `confidence` (geo_idlib/data/calibration.json) on half of the dev documents.

``confidence`` must mean the probability that a place is right. "Right" is the dev sets' measure:
the place given for a gold span lies within 161 km of the gold point (an unresolved span is wrong,
with confidence 0). The answers are those of ``resolve.resolve`` on each document's gold spans in
context, as `make eval` scores Acc@161km, over GeoWebNews, LGL, TR-News, GeoVirus and the Syria
subset.

The split: a document belongs to the fitting half when the CRC-32 of ``"<corpus>:<id>"`` is even;
the other half is held out, and `make eval` prints its reliability table (accuracy per tenth of
confidence) and expected calibration error (ECE) per corpus. The mapping is histogram binning on the
raw confidence of the ranking (``rank.confidence``): each tenth of raw confidence maps to the share
of right answers in it on the fitting half, smoothed towards the half's overall share with the
weight of :data:`SMOOTHING` answers (a tenth without answers takes the nearest fitted tenth's value) (measured against 20 and 40 bins and against bins per precision:
those gave a higher held-out ECE, 0.046-0.10). Refit after a change to the ranking or the gazetteer:
``python -m scripts.fit_calibration --write``.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import defaultdict

from geo_idlib import crs, io
from geo_idlib.places import mentions, rank, resolve
from geo_idlib.places.store import load_index
from scripts import corpora
from scripts.common import missing

#: Tenths of raw confidence.
BINS = 10
#: Answers' worth of the overall share mixed into each bin's share (few answers: near the overall).
SMOOTHING = 5


def fitting_half(corpus: str, doc_id: str) -> bool:
    """Whether a document is in the fitting half (CRC-32 of ``"corpus:id"`` even).

    >>> fitting_half("GWN", "1"), fitting_half("GWN", "2")
    (False, True)
    """
    return zlib.crc32(f"{corpus}:{doc_id}".encode()) % 2 == 0


def dev_sets() -> dict[str, list[dict]]:
    """The dev sets the calibration is fitted and checked on."""
    g = corpora.GEO
    return {"GeoWebNews": corpora.load_gwn(g / "GWN.xml"), "LGL": corpora.load_gaztag(g / "lgl.xml"),
            "TR-News": corpora.load_gaztag(g / "TR-News.xml"), "GeoVirus": corpora.load_geovirus(g / "GeoVirus.xml"),
            "Syria subset": corpora.load_syria(g / "syria_subset.jsonl")}


def answers(sets: dict[str, list[dict]], index, fitting: bool) -> list[tuple[str, float, bool]]:
    """``(corpus, confidence, right)`` for every gold span of the documents of one half."""
    demonyms = corpora.load_demonyms()
    out = []
    for name, docs in sets.items():
        for d in docs:
            if fitting_half(name, d["id"]) != fitting:
                continue
            g = corpora.gold_mentions(d, demonyms)
            if g.empty:
                continue
            p = resolve.resolve(g[mentions.COLUMNS], index)
            for glat, glon, st, lat, lon, conf in zip(g["gold_lat"], g["gold_lon"], p["status"], p["lat"], p["lon"],
                                                      p["confidence"], strict=True):
                right = st != "unresolved" and float(crs.haversine_km(glat, glon, lat, lon)) <= 161
                out.append((name, float(conf), bool(right)))
    return out


def fit(raw_answers: list[tuple[str, float, bool]]) -> dict:
    """The calibration table: per tenth of raw confidence, the smoothed share of right answers."""
    overall = sum(r for _, _, r in raw_answers) / len(raw_answers)
    right, n = [0] * BINS, [0] * BINS
    for _, conf, ok in raw_answers:
        if conf > 0:
            b = min(BINS - 1, int(conf * BINS))
            right[b] += ok
            n[b] += 1
    acc = [round((right[b] + SMOOTHING * overall) / (n[b] + SMOOTHING), 4) if n[b] else None for b in range(BINS)]
    filled = [b for b in range(BINS) if n[b]]
    acc = [a if a is not None else acc[min(filled, key=lambda f, b=b: abs(f - b))] for b, a in enumerate(acc)]
    return {"accuracy": acc, "answers": n, "right": right}


def reliability(scored: list[tuple[str, float, bool]]) -> tuple[list[tuple], float]:
    """Rows ``(bin, n, mean confidence, accuracy)`` per tenth of confidence, and the ECE."""
    bins: dict[int, list] = defaultdict(list)
    for _, conf, ok in scored:
        bins[min(BINS - 1, int(conf * BINS))].append((conf, ok))
    rows, ece = [], 0.0
    for b in sorted(bins):
        xs = bins[b]
        conf = sum(c for c, _ in xs) / len(xs)
        acc = sum(o for _, o in xs) / len(xs)
        ece += len(xs) / len(scored) * abs(acc - conf)
        rows.append((b, len(xs), conf, acc))
    return rows, ece


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write geo_idlib/data/calibration.json")
    args = ap.parse_args(argv)
    if missing(corpora.GEO, needed_for="the dev sets"):
        return 1
    index = load_index()
    sets = dev_sets()
    saved = dict(rank._CALIBRATION)
    rank._CALIBRATION.clear()
    rank._CALIBRATION["accuracy"] = None  # raw confidences
    try:
        resolve._RANKED.clear()
        raw = answers(sets, index, fitting=True)
    finally:
        rank._CALIBRATION.clear()
        rank._CALIBRATION.update(saved)
        resolve._RANKED.clear()
    table = fit(raw)
    print(f"fitted on {len(raw)} answers of the fitting half: {table['accuracy']}")
    if args.write:
        doc = {**table, "bins": BINS, "smoothing": SMOOTHING,
               "how": ("scripts/fit_calibration.py: histogram binning of the ranking's raw confidence, fitted on the "
                       "gold spans of the documents of GeoWebNews, LGL, TR-News, GeoVirus and the Syria subset whose "
                       "CRC-32 of 'corpus:id' is even (right = within 161 km); the odd half is held out for make eval")}
        out = io.package_data("calibration.json")
        io.write_text(out, json.dumps(doc, indent=1, sort_keys=True) + "\n", overwrite=True)
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
