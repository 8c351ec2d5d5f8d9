"""`geo-idlib geocode` and `geo-idlib gazetteer add|list|remove`: outputs, user gazetteers, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_file

from geo_idlib.cli import cli
from geo_idlib.places import store
from geo_idlib.places.build import parse_user_gazetteer
from geo_idlib.places.store import load_index

FIX = Path(__file__).resolve().parent / "fixtures" / "gazetteer"


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh user data dir (no user gazetteers) for each test."""
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_geocode_json_in_input_order(home):
    from geo_idlib.places.rank import calibrated

    r = run("geocode", "Saraqeb", "Idlib province", "إدلب", "Qqqzzxw")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    assert [x["query"] for x in recs] == ["Saraqeb", "Idlib province", "إدلب", "Qqqzzxw"]
    assert recs[0] == {"query": "Saraqeb", "name": "Saraqib", "lat": 35.86447, "lon": 36.80591,
                       "place_id": "geonames:164816", "country": "SY", "feature_code": "PPL",
                       "precision": "settlement", "confidence": calibrated(1.0), "status": "resolved"}
    assert recs[1]["precision"] == "admin1" and recs[2]["place_id"] == "geonames:169389"
    assert recs[3]["status"] == "unresolved" and recs[3]["lat"] is None


def test_geocode_csv_and_geojson(home, tmp_path):
    from geo_idlib.places.rank import calibrated

    r = run("geocode", "Saraqeb", "Qqqzzxw", "--format", "csv")
    lines = r.stdout.splitlines()
    assert lines[0] == "query,name,lat,lon,place_id,country,feature_code,precision,confidence,status"
    # the one CSV writer of every command (io.csv_text): floats with 6 decimals, as `places` writes them
    assert lines[1] == ("Saraqeb,Saraqib,35.864470,36.805910,geonames:164816,SY,PPL,settlement,"
                        f"{calibrated(1.0):.6f},resolved")
    assert lines[2] == "Qqqzzxw,,,,,,,,0.000000,unresolved"
    out = tmp_path / "g.geojson"
    r = run("geocode", "Saraqeb", "Qqqzzxw", "--format", "geojson", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert fc["features"][0]["geometry"] == {"type": "Point", "coordinates": [36.80591, 35.86447]}
    assert fc["features"][1]["geometry"] is None
    r = run("geocode", "Saraqeb", "-o", str(out))
    assert r.exit_code == 2 and "already exists" in r.stderr and r.stdout == ""


def test_geocode_country_option(home):
    r = run("geocode", "Damascus", "--country", "us")
    assert json.loads(r.stdout)[0]["country"] == "US"
    r = run("geocode", "Damascus", "--country", "XX")
    assert r.exit_code == 2 and r.stdout == ""
    assert "Invalid value for '--country'" in r.stderr and "unknown country code" in r.stderr


def test_user_gazetteer_round_trip(home):
    r = run("geocode", "Tell Zaytunat al-Wadi")
    assert json.loads(r.stdout)[0]["status"] in ("unresolved", "ambiguous") or \
        not json.loads(r.stdout)[0]["place_id"].startswith("user:")
    r = run("gazetteer", "add", str(FIX / "tiny_geonames.txt"), "--name", "tiny")
    assert r.exit_code == 0, r.output
    assert "added gazetteer tiny: 5 places" in r.stderr and r.stdout == ""
    r = run("gazetteer", "list")
    head, row = r.stdout.splitlines()
    assert head == "name\trows\tactive\tsource\tadded"
    name, rows, active, source, added = row.split("\t")
    assert (name, rows, active, source) == ("tiny", "5", "yes", str((FIX / "tiny_geonames.txt").resolve()))
    assert added.endswith("Z") and len(added) == 20
    recs = json.loads(run("geocode", "Tell Zaytunat al-Wadi", "Zaytunat", "تل زيتونات الوادي",
                          "Khirbet Qamar", "Mazraat an-Nukhayla", "Saraqib District").stdout)
    assert [x["place_id"] for x in recs] == ["user:tiny:9900001"] * 3 + ["user:tiny:9900002", "user:tiny:9900005",
                                                                         "user:tiny:9900004"]
    assert (recs[0]["lat"], recs[0]["lon"], recs[0]["country"]) == (35.91234, 36.70321, "SY")
    assert recs[5]["precision"] == "admin2"
    from geo_idlib.places.gazetteer import Gazetteer

    assert Gazetteer().geocode("Zaytunat").raw["admin1"] == "Idlib"   # the dump's admin1 code 12, named
    # the index tells toponyms about the new names too
    assert load_index().lookup("til zaytunat al wadi")[0].source == "user:tiny"
    r = run("gazetteer", "add", str(FIX / "tiny_geonames.txt"), "--name", "tiny")
    assert r.exit_code == 2 and "exists" in r.stderr
    r = run("gazetteer", "remove", "tiny")
    assert r.exit_code == 0 and "removed gazetteer tiny (5 places)" in r.stderr
    assert run("gazetteer", "list", "--json").stdout.strip() == "[]"
    recs = json.loads(run("geocode", "Tell Zaytunat al-Wadi").stdout)
    assert not recs[0]["place_id"].startswith("user:")
    r = run("gazetteer", "remove", "tiny")
    assert r.exit_code == 1 and "no such user gazetteer" in r.stderr


def test_csv_gazetteer_infers_country(home):
    r = run("gazetteer", "add", str(FIX / "tiny_places.csv"))
    assert r.exit_code == 0, r.output
    recs = json.loads(run("geocode", "Birkat Nakhlah", "Tell Sawwan").stdout)
    assert recs[0]["place_id"] == "user:tiny_places:2" and recs[0]["country"] == "SY"
    assert recs[1]["place_id"] == "user:tiny_places:3" and recs[1]["country"] == "SY"  # nearest GeoNames place
    assert json.loads(run("gazetteer", "list", "--json").stdout)[0]["format"] == "csv"


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("town,a,b\nA,1,2\n", "no name, lat, lon column"),
    ("name,lat,lon\nA,95,36\nB,north,36\n", "no row with a name and valid lat/lon"),
    ("name,lat,lon\n" + "".join(f"P{i},35.{i},36.{i}\n" for i in range(10)) + "Bad,35,500\n", "1 of 11 rows"),
    ("1\tA\tA\t\t35\t36\tP\tPPL\tSY\t\t\t\t\t\t0\t\t\t\t\n2\tB\tB\n", "line 2 has 3 tab-separated columns"),
    ("1\tA\tA\t\t35\t36\tP\tPPL\tSY\t\t\t\t\t\t0\t\t\t\n", "line 1 has 18 tab-separated columns"),
])
def test_bad_gazetteer_files_give_one_line_errors(home, tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content, encoding="utf-8")
    r = run("gazetteer", "add", str(p))
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert run("gazetteer", "list", "--json").stdout.strip() == "[]"  # nothing half-added


