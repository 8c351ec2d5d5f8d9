"""The package as a user installs it: the wheel carries every data file, and works with no checkout.

The wheel is built offline from a copy of this checkout (``pip wheel --no-build-isolation``, with
the setuptools of the test extras), installed with ``--no-deps`` into a new venv whose dependencies
come from the running environment (a ``.pth`` line), and run from a temporary directory: only the
installed files can answer.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from geo_idlib import io, pipeline
from geo_idlib.errors import GeoIdlibError

REPORT = ROOT / "examples" / "idlib_report_2020-02-20.txt"
SARMIN = "geonames:164782"
#: What the wheel build copies of the checkout: everything but version control, venvs and caches.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "__pycache__", "*.egg-info", ".pytest_cache",
                                     ".ruff_cache", "node_modules", ".ipynb_checkpoints")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _source_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc")


# --------------------------------------------------------------------------- fast checks
def test_every_folder_of_the_package_is_listed_in_pyproject():
    """A new subpackage or data folder (e.g. maps/templates/) must be listed, or the wheel lacks it."""
    cfg = _pyproject()["tool"]["setuptools"]
    folders = {".".join(p.relative_to(ROOT).parts) for p in [ROOT / "geo_idlib", *(ROOT / "geo_idlib").rglob("*")]
               if p.is_dir() and p.name != "__pycache__" and any(c.is_file() for c in p.iterdir())}
    missing = sorted(folders - set(cfg["packages"]))
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert cfg["package-dir"] == {"geo_idlib.shapefiles": "shapefiles"}
    assert "geo_idlib.shapefiles" in cfg["packages"]
    assert cfg["package-data"] == {"*": ["*"]}, "every file of a listed folder ships"


def test_package_data_is_found_through_importlib_resources():
    assert io.shapefiles_dir() == ROOT / "shapefiles"  # editable install: the checkout's folder
    assert (io.shapefiles_dir() / "nw_syria_timeline.gpkg").is_file()
    assert io.package_data("palette.json") == ROOT / "geo_idlib" / "data" / "palette.json"
    assert io.package_data_json("palette.json") == json.loads(
        (ROOT / "geo_idlib" / "data" / "palette.json").read_text(encoding="utf-8"))
    assert io.package_asset_text("geo_idlib.js") == (ROOT / "geo_idlib" / "assets" / "geo_idlib.js").read_text(
        encoding="utf-8")


def _requirement_name(req: str) -> str:
    import re

    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_a_default_install_has_every_library_the_package_imports():
    """PNG (playwright), GeoParquet (pyarrow), the index lock (filelock)...: whatever geo_idlib
    imports, lazily or not, is a main dependency, so no feature needs an extra."""
    import ast
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    deps = {_requirement_name(r) for r in _pyproject()["project"]["dependencies"]}
    imported = set()
    for path in (ROOT / "geo_idlib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported - {"geo_idlib"} if m in dists}
    missing = {m: dists[m] for m in third_party
               if not {d.lower().replace("_", "-") for d in dists[m]} & deps}
    assert not missing, f"imported by geo_idlib but not in [project] dependencies: {missing}"
    assert {"playwright", "filelock"} <= third_party
    assert "pyarrow" in deps  # geopandas' GeoParquet writer (-o FILE.parquet)
    extras = _pyproject()["project"]["optional-dependencies"]
    assert "playwright" not in {_requirement_name(r) for r in extras["test"]}
    assert {"jupyterlab", "ipykernel"} <= {_requirement_name(r) for r in extras["notebook"]}


def test_make_notebook_opens_jupyterlab_on_the_notebooks_with_the_extra():
    done = subprocess.run(["make", "-n", "notebook"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"make -n notebook failed: {done.stderr.strip()}")
    assert "jupyter lab --notebook-dir=notebooks" in done.stdout
    rule = (ROOT / "Makefile").read_text(encoding="utf-8").split("NB_STAMP := ", 1)[1].split("\n\n", 1)[0]
    assert "pip install -q -e '.[test,eval,notebook]'" in rule  # the extra, into the project's .venv


def test_package_resource_refuses_a_zipped_install(tmp_path, monkeypatch):
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_pkg/__init__.py", "")
        z.writestr("zipped_pkg/data/x.csv", "a\n")
    monkeypatch.syspath_prepend(str(archive))
    with pytest.raises(GeoIdlibError, match=r"^zipped_pkg: installed as .*, not as files; reinstall"):
        io.package_resource("data", "x.csv", package="zipped_pkg")


# --------------------------------------------------------------------------- the installed wheel
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout, built offline."""
    if int(version("setuptools").split(".")[0]) < 77:
        pytest.fail(f"setuptools {version('setuptools')} cannot build the wheel (77 or later is needed): "
                    "run `make install` (the test extras bring it)")
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE, symlinks=True)
    out = base / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
           "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=base)
    assert done.returncode == 0, done.stderr
    (whl,) = out.glob("geo_idlib-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new venv holding only the wheel; dependencies are read from the running environment."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "geo_idlib_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "-q", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return venv


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_package_and_of_shapefiles(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.relative_to(ROOT).as_posix() for p in _source_files(ROOT / "geo_idlib")}
    expected |= {"geo_idlib/shapefiles/" + p.relative_to(ROOT / "shapefiles").as_posix()
                 for p in _source_files(ROOT / "shapefiles")}
    assert "geo_idlib/shapefiles/nw_syria_timeline.gpkg" in expected
    assert "geo_idlib/data/admin_areas.csv" in expected
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}: list their folders in pyproject.toml [tool.setuptools]"
    strays = sorted(n for n in names if not n.startswith(("geo_idlib/", "geo_idlib-")))
    assert not strays, f"the wheel installs files outside geo_idlib/: {strays}"


