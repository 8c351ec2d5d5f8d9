"""`make bench`: run every scripts/bench_*.py in turn; each prints a table of ratios measured side by
side in one run against the naive or peer approach.

As with `make eval`, a missed speed target is reported, not a failure (``--strict`` makes it one).
Run: ``python -m scripts.bench [--strict] [ARGS...]``.
"""

from __future__ import annotations

import sys

from scripts.common import run_all

if __name__ == "__main__":
    sys.exit(run_all("bench", sys.argv[1:]))