def test_missing_and_non_utf8_files(home, tmp_path):
    r = run("gazetteer", "add", str(tmp_path / "nope.csv"))
    assert r.exit_code == 2 and "no such gazetteer file" in r.stderr
    p = tmp_path / "latin1.csv"
    p.write_bytes("name,lat,lon\nAl\xe9p,36,37\n".encode("latin-1"))
    r = run("gazetteer", "add", str(p))
    assert r.exit_code == 2 and "not UTF-8" in r.stderr


def test_few_bad_rows_are_skipped_with_a_warning():
    text = "name,lat,lon,is_place_marker\n" + "".join(f"P{i},35.{i},36.{i},1\n" for i in range(30)) + \
        "Bad,35,500,1\nOverlay,35,36,0\n,35,36,1\n"
    rows, stats = parse_user_gazetteer(text, "x.csv")
    assert len(rows) == 30 and stats.bad == 1 and stats.skipped_not_place == 1 and stats.skipped_no_name == 1
    assert stats.first_bad == "line 32 (Bad: lat '35', lon '500')"


@pytest.mark.shared
def test_wikipedia_village_gazetteer(home):
    csv = shared_file("data/syria_places_wikipedia_2017/syria_places_wikipedia_2017.csv")
    before = {x["query"]: x for x in json.loads(run("geocode", "Hayyan", "Anadan", "Jarjanaz", "--country", "SY").stdout)}
    assert not any(x["place_id"].startswith("user:") for x in before.values())
    r = run("gazetteer", "add", str(csv), "--name", "wiki2017")
    assert r.exit_code == 0, r.output
    assert "Kharab Suluq" in r.stderr  # the one row with an impossible longitude is named and skipped
    info = json.loads(run("gazetteer", "list", "--json").stdout)[0]
    assert info["name"] == "wiki2017" and 4919 <= info["rows"] <= 6184
    recs = {x["query"]: x for x in json.loads(run("geocode", "Hayyan", "Anadan", "Jarjanaz").stdout)}
    # coordinates as in the file (Wikipedia module, CC BY-SA 4.0)
    assert (recs["Hayyan"]["lat"], recs["Hayyan"]["lon"]) == (36.3223, 37.059)
    assert (recs["Anadan"]["lat"], recs["Anadan"]["lon"]) == (36.295, 37.0438)
    assert (recs["Jarjanaz"]["lat"], recs["Jarjanaz"]["lon"]) == (35.618, 36.784)
    assert all(x["place_id"].startswith("user:wiki2017:") and x["country"] == "SY" for x in recs.values())


