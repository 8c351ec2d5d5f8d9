"""Acceptance on the project's own Syria news excerpts (tests/fixtures/syria_news_excerpts.md):
no organisation name reported as a place, nothing put far from where it is, and at least 95 % of
the named places found. `make eval` prints the same figures (scripts.eval_places.excerpt_scores)."""

from __future__ import annotations

from geo_idlib import pipeline
from scripts.corpora import load_excerpts
from scripts.eval_places import excerpt_scores


def test_fresh_syria_news_no_organisation_nothing_abroad_places_found():
    s = excerpt_scores(load_excerpts(), pipeline.find_places)
    assert s["total"] == 112 and s["orgs"] == [] and s["far"] == []
    assert s["found"] / s["total"] >= 0.95, f"{s['found']}/{s['total']}"
