"""maps/ without a browser: palette, faces, encoding, size, escaping, determinism, side panel."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_idlib import io
from geo_idlib.errors import InputError, RenderError
from geo_idlib.maps import document, element, palette, static, view
from geo_idlib.maps import faces as fc

ROOT = Path(__file__).resolve().parent.parent
CANONICAL = ["government", "opposition", "turkish_backed", "sdf", "isis", "contested", "unknown", "russia", "ukraine"]
PAYLOADS = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<!--"]


def T(rows):
    """A timeline from (actor, valid_from, valid_to, geometry) tuples."""
    df = pd.DataFrame(rows, columns=["actor", "valid_from", "valid_to", "geometry"])
    df["valid_from"] = pd.to_datetime(df["valid_from"])
    df["valid_to"] = pd.to_datetime(df["valid_to"])
    return gpd.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")


def places(rows):
    """Places with the DESIGN.md columns (+ actor) from (name, lat, lon, sentence, actor) tuples."""
    recs = []
    for i, (name, lat, lon, sentence, actor) in enumerate(rows):
        resolved = lat is not None
        recs.append({"report": "report <1>.txt", "mention": name, "start": i, "end": i + len(name),
                     "sentence": sentence, "name": name, "place_id": f"geonames:{i}" if resolved else "",
                     "country": "SY", "admin1": "Idlib", "feature_code": "PPL",
                     "precision": "settlement" if resolved else "", "confidence": 0.9 if resolved else 0.0,
                     "status": "resolved" if resolved else "unresolved",
                     "lat": lat if resolved else np.nan, "lon": lon if resolved else np.nan, "actor": actor})
    df = pd.DataFrame(recs)
    geom = [shapely.Point(r["lon"], r["lat"]) if r["status"] == "resolved" else None for r in recs]
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def wobbly(x0, y0, x1, y1, n=400, amp=0.01, seed=0):
    """A box with a finely wobbling east edge (many vertices, like a real front line)."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(y0, y1, n)
    xs = x1 + np.cumsum(rng.normal(0, amp, n)) * 0.2
    return shapely.Polygon([(x0, y0)] + list(zip(xs, ys, strict=True)) + [(x0, y1)])


@pytest.fixture(scope="module")
def timeline():
    w, e, s, n = 36.4, 37.4, 35.6, 36.2
    return T([
        ("opposition", "2020-01-01", "2020-02-01", shapely.box(w, s, 36.9, n)),
        ("government", "2020-01-01", "2020-02-01", shapely.box(36.9, s, e, n)),
        ("opposition", "2020-02-01", None, shapely.box(w, s, 36.7, n)),
        ("government", "2020-02-01", None, shapely.box(36.7, s, e, n)),
        ("isis", "2020-01-01", "2020-01-10", shapely.box(37.0, 36.2, 37.4, 36.5)),
        ("turkish_backed", "2020-01-01", None, shapely.box(w, 36.2, 36.9, 36.5)),
    ])


# --------------------------------------------------------------------------- palette
def test_palette_has_every_canonical_actor_with_distinct_colours_documented():
    pal = palette.palette()
    colours = [pal["actors"][a]["color"].lower() for a in CANONICAL]
    assert len(set(colours)) == len(colours)
    assert pal["actors"]["contested"]["hatch"] is True
    assert pal["neutral"]["color"].lower() not in colours
    doc = (ROOT / "docs" / "maps.md").read_text(encoding="utf-8").lower()
    for a in CANONICAL:
        assert f"`{a}`" in doc and pal["actors"][a]["color"].lower() in doc, f"docs/maps.md: palette row for {a}"


def test_unknown_actor_gets_the_neutral_colour_and_one_warning(caplog):
    t = T([("hts_splinter", "2020-01-01", None, shapely.box(36, 35, 36.5, 35.5)),
           ("hts_splinter", "2020-01-05", None, shapely.box(36.5, 35, 37, 35.5))])
    with caplog.at_level(logging.WARNING, logger="geo_idlib"):
        m = document.build_map(timeline=t, basemap=False)
    warnings = [r for r in caplog.records if "hts_splinter" in r.getMessage()]
    assert len(warnings) == 1 and "neutral colour" in warnings[0].getMessage()
    actor = m.geo_idlib["actors"][0]
    assert actor["id"] == "hts_splinter" and actor["color"] == palette.palette()["neutral"]["color"]
    assert actor["known"] is False and m.geo_idlib["legend"] == {"actors": [0], "no_actor": False}