def test_geocode_online_fallback_against_a_fake_nominatim(home, tmp_path):
    """Only the name the gazetteer lacks is asked, on 127.0.0.1; the answer keeps its online: id."""
    from fakes.nominatim import FakeGeocodingServer, nominatim_item

    from geo_idlib import pipeline
    from geo_idlib.places.online import OnlineGeocoder

    places = {"Tell Qarmad Zzyx": [nominatim_item("Tell Qarmad Zzyx", 36.01, 36.9, osm_type="node", osm_id=42,
                                                  cls="place", typ="village", addresstype="village",
                                                  place_rank=19, importance=0.2)]}
    with FakeGeocodingServer(places) as srv:
        with OnlineGeocoder("nominatim", domain=srv.domain, scheme="http", min_delay_seconds=0,
                            cache_path=tmp_path / "online.sqlite", proxies={}) as online:
            recs = json.loads(pipeline.geocode(["Saraqeb", "Tell Qarmad Zzyx"], online=online))
        asked = srv.count()
    assert recs[0]["place_id"] == "geonames:164816"
    assert recs[1]["place_id"] == "online:nominatim:N42" and recs[1]["status"] == "resolved"
    assert (recs[1]["lat"], recs[1]["lon"], recs[1]["precision"]) == (36.01, 36.9, "settlement")
    assert 0 < recs[1]["confidence"] < 0.9
    assert asked == 1


# --------------------------------------------------------------------------- big files, streamed
def _dump_rows(n: int, start: int = 0) -> str:
    """``n`` GeoNames-format rows of made-up villages west of Idlib (ids 8800000+i, names 'Qaryat Zzq <i>')."""
    return "".join(f"{8800000 + i}\tQaryat Zzq {i}\tQaryat Zzq {i}\tZzq Village {i}\t{35.5 + (i % 500) / 1000:.5f}\t"
                   f"{36.4 + (i // 500) / 1000:.5f}\tP\tPPL\t{'' if i % 7 == 0 else 'SY'}\t\t12\t\t\t\t{i}\t\t\t"
                   "Asia/Damascus\t2026-11-25\n" for i in range(start, start + n))


def _gaz_dir_files(home):
    return sorted(p.name for p in (home / "gazetteers").iterdir())


def test_streamed_add_gives_the_parsed_places(home):
    """The user index holds exactly the rows parse_user_gazetteer reads from the same file."""
    import sqlite3

    from geo_idlib.places.store import add_user_gazetteer, user_index_path

    text = (FIX / "tiny_geonames.txt").read_text(encoding="utf-8")
    parsed, _ = parse_user_gazetteer(text, "tiny")
    info = add_user_gazetteer(FIX / "tiny_geonames.txt", "tiny")
    assert (info["rows"], info["format"], info["skipped"]) == (5, "geonames", 0)
    con = sqlite3.connect(user_index_path())
    got = con.execute("SELECT place_id, name, lat, lon, country, admin1, feature_code, population FROM places "
                      "ORDER BY id").fetchall()
    con.close()
    assert got == [(f"user:tiny:{r.id}", r.name, r.lat, r.lon, "SY", "Idlib", r.feature_code, r.population)
                   for r in parsed]
    assert [g[6] for g in got] == ["PPL", "PPL", "MT", "ADM2", "PPLL"]   # every feature class is kept
    assert _gaz_dir_files(home) == ["user.sqlite"]


