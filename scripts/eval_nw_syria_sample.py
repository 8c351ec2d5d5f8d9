"""`make eval`: the embedded NW Syria sample is reproducible, and its gain tables.

Rebuilds the sample from ../shared in a temporary directory and compares it byte for byte with
shapefiles/nw_syria_{observations.csv,unlocated.csv,timeline.gpkg} (exit 1 on a difference), then
prints the government-gain tables of docs/sample.md (the committed timeline beside the published
figures, and the same gains under other choices of the method), and the gains before the 18 December
2019 baseline was rebuilt from the 2017–2019 facts (main at 5798d3f), before the places were looked
up through the library's gazetteer index (main at 442b389), and now.
"""

from __future__ import annotations

import sys

from scripts import build_nw_syria_sample as build
from scripts.common import missing

#: The government's net gain from 2019-12-19 (km², ± uncertain_km2 U1+U2) in the sample of main at
#: 5798d3f: a baseline from the 2017 point map and 25 baseline facts, cells bordering another actor
#: as the uncertainty, Idlib and Aleppo (Natural Earth) as the extent.
BEFORE = {"2019-12-28": (557, 1362), "2020-02-09": (2256, 1501), "2020-02-18": (3152, 1578),
          "2020-02-20": (3152, 1578)}
#: The same at 442b389 (the 18 December baseline from the 2017–2019 facts; places located by the
#: builder's own name rules, 186 of 604).
BEFORE_LOOKUP = {"2019-12-28": (295, 779), "2020-02-09": (1757, 1703), "2020-02-18": (3065, 2692),
                 "2020-02-20": (3065, 2692)}


def main() -> int:
    if missing(build.FACTS, needed_for="the sample's evaluation"):
        return 1
    rc = build.main(["--check"])
    print()
    build.main(["--report"])
    print("\nGovernment net gain from 2019-12-19: main 5798d3f, main 442b389, the committed sample:")
    print(f"{'to':10s} {'5798d3f km²':>17s} {'442b389 km²':>17s} {'now km²':>17s}")
    for r in build.gain_rows(build.ROOT / "shapefiles" / "nw_syria_timeline.gpkg"):
        cols = [f"{g:,} ± {u:,}" for g, u in (BEFORE[r["to"]], BEFORE_LOOKUP[r["to"]])]
        cols.append(f"{r['gain']:,.0f} ± {r['uncertain']:,.0f}")
        print(f"{r['to']:10s} " + " ".join(f"{c:>17s}" for c in cols))
    return rc


if __name__ == "__main__":
    sys.exit(main())