# --------------------------------------------------------------------------- faces
def test_faces_rebuild_every_snapshot_exactly(timeline):
    dates, faces, runs, actors = fc.partition(timeline)
    assert [fc.iso_day(d) for d in dates] == ["2020-01-01", "2020-01-10", "2020-02-01"]
    assert shapely.overlaps(faces[:, None], faces[None, :]).sum() == 0  # a coverage: no overlaps
    for k, day in enumerate(dates):
        act = timeline[(timeline.valid_from <= day) & (timeline.valid_to.isna() | (timeline.valid_to > day))]
        for actor, g in act.groupby("actor"):
            a = actors.index[actor]
            mine = shapely.union_all([faces[f] for f, k0, k1, aa in runs if aa == a and k0 <= k < k1])
            assert shapely.symmetric_difference(mine, g.geometry.union_all()).area < 1e-9, (actor, k)
    # the ground that never changed is one face held over the whole timeline
    assert any(k0 == 0 and k1 == 3 for _, k0, k1, _ in runs)


def test_frames_are_stored_as_changes_not_copies():
    # 30 daily frames of a 400-vertex polygon of which only a small corner changes each day
    base = wobbly(36.0, 35.0, 37.0, 36.0)
    rows = []
    for i in range(30):
        g = shapely.difference(base, shapely.box(36.0, 35.0, 36.05 + 0.01 * (i % 5), 35.05))
        rows.append(("government", f"2020-01-{i + 1:02d}", f"2020-01-{i + 2:02d}", g))
    t = T(rows)
    dates, faces, runs, _ = fc.partition(t)
    one_frame = shapely.get_num_coordinates(base)
    assert len(dates) == 31
    assert shapely.get_num_coordinates(faces).sum() < 1.5 * one_frame  # not 30 copies
    m = document.build_map(timeline=t, basemap=False)
    assert len(m.geo_idlib["time"]["slider"]) == 30


def test_size_is_under_a_fifth_of_naive_folium_with_at_most_one_pixel_deviation():
    rows = []
    for i in range(12):
        front = wobbly(36.0, 35.0, 36.8 - 0.01 * i, 36.0, seed=1)
        rest = shapely.difference(shapely.box(36.0, 35.0, 37.5, 36.0), front)
        rows += [("opposition", f"2020-01-{i + 1:02d}", f"2020-01-{i + 2:02d}", front),
                 ("government", f"2020-01-{i + 1:02d}", f"2020-01-{i + 2:02d}", rest)]
    t = T(rows)
    naive = folium.Map(location=[35.5, 36.7], zoom_start=9)
    for _, g in t.groupby("valid_from"):
        folium.GeoJson(g[["actor", "geometry"]]).add_to(naive)
    naive_bytes = len(naive.get_root().render().encode())
    m = document.build_map(timeline=t, basemap=False)
    ours = element.script_json(m.geo_idlib).encode()
    assert len(ours) * 5 <= naive_bytes, (len(ours), naive_bytes)
    assert m.geo_idlib["view"]["max_dev_px"] <= 1.0
    # independent check of the deviation on the drawn (decoded) faces
    faces = m.geo_idlib_faces
    z = m.geo_idlib["view"]["zoom"]
    (s, w), (n, e) = m.geo_idlib["view"]["bounds"]
    px = view.pixel_degrees((w, s, e, n), z)
    drawn = []
    for rings in m.geo_idlib["areas"]["faces"]:
        drawn.append(fc.decode_polygons(rings))
    assert len(drawn) == len(faces)
    q = shapely.set_precision(faces, fc.QUANTUM)
    assert fc.deviation_px(q, shapely.set_precision(np.array(drawn, dtype=object), fc.QUANTUM), px).max() <= 1.0
    assert sum(len(r) for f in m.geo_idlib["areas"]["faces"] for r in f) < 0.5 * 2 * shapely.get_num_coordinates(faces).sum()


def test_shared_borders_are_simplified_once():
    left = wobbly(36.0, 35.0, 36.5, 36.0, n=800, seed=3)
    right = shapely.difference(shapely.box(36.0, 35.0, 37.0, 36.0), left)
    simp, dev = fc.simplify_within([left, right], view.pixel_degrees((36, 35, 37, 36), 8))
    assert dev <= 1.0
    assert shapely.get_num_coordinates(simp).sum() < 0.5 * (shapely.get_num_coordinates(left) + shapely.get_num_coordinates(right))
    assert shapely.intersection(simp[0], simp[1]).area < 1e-12          # no overlap
    assert abs(shapely.union(simp[0], simp[1]).area - 1.0) < 1e-9       # no gap


def test_encoding_round_trips_to_the_quantum():
    g = shapely.Polygon([(36.123456, 35.987654), (36.5, 35.9), (36.4, 36.2)], holes=[[(36.3, 36.0), (36.35, 36.0), (36.32, 36.05)]])
    (rings,) = fc.encode_polygons([g])
    assert len(rings) == 2
    back = fc.decode_ring(rings[0])
    exact = np.asarray(g.exterior.coords)[:-1]
    # each vertex within half a quantum of one exact vertex (the ring may start elsewhere)
    nearest = np.abs(back[:, None, :] - exact[None, :, :]).max(axis=2).min(axis=1)
    assert len(back) == len(exact) and nearest.max() <= fc.QUANTUM / 2 + 1e-12
    assert fc.encode_polygons([shapely.Polygon()]) == [[]]


