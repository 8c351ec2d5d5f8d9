"""Tests never see the user's own state: a user gazetteer in the real user dirs changes no result.

conftest.py gives each session private user dirs at import time. The proof: a fake "real user"
home holding a user gazetteer whose Sarmin (in France) wins over the Syrian town for that user's
own `geo-idlib geocode`; a pytest session started from that user's environment still finds the
Syrian town, through a module-scoped fixture (set up before any function-scoped one, where the
user's gazetteer once leaked in).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
from conftest import ROOT, SESSION_DIRS

from geo_idlib import io
from geo_idlib.places.gazetteer import Gazetteer
from geo_idlib.places.store import index_path, load_index

SARMIN = "geonames:164782"
USER_SARMIN = (48.85, 2.35)  # the fake user's own "Sarmin", in France


@pytest.fixture(scope="module")
def index():
    return load_index()


def test_sarmin_is_the_syrian_town(index):
    loc = Gazetteer(index).geocode("Sarmin")
    assert loc.raw["place_id"] == SARMIN
    assert (round(loc.latitude, 3), round(loc.longitude, 3)) == (35.904, 36.725)


def test_every_user_dir_of_the_session_is_private():
    for path in (io.data_dir(), io.cache_dir(), Path(platformdirs.user_data_dir("geo_idlib")),
                 Path(platformdirs.user_cache_dir("geo_idlib")), Path(platformdirs.user_config_dir("geo_idlib")),
                 Path.home()):
        assert path.is_relative_to(SESSION_DIRS), path
    kept = sorted(k for k in os.environ if k.startswith("GEO_IDLIB_"))
    assert set(kept) <= {"GEO_IDLIB_HOME", "GEO_IDLIB_CACHE", "GEO_IDLIB_SHARED", "GEO_IDLIB_CHROMIUM",
                         "GEO_IDLIB_TEST_CACHE"}, kept


def _real_user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user whose home is ``home``: no test dirs, no XDG overrides."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GEO_IDLIB_", "XDG_")) and k not in ("HOME", "PYTHONPATH")}
    return {**env, "HOME": str(home), **extra}


@pytest.mark.slow
def test_a_user_gazetteer_in_the_real_user_dirs_changes_no_test_result(index, tmp_path):
    home = tmp_path / "home"
    user_cache = home / ".cache" / "geo_idlib"
    user_cache.mkdir(parents=True)
    built = index_path().resolve()
    (user_cache / built.name).symlink_to(built)  # the user's own index: no minute-long build here
    gazetteer = tmp_path / "mine.csv"
    gazetteer.write_text(f"name,lat,lon\nSarmin,{USER_SARMIN[0]},{USER_SARMIN[1]}\n", encoding="utf-8")
    cli = str(Path(sys.executable).with_name("geo-idlib"))
    user = _real_user_env(home)

    added = subprocess.run([cli, "gazetteer", "add", str(gazetteer), "--name", "mine"], env=user, cwd=tmp_path,
                           capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    assert (home / ".local" / "share" / "geo_idlib" / "gazetteers" / "user.sqlite").is_file()
    # for that user, their gazetteer does change the answer ...
    mine = subprocess.run([cli, "geocode", "Sarmin"], env=user, cwd=tmp_path, capture_output=True, text=True)
    assert mine.returncode == 0, mine.stderr
    (answer,) = json.loads(mine.stdout)
    assert answer["place_id"].startswith("user:mine:")
    assert (answer["lat"], answer["lon"]) == USER_SARMIN

    # ... but not in a test session started by that user (the index is the one this session uses)
    before = sorted(p.name for p in user_cache.iterdir())  # the index, its name automaton, the user's
    assert built.name in before
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_isolation.py::test_sarmin_is_the_syrian_town",
         "tests/test_isolation.py::test_every_user_dir_of_the_session_is_private"],
        env=_real_user_env(home, GEO_IDLIB_TEST_CACHE=str(built.parent)), cwd=ROOT, capture_output=True, text=True,
        timeout=600)
    assert session.returncode == 0, session.stdout + session.stderr
    assert session.stdout.strip().splitlines()[-1].startswith("2 passed")
    # and the session left the user's dirs as they were
    assert sorted(p.name for p in user_cache.iterdir()) == before
