"""What the scripts share: where things are, the `make eval` / `make bench` runner, workers, memory.

A script is run as ``python -m scripts.NAME`` from the repository root. Exit status: 0 when it ran
and its checks held, :data:`TARGET_MISSED` when it ran but an accuracy or speed target was missed
(it says which), anything else when it failed (a crash, missing data, a check that did not hold).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

#: The repository (the parent of scripts/).
ROOT = Path(__file__).resolve().parent.parent
#: Real data nobody here wrote: ../shared beside the checkout, or $GEO_IDLIB_SHARED.
SHARED = Path(os.environ.get("GEO_IDLIB_SHARED", ROOT.parent / "shared"))
#: Exit status of a script that ran but missed a target: a finding to report, not a failure.
TARGET_MISSED = 3


def missing(*paths: Path, needed_for: str) -> bool:
    """Whether a file or folder of ../shared that a script needs is absent; if so, it says which
    on stderr (the script then returns 1).

    >>> missing(SHARED / "no-such-file", needed_for="this example")
    True
    """
    gone = [str(p) for p in paths if not Path(p).exists()]
    if gone:
        print(f"{' and '.join(gone)} missing: ../shared is needed for {needed_for}", file=sys.stderr)
    return bool(gone)


def script_names(prefix: str) -> list[str]:
    """The modules ``scripts.<prefix>_*``, sorted.

    >>> script_names("eval")[:2]
    ['scripts.eval_arabic', 'scripts.eval_change']
    """
    return [f"scripts.{p.stem}" for p in sorted(Path(__file__).parent.glob(f"{prefix}_*.py"))]


def run_all(prefix: str, argv: list[str]) -> int:
    """Run every ``scripts.<prefix>_*`` in turn (each prints its own table); say which missed a target.

    ``argv`` goes to every script, except ``--strict``: then a missed target fails the run too.
    Returns 1 when a script failed (or missed a target under ``--strict``), else 0.
    """
    strict = "--strict" in argv
    argv = [a for a in argv if a != "--strict"]
    missed, failed = [], []
    for module in script_names(prefix):
        print(f"\n=== {module} ===", flush=True)
        rc = subprocess.call([sys.executable, "-m", module, *argv], cwd=ROOT)
        if rc == TARGET_MISSED:
            missed.append(module)
        elif rc:
            failed.append(f"{module} (exit {rc})")
    print()
    if missed:
        print(f"target missed in: {', '.join(missed)} (the 'target missed' lines above say which); "
              f"{'--strict: failing' if strict else 'reported, not a failure (--strict to fail)'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or (strict and missed) else 0


def dispatch(args, workers: dict, main) -> None:
    """End a bench script: run the worker ``args.worker`` and print its JSON answer (the last line
    :func:`run_worker` reads), or run ``main(args)``; exit with its status. Warnings are silenced."""
    import warnings

    warnings.simplefilter("ignore")
    if args.worker:
        print(json.dumps(workers[args.worker](args)))
        sys.exit(0)
    sys.exit(main(args))


def run_worker(module: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``python -m MODULE ARGS...`` in a fresh process (with ``env``); its last stdout line is a
    JSON object, returned."""
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"worker {module} {' '.join(args)} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


class PeakRSS:
    """Peak resident set size of this process while the block runs (sampled every 2 ms)."""

    def __enter__(self):
        import psutil

        self._p = psutil.Process()
        self.base = self.peak = self._p.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._p.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._p.memory_info().rss)
