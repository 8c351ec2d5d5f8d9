"""Fuzzed, not hoped: text → mentions → CSV / GeoJSON / JSON / HTML with arbitrary Unicode (hypothesis).

Texts mix arbitrary Unicode with place names (Latin and Arabic script), formula starters, line and
paragraph separators, bidi marks, quotes, template and script syntax. Properties:

- every mention's span slices back to the mention, in order;
- the CSV, GeoJSON and JSON of `geo-idlib places` parse, hold the same mentions and spans, and the
  CSV never starts a formula (with --raw-csv it gives back every text exactly);
- the map's HTML carries each shown sentence as text (escaped, read back exactly) in a data
  document that parses.

Examples are derandomized (the same ones every run, no example database), so the tests are
deterministic in CI; the counts keep `make test` short (the HTML one is marked slow).
"""

from __future__ import annotations

import csv
import html
import io as stdio
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo_idlib import io, pipeline
from geo_idlib.places import store

NAMES = ["Sarmin", "Idlib", "Saraqeb", "Maarat al-Numan", "إدلب", "Aleppo", "Kafr Nabl", "Turkey", "Damascus"]
TRICKY = ["=", "+", "-", "@", "\t", "\r", "\n", "\n\n", "\u2028", "\u2029", "\u200f", "\u202e", "'", '"', ",", ";",
          ". ", "{{ 7*7 }}", "{% if x %}", "${1+1}", "</script>", "<img src=x onerror=alert(1)>", "&amp;", "\x00",
          "=HYPERLINK(\"http://evil.example\")", " near ", " in ", " the town of "]
TEXTS = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(NAMES), st.sampled_from(TRICKY)),
                 min_size=1, max_size=30).map("".join)
COMMON = dict(derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def index():
    return store.load_index()


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory(prefix="geo_idlib_fuzz_") as d:
        yield Path(d)


@settings(max_examples=80, **COMMON)
@given(text=TEXTS)
def test_spans_slice_back_to_their_mentions(index, text):
    places = pipeline.find_places(text, index=index)
    starts = places["start"].tolist()
    assert starts == sorted(starts)
    for start, end, mention in zip(starts, places["end"], places["mention"], strict=True):
        assert 0 <= start < end <= len(text) and text[start:end] == mention


def _report(folder: Path, text: str) -> Path:
    """The text as a UTF-8 report file (what a file cannot hold as text is not a report)."""
    assume(text.strip() and "\x00" not in text and not text.startswith("\ufeff"))
    p = folder / "report.txt"
    p.write_text(text, encoding="utf-8", newline="")
    return p


@settings(max_examples=50, **COMMON)
@given(text=TEXTS)
def test_places_outputs_parse_and_agree_and_csv_never_starts_a_formula(index, folder, text):
    p = _report(folder, text)
    expected = [(m, s, e) for m, s, e in zip(*(pipeline.find_places(text, index=index)[c]
                                              for c in ("mention", "start", "end")), strict=True)]
    fc = json.loads(pipeline.places([str(p)], fmt="geojson"))
    assert [(f["properties"]["mention"], f["properties"]["start"], f["properties"]["end"])
            for f in fc["features"]] == expected
    for f in fc["features"]:
        if f["geometry"] is not None:
            lon, lat = f["geometry"]["coordinates"]
            assert -180 <= lon <= 180 and -90 <= lat <= 90
    records = json.loads(pipeline.places([str(p)], fmt="json"))
    assert [(r["mention"], r["start"], r["end"]) for r in records] == expected
    safe = list(csv.DictReader(stdio.StringIO(pipeline.places([str(p)], fmt="csv"), newline="")))
    assert [(r["start"], r["end"]) for r in safe] == [(str(s), str(e)) for _, s, e in expected]
    for row in safe:
        for cell in row.values():  # only plain numbers may start with a formula character
            if cell.lstrip(" ")[:1] in io.FORMULA_STARTS:
                assert re.fullmatch(r"[+-]?\d+(\.\d+)?", cell), f"formula-like cell {cell!r}"
    raw = list(csv.DictReader(stdio.StringIO(pipeline.places([str(p)], fmt="csv", raw_csv=True), newline="")))
    assert [r["mention"] for r in raw] == [m for m, _, _ in expected]
    assert [r["sentence"] for r in raw] == [r["sentence"] for r in records]


@pytest.mark.slow
@settings(max_examples=12, **COMMON)
@given(text=TEXTS.map(lambda t: "Shelling hit Sarmin, near Idlib. " + t))
def test_map_html_shows_sentences_exactly_as_text(index, text):
    from geo_idlib.maps import document, element

    places = pipeline.find_places(text, index=index)
    page = element.to_html(document.build_map(places=places, basemap=False, title=text[:40]))
    m = re.search(r'<script type="application/json" id="geo_idlib_data">(.*?)</script>', page, re.S)
    assert m, "the map's data document is missing"
    data = json.loads(m.group(1))
    sentences = set(places["sentence"].dropna())
    shown = []
    for marker in data["places"]["markers"]:  # data the page sets with textContent, never markup
        shown += [m["sentence"] for m in marker["mentions"]]
    assert shown and set(shown) <= sentences
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert html.unescape(title.group(1)) == text[:40]
