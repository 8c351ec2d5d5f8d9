"""`make bench` (scale): partitioned runs on this process and on 1 and 2 Dask workers.

1. As-of join of 10 M and 50 M synthetic events near the DeepState front (GeoParquet, written
   first: files of 1 M rows) with a month of the DeepState timeline (January 2025, one snapshot a
   day): today's in-memory path (read every event, ``asof_join``, write one GeoParquet file; up to
   10 M), the partitioned path in this process (no flag), and on a local Dask cluster of 1 and of 2
   worker processes (``--workers``).
2. Geoparsing of 20,000 documents (GeoWebNews articles, cycled) from a JSON Lines file, on 1 and 2
   workers.

Each run is a fresh process; the cluster is started before the clock starts (its start-up is shown
apart). Peak RSS is sampled every 50 ms for the client (which holds the scheduler) and for each
worker process, with the CPU seconds of each. Targets (issue 13): 2 workers ≥ 1.6× the events/s of 1 worker on 10 M events; peak
RSS of every process ≤ 2 GB on 50 M events. ``--quick`` runs 1 M and 2 M events and 400 documents.

    python -m scripts.bench_scale [--quick] [--sizes N,N] [--docs N] [--repeat N]

Each row also says what else the shared machine did meanwhile: the CPU seconds of every other
process and the load average, so that a speed-up can be read against the cores the run had.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from scripts.common import TARGET_MISSED, dispatch, run_worker
from scripts.scale_data import (
    DEEPSTATE,
    GWN,
    deepstate_timeline,
    gwn_documents,
    write_events_parquet,
)

SPEEDUP_TARGET = 1.6
RSS_TARGET_MB = 2048
#: The in-memory path reads every event at once: run it up to this many.
MEMORY_MAX = 10_000_000


class PeakTree:
    """Peak RSS (sampled every 50 ms) and CPU seconds of this process and of ``pids``, in MB and s per
    process, and what the rest of the machine did meanwhile: the CPU seconds of every other process
    (``others_cpu_s``) and the load average at the start and the end (the machine is shared)."""

    def __init__(self, pids=()):
        import psutil

        self._procs = {"client": psutil.Process()}
        self._procs.update({f"worker {i}": psutil.Process(p) for i, p in enumerate(pids)})
        self.peak = dict.fromkeys(self._procs, 0.0)
        self.cpu_s: dict[str, float] = {}

    def _sample(self):
        for name, p in self._procs.items():
            try:
                self.peak[name] = max(self.peak[name], p.memory_info().rss / 2**20)
            except Exception:  # a worker that died and was restarted: its peak so far stays
                continue

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.05)

    def _cpu(self) -> dict[str, float]:
        out = {}
        for name, p in self._procs.items():
            try:
                t = p.cpu_times()
                out[name] = t.user + t.system
            except Exception:
                out[name] = float("nan")
        return out

    @staticmethod
    def _busy() -> float:
        import psutil

        t = psutil.cpu_times()
        return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)

    def __enter__(self):
        import os

        self.load = [os.getloadavg()[0]]
        self._cpu0, self._busy0 = self._cpu(), self._busy()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        import os

        self._stop.set()
        self._t.join()
        self._sample()
        cpu = self._cpu()
        self.cpu_s = {k: cpu[k] - self._cpu0[k] for k in cpu}
        self.others_cpu_s = max(0.0, self._busy() - self._busy0 - sum(self.cpu_s.values()))
        self.load.append(os.getloadavg()[0])

    def report(self) -> dict:
        return {"peak_mb": self.peak, "cpu_s": self.cpu_s, "others_cpu_s": self.others_cpu_s, "load": self.load}


def _engine(name: str):
    from geo_idlib.scale import engine

    if name == "process":
        return engine.Engine(), []
    from geo_idlib.scale import cluster

    eng = cluster.DaskEngine(workers=int(name))
    return eng, sorted(eng.worker_pids().values())


def work_join(args) -> dict:
    from geo_idlib import io, pipeline
    from geo_idlib.scale import join as scale_join

    timeline = pipeline.read_timeline(args.timeline)
    t0 = time.perf_counter()
    if args.engine == "memory":
        import geopandas as gpd

        from geo_idlib.territory import join
        from geo_idlib.territory import timeline as timelines

        with PeakTree() as mem:
            t0 = time.perf_counter()
            ev = gpd.read_parquet(args.events)
            out = timelines.dates_as_text(join.asof_join(ev, timeline))
            io.write_vector(out, Path(args.out) / "joined.parquet", overwrite=True)
            secs = time.perf_counter() - t0
        return {"seconds": secs, "events": len(out), "start_s": 0.0, **mem.report(),
                "matched": int((out["actor"] != "").sum())}
    eng, pids = _engine(args.engine)
    start = time.perf_counter() - t0
    passes = Passes()
    with PeakTree(pids) as mem:
        t0 = time.perf_counter()
        pieces = io.event_pieces([args.events], piece_rows=scale_join.PIECE_ROWS, piece_bytes=scale_join.PIECE_BYTES)
        m = scale_join.join_dataset(pieces, timeline, args.out, engine=eng, overwrite=True, progress=passes)
        secs = time.perf_counter() - t0
    eng.close()
    return {"seconds": secs, "events": m["rows"], "start_s": start, **mem.report(), "matched": m["matched"],
            "partitions": len(m["partitions"]), "passes_s": passes.seconds(t0, secs)}


class Passes:
    """A progress reporter that notes when each pass of a run begins and ends (its first and last
    task's end), to tell the passes' time from the client's own (planning, cutting, publishing)."""

    def __init__(self):
        self.times: dict[str, list[float]] = {}

    def __call__(self, items, label: str, length: int | None = None):
        import contextlib

        def watch():
            self.times[label] = [time.perf_counter()]
            for item in items:
                self.times[label].append(time.perf_counter())
                yield item

        return contextlib.nullcontext(watch())

    def seconds(self, t0: float, total: float) -> dict[str, float]:
        spans = {label: t[-1] - t[0] for label, t in self.times.items()}
        return {**spans, "client": total - sum(spans.values())}


def work_places(args) -> dict:
    from geo_idlib import pipeline
    from geo_idlib.places import store

    pipeline.find_places("Troops entered Saraqeb.", index=store.load_index())  # the index read once, off the clock
    eng, pids = _engine(args.engine)
    from geo_idlib.scale import cluster

    saved = cluster.DaskEngine
    cluster.DaskEngine = lambda workers=None, scheduler=None: _Lent(eng)  # the running cluster, timed alone
    try:
        with PeakTree(pids) as mem:
            t0 = time.perf_counter()
            msg = pipeline.places_dataset([args.events], args.out, overwrite=True,
                                          workers=None if args.engine == "process" else int(args.engine))
            secs = time.perf_counter() - t0
    finally:
        cluster.DaskEngine = saved
        eng.close()
    return {"seconds": secs, "docs": args.docs, **mem.report(), "message": msg}


class _Lent:
    """An engine already started, lent to one pipeline call (which would close it)."""

    def __init__(self, eng):
        self._eng = eng

    def __enter__(self):
        return self._eng

    def __exit__(self, *exc):
        return None


WORKERS = {"join": work_join, "places": work_places}


def _spawn(kind: str, engine: str, **paths) -> dict:
    args = ["--worker", kind, "--engine", engine]
    for k, v in paths.items():
        args += [f"--{k}", str(v)]
    return run_worker("scripts.bench_scale", *args)


def _row(task: str, how: str, r: dict, n: int, unit: str) -> str:
    workers = [v for k, v in r["peak_mb"].items() if k != "client"]
    ours = sum(r["cpu_s"].values())
    return (f"{task:<28} {how:<26} {r['seconds']:>8.1f} {n / r['seconds']:>12,.0f} {unit:<9} "
            f"{r['peak_mb']['client']:>9.0f} {max(workers) if workers else float('nan'):>9.0f}"
            f" {r.get('start_s', 0):>7.1f} {ours:>7.1f} {r['others_cpu_s']:>7.1f}"
            f" {r['load'][0]:>5.2f}-{r['load'][1]:<5.2f}")


HEADER = (f"{'task':<28} {'engine':<26} {'seconds':>8} {'rate':>12} {'':<9} {'client MB':>9} {'worker MB':>9} "
          f"{'start s':>7} {'cpu s':>7} {'other s':>7} {'load':>11}")
NOTES = ("notes: seconds from reading the input to the last partition written (cluster start-up apart); "
         "MB = peak RSS, worker MB = the largest worker's; cpu s = CPU seconds of the client and its workers; "
         "other s = CPU seconds every other process of the machine used meanwhile (2 cores: 2 x seconds "
         "available); load = 1-minute load average at the start and the end")


def _join_runs(src: Path, tl: Path, tmp: Path, n: int, engines: list[str], results: dict, lines: list[str]) -> None:
    for engine in engines:
        out = tmp / f"out_{n}_{engine}"
        out.mkdir(exist_ok=True)
        r = _spawn("join", engine, events=src, timeline=tl, out=out)
        results.setdefault((n, engine), []).append(r)
        how = {"memory": "in memory (today)", "process": "partitioned, this process"}.get(
            engine, f"Dask, {engine} worker(s)")
        lines.append(_row(f"join {n:,} events", how, r, n, "events/s"))
        print(lines[-1], flush=True)
        shutil.rmtree(out, ignore_errors=True)


def main(args) -> int:
    from geo_idlib import pipeline

    if not (DEEPSTATE.exists() and GWN.exists()):
        print(f"SKIP: {DEEPSTATE} or {GWN} is missing", file=sys.stderr)
        return 0
    sizes = [int(s) for s in (args.sizes or ("1000000,2000000" if args.quick else "10000000,50000000")).split(",")]
    docs = args.docs if args.docs is not None else (400 if args.quick else 20_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    try:
        tl = deepstate_timeline(tmp / "deepstate.gpkg", days=31)
        timeline = pipeline.read_timeline(str(tl))
        lines, results = [], {}
        print(HEADER, flush=True)
        for n in sizes:
            src = tmp / f"events_{n}"
            t0 = time.perf_counter()
            write_events_parquet(timeline, src, n, files=max(1, n // 1_000_000))
            print(f"wrote {n:,} events to GeoParquet in {time.perf_counter() - t0:.1f} s "
                  f"({sum(f.stat().st_size for f in src.glob('*.parquet')) / 2**20:,.0f} MB)", flush=True)
            _join_runs(src, tl, tmp, n, (["memory"] if n <= MEMORY_MAX else []) + ["process", "1", "2"], results,
                       lines)
            if n == sizes[0]:  # the speed-up, again: 1 and 2 workers back to back
                for _ in range(args.repeat - 1):
                    _join_runs(src, tl, tmp, n, ["1", "2"], results, lines)
            shutil.rmtree(src, ignore_errors=True)
        if docs:
            doc_file = tmp / "docs.jsonl"
            doc_file.write_text("".join(json.dumps(d) + "\n" for d in gwn_documents(docs)), encoding="utf-8")
            for engine in ("1", "2"):
                r = _spawn("places", engine, events=doc_file, out=tmp / f"places_{engine}", docs=docs)
                results[("places", engine)] = [r]
                lines.append(_row(f"places {docs:,} documents", f"Dask, {engine} worker(s)", r, docs, "docs/s"))
                print(lines[-1], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(HEADER)
    print("\n".join(lines))
    print(NOTES)
    return _verdict(results, sizes, docs)


def _passes(r: dict) -> str:
    return ", ".join(f"{k.removeprefix('join: ')} {v:.1f}" for k, v in r.get("passes_s", {}).items())


def _verdict(results: dict, sizes: list[int], docs: int) -> int:
    missed = []
    n = sizes[0]
    pairs = list(zip(results[(n, "1")], results[(n, "2")], strict=True))
    speeds = [one["seconds"] / two["seconds"] for one, two in pairs]
    shown = ", ".join(f"{s:.2f}×" for s in speeds)
    speed = float(sorted(speeds)[len(speeds) // 2])
    print(f"2 workers / 1 worker on {n:,} events: {shown} (median {speed:.2f}×; target ≥ {SPEEDUP_TARGET}×)")
    for (one, two), s in zip(pairs, speeds, strict=True):
        # the CPU the two workers could have had: 2 cores minus what the rest of the machine took
        free = 2 - two["others_cpu_s"] / two["seconds"]
        print(f"  {s:.2f}×: passes (s) 1 worker {_passes(one)}, 2 workers {_passes(two)}")
        print(f"  {s:.2f}×: 1 worker {one['seconds']:.1f} s (load {one['load'][0]:.1f}-{one['load'][1]:.1f}, other "
              f"processes {one['others_cpu_s'] / one['seconds']:.2f} cores), 2 workers {two['seconds']:.1f} s (load "
              f"{two['load'][0]:.1f}-{two['load'][1]:.1f}, other processes {two['others_cpu_s'] / two['seconds']:.2f} "
              f"cores, {free:.2f} cores left to the run)")
    if speed < SPEEDUP_TARGET:
        missed.append(f"speed-up {speed:.2f}× < {SPEEDUP_TARGET}×")
    big = max(sizes)
    # the target is the bounded paths'; the in-memory path (today's) holds every event by design
    peak = max(mb for (m, e), rs in results.items() if m == big and e != "memory" for r in rs
               for mb in r["peak_mb"].values())
    print(f"largest peak RSS of any process of the partitioned and Dask runs on {big:,} events: {peak:,.0f} MB "
          f"(target ≤ {RSS_TARGET_MB} MB)")
    if peak > RSS_TARGET_MB:
        missed.append(f"peak RSS {peak:,.0f} MB > {RSS_TARGET_MB} MB")
    if docs:
        p = results[("places", "1")][0]["seconds"] / results[("places", "2")][0]["seconds"]
        print(f"places, {docs:,} documents: 2 workers / 1 worker {p:.2f}×")
    agree = {r["matched"] for (m, e), rs in results.items() if m == n for r in rs}
    if len(agree) != 1:
        print(f"FAIL: the engines disagree on events with an actor: {sorted(agree)}", file=sys.stderr)
        return 1
    for m in missed:
        print(f"target missed: {m}")
    return TARGET_MISSED if missed else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 M and 2 M events, 400 documents")
    ap.add_argument("--sizes", help="comma-separated event counts (default 10000000,50000000)")
    ap.add_argument("--docs", type=int, help="documents to geoparse (default 20000; 0: none)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run 1 and 2 workers this many times back to back on the first size (the speed-up)")
    ap.add_argument("--worker", choices=sorted(WORKERS))
    ap.add_argument("--engine")
    ap.add_argument("--events")
    ap.add_argument("--timeline")
    ap.add_argument("--out")
    dispatch(ap.parse_args(), WORKERS, main)
