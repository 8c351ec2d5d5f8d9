"""The place-finding evaluation corpora of ../shared/eval/geoparsing, read into one shape.

Each loader returns documents ``{"id", "text", "toponyms": [{"name", "start", "end", "lat", "lon",
["geonameid"]}]}``; spans whose text differs from their name are moved to the nearest exact
occurrence (:func:`repair`). Used by eval_places, bench_places, measure_normalize and tune_fuzzy.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from geo_idlib import io
from geo_idlib.places import mentions
from geo_idlib.places.normalize import normalize
from scripts.common import SHARED

#: The geoparsing corpora (GeoWebNews, LGL, TR-News, GeoVirus, the Syria subset).
GEO = SHARED / "eval" / "geoparsing"
#: GeoWebNews toponym types that are places: the literal and associative ones of its taxonomy.
GWN_TYPES = {"Literal", "Mixed", "Coercion", "Embedded_Literal", "Literal_Modifier", "Metonymic",
             "Non_Literal_Modifier", "Embedded_Non_Lit"}


def repair(text: str, name: str, start: int, end: int, window: int = 12) -> tuple[int, int]:
    """``(start, end)`` of ``name`` in ``text``: as given, or the nearest exact occurrence within ``window``.

    >>> repair("in Aleppo and Idlib", "Idlib", 12, 17)
    (14, 19)
    """
    if text[start:end] == name:
        return start, end
    best = None
    for m in re.finditer(re.escape(name), text[max(0, start - window): start + len(name) + window]):
        s = max(0, start - window) + m.start()
        if best is None or abs(s - start) < abs(best - start):
            best = s
    return (best, best + len(name)) if best is not None else (start, end)


def _f(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def load_gwn(path: Path, types: set[str] = GWN_TYPES) -> list[dict]:
    """GeoWebNews: the toponyms of each article whose type is one of ``types`` (by default the
    literal and associative ones, :data:`GWN_TYPES`)."""
    docs = []
    for art in ET.parse(path).getroot().iter("article"):
        text = art.findtext("text") or ""
        tops = []
        for t in art.iter("toponym"):
            typ = t.findtext("type")
            if typ not in types:
                continue
            name = t.findtext("extractedName") or ""
            s, e = repair(text, name, int(t.findtext("start")), int(t.findtext("end")))
            tops.append({"name": name, "start": s, "end": e, "geonameid": (t.findtext("geonamesID") or "").strip(),
                         "lat": _f(t.findtext("latitude")), "lon": _f(t.findtext("longitude"))})
        docs.append({"id": art.get("file"), "text": text, "toponyms": tops})
    return docs


def load_gwn_negatives(path: Path) -> list[dict]:
    """GeoWebNews spans annotated as not places (Non_Toponym, Homonym), as documents marked
    ``negative`` (any place found for them is a false answer)."""
    return [dict(d, negative=True, toponyms=[dict(t, lat=0.0, lon=0.0) for t in d["toponyms"]])
            for d in load_gwn(path, types={"Non_Toponym", "Homonym"}) if d["toponyms"]]


def load_gaztag(path: Path) -> list[dict]:
    """LGL and TR-News: <toponym><start><end><phrase><gaztag><lat><lon>."""
    docs = []
    for art in ET.parse(path).getroot().iter("article"):
        text = art.findtext("text") or ""
        tops = []
        for t in art.iter("toponym"):
            name = t.findtext("phrase") or ""
            s, e = repair(text, name, int(t.findtext("start")), int(t.findtext("end")))
            tops.append({"name": name, "start": s, "end": e, "geonameid": (t.find("gaztag").get("geonameid", "")
                                                                          if t.find("gaztag") is not None else ""),
                         "lat": _f(t.findtext("gaztag/lat")), "lon": _f(t.findtext("gaztag/lon"))})
        docs.append({"id": art.get("docid"), "text": text, "toponyms": tops})
    return docs


def load_geovirus(path: Path) -> list[dict]:
    """GeoVirus (1-based starts)."""
    docs = []
    for k, art in enumerate(ET.parse(path).getroot().iter("article")):
        text = art.findtext("text") or ""
        tops = []
        for t in art.iter("location"):
            name = t.findtext("name") or ""
            s, e = repair(text, name, int(t.findtext("start")) - 1, int(t.findtext("end")) - 1)
            tops.append({"name": name, "start": s, "end": e,
                         "lat": _f(t.findtext("lat")), "lon": _f(t.findtext("lon"))})
        docs.append({"id": str(k), "text": text, "toponyms": tops})
    return docs


def load_syria(path: Path) -> list[dict]:
    """syria_subset.jsonl: Syrian documents of several corpora (GeoWebNews ones keep :data:`GWN_TYPES`)."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        types_ok = d["corpus"] != "GeoWebNews"
        tops = [dict(t, **dict(zip(("start", "end"), repair(d["text"], t["name"], t["start"], t["end"]), strict=True)))
                for t in d["toponyms"] if types_ok or t.get("type") in GWN_TYPES]
        docs.append({"id": f"{d['corpus']}:{d['id']}", "text": d["text"], "toponyms": tops})
    return docs


