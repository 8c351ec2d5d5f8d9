"""`make bench`: run every scripts/bench_*.py in turn; each prints a table of ratios measured side by
side in one run against the naive or peer approach."""

from __future__ import annotations

import sys

from eval import run

if __name__ == "__main__":
    sys.exit(run("bench"))
