"""Partitioned runs (issue 13): `places` and `join` with -o DIR/, on this process or
on a Dask cluster of 2 worker processes, on real data (a DeepState timeline, GeoWebNews texts).

The distributed output, sorted, must equal the single-process output row for row; a worker killed
mid-run loses and duplicates nothing; a stopped run resumes; a bad partition is named and skipped
only with --skip-bad.
"""

from __future__ import annotations

import contextlib
import io as stdio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import need

from geo_idlib import pipeline
from geo_idlib.errors import InputError, OutputExists
from geo_idlib.scale import engine, plan
from geo_idlib.scale import join as scale_join
from geo_idlib.territory import timeline as timelines

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def timeline_path(tmp_path_factory):
    from scripts.scale_data import DEEPSTATE, deepstate_timeline

    need(DEEPSTATE, "the DeepState timeline")
    return str(deepstate_timeline(tmp_path_factory.mktemp("ds") / "deepstate.gpkg"))


@pytest.fixture(scope="module")
def timeline(timeline_path):
    return pipeline.read_timeline(timeline_path)


@pytest.fixture(scope="module")
def events_csv(timeline, tmp_path_factory):
    """12,000 events near the DeepState front, as CSV (dates over the timeline's 10 days)."""
    from scripts.scale_data import front_events

    path = tmp_path_factory.mktemp("ev") / "events.csv"
    front_events(timeline, 12_000).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def reference(events_csv, timeline_path):
    """Today's single-process join of the same events (CSV text, read back)."""
    text = pipeline.join_events(events_csv, timeline_path)
    return pd.read_csv(stdio.StringIO(text), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def dask2():
    """A distributed.LocalCluster of 2 worker processes for the module's tests."""
    pytest.importorskip("distributed")
    from geo_idlib.scale import cluster

    eng = cluster.DaskEngine(workers=2)
    yield eng
    eng.close()


def _dataset(out) -> pd.DataFrame:
    """A partitioned output, every partition read and sorted by event id."""
    files = sorted(p for p in os.listdir(out) if p.endswith(".parquet"))
    assert files, f"no partition in {out}"
    df = pd.concat([gpd.read_parquet(os.path.join(out, f)) for f in files], ignore_index=True)
    return df.sort_values("id", key=lambda s: s.astype(int), kind="stable").reset_index(drop=True)


def _same_as_reference(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert len(got) == len(ref) and got["id"].tolist() == ref["id"].tolist()  # no row lost or duplicated
    for col in ("date", "lat", "lon", "actor"):
        assert got[col].tolist() == ref[col].tolist(), col
    assert got["valid_from"].fillna("").tolist() == ref["valid_from"].tolist()
    assert (ref["actor"] == "russia").sum() > 3000 and (ref["actor"] == "").sum() > 3000  # both sides of the front


def test_partition_cuts_cover_every_event_once():
    rng = np.random.default_rng(0)
    keys = np.concatenate([rng.choice(5000, 40, replace=False) for _ in range(7)])
    pieces = np.repeat(np.arange(7), 40)
    counts = rng.integers(1, 900, len(keys))
    parts = plan.cut_partitions(keys, pieces, counts, rows=2000)
    assert sum(n for _, _, n, _ in parts) == counts.sum()
    assert max(n for _, _, n, _ in parts) < 2000 + 900  # bounded: at most one cell past the target
    owner = np.full(len(keys), -1)
    for i, (start, stop, n, ps) in enumerate(parts):
        lo_hi = {p: plan.key_range(p, start, stop) for p in range(7)}
        inside = np.array([lo_hi[p][0] <= k < lo_hi[p][1] for k, p in zip(keys, pieces, strict=True)])
        assert (owner[inside] == -1).all()  # no cell in two partitions
        owner[inside] = i
        assert counts[inside].sum() == n and set(pieces[inside].tolist()) == set(ps)
    assert (owner >= 0).all()  # every cell in one


def test_single_process_dataset_equals_todays_join(events_csv, timeline, timeline_path, reference, tmp_path):
    out = tmp_path / "out"
    msg = pipeline.join_dataset([events_csv], str(out), areas=timeline_path, rows=500)
    got = _dataset(out)
    _same_as_reference(got, reference)
    assert all(gpd.read_parquet(f).crs.to_epsg() == 4326 for f in out.glob("*.parquet"))
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["rows"] == 12_000 and manifest["engine"] == "this process" and manifest["skipped"] == []
    assert len(manifest["partitions"]) == len(list(out.glob("*.parquet"))) >= 5
    assert not (out / "_staging").exists() and not list(out.glob(".*"))
    assert f"{(reference['actor'] == 'russia').sum():,} in a control area" in msg
    # a partition holds the events of one or two snapshot intervals (dates cut the work first) in
    # a compact area (consecutive Hilbert cells), so its box is small
    parts = [gpd.read_parquet(f) for f in out.glob("*.parquet")]
    dates = timelines.change_dates(timeline)
    intervals = [np.unique(np.searchsorted(dates, p["date"].to_numpy("datetime64[ns]"), side="right")) for p in parts]
    assert max(len(i) for i in intervals) <= 2 and len(dates) >= 8
    boxes = [p.total_bounds for p, i in zip(parts, intervals, strict=True) if len(i) == 1]
    whole = gpd.GeoDataFrame(got, geometry="geometry").total_bounds
    area = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes]
    assert len(boxes) >= 8 and np.median(area) < 0.35 * (whole[2] - whole[0]) * (whole[3] - whole[1])


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # dask-geopandas 0.5 under pandas 3.1
def test_geoparquet_directory_in_and_dask_geopandas_out(timeline, timeline_path, tmp_path):
    from scripts.scale_data import write_events_parquet

    src = write_events_parquet(timeline, tmp_path / "events", 30_000, files=3, chunk=4_000)
    out = tmp_path / "out"
    pipeline.join_dataset([str(src)], str(out), areas=timeline_path, rows=6_000)
    events = gpd.read_parquet(src)
    ref = pipeline.join_events(str(src / "events-001.parquet"), timeline_path)  # one file, today's path
    ref = gpd.read_file(ref)  # GeoJSON text
    got = _dataset(out)
    assert got["id"].tolist() == sorted(events["id"].tolist())
    part = got[got["id"].isin(ref["id"])].reset_index(drop=True)
    assert part["actor"].tolist() == ref["actor"].tolist()
    import dask_geopandas

    ddf = dask_geopandas.read_parquet(str(out))
    assert ddf.npartitions == len(list(out.glob("*.parquet"))) and ddf.spatial_partitions is not None
    assert int(ddf["actor"].eq("russia").sum().compute()) == int((got["actor"] == "russia").sum())


def test_distributed_join_equals_single_process_and_survives_a_killed_worker(dask2, events_csv, timeline,
                                                                             reference, tmp_path):
    pids = dict(dask2.worker_pids())
    assert len(pids) == 2 and os.getpid() not in pids.values()
    killed, statuses = [], []

    def progress(items, label, length):  # kills one worker as soon as the first partition is done
        def watch():
            for outcome in items:
                statuses.append(outcome.status)
                if label == "join: partitions" and not killed:
                    victim = sorted(pids.values())[0]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                yield outcome

        return contextlib.nullcontext(watch())

    pieces = pipeline.io.event_pieces([events_csv], piece_rows=2000, piece_bytes=60_000)
    out = tmp_path / "out"
    m = scale_join.join_dataset(pieces, timeline, str(out), engine=dask2, rows=800, progress=progress)
    assert killed and len(m["partitions"]) >= 12
    _same_as_reference(_dataset(out), reference)
    assert statuses[-1].startswith(f"{len(m['partitions'])}/{len(m['partitions'])} partitions, ")
    assert statuses[-1].endswith("/s")
    assert not list(out.glob(".*")) and not (out / "_staging").exists()


def test_scheduler_address_runs_on_a_running_cluster(dask2, events_csv, timeline_path, reference, tmp_path):
    """--scheduler: a second client connects to the running cluster (as to one on other hosts)."""
    address = dask2.client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    msg = pipeline.join_dataset([events_csv], str(tmp_path / "out"), areas=timeline_path, scheduler=address,
                                rows=3000)
    assert f"on the Dask cluster at {address}" in msg
    _same_as_reference(_dataset(tmp_path / "out"), reference)
    dask2.client.wait_for_workers(2, timeout=120)  # the worker killed by the test before may still be restarting
    assert len(dask2.worker_pids()) == 2  # the cluster is still there: a --scheduler run does not close it


def test_resume_skips_finished_partitions(events_csv, timeline, reference, tmp_path):
    out = tmp_path / "out"
    pieces = pipeline.io.event_pieces([events_csv], piece_rows=0, piece_bytes=100_000)

    def stop_after_four(items, label, length):  # Ctrl-C after the 4th partition is written
        def gen():
            for i, outcome in enumerate(items):
                if label == "join: partitions" and i == 3:
                    raise KeyboardInterrupt
                yield outcome
        return contextlib.nullcontext(gen())

    with pytest.raises(KeyboardInterrupt):
        scale_join.join_dataset(pieces, timeline, str(out), engine=engine.Engine(), rows=1500,
                                progress=stop_after_four)
    # the finished partitions wait in the staging area: the directory shows none until the run ends
    first = {p.name: p.stat().st_mtime_ns for p in (out / "_staging" / "parts").glob("*.parquet")}
    assert len(first) == 4 and not list(out.glob("*.parquet")) and not (out / "_manifest.json").exists()
    with pytest.raises(OutputExists, match=r"holds an unfinished run \(4 partition\(s\) done\); pass --resume"):
        scale_join.join_dataset(pieces, timeline, str(out), engine=engine.Engine(), rows=1500)
    with pytest.raises(OutputExists, match="other inputs or options"):
        scale_join.join_dataset(pieces, timeline, str(out), engine=engine.Engine(), rows=1000, resume=True)
    m = scale_join.join_dataset(pieces, timeline, str(out), engine=engine.Engine(), rows=1500, resume=True)
    assert m["resumed"] == 4
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in first.items())  # not rewritten
    _same_as_reference(_dataset(out), reference)
    assert not (out / "_staging").exists()


