"""Run a command and print its peak resident set size in KB: ``python -S -m scripts.peak_rss CMD...``
(its stderr passed through, its exit status kept; stdout discarded).

A process's peak RSS includes that of the process it was forked from (Linux keeps the high-water
mark across fork and exec), so scripts/bench_places.py starts the command from this small launcher
(no site packages, nothing imported but the standard library), not from the bench itself, whose
own RSS would be reported instead.
"""

import os
import subprocess
import sys


def main(argv=None) -> int:
    cmd = sys.argv[1:] if argv is None else argv
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    sys.stderr.buffer.write(err)
    print(usage.ru_maxrss)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
