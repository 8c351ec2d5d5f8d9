"""scripts/ is a package run as ``python -m scripts.NAME``: no path hacks, no code in strings, and
scripts share only public helpers of shared modules."""

from __future__ import annotations

import ast
import doctest
import importlib
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
SHARED_MODULES = ["scripts.common", "scripts.corpora", "scripts.boundary_sources", "scripts.topojson"]


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_scripts_is_a_package_of_importable_module_names():
    assert (ROOT / "scripts" / "__init__.py").is_file()
    names = [p.stem for p in SCRIPTS if p.stem != "__init__"]
    assert "eval" in names and "bench" in names and "build_nw_syria_sample" in names
    assert all(n.isidentifier() and not n.startswith("_") for n in names), names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_path_hacks_and_no_code_in_strings(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
            pytest.fail(f"{path.name}:{node.lineno}: sys.path is touched; import through the scripts package")
        if isinstance(node, ast.List) and any(isinstance(e, ast.Constant) and e.value == "-c" for e in node.elts):
            pytest.fail(f"{path.name}:{node.lineno}: Python code passed to -c; run a module or a worker function")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_import_no_private_name_of_another_script(path):
    tree = _tree(path)
    modules = set()  # names bound to scripts modules in this file
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "scripts":
            for alias in node.names:
                assert not alias.name.startswith("_"), f"{path.name}:{node.lineno}: imports {alias.name}"
                if node.module == "scripts":
                    modules.add(alias.asname or alias.name)
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] in {p.stem for p in SCRIPTS} for a in node.names), (
                f"{path.name}:{node.lineno}: a bare import of a script; use `from scripts import ...`")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) in modules:
            assert not node.attr.startswith("_"), f"{path.name}:{node.lineno}: uses {node.value.id}.{node.attr}"


@pytest.mark.parametrize("name", SHARED_MODULES)
def test_shared_helpers_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_script_names_find_the_eval_scripts():
    from scripts.common import script_names

    assert script_names("eval") == sorted(f"scripts.{p.stem}" for p in SCRIPTS if p.stem.startswith("eval_"))
    assert "scripts.eval_places" in script_names("eval")


@pytest.mark.parametrize("script", ["scripts.build_boundaries", "scripts.build_context"])
def test_a_script_runs_as_a_module_from_the_repository(script):
    done = subprocess.run([sys.executable, "-m", script, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--npm-prefix" in done.stdout and "--check" in done.stdout