def test_overwrite_keeps_the_earlier_dataset_until_the_new_run_ends(events_csv, timeline_path, tmp_path):
    out = tmp_path / "out"
    pipeline.join_dataset([events_csv], str(out), areas=timeline_path, rows=3000)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = tmp_path / "bad.csv"
    bad.write_text("date,lat,lon,id\n2025-01-14,47.1,37.5,1\n2025-01-14,95,37.5,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv \[bytes 16-\d+\): row 2: --lat-column 'lat' has '95'"):
        pipeline.join_dataset([str(bad)], str(out), areas=timeline_path, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # a smaller run with --overwrite replaces every partition of the earlier one
    few = tmp_path / "few.csv"
    few.write_text("date,lat,lon,id\n2025-01-14,47.1,37.5,1\n", encoding="utf-8")
    pipeline.join_dataset([str(few)], str(out), areas=timeline_path, overwrite=True)
    assert len(list(out.glob("*.parquet"))) == 1 and len(_dataset(out)) == 1
    assert json.loads((out / "_manifest.json").read_text())["rows"] == 1


EXE = str(Path(sys.executable).with_name("geo-idlib"))


def _run(*args, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, **kw)


def test_a_malformed_partition_is_named_and_skipped_only_with_skip_bad(timeline, timeline_path, tmp_path):
    from scripts.scale_data import write_events_parquet

    src = write_events_parquet(timeline, tmp_path / "events", 9_000, files=3, chunk=3_000)
    bad = src / "events-001.parquet"
    bad.write_bytes(bad.read_bytes()[:2000])  # truncated: no footer
    out = tmp_path / "out"
    r = _run("join", str(src), "--areas", timeline_path, "-o", f"{out}/")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(f"Error: {bad}: cannot read this partition (")
    assert "--skip-bad" in r.stderr and not list(out.glob("*.parquet"))
    r = _run("join", str(src), "--areas", timeline_path, "-o", f"{out}/", "--resume", "--skip-bad")
    assert r.returncode == 0, r.stderr
    assert f"skipped: {bad}: cannot read this partition" in r.stderr and f"skipped 1 bad piece(s): {bad}" in r.stderr
    got = _dataset(out)
    assert sorted(got["id"]) == list(range(3_000)) + list(range(6_000, 9_000))


def test_a_directory_for_o_is_a_partitioned_run_and_the_scale_flags_need_one(events_csv, tmp_path):
    r = _run("places", events_csv, "-o", f"{tmp_path / 'p'}/", "--online")
    assert r.returncode == 2 and "--online: not in partitioned runs" in r.stderr and not (tmp_path / "p").exists()
    r = _run("join", events_csv, "--workers", "2", "-o", str(tmp_path / "x.csv"))
    assert r.returncode == 2 and "--workers: partitioned runs only; give a directory for -o, e.g. -o out/" in r.stderr
    r = _run("join", events_csv, "--resume", "--skip-bad")
    assert r.returncode == 2 and "--resume, --skip-bad: partitioned runs only" in r.stderr
    r = _run("join", events_csv, events_csv, "-o", str(tmp_path / "x.csv"))
    assert r.returncode == 2 and "several EVENTS: partitioned runs only" in r.stderr
    r = _run("join", events_csv, "-o", f"{tmp_path / 'd'}/", "--format", "csv")
    assert r.returncode == 2 and "a directory receives partitioned GeoParquet; --format csv writes one file" in r.stderr
    assert not (tmp_path / "d").exists() and not (tmp_path / "x.csv").exists()
    # -o x.parquet is one GeoParquet file (today's path), -o an existing directory a dataset
    r = _run("join", events_csv, "-o", str(tmp_path / "x.parquet"))
    assert r.returncode == 0 and len(gpd.read_parquet(tmp_path / "x.parquet")) == 12_000
    (tmp_path / "d").mkdir()
    r = _run("join", events_csv, "-o", str(tmp_path / "d"), "--format", "parquet")
    assert r.returncode == 0, r.stderr
    assert _dataset(tmp_path / "d")["id"].tolist() == gpd.read_parquet(tmp_path / "x.parquet")["id"].tolist()
    with pytest.raises(InputError, match="--scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler"):
        pipeline.engine_for(scheduler="tcp://127.0.0.1:9")


# --------------------------------------------------------------------------- places
@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    from scripts.scale_data import GWN, gwn_documents

    need(GWN, "GeoWebNews")
    docs = gwn_documents(40)
    base = tmp_path_factory.mktemp("docs")
    (base / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    (base / "texts").mkdir()
    for d in docs[:12]:
        (base / "texts" / f"{d['id']}.txt").write_text(d["text"], encoding="utf-8")
    return base, docs


def test_places_distributed_equals_single_process(dask2, documents, tmp_path):
    base, docs = documents
    pieces = pipeline.io.document_pieces([str(base / "docs.jsonl")], piece_docs=10, piece_bytes=20_000)
    assert len(pieces) >= 4
    out1, out2 = tmp_path / "one", tmp_path / "two"
    pipeline.places_dataset([str(base / "docs.jsonl")], str(out1), piece_docs=10)
    a = _places(out1)
    # today's function, document by document
    want = pd.concat([pipeline.find_places(d["text"], report=d["id"]) for d in docs], ignore_index=True)
    assert a["report"].tolist() == want["report"].tolist() and a["place_id"].tolist() == want["place_id"].tolist()
    assert a["start"].tolist() == want["start"].tolist() and len(a) > 300
    # the same partitions on 2 worker processes, through the engine the CLI uses
    from geo_idlib.scale import cluster

    saved = cluster.DaskEngine
    cluster.DaskEngine = lambda workers=None, scheduler=None: _Borrowed(dask2)
    try:
        msg = pipeline.places_dataset([str(base / "docs.jsonl")], str(out2), piece_docs=10, workers=2)
    finally:
        cluster.DaskEngine = saved
    assert "on a local Dask cluster of 2 worker process(es)" in msg
    b = _places(out2)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.equals(b.geometry)
    assert sorted(os.listdir(out1)) == sorted(os.listdir(out2))
    import pyarrow.parquet as pq

    for f in out1.glob("*.parquet"):  # the same table, schema and CRS in every partition
        t1, t2 = pq.read_table(f), pq.read_table(out2 / f.name)
        assert t1.equals(t2) and t1.schema.equals(t2.schema, check_metadata=False)
        assert gpd.read_parquet(f).crs == gpd.read_parquet(out2 / f.name).crs == "EPSG:4326"
    # deterministic: a second run writes byte-identical partitions (the PROJJSON text of the CRS
    # may be spelt differently by another process's PROJ, see docs/scale.md)
    out3 = tmp_path / "three"
    pipeline.places_dataset([str(base / "docs.jsonl")], str(out3), piece_docs=10)
    assert all(f.read_bytes() == (out3 / f.name).read_bytes() for f in out1.glob("*.parquet"))


class _Borrowed:
    """The module's cluster, lent to a pipeline function (which closes its engine when done)."""

    def __init__(self, eng):
        self._eng = eng

    def __getattr__(self, name):
        return getattr(self._eng, name)

    def __enter__(self):
        return self._eng

    def __exit__(self, *exc):
        return None


def _places(out) -> pd.DataFrame:
    return pd.concat([gpd.read_parquet(f) for f in sorted(out.glob("*.parquet"))], ignore_index=True)


def test_places_from_a_directory_with_dates_and_a_glob(documents, tmp_path):
    base, docs = documents
    out = tmp_path / "out"
    r = _run("places", str(base / "texts"), "-o", f"{out}/")
    assert r.returncode == 0, r.stderr
    assert "from 12 document(s) on this process" in r.stderr
    got = _places(out)
    one = base / "texts" / f"{docs[3]['id']}.txt"
    ref = json.loads(pipeline.places([str(one)], fmt="json"))  # today's single-report path
    mine = got[got["report"] == str(one)]
    assert mine["place_id"].tolist() == [r["place_id"] or None for r in ref] or \
        mine["place_id"].fillna("").tolist() == [r["place_id"] for r in ref]
    dated = tmp_path / "dated.jsonl"
    dated.write_text(json.dumps({"id": "a", "text": "Troops entered Saraqeb.", "date": "2020-02-20"}) + "\n"
                     + json.dumps({"id": "b", "text": "BEIRUT, Feb. 9, 2020 - Shelling hit Sarmin."}) + "\n")
    out2 = tmp_path / "out2"
    pipeline.places_dataset([str(dated)], str(out2))
    got = _places(out2)
    assert dict(zip(got["report"], got["report_date"], strict=True)) == {"a": "2020-02-20", "b": "2020-02-09"}
    assert gpd.read_parquet(next(out2.glob("*.parquet"))).crs.to_epsg() == 4326
    out3 = tmp_path / "out3"
    pipeline.places_dataset([str(base / "texts" / "*.txt")], str(out3))
    assert _places(out3)["report"].nunique() == 12


def test_progress_bar_on_a_terminal(events_csv, timeline_path, tmp_path):
    """What a person sees on stderr: partitions done / total and a rate."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([EXE, "join", events_csv, "--areas", timeline_path, "-o", f"{tmp_path / 'out'}/"],
                            stderr=slave,
                            stdout=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "join: partitions" in text and "1/1" in text and "1/1 partitions, " in text and "/s" in text


def test_places_then_join_on_report_date_match_the_single_file_path(tmp_path):
    """`places -o DIR/` writes the columns of `places -o FILE.parquet`, with the same report_date
    rule, and `join DIR/ -o DIR2/` takes report_date as `join FILE` does: same rows, same actors."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a.txt").write_text("IDLIB, Feb. 20, 2020 — Troops entered Saraqeb and shelled Sarmin.\n",
                                   encoding="utf-8")
    (reports / "b.txt").write_text("Troops entered Saraqeb.\n", encoding="utf-8")  # no dateline
    one, many = tmp_path / "p.parquet", tmp_path / "p"
    from click.testing import CliRunner

    from geo_idlib.cli import cli

    def run(*args):
        r = CliRunner().invoke(cli, [str(a) for a in args])
        assert r.exit_code == 0, r.stderr
        return r

    run("places", reports / "a.txt", reports / "b.txt", "-o", one)
    run("places", reports, "-o", f"{many}/")
    a, b = gpd.read_parquet(one), _places(many)
    assert list(a.columns) == list(b.columns) == pipeline.PLACE_PROPERTIES + ["geometry"]
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.equals(b.geometry)
    assert sorted(set(b["report_date"].fillna(""))) == ["", "2020-02-20"]
    run("join", one, "-o", tmp_path / "j.parquet")
    run("join", f"{many}/", "-o", f"{tmp_path / 'j'}/")
    ja = gpd.read_parquet(tmp_path / "j.parquet").sort_values(["report", "start"], ignore_index=True)
    jb = _places(tmp_path / "j").sort_values(["report", "start"], ignore_index=True)
    assert jb["actor"].tolist() == ja["actor"].tolist() and "government" in set(ja["actor"])
    assert jb["valid_from"].fillna("").tolist() == ja["valid_from"].fillna("").tolist()
    # --date: every place gets that report_date, on both paths
    run("places", reports, "-o", f"{many}/", "--date", "2019-12-20", "--overwrite")
    assert set(_places(many)["report_date"]) == {"2019-12-20"}


# --------------------------------------------------------------------------- GeoParquet in and out
def test_geoparquet_writer_writes_what_geopandas_writes(tmp_path):
    """io.write_geoparquet (every -o FILE.parquet and every partition) against geopandas' own
    writer: the same rows back, the same metadata (types, box, CRS)."""
    import json as _json

    import pyarrow.parquet as pq
    import shapely

    from geo_idlib import io

    gdf = gpd.GeoDataFrame({"name": ["a", "=b", None, "d"], "n": [1, 2, 3, 4]},
                           geometry=[shapely.Point(36.6, 35.9), shapely.box(36, 35, 37, 36), None,
                                     shapely.Point(1, 2, 3)], crs="EPSG:4326")
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    io.write_vector(gdf, ours)
    gdf.to_parquet(theirs, index=False)
    back = gpd.read_parquet(ours)
    assert back.crs == gdf.crs and back["name"].tolist()[:2] == ["a", "=b"]  # Parquet cells are data
    assert back.geometry.equals(gdf.geometry) and back["n"].tolist() == [1, 2, 3, 4]
    meta = {p: _json.loads(pq.read_schema(p).metadata[b"geo"])["columns"]["geometry"] for p in (ours, theirs)}
    for k in ("encoding", "geometry_types", "bbox"):
        assert meta[ours][k] == meta[theirs][k], k
    import pyproj

    assert pyproj.CRS.from_json_dict(meta[ours]["crs"]) == pyproj.CRS.from_json_dict(meta[theirs]["crs"])
    # points only: the box from the coordinates read as numbers
    pts = gdf.iloc[[0, 2]]
    io.write_vector(pts, tmp_path / "pts.parquet")
    m = _json.loads(pq.read_schema(tmp_path / "pts.parquet").metadata[b"geo"])["columns"]["geometry"]
    assert m["geometry_types"] == ["Point"] and m["bbox"] == [36.6, 35.9, 36.6, 35.9]


def test_wkb_points_are_read_as_numbers_only_when_that_is_exact():
    import pyarrow as pa
    import shapely

    from geo_idlib import io

    pts = shapely.points(np.array([[36.6, 35.9], [-1.5, 2.25], [0, 0]]))
    wkb = pa.array([shapely.to_wkb(pts[0]), None, shapely.to_wkb(pts[1]), shapely.to_wkb(pts[2])])
    x, y = io.wkb_points_xy(wkb)
    assert np.array_equal(x, [36.6, np.nan, -1.5, 0], equal_nan=True) and y[2] == 2.25
    x, y = io.wkb_points_xy(pa.chunked_array([wkb.slice(2), wkb.slice(0, 1)]).cast(pa.large_binary()))
    assert x.tolist() == [-1.5, 0, 36.6]
    for other in (shapely.to_wkb(pts[0], byte_order=0), shapely.to_wkb(shapely.Point(1, 2, 3)),
                  shapely.to_wkb(shapely.from_wkt("POINT EMPTY")), shapely.to_wkb(shapely.set_srid(pts[0], 4326), include_srid=True),
                  shapely.to_wkb(shapely.box(0, 0, 1, 1))):
        assert io.wkb_points_xy(pa.array([shapely.to_wkb(pts[0]), other])) is None
    assert io.wkb_points_xy(pa.array([None, None], type=pa.binary()))[0].tolist() != [0, 0]
