"""Calibrated confidence: the fitted mapping is data, and on the held-out half of the dev documents
the expected calibration error is at most 0.05 on GeoWebNews and LGL (scripts/fit_calibration.py)."""

from __future__ import annotations

import json

import pytest
from conftest import need

from geo_idlib import io
from geo_idlib.places.rank import calibrated


def test_the_fitted_mapping_is_data_with_its_provenance():
    doc = json.loads(io.package_data("calibration.json").read_text(encoding="utf-8"))
    assert len(doc["accuracy"]) == doc["bins"] == 10 and "held out" in doc["how"]
    assert all(0.0 <= a <= 1.0 for a in doc["accuracy"])
    assert calibrated(0.0) == 0.0 and calibrated(1.0) == doc["accuracy"][-1] and calibrated(0.55) == doc["accuracy"][5]


@pytest.mark.shared
@pytest.mark.slow
def test_confidence_is_calibrated_on_the_held_out_dev_documents():
    from scripts import corpora
    from scripts.fit_calibration import answers, dev_sets, reliability

    need(corpora.GEO, "the dev sets of ../shared/eval/geoparsing")
    from geo_idlib.places.store import load_index

    held = answers(dev_sets(), load_index(), fitting=False)
    for corpus in ("GeoWebNews", "LGL"):
        _, ece = reliability([a for a in held if a[0] == corpus])
        assert ece <= 0.05, (corpus, ece)