def test_encoding_drops_slivers_narrower_than_the_quantum():
    """A sliver a tenth of a quantum wide would survive vertex-by-vertex rounding as a spike
    (invisible, but kilometres long to a Hausdorff check); it is snap-rounded away."""
    spike = shapely.Polygon([(36.0, 35.0), (36.1, 35.0), (36.1, 35.1), (36.050001, 35.1), (36.050001, 35.2),
                             (36.05, 35.2), (36.05, 35.1), (36.0, 35.1)])
    assert spike.is_valid
    (rings,) = fc.encode_polygons([spike])
    back = fc.decode_polygons(rings)
    assert back.bounds[3] == pytest.approx(35.1)  # the 11 km sliver is gone
    assert shapely.symmetric_difference(back, shapely.box(36.0, 35.0, 36.1, 35.1)).area < 1e-12


def test_initial_zoom_and_pixel_size_follow_leaflet():
    # 1.5 degrees of longitude: 1.5/360*256*2**z px, i.e. 546 px at zoom 9 (fits 1024), 2184 px at zoom 11
    assert view.initial_zoom((36.0, 35.5, 37.5, 36.5)) == 9
    assert view.initial_zoom((36.0, 35.5, 37.5, 36.5), width=2200, height=2200) == 11
    assert view.initial_zoom((36.0, 35.5, 37.5, 36.5), width=2000, height=2200) == 10
    assert view.pixel_degrees((0, -1, 1, 1), 0) == pytest.approx(360 / 256 * np.cos(np.radians(1)))


# --------------------------------------------------------------------------- the document
SCHEMA = json.loads((ROOT / "geo_idlib" / "assets" / "geo_idlib.schema.json").read_text(encoding="utf-8"))


def valid(doc: dict) -> dict:
    """``doc`` after checking it against the document's JSON Schema (and that it is plain JSON)."""
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    plain = json.loads(io.dumps_json(doc))
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(plain), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]
    assert json.loads(json.dumps(doc)) == doc, "the document is not plain JSON data (lists, str keys, no numpy)"
    return doc


def test_documents_follow_their_schema(timeline, front):
    built = [
        document.build_document(basemap=False),
        document.build_document(places=_front_places(), timeline=front, change_polys=_change(), d1="2020-01-05",
                                d2="2020-02-10", title="Front", notice="a notice"),
        document.build_document(gpd.GeoDataFrame({"actor": ["hts_splinter"]}, geometry=[shapely.box(36, 35, 37, 36)],
                                                 crs="EPSG:4326"), basemap=False),
        document.build_document(timeline=timeline, offline=False, date="2019-06-01"),
        document.build_document(places=places([("Nowhere", None, None, "Lost.", None)]), basemap=False),
    ]
    for doc in built:
        valid(doc)
    # the schema is not a formality: it refuses what the page could not read
    import jsonschema

    bad = json.loads(io.dumps_json(built[1]))
    bad["places"]["markers"][0]["popup"] = "<b>html</b>"
    with pytest.raises(AssertionError, match="popup"):
        valid(bad)
    bad = json.loads(io.dumps_json(built[1]))
    bad["style"]["change"]["lost_dash"] = "6px"
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(bad)


def test_the_document_carries_data_never_markup(front):
    p = _front_places()
    p["report"] = "/home/analyst/sources/wire <1>.txt"
    doc = valid(document.build_document(places=p, timeline=front, change_polys=_change(), d1="2020-01-05",
                                        d2="2020-02-10", title="A & B", basemap=False))
    saraqib = next(m for m in doc["places"]["markers"] if m["name"] == "Saraqib")
    assert saraqib["mentions"] == [{"sentence": "Troops entered Saraqib.", "report": "wire <1>.txt"}]  # no path
    assert (saraqib["precision"], saraqib["confidence"], saraqib["admin1"], saraqib["country"]) == \
        ("settlement", 0.9, "Idlib", "SY")
    # "held by … on" names the date asked for (D2), not the change date before it
    assert doc["actors"][saraqib["actor"]]["id"] == "government" and doc["time"]["held_on"] == "2020-02-10"
    assert doc["title"] == "A & B"
    # the palette's values the page draws with come from palette.json, lost_dash included
    pal = palette.palette()
    assert doc["style"]["change"] == pal["change"] and doc["style"]["change"]["lost_dash"] == "6 4"
    assert doc["style"]["basemap"] == pal["basemap"] and doc["style"]["no_actor"] == pal["no_actor"]
    text = io.dumps_json(doc)
    assert not re.search(r"<[a-z/!]", text.replace("wire <1>.txt", "")), "markup in the document"
    assert "/home/analyst" not in text


