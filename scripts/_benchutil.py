"""Helpers shared by the bench scripts."""

from __future__ import annotations

import threading
import time


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