def _run(exe: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.slow
def test_the_installed_wheel_runs_places_and_map_with_no_checkout(installed, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPORT, work / "report.txt")
    exe = installed / "bin" / "geo-idlib"

    places = _run(exe, ["places", "report.txt", "--format", "csv", "-o", "places.csv"], work)
    assert places.returncode == 0, places.stderr
    with (work / "places.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sarmin = [r for r in rows if r["mention"] == "Sarmin"]
    assert sarmin and {r["place_id"] for r in sarmin} == {SARMIN}, rows
    assert {(r["status"], round(float(r["lat"]), 3), round(float(r["lon"]), 3)) for r in sarmin} == {
        ("resolved", 35.904, 36.725)}
    assert sum(r["status"] == "resolved" for r in rows) >= 20, "the built-in gazetteer and GeoNames answer"

    mapped = _run(exe, ["map", "report.txt", "--date", "2020-02-20", "-o", "map.html"], work)
    assert mapped.returncode == 0, mapped.stderr
    html = (work / "map.html").read_text(encoding="utf-8")
    dates = sorted({d.strftime("%Y-%m-%d") for d in pipeline.read_timeline()["valid_from"]})
    assert len(dates) == 35 and all(d in html for d in dates), "the embedded timeline's dates are on the map"

    # the checkout's own command gives the same bytes; its map names the embedded timeline explicitly
    ours = Path(sys.executable).with_name("geo-idlib")
    timeline = ROOT / "shapefiles" / "nw_syria_timeline.gpkg"
    for args, out in ((["places", "report.txt", "--format", "csv", "-o", "checkout.csv"], "places.csv"),
                      (["map", "report.txt", "--date", "2020-02-20", "--areas", str(timeline),
                        "-o", "checkout.html"], "map.html")):
        done = _run(ours, args, work)
        assert done.returncode == 0, done.stderr
        assert (work / args[-1]).read_bytes() == (work / out).read_bytes(), f"{out}: wheel and checkout differ"


@pytest.mark.slow
def test_the_installed_package_reads_its_data_from_the_venv(installed, tmp_path):
    probe = _run(installed / "bin" / "python", ["-I", str(ROOT / "tests" / "fixtures" / "installed_probe.py")],
                 tmp_path)
    assert probe.returncode == 0, probe.stderr
    got = json.loads(probe.stdout)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(installed), "platbase": str(installed)}))
    assert Path(got["package"]) == site / "geo_idlib" / "__init__.py"
    assert Path(got["shapefiles"]) == site / "geo_idlib" / "shapefiles"
    assert Path(got["timeline"]).is_file()
    assert Path(got["data"]) == site / "geo_idlib" / "data" / "palette.json"
    assert got["asset_chars"] == len((ROOT / "geo_idlib" / "assets" / "geo_idlib.js").read_text(encoding="utf-8"))
