"""The package's layout rules: imports point one way, and only io.py touches the disk."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "geo_idlib"

BASE = {"errors", "crs"}
STAGES = {"gazetteer", "online", "toponyms", "geocode", "control", "join", "change", "render"}
# Who may import whom (package-internal modules only). Stages may use io for their own storage
# (the gazetteer index, the online-geocoder cache, package lookup tables); io itself is a leaf.
ALLOWED = {
    "errors": set(),
    "crs": {"errors"},
    "io": {"errors", "crs"},
    "cli": {"pipeline", "errors", "__init__"},
    "pipeline": STAGES | BASE | {"io", "__init__"},
    "__init__": {"pipeline"},
}
# Data flows one way through the stages: each may use the ones before it.
ORDER = ["gazetteer", "online", "toponyms", "geocode", "control", "join", "change", "render"]
for i, name in enumerate(ORDER):
    ALLOWED[name] = BASE | {"io"} | set(ORDER[:i])

# Calls that read or write files; only io.py may make them. Ambiguous method names (replace,
# connect, unlink) count only when called on the module that makes them disk calls.
DISK_CALLS = {"open", "read_file", "to_file", "read_text", "write_text", "read_bytes", "write_bytes",
              "read_csv", "to_csv", "read_parquet", "to_parquet", "mkstemp"}
DISK_QUALIFIED = {("os", "replace"), ("os", "unlink"), ("os", "remove"), ("os", "rename"),
                  ("sqlite3", "connect"), ("shutil", "copy"), ("shutil", "move"), ("shutil", "rmtree")}
DISK_ALLOWED_OBJECTS = {"io"}  # io.write_text(...) etc. are calls *into* io


def _modules():
    return {p.stem: p for p in sorted(PKG.glob("*.py"))}


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("geo_idlib"):
            parts = node.module.split(".")
            found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def test_every_module_has_a_rule():
    unknown = set(_modules()) - set(ALLOWED)
    assert not unknown, f"add import rules for {unknown} in tests/test_architecture.py"


def test_imports_point_one_way():
    bad = []
    for name, path in _modules().items():
        for imported in _internal_imports(path):
            if imported not in ALLOWED[name] and imported in _modules():
                bad.append(f"{name} imports {imported}")
    assert not bad, "imports against the layout (cli → pipeline → stages → crs/errors): " + ", ".join(bad)


def test_only_io_touches_the_disk():
    bad = []
    for name, path in _modules().items():
        if name == "io":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
            if (called in DISK_CALLS and owner not in DISK_ALLOWED_OBJECTS) or (owner, called) in DISK_QUALIFIED:
                bad.append(f"{name}.py:{node.lineno} calls {called}()")
    assert not bad, "disk access outside io.py: " + ", ".join(bad)


def test_the_rule_checker_catches_a_violation(tmp_path):
    p = tmp_path / "change.py"
    p.write_text("from .cli import main\nfrom . import render\n")
    assert _internal_imports(p) == {"cli", "render"}
    assert "cli" not in ALLOWED["change"] and "render" not in ALLOWED["change"]