def test_python_writes_no_html():
    """Markup lives in assets/geo_idlib.html.jinja; no string in maps/ (docstrings aside) holds a tag."""
    import ast

    found = []
    for path in sorted((ROOT / "geo_idlib" / "maps").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and re.search(r"<\s*/?\s*[a-zA-Z!][^>]*>", node.value)):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
    assert found == [], found


def test_bad_inputs_to_the_builder_are_one_line_errors(timeline):
    import pandas as pd

    from geo_idlib.errors import CRSError

    cases = [
        (dict(timeline=timeline, date="2020-13-45"), InputError, "map date: '2020-13-45' is not a date; give YYYY-MM-DD"),
        (dict(timeline=timeline, d1="2020-02-10", d2="2020-01-15"), InputError, "--from 2020-02-10 is after --to 2020-01-15"),
        (dict(timeline=timeline.drop(columns=["valid_to"])), InputError, "map timeline: no column 'valid_to'"),
        (dict(timeline=pd.DataFrame({"actor": ["x"]})), InputError, "map timeline: expected a GeoDataFrame, got DataFrame"),
        (dict(areas=timeline.drop(columns=["actor"])), InputError, "map areas: no column 'actor'"),
        (dict(change_polys=_change().drop(columns=["actor_to"])), InputError, "map change_polys: no column 'actor_to'"),
        (dict(places=gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")),
         InputError, "map places: geometries must be points, not Polygon"),
        (dict(places=places([("Saraqib", 35.86, 36.8, "s", None)]).set_crs(None, allow_override=True)),
         CRSError, "places: layer has no CRS"),
        (dict(title=["a", "list"]), InputError, "map title: expected text, got list; pass a str"),
        (dict(notice=3), InputError, "map notice: expected text, got int"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error) as e:
            document.build_map(basemap=False, **kwargs)
        assert message in str(e.value) and "\n" not in str(e.value), (kwargs.keys(), str(e.value))


# --------------------------------------------------------------------------- the HTML
def test_html_is_deterministic_offline_and_has_no_random_ids(timeline):
    p = places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government")])
    a = element.to_html(document.build_map(places=p, timeline=timeline, date="2020-01-05", basemap=False))
    b = element.to_html(document.build_map(places=p, timeline=timeline, date="2020-01-05", basemap=False))
    assert a == b
    assert not re.search(r"[0-9a-f]{32}", a), "folium's random uuids must be replaced by fixed ids"
    assert "map_geo_idlib" in a and "<script src" not in a and "<link" not in a
    assert '.version="1.9.4"' in a  # the Leaflet inlined is the pinned 1.9.4 (django-js-lib-leaflet)
    assert io.leaflet_dist_bytes("leaflet.js")[:200].decode() in a  # Leaflet itself is inlined
    assert "url(images/" not in a                                  # its CSS images became data URIs
    assert "\r" not in a                                           # CSP hashes are of parsed text: LF only


def _policy(html: str) -> dict:
    """The page's Content-Security-Policy meta: directive → sources."""
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert len(metas) == 1, metas
    assert html.index(metas[0]) < html.index("<style") < html.index("<script"), "the policy must come first"
    return {d.split()[0]: d.split()[1:] for d in metas[0].split("; ")}


def test_the_page_allows_only_its_own_inline_blocks(timeline):
    html = element.to_html(document.build_map(places=_front_places(), timeline=timeline, basemap=False))
    csp = _policy(html)
    blocks = re.findall(r"<(script|style)([^>]*)>(.*?)</\1>", html, re.S)
    assert len(blocks) >= 6  # folium's styles and flags, Leaflet and ours, the data, the init call
    def sha(text):
        import base64
        import hashlib
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    scripts = {sha(b) for t, attrs, b in blocks if t == "script" and "application/json" not in attrs}
    styles = {sha(b) for t, _, b in blocks if t == "style"}
    assert set(csp["script-src"]) == scripts and set(csp["style-src"]) == styles
    assert csp["default-src"] == ["'none'"] and csp["img-src"] == ["data:"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert "unsafe" not in html.split("<style")[0]


def test_report_text_is_data_and_json_cannot_leave_its_script():
    names = [("Saraqib" + PAYLOADS[1], 35.86, 36.80, "Fighting near " + PAYLOADS[0], PAYLOADS[2]),
             ("Moscow", 55.75, 37.62, "Talks in Moscow " + PAYLOADS[1], None),
             ("Nowhere" + PAYLOADS[2], None, None, PAYLOADS[3] + " unresolved", None)]
    t = T([(PAYLOADS[1], "2020-01-01", None, shapely.box(36.5, 35.5, 37, 36))])
    m = document.build_map(places=places(names), timeline=t, title=PAYLOADS[0], basemap=False)
    text = element.to_html(m)
    for p in PAYLOADS:
        assert p not in text, p
    assert text.count("</script>") == text.count("<script")  # every script element closes where we close it
    data = json.loads(re.search(r'<script type="application/json" id="geo_idlib_data">(.*?)</script>', text, re.S).group(1))
    assert data == json.loads(io.dumps_json(m.geo_idlib))
    # the text as written, unescaped: the page sets it as text
    (marker,) = data["places"]["markers"]
    assert marker["name"] == "Saraqib" + PAYLOADS[1]
    assert marker["mentions"] == [{"sentence": "Fighting near " + PAYLOADS[0], "report": "report <1>.txt"}]
    assert data["actors"][marker["actor"]]["label"] == PAYLOADS[2]          # the unknown actor's label
    assert [o["name"] for o in data["places"]["outside"]] == ["Moscow"]
    assert data["places"]["unlocated"] == [{"name": "Nowhere" + PAYLOADS[2], "sentence": PAYLOADS[3] + " unresolved",
                                            "report": "report <1>.txt", "status": "unresolved"}]
    assert data["title"] == PAYLOADS[0]
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in text


def _inside(bounds, lat, lon):
    (s, w), (n, e) = bounds
    return s <= lat <= n and w <= lon <= e


def _listed(doc):
    """Place name → (km rounded, direction, broad precision, country, drawn) of "Outside this view"."""
    return {o["name"]: (round(o["km"]), o["compass"], o["broad"], o["country"], o["drawn"])
            for o in doc["places"]["outside"]}


def _names(doc):
    return sorted(k["name"] for k in doc["places"]["markers"])


def test_far_places_go_to_the_side_panel_and_the_view_fits_the_places(timeline):
    p = places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government"),
                ("Sarmin", 35.9040, 36.7250, "Shelling hit Sarmin.", None),
                ("Moscow", 55.7522, 37.6156, "Talks were held in Moscow.", None),
                ("Washington", 38.8951, -77.0364, "Washington said...", None),
                ("Gaziantep", 37.0594, 37.3825, "Aid left Gaziantep.", None)])  # ~60 km from the areas
    d = valid(document.build_document(places=p, timeline=timeline, basemap=False))
    bounds = d["view"]["bounds"]
    assert _names(d) == ["Gaziantep", "Saraqib", "Sarmin"]
    assert all(_inside(bounds, k["lat"], k["lon"]) for k in d["places"]["markers"])  # the view frames them
    listed = _listed(d)
    assert sorted(listed) == ["Moscow", "Washington"]
    assert listed["Moscow"] == (2069, "N", "", "SY", False)
    assert listed["Washington"][:2] == (9159, "NW")
    colours = {k["name"]: k["actor"] for k in d["places"]["markers"]}
    assert d["actors"][colours["Saraqib"]]["id"] == "government" and colours["Sarmin"] == -1
    assert d["legend"]["no_actor"] is True


@pytest.fixture(scope="module")
def front():
    """Idlib-like sides along a front, and a big area of unknown control to their east."""
    return T([("opposition", "2020-01-01", "2020-02-01", shapely.box(36.4, 35.6, 36.9, 36.3)),
              ("government", "2020-01-01", "2020-02-01", shapely.box(36.9, 35.6, 37.3, 36.3)),
              ("opposition", "2020-02-01", None, shapely.box(36.4, 35.6, 36.8, 36.3)),
              ("government", "2020-02-01", None, shapely.box(36.8, 35.6, 37.3, 36.3)),
              ("unknown", "2020-01-01", None, shapely.box(37.3, 35.3, 39.0, 37.0))])


def _front_places():
    p = places([("Saraqib", 35.8646, 36.8003, "Troops entered Saraqib.", "government"),
                ("Sarmin", 35.9040, 36.7250, "Shelling hit Sarmin.", "opposition"),
                ("Hama", 35.1318, 36.7578, "The M5 between Hama and Aleppo.", None),   # 52 km south of the areas
                ("Syria", 34.9880, 38.5343, "Government offensive in northwest Syria.", None),
                ("Ankara", 39.9199, 32.8543, "Talks in Ankara.", None),                # 440 km away
                ("Moscow", 55.7522, 37.6156, "and Moscow.", None)])
    p.loc[p["name"] == "Syria", "precision"] = "country"
    return p


def _change():
    return gpd.GeoDataFrame({"actor_from": ["opposition"], "actor_to": ["government"], "area_km2": [632.0]},
                            geometry=[shapely.box(36.8, 35.6, 36.9, 36.3)], crs="EPSG:4326")


def test_the_initial_view_frames_the_places_and_the_change_not_the_unknown_area(front):
    d = valid(document.build_document(places=_front_places(), timeline=front, change_polys=_change(),
                                      d1="2020-01-05", d2="2020-02-10", basemap=False))
    (s, w), (n, e) = d["view"]["bounds"]
    framed = {k["name"] for k in d["places"]["markers"] if _inside(d["view"]["bounds"], k["lat"], k["lon"])}
    assert framed == {"Saraqib", "Sarmin", "Hama"}
    assert w <= 36.8 and e >= 36.9 and s <= 35.6 and n >= 36.3          # the change polygon
    # the sides next to the places show (opposition from 36.4 E, government to 37.3 E, a margin of
    # a quarter of the places' extent), the unknown ground east of 37.3 E does not (it reaches 39.0 E)
    assert w < 36.45 and 37.15 < e < 37.4 and n < 36.5
    assert s == pytest.approx(35.1318 - 0.06 * (36.3 - 35.1318), abs=1e-4)  # 6 % padding
    # everything located and not framed is listed, nearest first, with how far and which way
    listed = _listed(d)
    assert list(listed) == ["Syria", "Ankara", "Moscow"]
    assert listed["Syria"][1:] == ("SE", "country", "SY", True)
    assert listed["Ankara"][1:] == ("NW", "", "SY", True)
    assert listed["Moscow"][1:] == ("N", "", "SY", False)
    for k in d["places"]["markers"]:
        assert _inside(d["view"]["bounds"], k["lat"], k["lon"]) or k["name"] in listed, k["name"]


def test_the_initial_view_falls_back_to_all_areas_when_nothing_else_matters(front):
    # no places and no change: all the areas, the unknown one included, fitted exactly (as before)
    d = document.build_document(timeline=front, basemap=False)
    assert d["view"]["bounds"] == [[35.3, 36.4], [37.0, 39.0]]
    # only a country point: it does not stretch the view (just south of it here), it is listed
    p = places([("Syria", 34.9880, 38.5343, "In Syria.", None)])
    p["precision"] = "country"
    d2 = document.build_document(places=p, timeline=front, basemap=False)
    assert d2["view"]["bounds"] == d["view"]["bounds"] and _listed(d2) == {"Syria": (35, "SE", "country", "SY", True)}
    # one place: about 10 km around it, with the known sides next to it
    one = document.build_document(places=places([("Saraqib", 35.8646, 36.8003, "In Saraqib.", None)]),
                                  timeline=front, basemap=False)
    (s, w), (n, e) = one["view"]["bounds"]
    assert 0.2 <= n - s < 0.3 and 0.2 <= e - w < 0.3 and _inside(one["view"]["bounds"], 35.8646, 36.8003)


def test_places_without_areas_use_the_syria_region_and_a_notice():
    p = places([("Idlib", 35.93, 36.63, "In Idlib.", None), ("Paris", 48.85, 2.35, "In Paris.", None)])
    d = valid(document.build_document(places=p, notice="no control areas for this date", basemap=False))
    assert _names(d) == ["Idlib"] and list(_listed(d)) == ["Paris"]
    assert d["notice"] == "no control areas for this date"
    assert d["areas"] == {"faces": [], "runs": []} and d["time"]["slider"] == []


def test_change_is_drawn_with_km2_in_the_legend(timeline):
    ch = gpd.GeoDataFrame({"actor_from": ["opposition", "government"], "actor_to": ["government", "opposition"],
                           "area_km2": [1234.56, 7.25]},
                          geometry=[shapely.box(36.7, 35.6, 36.9, 36.2), shapely.box(37.3, 35.6, 37.4, 35.7)], crs="EPSG:4326")
    d = valid(document.build_document(timeline=timeline, change_polys=ch, d1="2020-01-15", d2="2020-02-10", basemap=False))
    change = d["change"]
    assert len(change["polygons"]) == 2 and (change["d1"], change["d2"]) == ("2020-01-15", "2020-02-10")
    ids = [d["actors"][t["actor"]]["id"] for t in change["totals"]]
    assert ids == ["government", "opposition"]  # by label
    assert [(t["gained_km2"], t["lost_km2"]) for t in change["totals"]] == [(1234.56, 7.25), (7.25, 1234.56)]
    swipe, time = d["time"]["swipe"], d["time"]
    assert swipe["left_label"] == "2020-01-15" and time["dates"][swipe["left"]] == "2020-01-10"
    assert time["dates"][swipe["right"]] == "2020-02-01" and time["start"] == swipe["right"]


def test_bad_dates_and_foreign_maps_are_refused(timeline):
    with pytest.raises(InputError, match="--from 2020-02-10 is after --to 2020-01-15"):
        document.build_map(timeline=timeline, d1="2020-02-10", d2="2020-01-15", basemap=False)
    with pytest.raises(RenderError, match="build_map"):
        element.to_html(folium.Map())


def test_online_mode_uses_xyzservices_tiles_with_attribution(timeline):
    m = document.build_map(timeline=timeline, offline=False)
    tiles = m.geo_idlib["base"]["tiles"]
    assert [t["name"] for t in tiles] == ["OpenStreetMap", "CartoDB Positron"]
    assert tiles[0]["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in tiles[0]["attribution"] and m.geo_idlib["base"]["basemap"] is None
    # the tiles' origins, and only they, may serve images
    assert _policy(element.to_html(m))["img-src"] == ["data:", "https://tile.openstreetmap.org",
                                                      "https://a.basemaps.cartocdn.com"]


def _lines_xy(lines):
    return np.concatenate([fc.decode_ring(r) for r in lines]) if lines else np.zeros((0, 2))


def test_offline_basemap_comes_from_shapefiles(timeline):
    d = valid(document.build_document(timeline=timeline))
    base = d["base"]
    m = base["basemap"]
    assert base["tiles"] == [] and m["land"] and m["coast"] and m["border"] and m["admin1"]
    # the whole world at 1:110m, so zooming out never ends on blank grey
    world = np.concatenate([fc.decode_ring(r) for g in m["world_land"] for r in g]) / fc.QUANTUM * m["world_quantum"]
    assert world[:, 0].min() < -150 and world[:, 0].max() > 150
    # the Syria–Turkey border runs at about 36.0–37.3 N between 36.5 and 42 E
    xy = _lines_xy(m["border"])
    near = xy[(xy[:, 0] > 37.5) & (xy[:, 0] < 41.5)]
    assert len(near) and 36.0 < np.median(near[:, 1]) < 37.4
    # the coast runs along the Mediterranean, west of 36.3 E at Latakia's latitude
    coast = _lines_xy(m["coast"])
    assert ((np.abs(coast[:, 1] - 35.5) < 0.1) & (coast[:, 0] < 36.0)).any()


def test_any_region_gets_an_offline_basemap_with_divisions():
    """A Ukraine map (DeepState's region) gets land, borders and oblast lines, not a blank page."""
    a = gpd.GeoDataFrame({"actor": ["russia"]}, geometry=[shapely.box(36.0, 47.0, 39.0, 49.0)], crs="EPSG:4326")
    m = valid(document.build_document(a))["base"]["basemap"]
    assert m["land"] and m["admin1"] and m["border"]
    xy = _lines_xy(m["admin1"])
    assert ((xy[:, 0] > 35) & (xy[:, 0] < 40) & (xy[:, 1] > 46) & (xy[:, 1] < 50)).sum() > 50
    # the Russia–Ukraine border crosses 49 N near 39.7 E (checked within 0.5°)
    b = _lines_xy(m["border"])
    assert (np.abs(b[:, 1] - 49.0) < 0.05)[np.abs(b[:, 0] - 39.8) < 0.5].any()


def test_jupyter_displays_the_map_inline_with_its_policy(timeline):
    import html

    m = document.build_map(timeline=timeline, basemap=False)
    out = m._repr_html_()
    assert "<iframe" in out and "geoIdlib" in out
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', out).group(1))
    assert page == element.to_html(m) and _policy(page)["default-src"] == ["'none'"]


def test_png_export_refuses_bad_sizes_and_missing_browsers(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="between 100 and 8000"):
        static.to_png("<html></html>", tmp_path / "a.png", width=10, height=10)
    monkeypatch.setenv("GEO_IDLIB_CHROMIUM", str(tmp_path / "nope"))
    monkeypatch.setattr(static, "DEFAULT_CHROMIUM", str(tmp_path / "nope"))
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(RenderError, match="headless Chromium") as err:
        static.to_png("<html></html>", tmp_path / "a.png")
    assert "sudo apt-get install chromium" in str(err.value) and "GEO_IDLIB_CHROMIUM" in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "a.png").exists()


def test_timelapse_without_ffmpeg_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_IDLIB_FFMPEG", str(tmp_path / "nope"))
    monkeypatch.setattr(static, "DEFAULT_FFMPEG", str(tmp_path / "nope"))
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # the wheel not installed either
    with pytest.raises(RenderError, match="needs ffmpeg") as err:
        static.encode_frames([b"not a png"], tmp_path / "a.gif", "gif")
    assert "sudo apt-get install ffmpeg" in str(err.value) and "GEO_IDLIB_FFMPEG" in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "a.gif").exists()


