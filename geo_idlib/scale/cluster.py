"""The Dask engine: the tasks of :mod:`geo_idlib.scale.engine` on a ``distributed`` cluster.

``DaskEngine(workers=N)`` starts a local cluster of N worker processes (one thread each: a task's
GEOS and Python work holds the GIL); ``DaskEngine(scheduler="tcp://host:8786")`` uses a running one
(``dask scheduler`` on one host, ``dask worker tcp://host:8786`` on each of the others; see
docs/scale.md). Dask reschedules the tasks of a worker that dies; tasks are idempotent, so a task
that runs twice writes the same partition twice, atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable

import distributed

from ..errors import GeoIdlibError, InputError
from .engine import STATE, Engine


def dask_setup(worker) -> None:
    """Run by each worker as it starts when this module is preloaded (``LocalCluster(preload=...)``,
    ``dask worker --preload geo_idlib.scale.cluster``): import what the tasks use (geopandas,
    shapely, pyarrow, pyproj: about a CPU second), so that it counts in the worker's start-up and
    not in its first task."""
    import geopandas  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import pyproj  # noqa: F401
    import shapely  # noqa: F401

    from ..territory import join  # noqa: F401


class SharePlugin(distributed.WorkerPlugin):
    """Sets ``shared(key)`` in each worker process once, at setup: on the workers there are when
    it is registered and on any that join or restart later. The value travels once per worker."""

    def __init__(self, key: str, value=None, load: Callable | None = None):
        self.key, self.value, self.load = key, value, load

    def setup(self, worker):
        STATE[self.key] = self.load() if self.load is not None else self.value

    def teardown(self, worker):
        STATE.pop(self.key, None)


class DaskEngine(Engine):
    """Run tasks on a Dask cluster: ``workers`` local worker processes, or a running ``scheduler``."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        self._cluster = None
        self._futures: list = []
        self._plugins: list[str] = []
        if scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start one "
                                 "with `dask scheduler` and give its address, e.g. tcp://host:8786") from None
            self.description = f"the Dask cluster at {scheduler}"
        else:
            self._cluster = distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                                     dashboard_address=None, silence_logs=logging.ERROR,
                                                     preload=[__name__])
            self.client = distributed.Client(self._cluster)
            self.description = f"a local Dask cluster of {workers} worker process(es)"

    def share(self, key: str, value=None, load: Callable | None = None) -> None:
        name = f"geo_idlib-{key}"
        self.client.register_plugin(SharePlugin(key, value, load), name=name)
        self._plugins.append(name)

    def forget(self, key: str) -> None:
        name = f"geo_idlib-{key}"
        if name in self._plugins:
            self.client.unregister_worker_plugin(name)
            self._plugins.remove(name)

    def _submit(self, fn, tasks):
        token = hashlib.sha1(f"{os.getpid()}-{time.time_ns()}".encode()).hexdigest()[:8]
        self._futures = [self.client.submit(fn, *args, key=f"{fn.__name__}-{token}-{i}", pure=False)
                         for i, (_, args) in enumerate(tasks)]
        names = {f.key: name for f, (name, _) in zip(self._futures, tasks, strict=True)}
        for fut in distributed.as_completed(self._futures):
            name = names[fut.key]
            if fut.status == "error":
                exc = fut.exception()
                if not isinstance(exc, GeoIdlibError):
                    self.cancel()
                    raise exc
                yield name, None, exc
            else:
                yield name, fut.result(), None
            fut.release()
        self._futures = []

    def worker_pids(self) -> dict[str, int]:
        """``{worker address: process id}`` of the cluster's workers."""
        return self.client.run(os.getpid)

    def cancel(self) -> None:
        if self._futures:
            self.client.cancel(self._futures)
            self._futures = []

    def close(self) -> None:
        for name in list(self._plugins):
            self.forget(name.removeprefix("geo_idlib-"))
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
