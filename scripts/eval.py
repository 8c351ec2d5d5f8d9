"""`make eval`: run every scripts/eval_*.py in turn; each prints its own table.

Each reads ../shared (or GEO_IDLIB_SHARED). The evaluation is a report: a missed accuracy target is
printed and summed up at the end but does not fail the run; a script that fails (crash, missing
data, a check that does not hold, such as the sample not rebuilding byte for byte) does. With
``--strict`` a missed target fails it too. Other arguments go to every script.

Run: ``python -m scripts.eval [--strict] [ARGS...]``.
"""

from __future__ import annotations

import sys

from scripts.common import run_all

if __name__ == "__main__":
    sys.exit(run_all("eval", sys.argv[1:]))