def test_moderately_big_dump_is_indexed_in_batches(home, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "ADD_BATCH_ROWS", 5000)
    p = tmp_path / "villages.txt"
    p.write_text(_dump_rows(20_000), encoding="utf-8")
    seen = []
    info = store.add_user_gazetteer(p, progress=seen.append)
    assert info["rows"] == 20_000 and seen == [5000, 10000, 15000, 20000]
    recs = json.loads(run("geocode", "Qaryat Zzq 0", "Zzq Village 19999", "Qaryat Zzq 12345").stdout)
    assert [x["place_id"] for x in recs] == ["user:villages:8800000", "user:villages:8819999", "user:villages:8812345"]
    assert (recs[2]["lat"], recs[2]["lon"]) == (35.845, 36.424)
    assert recs[0]["country"] == "SY"   # an empty country code, inferred from the nearest GeoNames place
    assert _gaz_dir_files(home) == ["user.sqlite"]


@pytest.mark.parametrize("garbage, message", [
    ("Al\xe9p".encode("latin-1"), "not UTF-8 text (line 1201"),
    (b"\x00\x01\x02PK\x03\x04" * 50, "line 1201 holds binary data"),
])
def test_failure_midway_leaves_the_user_gazetteers_intact(home, tmp_path, monkeypatch, garbage, message):
    monkeypatch.setattr(store, "ADD_BATCH_ROWS", 500)   # two batches are in before the bad line
    assert run("gazetteer", "add", str(FIX / "tiny_geonames.txt"), "--name", "tiny").exit_code == 0
    user = home / "gazetteers" / "user.sqlite"
    before = user.read_bytes()
    p = tmp_path / "broken.txt"
    p.write_bytes(_dump_rows(1200).encode("utf-8") + garbage + b"\n" + _dump_rows(300, 1200).encode("utf-8"))
    for name in ("broken", "tiny"):
        r = run("gazetteer", "add", str(p), "--name", name)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert (message if name == "broken" else "a user gazetteer named 'tiny' exists") in r.stderr
        assert [g["name"] for g in json.loads(run("gazetteer", "list", "--json").stdout)] == ["tiny"]
        assert user.read_bytes() == before and _gaz_dir_files(home) == ["user.sqlite"]   # no temp files left
    assert json.loads(run("geocode", "Zaytunat").stdout)[0]["place_id"] == "user:tiny:9900001"


def test_interrupt_midway_leaves_no_gazetteer(home, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "ADD_BATCH_ROWS", 500)
    p = tmp_path / "villages.txt"
    p.write_text(_dump_rows(2000), encoding="utf-8")

    def ctrl_c(rows):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.add_user_gazetteer(p, progress=ctrl_c)
    assert _gaz_dir_files(home) == [] and store.list_user_gazetteers() == []


def test_bad_coordinates_refuse_a_big_file_early(home, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "EARLY_CHECK_ROWS", 100)
    rows = _dump_rows(3000).splitlines(keepends=True)
    for i in range(0, 100, 10):   # 10 of the first 100 rows have latitude 135
        rows[i] = rows[i].replace("\t35.", "\t135.", 1)
    p = tmp_path / "swapped.txt"
    p.write_text("".join(rows), encoding="utf-8")
    r = run("gazetteer", "add", str(p))
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "10 of the first 100 rows have no valid lat/lon (first: line 1 (Qaryat Zzq 0: lat '135.50000'" in r.stderr
    assert run("gazetteer", "list", "--json").stdout.strip() == "[]"
    # the same share spread over the whole file (1 in 20 rows, within MAX_BAD_SHARE) is skipped with a warning
    rows = _dump_rows(3000).splitlines(keepends=True)
    for i in range(5, 3000, 20):
        rows[i] = rows[i].replace("\t35.", "\t135.", 1)
    p.write_text("".join(rows), encoding="utf-8")
    r = run("gazetteer", "add", str(p))
    assert r.exit_code == 0 and "added gazetteer swapped: 2850 places" in r.stderr and "150 rows skipped" in r.stderr
