"""Killed runs leave nothing behind: ``kill -9`` of `join`, `map` and `gazetteer add` at random moments
(seeded), then one further run: no temporary file remains in the output folder, the cache or the
data dir, and every earlier output is intact (byte-identical, or the user gazetteers as they were).

Besides the random moments, each command is also killed at a moment its temporary file exists (found
by polling), so that the removal by the next run is exercised every time, not only by chance.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from geo_idlib import io

pytestmark = pytest.mark.slow
EXE = Path(sys.executable).with_name("geo-idlib")
REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"
RNG = random.Random(15)
KILLS = 3  # random moments per command


@pytest.fixture(autouse=True)
def _installed():
    if not EXE.exists():
        pytest.skip(f"{EXE} not installed (pip install -e .)")


def _env(home: Path) -> dict:
    return dict(os.environ, GEO_IDLIB_HOME=str(home))


def _run(argv: list, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    done = subprocess.run([str(EXE), *map(str, argv)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - t0, done


def _kill(argv: list, env: dict, *, after: float | None = None, when_exists: Path | None = None) -> bool:
    """Start the command and kill -9 it ``after`` seconds, or as soon as a temporary file appears in
    ``when_exists``. Returns whether it was still running when killed."""
    proc = subprocess.Popen([str(EXE), *map(str, argv)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + (after if after is not None else 120)
    while time.monotonic() < deadline and proc.poll() is None:
        if when_exists is not None and _temps(when_exists):
            break
        time.sleep(0.005)
    running = proc.poll() is None
    if running:
        proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped: its pid is dead for the next run
    return running


def _temps(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if io.is_temp_name(p.name)]


def _folders(out: Path, home: Path) -> tuple[Path, ...]:
    return out, io.cache_dir(), home, home / "gazetteers"


def test_kill_join_then_one_run(tmp_path):
    rng = random.Random(RNG.random())
    events = tmp_path / "events.csv"
    lines = [f"2020-0{1 + i % 2}-{10 + i % 19},{35.5 + (i * 7919 % 10007) / 10007:.5f},"
             f"{36.3 + (i * 104729 % 10009) / 10009:.5f},event {i}\n" for i in range(60_000)]
    events.write_text("date,lat,lon,note\n" + "".join(lines), encoding="utf-8")
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    env = _env(home)
    argv = ["join", events, "-o", out / "joined.gpkg", "--overwrite"]  # GDAL writes for a while
    seconds, _ = _run(argv, env)
    earlier = (out / "joined.gpkg").read_bytes()
    for _ in range(KILLS):
        _kill(argv, env, after=rng.uniform(0.2, 1.0) * seconds)
        assert (out / "joined.gpkg").read_bytes() == earlier
    assert _kill(argv, env, when_exists=out), "join ended before its temporary file was seen"
    assert _temps(out), "the kill left no temporary file to remove"
    assert (out / "joined.gpkg").read_bytes() == earlier
    _run(argv, env)  # one further run
    assert _temps(*_folders(out, home)) == []
    assert (out / "joined.gpkg").read_bytes() == earlier


def test_kill_map_then_one_run(tmp_path, chromium):
    rng = random.Random(RNG.random())
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    env = _env(home)
    html = ["map", REPORT, "--date", "2020-02-20", "-o", out / "map.html", "--overwrite"]
    seconds, _ = _run(html, env)
    earlier = (out / "map.html").read_bytes()
    for _ in range(KILLS):
        _kill(html, env, after=rng.uniform(0.2, 1.0) * seconds)
        assert (out / "map.html").read_bytes() == earlier
    # a PNG export keeps its page in the cache for seconds: kill it then
    png = ["map", REPORT, "--date", "2020-02-20", "-o", out / "map.png"]
    assert _kill(png, env, when_exists=io.cache_dir()), "map ended before its temporary page was seen"
    assert _temps(io.cache_dir()) and not (out / "map.png").exists()
    _run(html, env)  # one further run
    assert _temps(*_folders(out, home)) == []
    assert (out / "map.html").read_bytes() == earlier


def _listing(env: dict) -> list[dict]:
    done = _run(["gazetteer", "list", "--json"], env)[1]
    return [{k: g[k] for k in ("name", "rows")} for g in json.loads(done.stdout)]


def test_kill_gazetteer_add_then_one_run(tmp_path):
    rng = random.Random(RNG.random())
    home = tmp_path / "home"
    env = _env(home)
    seed = tmp_path / "seed.csv"
    seed.write_text("name,lat,lon\nKafr Seed,35.80,36.60\n", encoding="utf-8")
    _run(["gazetteer", "add", seed], env)
    big = tmp_path / "big.csv"
    big.write_text("name,lat,lon\n" + "".join(f"Village {i},{35 + (i % 997) / 997:.5f},{36 + (i % 991) / 991:.5f}\n"
                                              for i in range(80_000)), encoding="utf-8")
    gaz = home / "gazetteers"
    user = gaz / "user.sqlite"
    earlier = [{"name": "seed", "rows": 1}]
    argv = ["gazetteer", "add", big, "--name", "big"]
    seconds, _ = _run(argv, env)
    _run(["gazetteer", "remove", "big"], env)
    before = user.read_bytes()
    for _ in range(KILLS):
        _kill(argv, env, after=rng.uniform(0.2, 1.0) * seconds)
        if _listing(env) != earlier:  # the add finished before the kill: undo it
            assert _listing(env) == earlier + [{"name": "big", "rows": 80_000}]
            _run(["gazetteer", "remove", "big"], env)
            before = user.read_bytes()
        assert user.read_bytes() == before
    assert _kill(argv, env, when_exists=gaz), "gazetteer add ended before its temporary index was seen"
    assert _temps(gaz) and user.read_bytes() == before
    assert _listing(env) == earlier  # one further run
    assert _temps(*_folders(tmp_path, home)) == []
    assert user.read_bytes() == before
    done = _run(["geocode", "Kafr Seed"], env)[1]
    assert json.loads(done.stdout)[0]["place_id"].startswith("user:seed:")
    shutil.rmtree(home)
