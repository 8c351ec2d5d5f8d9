"""`make eval`: run every scripts/eval_*.py in turn; each prints its own table.

Each eval script reads ../shared (or GEO_IDLIB_SHARED) and exits non-zero on failure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(prefix: str) -> int:
    scripts = sorted(p for p in HERE.glob(f"{prefix}_*.py"))
    failed = []
    for s in scripts:
        print(f"\n=== {s.name} ===", flush=True)
        rc = subprocess.call([sys.executable, str(s)] + sys.argv[1:])
        if rc:
            failed.append(s.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run("eval"))
