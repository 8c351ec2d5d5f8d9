"""The numpy-docstring examples of the modules whose own test files do not run them."""

from __future__ import annotations

import doctest
import importlib

import pytest

# crs, gazetteer, geocode and online run their doctests in their own test files
MODULES = ["geo_idlib", "geo_idlib.io", "geo_idlib.toponyms", "geo_idlib.control", "geo_idlib.join",
           "geo_idlib.change", "geo_idlib.render", "geo_idlib.pipeline"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
