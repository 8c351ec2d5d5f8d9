"""The package's layout rules: imports point one way, and only io.py touches the disk.

Units are the shared modules (``errors``, ``crs``, ``io``, ``pipeline``, ``cli``) and the three
subpackages (``places``, ``territory``, ``maps``). Between units, imports follow :data:`ALLOWED`;
inside a subpackage, each module may import only the modules listed before it in :data:`ORDER`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "geo_idlib"

SHARED = {"errors", "crs", "io"}
# Who may import whom, between units (package-internal imports only).
ALLOWED = {
    "errors": set(),
    "crs": {"errors"},
    "io": {"errors", "crs"},
    "places": SHARED,
    "territory": SHARED,
    "maps": SHARED | {"territory"},
    "scale": SHARED | {"territory"},
    "pipeline": SHARED | {"places", "territory", "maps", "scale", "__init__"},
    "cli": {"pipeline", "errors", "__init__"},
    "__init__": {"pipeline"},
}
# Inside each subpackage, data flows one way: a module may import the ones before it.
ORDER = {
    "places": ["normalize", "dates", "build", "store", "fetch", "automaton", "rank", "mentions", "online", "resolve",
               "gazetteer"],
    "territory": ["geom", "timeline", "infer", "join", "change"],
    "maps": ["palette", "view", "faces", "layers", "element", "document", "static"],
    "scale": ["plan", "engine", "cluster", "join"],
}

# Calls that read or write files; only io.py may make them. Ambiguous method names (replace,
# connect, unlink) count only when called on the module that makes them disk calls.
DISK_CALLS = {"open", "read_file", "to_file", "read_text", "write_text", "read_bytes", "write_bytes",
              "read_csv", "to_csv", "read_parquet", "to_parquet", "mkstemp"}
DISK_QUALIFIED = {("os", "replace"), ("os", "unlink"), ("os", "remove"), ("os", "rename"),
                  ("sqlite3", "connect"), ("shutil", "copy"), ("shutil", "move"), ("shutil", "rmtree")}
DISK_ALLOWED_OBJECTS = {"io"}  # io.write_text(...) etc. are calls *into* io


def _modules() -> dict[tuple[str, str], Path]:
    """``(unit, module)`` → path: ``("io", "io")``, ``("places", "store")``, ``("places", "__init__")``."""
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("").parts
        out[(rel[0], rel[-1]) if len(rel) > 1 else (rel[0], rel[0])] = p
    return out


def _internal_imports(path: Path, unit: str) -> set[tuple[str, str]]:
    """The ``(unit, module)`` pairs a file imports from geo_idlib."""
    inside = path.parent != PKG  # a subpackage module: ``.x`` is a sibling, ``..x`` a shared unit
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            if not (node.module or "").startswith("geo_idlib"):
                continue
            parts = node.module.split(".")[1:]
        elif node.level == 1 and inside:
            parts = [unit, *(node.module.split(".") if node.module else [])]
        else:
            parts = node.module.split(".") if node.module else []
        names = [parts] if parts else [[a.name] for a in node.names]
        if parts and len(parts) == 1 and parts[0] in ORDER:  # "from ..places import store"
            names = [[parts[0], a.name] for a in node.names]
        elif not parts:
            names = [[a.name] for a in node.names]
        for p in names:
            if p and p[0] not in ALLOWED and p[0] not in ORDER.get(unit, ()):
                p = ["__init__"]  # a name of the package itself (__version__)
            found.add((p[0], p[1] if len(p) > 1 else p[0]) if p else ("__init__", "__init__"))
    return found


def _allowed(importer: tuple[str, str], imported: tuple[str, str]) -> bool:
    unit, mod = importer
    if imported[0] == unit:
        if unit not in ORDER or imported[1] == "__init__":
            return True
        order = ORDER[unit]
        return imported[1] in order and mod in order and order.index(imported[1]) < order.index(mod)
    return imported[0] in ALLOWED[unit] or imported[0] == "__init__"


def test_every_module_has_a_rule():
    mods = _modules()
    units = {u for u, _ in mods}
    assert not units - set(ALLOWED), f"add import rules for {units - set(ALLOWED)} in tests/test_architecture.py"
    unplaced = [f"{u}/{m}" for u, m in mods if u in ORDER and m != "__init__" and m not in ORDER[u]]
    assert not unplaced, f"give {unplaced} a place in ORDER (tests/test_architecture.py)"


def test_imports_point_one_way():
    bad = []
    for (unit, mod), path in _modules().items():
        for imported in _internal_imports(path, unit):
            if not _allowed((unit, mod), imported):
                bad.append(f"{unit}.{mod} imports {imported[0]}.{imported[1]}")
    assert not bad, "imports against the layout (cli → pipeline → places|territory|maps → io/crs/errors): " + ", ".join(bad)


def test_only_io_touches_the_disk():
    bad = []
    for (unit, _), path in _modules().items():
        if unit == "io":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
            if (called in DISK_CALLS and owner not in DISK_ALLOWED_OBJECTS) or (owner, called) in DISK_QUALIFIED:
                bad.append(f"{path.relative_to(PKG)}:{node.lineno} calls {called}()")
    assert not bad, "disk access outside io.py: " + ", ".join(bad)


def test_the_rule_checker_catches_violations(tmp_path):
    sub = tmp_path / "territory"
    sub.mkdir()
    p = sub / "change.py"
    p.write_text("from ..cli import main\nfrom ..maps import document\nfrom . import join\nfrom .geom import x\n")
    global PKG
    saved, PKG = PKG, tmp_path
    try:
        found = _internal_imports(p, "territory")
    finally:
        PKG = saved
    assert found == {("cli", "cli"), ("maps", "document"), ("territory", "join"), ("territory", "geom")}
    assert not _allowed(("territory", "change"), ("cli", "cli"))
    assert not _allowed(("territory", "change"), ("maps", "document"))
    assert _allowed(("territory", "change"), ("territory", "join"))
    assert not _allowed(("territory", "join"), ("territory", "change"))
