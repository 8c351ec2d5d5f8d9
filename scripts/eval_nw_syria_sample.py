"""`make eval`: the embedded NW Syria sample is reproducible, and its gain tables.

Rebuilds the sample from ../shared in a temporary directory and compares it byte for byte with
shapefiles/nw_syria_{observations.csv,unlocated.csv,timeline.gpkg} (exit 1 on a difference), then
prints the government-gain tables of docs/sample.md (the committed timeline beside the published
figures, and the same gains under other choices of the method).
"""

from __future__ import annotations

import sys

from scripts import build_nw_syria_sample as build


def main() -> int:
    if not build.FACTS.exists():
        print(f"{build.FACTS} is missing: nothing to evaluate", file=sys.stderr)
        return 1
    rc = build.main(["--check"])
    print()
    build.main(["--report"])
    return rc


if __name__ == "__main__":
    sys.exit(main())
