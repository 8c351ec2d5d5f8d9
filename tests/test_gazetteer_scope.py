"""Which user gazetteers a run uses: the active ones by default, `--gazetteer NAME` (repeatable,
`all`, `none`) on places, geocode, map and areas infer; `gazetteer add|fetch --inactive`,
`gazetteer activate|deactivate`, and `gazetteer list` showing what is active."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from geo_idlib import pipeline
from geo_idlib.cli import cli
from geo_idlib.places import store

# Two small gazetteers of made-up places; "Qaryat Mithal" is in both, 40 km apart.
ALPHA = "name,lat,lon,country_code\nTall Mithal,36.10000,37.00000,SY\nQaryat Mithal,36.00000,36.80000,SY\n"
BETA = "name,lat,lon,country_code\nKhirbat Mithal,35.70000,36.60000,SY\nQaryat Mithal,35.80000,37.20000,SY\n"


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def two(tmp_path, monkeypatch):
    """A fresh user data dir holding the gazetteers alpha and beta, both active."""
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))
    for name, text in (("alpha", ALPHA), ("beta", BETA)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        assert run("-q", "gazetteer", "add", str(tmp_path / f"{name}.csv")).exit_code == 0
    return tmp_path


def geocode(*args) -> dict:
    r = run("geocode", "Tall Mithal", "Khirbat Mithal", "Qaryat Mithal", *args)
    assert r.exit_code == 0, r.output
    return {x["query"]: x["place_id"] for x in json.loads(r.stdout)}


def listed() -> dict:
    return {g["name"]: g["active"] for g in json.loads(run("gazetteer", "list", "--json").stdout)}


def test_every_user_gazetteer_is_active_by_default(two):
    assert listed() == {"alpha": True, "beta": True}
    got = geocode()
    assert got["Tall Mithal"] == "user:alpha:2" and got["Khirbat Mithal"] == "user:beta:2"
    assert got["Qaryat Mithal"].startswith(("user:alpha:", "user:beta:"))
    r = run("gazetteer", "list")
    assert r.stdout.splitlines()[0] == "name\trows\tactive\tsource\tadded"
    assert [line.split("\t")[:3] for line in r.stdout.splitlines()[1:]] == [["alpha", "2", "yes"], ["beta", "2", "yes"]]


def test_gazetteer_option_chooses_the_user_gazetteers_of_a_run(two):
    assert geocode("--gazetteer", "alpha") == {"Tall Mithal": "user:alpha:2", "Khirbat Mithal": "",
                                                "Qaryat Mithal": "user:alpha:3"}
    assert geocode("--gazetteer", "beta") == {"Tall Mithal": "", "Khirbat Mithal": "user:beta:2",
                                               "Qaryat Mithal": "user:beta:3"}
    assert geocode("--gazetteer", "none") == {"Tall Mithal": "", "Khirbat Mithal": "", "Qaryat Mithal": ""}
    both = geocode("--gazetteer", "alpha", "--gazetteer", "beta")
    assert both["Tall Mithal"] == "user:alpha:2" and both["Khirbat Mithal"] == "user:beta:2"


def test_inactive_gazetteers_are_used_only_when_named(two):
    r = run("gazetteer", "deactivate", "beta")
    assert r.exit_code == 0 and r.stderr == "gazetteer beta: inactive (runs use it with --gazetteer beta)\n"
    assert listed() == {"alpha": True, "beta": False}
    assert geocode() == {"Tall Mithal": "user:alpha:2", "Khirbat Mithal": "", "Qaryat Mithal": "user:alpha:3"}
    assert geocode("--gazetteer", "beta")["Khirbat Mithal"] == "user:beta:2"
    assert geocode("--gazetteer", "all")["Khirbat Mithal"] == "user:beta:2"
    assert run("gazetteer", "activate", "beta").exit_code == 0
    assert listed() == {"alpha": True, "beta": True} and geocode()["Khirbat Mithal"] == "user:beta:2"


def test_add_inactive(two):
    (two / "gamma.csv").write_text("name,lat,lon\nWadi Mithal,35.9,36.9\n", encoding="utf-8")
    r = run("gazetteer", "add", str(two / "gamma.csv"), "--inactive")
    assert r.exit_code == 0
    assert r.stderr.endswith("; inactive: runs use it with --gazetteer gamma\n")
    assert listed() == {"alpha": True, "beta": True, "gamma": False}
    assert json.loads(run("geocode", "Wadi Mithal").stdout)[0]["status"] == "unresolved"
    assert json.loads(run("geocode", "Wadi Mithal", "--gazetteer", "gamma").stdout)[0]["place_id"] == "user:gamma:2"


@pytest.mark.parametrize("args, message", [
    (["--gazetteer", "gamma"], "Error: --gazetteer gamma: no such user gazetteer (have: alpha, beta); "
                               "see geo-idlib gazetteer list"),
    (["--gazetteer", "none", "--gazetteer", "alpha"], "Error: --gazetteer none: 'none' cannot be combined with "
                                                      "names; see geo-idlib gazetteer list"),
])
def test_unknown_names_are_bad_input(two, args, message):
    for cmd in (["geocode", "Tall Mithal"], ["places", str(two / "alpha.csv")]):
        r = run(*cmd, *args)
        assert (r.exit_code, r.stderr.strip(), r.stdout) == (2, message, "")
    r = run("gazetteer", "deactivate", "gamma")
    assert r.exit_code == 1 and r.stderr.strip() == ("Error: gamma: no such user gazetteer (have: alpha, beta); "
                                                     "see geo-idlib gazetteer list")


def test_reserved_names(two):
    r = run("gazetteer", "add", str(two / "alpha.csv"), "--name", "all")
    assert r.exit_code == 2 and "'all' and 'none' mean every and no gazetteer to --gazetteer" in r.stderr


def test_places_map_and_areas_infer_take_the_scope(two, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("Shelling hit Tall Mithal and Khirbat Mithal on Monday, residents said.\n", encoding="utf-8")
    out = json.loads(run("places", str(report), "--format", "json", "--gazetteer", "alpha").stdout)
    assert {p["mention"]: p["place_id"] for p in out} == {"Tall Mithal": "user:alpha:2", "Khirbat Mithal": ""}
    out = json.loads(run("places", str(report), "--format", "json").stdout)
    assert {p["mention"]: p["place_id"] for p in out} == {"Tall Mithal": "user:alpha:2",
                                                           "Khirbat Mithal": "user:beta:2"}
    # areas infer: observations that name places of beta only
    obs = tmp_path / "obs.csv"
    obs.write_text("date,actor,place\n2020-01-01,government,Khirbat Mithal\n2020-01-01,opposition,Qaryat Mithal\n",
                   encoding="utf-8")
    r = run("areas", "infer", str(obs), "--within", "Idlib,Hama,Aleppo", "-o", str(tmp_path / "t.gpkg"),
            "--gazetteer", "alpha")
    assert r.exit_code == 2 and "Khirbat Mithal" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run("areas", "infer", str(obs), "--within", "Idlib,Hama,Aleppo", "-o", str(tmp_path / "t.gpkg"),
            "--gazetteer", "beta")
    assert r.exit_code == 0, r.output
    # the map geocodes its reports with the run's gazetteers
    m = pipeline.map_report([str(report)], gazetteers=["alpha"])
    html = m.get_root().render()
    assert "Tall Mithal" in html
    r = run("map", str(report), "-o", str(tmp_path / "m.html"), "--gazetteer", "delta")
    assert r.exit_code == 2 and "--gazetteer delta: no such user gazetteer" in r.stderr
    assert not (tmp_path / "m.html").exists()


def test_a_user_index_without_the_active_column(two):
    """A user index written by geo_idlib 0.1 (no `active` column): every gazetteer counts as active."""
    con = sqlite3.connect(store.user_index_path())
    with con:
        con.execute("ALTER TABLE gazetteers DROP COLUMN active")
    con.close()
    store.forget_loaded()
    assert listed() == {"alpha": True, "beta": True}
    assert geocode("--gazetteer", "beta")["Tall Mithal"] == ""
    assert run("gazetteer", "deactivate", "alpha").exit_code == 0
    assert listed() == {"alpha": False, "beta": True}


def test_partitioned_places_use_the_gazetteers_of_the_run(two, tmp_path):
    """``places -o DIR/`` (partitioned GeoParquet) honours --gazetteer like the one-file output."""
    import pandas as pd

    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "Shelling hit Tall Mithal and Khirbat Mithal.",
                                "date": "2020-02-20"}) + "\n", encoding="utf-8")

    def ids(*args) -> dict:
        out = tmp_path / ("out" + "-".join(args))
        r = run("-q", "places", str(docs), "-o", f"{out}/", *args)
        assert r.exit_code == 0, r.output
        got = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
        return dict(zip(got["mention"], got["place_id"].fillna(""), strict=True))

    assert ids() == {"Tall Mithal": "user:alpha:2", "Khirbat Mithal": "user:beta:2"}
    assert ids("--gazetteer", "beta") == {"Tall Mithal": "", "Khirbat Mithal": "user:beta:2"}
    r = run("places", str(docs), "-o", f"{tmp_path / 'bad'}/", "--gazetteer", "gamma")
    assert r.exit_code == 2 and "--gazetteer gamma: no such user gazetteer" in r.output
    assert not (tmp_path / "bad").exists()


def test_the_name_automaton_holds_the_keys_of_the_run_scope(two):
    """One trie per scope of the user gazetteers: a run with alpha alone does not leave a trie
    without beta's names for the next run, nor one with beta's names for a run without it."""
    from geo_idlib.places import automaton

    def keys(scope):
        a = automaton.load(store.load_index(gazetteers=scope))
        return {k for k in ("tal mithal", "hirbat mithal", "karyat mithal") if k in a}

    assert keys(("alpha",)) == {"tal mithal", "karyat mithal"}
    assert keys(None) == {"tal mithal", "hirbat mithal", "karyat mithal"}
    assert keys(("beta",)) == {"hirbat mithal", "karyat mithal"}
    assert keys(()) == set()
    assert keys(("alpha",)) == {"tal mithal", "karyat mithal"}   # the other scopes' tries stay usable
