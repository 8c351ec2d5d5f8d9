"""`make bench` — places: speed of geo_idlib against the peer geotext, measured in the same run.

1. Throughput on GeoWebNews (../shared/eval/geoparsing/GWN.xml, 200 articles of 2,500 characters on
   average), CPU time of this process (one core), best of several warm runs: geotext (PyPI; names
   only, no spans, no coordinates); geo_idlib's mention finder alone; the whole ``places`` step of
   a user's run (read the 200 article files, find and geocode every mention, write the CSV:
   ``pipeline.places``). Then ``geo-idlib places`` as a new process on all 1,135 articles of the
   four corpora (GeoWebNews, LGL, TR-News, GeoVirus) as files, start-up and first-use work included.
2. Start-up of the command on a short report (examples/idlib_report_2020-02-20.txt): the first
   `geo-idlib places` run of this bench ("cold": new process, gazetteer index already built), the
   median of the next runs ("warm"), against the floor that any geopandas + folium tool pays: a
   fresh Python importing both (``--floor``, which this bench runs).
3. Long reports (issue 15): ``geo-idlib places`` on 1, 10 and 50 MB of news text (the corpora's
   articles repeated), in paragraphs and as one line: MB/s and the process's peak RSS; the one-line
   report must run within 1.5x of the same text in paragraphs with a peak RSS of 300 MB or less.

Run: ``python -m scripts.bench_places [--quick]`` (``--quick``: long reports of 1 and 10 MB only).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.common import ROOT

REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"
EXE = Path(sys.executable).with_name("geo-idlib")
#: The long-report targets of issue 15: one line within this factor of paragraphs, peak RSS under this.
LONG_LINE_RATIO, LONG_LINE_RSS_MB = 1.5, 300


def _cpu_rate(fn, n: int, repeat: int = 5) -> float:
    """Items per CPU second of ``fn()`` (processing ``n`` items), best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return n / best


