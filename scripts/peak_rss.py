"""Run a command and print its peak RSS in KB (``python -m scripts.peak_rss CMD ...``).

A process's peak RSS includes that of the process it was forked from (Linux keeps the high-water
mark across fork and exec), so a bench starts the command it measures from this small launcher,
not from itself: the bench's own memory would be reported instead. The command's stdout is
discarded, its stderr passed on, its exit code returned.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    sys.stderr.buffer.write(err)
    print(usage.ru_maxrss)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
