"""`make bench` — places: speed of geo_idlib against the peer geotext, measured in the same run.

1. Throughput on GeoWebNews (../shared/eval/geoparsing/GWN.xml, 200 articles): documents per second
   for geo_idlib's mention finder alone, for the full places step (mentions + geocoding), and for
   geotext (PyPI), which finds names only (no spans beyond its own matching, no coordinates).
2. Start-up of the command on a short report (examples/idlib_report_2020-02-20.txt): the first
   `geo-idlib places` run of this bench ("cold": new process, gazetteer index already built), the
   median of the next runs ("warm": same, with the OS file cache warm), against the floor that any
   geopandas + folium tool pays: a fresh Python importing both (``--floor``, which this bench runs).

Run: ``python -m scripts.bench_places``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from scripts.common import ROOT

REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"
EXE = Path(sys.executable).with_name("geo-idlib")


def _rate(fn, texts, repeat=2) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for x in texts:
            fn(x)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def _wall(cmd) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {r.stderr.strip()}")
    return time.perf_counter() - t


def main() -> int:
    from geo_idlib import pipeline
    from geo_idlib.places import mentions
    from geo_idlib.places.store import load_index
    from scripts.corpora import GEO, load_gwn

    if not GEO.exists():
        print(f"{GEO} is missing: ../shared is needed for the places benchmark", file=sys.stderr)
        return 1
    from geotext import GeoText

    texts = [d["text"] for d in load_gwn(GEO / "GWN.xml")]
    chars = sum(map(len, texts))
    index = load_index()
    pipeline.find_places(texts[0], index=index)  # load tables and word frequencies once
    GeoText(texts[0])

    rows = []
    r_geotext = _rate(lambda x: GeoText(x), texts)
    r_mentions = _rate(lambda x: mentions.find_mentions(x, index), texts)
    r_places = _rate(lambda x: pipeline.find_places(x, index=index), texts, repeat=1)
    rows.append(("GeoWebNews docs/s: geotext (names only)", f"{r_geotext:.1f}", "1.00"))
    rows.append(("GeoWebNews docs/s: geo_idlib mentions", f"{r_mentions:.1f}", f"{r_mentions / r_geotext:.2f}"))
    rows.append(("GeoWebNews docs/s: geo_idlib places (mentions + geocode)", f"{r_places:.1f}",
                 f"{r_places / r_geotext:.2f}"))

    floor = [_wall([sys.executable, "-m", "scripts.bench_places", "--floor"]) for _ in range(5)]
    cmd = [str(EXE), "places", str(REPORT)]
    cold = _wall(cmd)
    warm = [_wall(cmd) for _ in range(5)]
    f = statistics.median(floor)
    rows.append(("import geopandas, folium (floor), s", f"{f:.2f}", "1.00"))
    rows.append(("geo-idlib places, short report, cold, s", f"{cold:.2f}", f"{cold / f:.2f}"))
    rows.append(("geo-idlib places, short report, warm (median of 5), s", f"{statistics.median(warm):.2f}",
                 f"{statistics.median(warm) / f:.2f}"))

    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>8}  ratio")
    print("-" * (w + 18))
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:>8}  {r[2]}")
    print(f"(GeoWebNews: {len(texts)} documents, {chars / 1e6:.2f} M characters; ratios against the first row "
          "of each block)")
    return 0


def floor() -> None:
    """The start-up any geopandas + folium tool pays: a fresh Python that imports both, nothing else."""
    import folium  # noqa: F401
    import geopandas  # noqa: F401


if __name__ == "__main__":
    if sys.argv[1:] == ["--floor"]:
        floor()
        sys.exit(0)
    sys.exit(main())