def _run(cmd) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command run as its own process, started from the small
    launcher :mod:`scripts.peak_rss` (the peak RSS of a forked process includes the bench's)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-S", "-m", "scripts.peak_rss", *map(str, cmd)], capture_output=True,
                          cwd=ROOT, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {proc.stderr.strip()}")
    return wall, int(proc.stdout.split()[-1]) / 1024


def _throughput(corpora_texts: dict, tmp: Path) -> list[tuple]:
    from geotext import GeoText

    from geo_idlib import pipeline
    from geo_idlib.places import mentions
    from geo_idlib.places.store import load_index

    texts = corpora_texts["GeoWebNews"]
    gwn = [tmp / f"gwn_{i:03d}.txt" for i in range(len(texts))]
    for p, t in zip(gwn, texts, strict=True):
        p.write_text(t, encoding="utf-8")
    files = [str(p) for p in gwn]
    index = load_index()
    pipeline.places(files, fmt="csv")  # tables, word frequencies, the candidates of the corpus' names
    GeoText(texts[0])
    r_geotext = _cpu_rate(lambda: [GeoText(x) for x in texts], len(texts))
    r_mentions = _cpu_rate(lambda: [mentions.find(x, index) for x in texts], len(texts))
    r_places = _cpu_rate(lambda: pipeline.places(files, fmt="csv"), len(texts))
    allfiles = []
    for name, ts in corpora_texts.items():
        for i, t in enumerate(ts):
            p = tmp / f"all_{name}_{i:04d}.txt"
            p.write_text(t, encoding="utf-8")
            allfiles.append(str(p))
    wall, rss = _run([str(EXE), "places", *allfiles, "-o", str(tmp / "all.csv")])
    return [("GeoWebNews docs/s, one core: geotext (names only)", f"{r_geotext:.0f}", "1.00"),
            ("GeoWebNews docs/s, one core: geo_idlib mentions", f"{r_mentions:.0f}", f"{r_mentions / r_geotext:.3f}"),
            ("GeoWebNews docs/s, one core: geo_idlib places (read, find, geocode, write CSV)", f"{r_places:.0f}",
             f"{r_places / r_geotext:.3f}"),
            (f"geo-idlib places, new process, {len(allfiles)} articles: docs/s (wall, start-up included)",
             f"{len(allfiles) / wall:.0f}", f"peak {rss:.0f} MB")]


def _startup() -> list[tuple]:
    floor = [_run([sys.executable, "-m", "scripts.bench_places", "--floor"])[0] for _ in range(5)]
    cmd = [str(EXE), "places", str(REPORT)]
    cold = _run(cmd)[0]
    warm = [_run(cmd)[0] for _ in range(5)]
    f = statistics.median(floor)
    return [("import geopandas, folium (floor), s", f"{f:.2f}", "1.00"),
            ("geo-idlib places, short report, cold, s", f"{cold:.2f}", f"{cold / f:.2f}"),
            ("geo-idlib places, short report, warm (median of 5), s", f"{statistics.median(warm):.2f}",
             f"{statistics.median(warm) / f:.2f}")]


def _long_reports(texts: list[str], tmp: Path, sizes_mb) -> tuple[list[str], list[str]]:
    """The long-report table (lines of text) and the targets it misses."""
    lines = [f"{'report':<22} {'MB':>5} {'seconds':>8} {'MB/s':>6} {'peak RSS MB':>11}  one line / paragraphs"]
    missed = []
    body = "\n\n".join(texts) + "\n\n"
    for mb in sizes_mb:
        n = mb * 1_000_000
        para = (body * (n // len(body) + 1))[:n]
        para = para[:para.rfind("\n\n") + 2]
        runs = {}
        for shape, text in (("paragraphs", para), ("one line", para.replace("\n", " "))):
            p = tmp / f"long_{mb}_{shape.replace(' ', '_')}.txt"
            p.write_text(text, encoding="utf-8")
            size = p.stat().st_size / 1e6
            runs[shape] = _run([str(EXE), "places", str(p), "-o", str(tmp / "long.csv"), "--overwrite"])
            secs, rss = runs[shape]
            ratio = f"{runs['one line'][0] / runs['paragraphs'][0]:.2f}" if shape == "one line" else ""
            lines.append(f"{shape:<22} {size:5.1f} {secs:8.1f} {size / secs:6.2f} {rss:11.0f}  {ratio}")
            p.unlink()
        if mb == 10:
            ratio = runs["one line"][0] / runs["paragraphs"][0]
            if ratio > LONG_LINE_RATIO or runs["one line"][1] > LONG_LINE_RSS_MB:
                missed.append(f"10 MB as one line within {LONG_LINE_RATIO}x of paragraphs and peak RSS <= "
                              f"{LONG_LINE_RSS_MB} MB ({ratio:.2f}x, {runs['one line'][1]:.0f} MB)")
    return lines, missed


def main(argv=None) -> int:
    from scripts.common import TARGET_MISSED
    from scripts.corpora import GEO, load_gaztag, load_geovirus, load_gwn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="long reports of 1 and 10 MB only")
    args = ap.parse_args(argv)
    if not GEO.exists():
        print(f"{GEO} is missing: ../shared is needed for the places benchmark", file=sys.stderr)
        return 1
    corpora_texts = {"GeoWebNews": [d["text"] for d in load_gwn(GEO / "GWN.xml")],
                     "LGL": [d["text"] for d in load_gaztag(GEO / "lgl.xml")],
                     "TR-News": [d["text"] for d in load_gaztag(GEO / "TR-News.xml")],
                     "GeoVirus": [d["text"] for d in load_geovirus(GEO / "GeoVirus.xml")]}
    with tempfile.TemporaryDirectory(prefix="bench_places_") as d:
        tmp = Path(d)
        rows = _throughput(corpora_texts, tmp) + _startup()
        w = max(len(r[0]) for r in rows)
        print(f"{'measure':<{w}}  {'value':>8}  ratio")
        print("-" * (w + 18))
        for r in rows:
            print(f"{r[0]:<{w}}  {r[1]:>8}  {r[2]}")
        chars = sum(map(len, corpora_texts["GeoWebNews"]))
        print(f"(GeoWebNews: {len(corpora_texts['GeoWebNews'])} documents, {chars / 1e6:.2f} M characters; "
              "docs/s per CPU second of this process, best of 5 warm runs; ratios against the first row of "
              "each block)\n")
        texts = [t for ts in corpora_texts.values() for t in ts]
        table, missed = _long_reports(texts, tmp, (1, 10) if args.quick else (1, 10, 50))
        print("\n".join(table))
    places_rate = float(rows[2][1])
    if places_rate < 500:
        missed.append(f"places >= 500 GeoWebNews docs/s on one core ({places_rate:.0f})")
    for m in missed:
        print(f"target missed: {m}", file=sys.stderr)
    return TARGET_MISSED if missed else 0


def floor() -> None:
    """The start-up any geopandas + folium tool pays: a fresh Python that imports both, nothing else."""
    import folium  # noqa: F401
    import geopandas  # noqa: F401


if __name__ == "__main__":
    if sys.argv[1:] == ["--floor"]:
        floor()
        sys.exit(0)
    sys.exit(main())
