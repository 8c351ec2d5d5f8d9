"""`make eval`: the embedded NW Syria sample is reproducible, and its gain tables.

Rebuilds the sample from ../shared in a temporary directory and compares it byte for byte with
shapefiles/nw_syria_{observations.csv,unlocated.csv,timeline.gpkg} (exit 1 on a difference), then
prints the government-gain tables of docs/sample.md (the committed timeline beside the published
figures, and the same gains under other choices of the method), and the gains before the 18 December
2019 baseline was rebuilt from the 2017–2019 facts (main at 5798d3f) beside the committed ones.
"""

from __future__ import annotations

import sys

from scripts import build_nw_syria_sample as build

#: The government's net gain from 2019-12-19 (km², ± uncertain_km2 U1+U2) in the sample of main at
#: 5798d3f: a baseline from the 2017 point map and 25 baseline facts, cells bordering another actor
#: as the uncertainty, Idlib and Aleppo (Natural Earth) as the extent.
BEFORE = {"2019-12-28": (557, 1362), "2020-02-09": (2256, 1501), "2020-02-18": (3152, 1578),
          "2020-02-20": (3152, 1578)}


def main() -> int:
    if not build.FACTS.exists():
        print(f"{build.FACTS} is missing: nothing to evaluate", file=sys.stderr)
        return 1
    rc = build.main(["--check"])
    print()
    build.main(["--report"])
    print("\nGovernment net gain from 2019-12-19, before (main 5798d3f) and after (the committed sample):")
    print(f"{'to':10s} {'before km²':>17s} {'after km²':>17s}")
    for r in build.gain_rows(build.ROOT / "shapefiles" / "nw_syria_timeline.gpkg"):
        g, u = BEFORE[r["to"]]
        before, after = f"{g:,} ± {u:,}", f"{r['gain']:,.0f} ± {r['uncertain']:,.0f}"
        print(f"{r['to']:10s} {before:>17s} {after:>17s}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