def test_unlocated_places_are_listed_by_mention_each_once():
    p = places([("Khan Tuman", None, None, "Troops captured Khan Tuman.", None),
                ("Kafr Naha", None, None, "and Kafr Naha.", None)])
    p["name"] = ""  # unresolved rows have no gazetteer name
    d = valid(document.build_document(places=p, basemap=False))
    assert [u["name"] for u in d["places"]["unlocated"]] == ["Kafr Naha", "Khan Tuman"]
    assert [u["sentence"] for u in d["places"]["unlocated"]] == ["and Kafr Naha.", "Troops captured Khan Tuman."]


def test_dates_before_the_timeline_show_no_areas(timeline):
    d = document.build_document(timeline=timeline, date="2019-06-01", basemap=False)["time"]
    assert d["start"] is None and d["slider"] == [0, 1, 2] and d["held_on"] == "2019-06-01"
    d = document.build_document(timeline=timeline, date="2020-01-12", basemap=False)["time"]
    assert d["dates"][d["start"]] == "2020-01-10"


@pytest.mark.shared
def test_deepstate_days_fit_in_a_fifth_of_naive_folium_within_one_pixel():
    from conftest import shared_file

    folder = shared_file("data/deepstate_ukraine")
    files = sorted(folder.glob("deepstatemap_data_*.geojson"))[:20]
    geoms = [gpd.read_file(f, engine="pyogrio").geometry.union_all() for f in files]
    days = pd.to_datetime([f.stem[-8:] for f in files], format="%Y%m%d")
    t = gpd.GeoDataFrame({"actor": "russia", "valid_from": days,
                          "valid_to": list(days[1:]) + [days[-1] + pd.Timedelta(days=1)]}, geometry=geoms, crs="EPSG:4326")
    naive = folium.Map(location=[48, 37], zoom_start=6)
    for g in geoms:
        folium.GeoJson(g).add_to(naive)
    naive_bytes = len(naive.get_root().render().encode())
    m = document.build_map(timeline=t, basemap=False)
    ours = len(element.to_html(m).encode())   # the whole file, Leaflet included
    assert ours * 5 <= naive_bytes, (ours, naive_bytes)
    assert m.geo_idlib["view"]["max_dev_px"] <= 1.0 and m.geo_idlib["view"]["zoom"] == 6
    assert len(m.geo_idlib["time"]["slider"]) == 20
    # the faces are noded once (no T-junctions): a valid coverage, and still one once simplified,
    # so simplifying never opens hairline gaps between them
    faces = m.geo_idlib_faces
    assert shapely.coverage_is_valid(faces)
    drawn = fc.simplify_coverage(faces, m.geo_idlib["view"]["pixel_deg"])
    assert shapely.coverage_is_valid(drawn[~shapely.is_empty(drawn)])
    # each day's occupied area is rebuilt exactly by its faces (before simplification)
    runs = fc.partition(t)[2]
    for k in (0, 7, 19):
        day = shapely.union_all([faces[f] for f, k0, k1, a in runs if k0 <= k < k1])
        assert shapely.symmetric_difference(day, geoms[k]).area < 1e-6 * geoms[k].area, k


