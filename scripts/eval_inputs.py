"""`make eval` (inputs): the bad-input matrix, and concurrent first runs building the index once.

1. Every command × every kind of bad input (:mod:`scripts.input_matrix`): exit 2, one line on
   stderr, no traceback, the earlier output byte-identical; UTF-16 gives the UTF-8 output. Prints
   the matrix and ``input matrix: N tried, N passed``; a failed case fails the run.
2. Three ``geo-idlib geocode`` started together on an empty cache: the gazetteer index must be built
   once (the others wait on its lock and say so). Skipped with ``--quick``.

Run: ``python -m scripts.eval_inputs [--quick]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts import input_matrix as matrix


def run_matrix() -> tuple[int, int]:
    """Run every case; print the command × kind table and the failures. Returns (tried, passed)."""
    results: dict[tuple[str, str], matrix.Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="geo_idlib_matrix_") as tmp:
        base = Path(tmp)
        seed = matrix.seed_gazetteers(base)
        for i, (command, kind) in enumerate(matrix.cases()):
            work = base / f"case{i}"
            work.mkdir()
            results[command.name, kind] = matrix.run_case(command, kind, work, matrix.cli_invoke,
                                                          seed if command.name == "gazetteer add" else None)
    width = max(len(c.name) for c in matrix.COMMANDS)
    print(f"{'command':<{width}}  " + "  ".join(f"{k:>10}" for k in matrix.KINDS))
    for c in matrix.COMMANDS:
        cells = ["" if (c.name, k) not in results else "ok" if results[c.name, k].ok else "FAIL"
                 for k in matrix.KINDS]
        print(f"{c.name:<{width}}  " + "  ".join(f"{x or '-':>10}" for x in cells))
    for (name, kind), o in results.items():
        if not o.ok:
            print(f"FAIL {name} × {kind}: {o.why} | {o.stderr}")
    passed = sum(o.ok for o in results.values())
    print(f"\ninput matrix: {len(results)} tried, {passed} passed (exit 2, one line, no traceback, earlier "
          "output byte-identical; UTF-16 = the UTF-8 output)")
    return len(results), passed


def concurrent_first_runs(n: int = 3) -> bool:
    """``n`` first runs at once on an empty cache: one builds the index, the others wait. Returns
    whether exactly one built it."""
    exe = Path(sys.executable).with_name("geo-idlib")
    with tempfile.TemporaryDirectory(prefix="geo_idlib_cache_") as cache:
        env = dict(os.environ, GEO_IDLIB_CACHE=cache)
        t0 = time.perf_counter()
        procs = [subprocess.Popen([str(exe), "geocode", "Saraqeb", "--format", "csv"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)]
        done = [(p.wait(), *p.communicate()) for p in procs]
        seconds = time.perf_counter() - t0
        indexes = sorted(p.name for p in Path(cache).glob("gazetteer-*.sqlite"))
    builds = sum("WARNING: building the gazetteer index" in err for _, _, err in done)
    waits = sum("waiting for it to finish" in err for _, _, err in done)
    answers = {out for _, out, _ in done}
    ok = builds == 1 and waits == n - 1 and all(rc == 0 for rc, _, _ in done) and len(answers) == 1
    print(f"\n{n} concurrent first runs on an empty cache: {builds} index build(s), {waits} waited, "
          f"{len(indexes)} index file(s), same answer: {len(answers) == 1}, {seconds:.1f} s "
          f"({'ok' if ok else 'FAIL'})")
    return ok


def main(argv: list[str]) -> int:
    tried, passed = run_matrix()
    ok = tried == passed
    if "--quick" not in argv:
        ok = concurrent_first_runs() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
