"""Where partitioned work runs: in this process, or on a Dask cluster, with the same tasks.

:class:`Engine` runs each task in this process, one after another (no Dask);
:class:`geo_idlib.scale.cluster.DaskEngine` runs them on a ``distributed`` cluster: local worker
processes (``workers=N``) or a running scheduler (``scheduler="tcp://host:8786"``). Either way a task is a plain function of a small,
picklable piece description; it reads its input and writes its one output partition itself, so no
data passes through the client or the scheduler, and a task that runs twice (a worker died and
Dask ran it again) rewrites the same file atomically: no row is lost or duplicated.

What every task of a run shares (the control timeline, the gazetteer index) is set up **once per
process** through :meth:`Engine.share`: on a cluster a worker plugin carries it to each worker
(and to workers that join or restart later), never once per task; tasks read it with
:func:`shared`.

A task that raises :class:`~geo_idlib.errors.InputError` met a malformed partition: the run stops
with that one-line message, or, with ``skip_bad``, logs it and goes on. Finished partitions stay,
and a run started again with ``resume`` skips them (:func:`open_output`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import io
from ..errors import GeoIdlibError, InputError, OutputExists

log = logging.getLogger("geo_idlib")

#: What the tasks of a run share, in each process: {key: value} (see :meth:`Engine.share`).
STATE: dict[str, object] = {}


def shared(key: str):
    """A value every task of the run shares (set by :meth:`Engine.share` in this process)."""
    try:
        return STATE[key]
    except KeyError:
        raise RuntimeError(f"{key}: not shared with this worker; call Engine.share first") from None


@dataclass
class Outcome:
    """A finished task: its name, its result (None when skipped as bad) and the run's progress."""

    name: str
    result: object
    error: str = ""
    status: str = field(default="", repr=False)


class Engine:
    """Run tasks in this process, one after another."""

    description = "this process"

    def share(self, key: str, value=None, load: Callable | None = None) -> None:
        """Make ``value`` (or what ``load()`` returns, called once per process) available to tasks
        as ``shared(key)``."""
        STATE[key] = load() if load is not None else value

    def forget(self, key: str) -> None:
        """Drop a shared value (at the end of a run)."""
        STATE.pop(key, None)

    def _submit(self, fn: Callable, tasks: list[tuple[str, tuple]]) -> Iterator[tuple[str, object, BaseException | None]]:
        for name, args in tasks:
            try:
                yield name, fn(*args), None
            except GeoIdlibError as exc:
                yield name, None, exc

    def run(self, fn: Callable, tasks: list[tuple[str, tuple]], *, skip_bad: bool = False,
            unit: str = "partitions") -> Iterator[Outcome]:
        """Run ``fn(*args)`` for each ``(name, args)`` of ``tasks``; yield an :class:`Outcome` as each ends.

        A task raising :class:`GeoIdlibError` stops the run (the error is raised again), unless
        ``skip_bad``: then it is logged by name and the run goes on. Other exceptions always stop it.
        """
        t0, done, total = time.perf_counter(), 0, len(tasks)
        for name, result, exc in self._submit(fn, tasks):
            done += 1
            rate = done / max(time.perf_counter() - t0, 1e-9)
            status = f"{done}/{total} {unit}, {rate:.1f}/s"
            if exc is None:
                yield Outcome(name, result, status=status)
                continue
            if not (skip_bad and isinstance(exc, InputError)):
                self.cancel()
                raise exc
            log.warning("skipped: %s", exc)
            yield Outcome(name, None, error=str(exc), status=status)

    def cancel(self) -> None:
        """Stop what is still queued (nothing to do in this process)."""

    def close(self) -> None:
        """Release the engine's resources."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- output directories
def fingerprint(**parts) -> str:
    """A digest of what decides a run's partitions (inputs, options), to refuse resuming another run."""
    return hashlib.sha256(io.dumps_json(parts).encode("utf-8")).hexdigest()[:16]


def _fingerprint_in(path: Path, what: str) -> str | None:
    return json.loads(io.read_text_file(path, what)).get("fingerprint") if path.exists() else None


def open_output(out_dir: str, print_: str, *, overwrite: bool = False, resume: bool = False) -> set[str]:
    """Prepare ``out_dir`` for a run whose partitions are decided by ``print_`` (see :func:`fingerprint`).

    Returns the partitions already finished, which a ``resume`` keeps: those an unfinished run
    staged, and those of a finished run of the same inputs and options. Resuming a run started
    with other inputs or options is refused. Without ``resume`` a directory holding partitions
    (or an unfinished run's) is refused unless ``overwrite``; even then the earlier partitions stay
    until this run publishes its own (:func:`finish_output`), so bad input never costs them.
    """
    p = io.prepare_dataset_dir(out_dir)
    staging = p / io.STAGING_NAME
    published = {f.name for f in io.dataset_files(p)}
    finished = _fingerprint_in(p / io.MANIFEST_NAME, "manifest")
    started = _fingerprint_in(staging / "run.json", "run marker")
    staged = io.staged_parts(p)
    if resume:
        if (published and finished not in (None, print_)) or started not in (None, print_):
            raise OutputExists(f"{out_dir}: holds a run with other inputs or options; pass --overwrite to replace "
                               "it, or choose another -o directory")
        done = staged | (published if finished == print_ else set())
    else:
        if published and not overwrite:
            raise OutputExists(f"{out_dir}: already holds {len(published)} partition(s); pass --resume to finish "
                               "the run, --overwrite to replace them, or choose another -o directory")
        if io.staged_work(p) and not overwrite:
            raise OutputExists(f"{out_dir}: holds an unfinished run ({len(staged)} partition(s) done); pass "
                               "--resume to finish it, --overwrite to start again, or choose another -o directory")
        io.remove_tree(staging)  # an unfinished run's work, never a published partition
        done = set()
    io.make_staging(p)
    if started is None or not resume:
        io.write_text(staging / "run.json", io.dumps_json({"fingerprint": print_}) + "\n", overwrite=True)
    return done


def part_path(out_dir: str, name: str) -> str:
    """Where a task writes the partition ``name`` (published by :func:`finish_output`)."""
    return str(io.staged_part(out_dir, name))


def partition_rows(out_dir: str, name: str) -> int:
    """Rows of a partition a resumed run keeps (staged or published)."""
    return io.parquet_rows(io.partition_file(out_dir, name))


def finish_output(out_dir: str, print_: str, partitions: dict[str, int], skipped: list[str], **about) -> dict:
    """Publish the run's partitions (:func:`geo_idlib.io.publish_dataset`: the earlier ones the
    run does not keep go, the staging area too) with its manifest: partitions and their rows,
    skipped input pieces. Returns the manifest."""
    manifest = {"fingerprint": print_, "partitions": [{"name": k, "rows": partitions[k]} for k in sorted(partitions)],
                "rows": int(sum(partitions.values())), "skipped": sorted(skipped), **about}
    io.publish_dataset(out_dir, partitions, io.dumps_json(manifest, indent=1) + "\n")
    return manifest