def test_areas_end_when_their_rows_end():
    t = T([("russia", "2024-07-08", "2024-07-10", wobbly(36.0, 47.0, 37.0, 48.0, n=3000, seed=5)),
           ("russia", "2024-07-10", "2024-07-11", wobbly(36.0, 47.0, 37.01, 48.0, n=3000, seed=5))])
    dates, faces, runs, _ = fc.partition(t)
    assert [fc.iso_day(x) for x in dates] == ["2024-07-08", "2024-07-10", "2024-07-11"]
    assert max(k1 for _, _, k1, _ in runs) == 2          # nothing is held from 2024-07-11 on
    assert len(faces) == 2                               # what both days hold, the strip of the first
    d = document.build_document(timeline=t, basemap=False)["time"]
    assert d["slider"] == [0, 1] and d["dates"][d["start"]] == "2024-07-10"



def test_a_snapshot_without_a_date_shows_no_made_up_date():
    a = gpd.GeoDataFrame({"actor": ["government"]}, geometry=[shapely.box(36, 35, 37, 36)], crs="EPSG:4326")
    assert document.build_document(a, basemap=False)["time"]["date_label"] is False
    assert document.build_document(a, date="2020-02-20", basemap=False)["time"]["dates"] == ["2020-02-20"]


def test_areas_without_actor_are_skipped_with_a_warning(caplog):
    t = T([("government", "2020-01-01", None, shapely.box(36, 35, 36.5, 35.5)),
           (None, "2020-01-01", None, shapely.box(36.5, 35, 37, 35.5))])
    with caplog.at_level(logging.WARNING, logger="geo_idlib"):
        d = document.build_document(timeline=t, basemap=False)
    assert [a["id"] for a in d["actors"]] == ["government"] and len(d["areas"]["runs"]) == 1
    assert any("1 area(s) of the timeline have no actor" in r.getMessage() for r in caplog.records)
