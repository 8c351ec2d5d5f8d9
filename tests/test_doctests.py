"""The numpy-docstring examples of every module of geo_idlib run, and pass."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geo_idlib

MODULES = ["geo_idlib"] + sorted(m.name for m in pkgutil.walk_packages(geo_idlib.__path__, "geo_idlib."))


def test_every_subpackage_is_found():
    assert {"geo_idlib.places.normalize", "geo_idlib.territory.timeline", "geo_idlib.maps.document"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