#: The project's own Syria news excerpts (tests/fixtures/syria_news_excerpts.md).
EXCERPTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "syria_news_excerpts.jsonl"


def load_excerpts(path: Path = EXCERPTS) -> list[dict]:
    """The Syria news excerpts: documents whose ``toponyms`` carry the spans of their places (the
    n-th listing of a name is its n-th occurrence) and whose ``orgs`` are the spans of every
    organisation name."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        text, tops, after = d["text"], [], {}
        for name, lat, lon in d["places"]:
            s = text.index(name, after.get(name, 0))
            after[name] = s + len(name)
            tops.append({"name": name, "start": s, "end": s + len(name), "lat": lat, "lon": lon})
        orgs = [(m.start(), m.end()) for o in d["orgs"] for m in re.finditer(re.escape(o), text)]
        docs.append({"id": d["id"], "text": text, "toponyms": tops, "orgs": orgs})
    return docs


def load_demonyms() -> set[str]:
    """The demonyms of geo_idlib's not_places.csv, normalised: gold spans that are not scored."""
    t = pd.read_csv(io.package_data("not_places.csv"), dtype=str)
    return {normalize(n) for n in t.loc[t["kind"] == "demonym", "name"]}




def gold_mentions(d: dict, demonyms) -> pd.DataFrame:
    """The gold spans of a document as a mentions table (with sentence and kind_hint from context)."""
    text = d["text"]
    rows = []
    sents = mentions.split_sentences(text)
    for k, t in enumerate(d["toponyms"]):
        if t["lat"] is None or t["lon"] is None or normalize(t["name"]) in demonyms:
            continue
        s, e = t["start"], t["end"]
        sent = next((text[a:b] for a, b in sents if a <= s < b), text)
        rows.append({"report": d["id"], "mention": text[s:e], "start": s, "end": e, "sentence": sent.strip(),
                     "key": normalize(text[s:e]), "kind_hint": mentions.kind_hint_at(text, s, e),
                     "gold_lat": t["lat"], "gold_lon": t["lon"], "_k": k})
    return pd.DataFrame(rows)


def tally(outcomes, **label) -> dict:
    """Right (within 161 km of the gold point), wrong and unanswered gold toponyms, and places found
    for non-places (negative examples), with the precision of the answers and the net gain
    (right - wrong - false). ``outcomes`` yields ``(negative, status, gold_lat, gold_lon, lat, lon)``;
    ``label`` is kept in the result (``variant=...``, ``threshold=...``).

    >>> tally([(False, "resolved", 36.0, 37.0, 36.1, 37.0), (True, "resolved", 0, 0, 1, 1),
    ...        (False, "unresolved", 36.0, 37.0, None, None)], variant="x")
    {'variant': 'x', 'correct': 1, 'wrong': 0, 'none': 1, 'false': 1, 'precision': 1.0, 'net': 0}
    """
    from geo_idlib import crs

    correct = wrong = none = false = 0
    for negative, status, glat, glon, lat, lon in outcomes:
        if negative:
            false += status != "unresolved"
        elif status == "unresolved":
            none += 1
        elif float(crs.haversine_km(float(glat), float(glon), lat, lon)) <= 161:
            correct += 1
        else:
            wrong += 1
    answered = correct + wrong
    return {**label, "correct": correct, "wrong": wrong, "none": none, "false": false,
            "precision": round(correct / answered, 3) if answered else None, "net": correct - wrong - false}
