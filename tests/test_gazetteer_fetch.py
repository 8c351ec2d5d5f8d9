"""`geo-idlib gazetteer fetch`: GeoNames' export downloaded from a fake server on 127.0.0.1 (never the
internet), checked and indexed; every failure is one line with its exit code, and leaves nothing."""

from __future__ import annotations

import hashlib
import io as stdio
import json
import socket
import zipfile

import pytest
from click.testing import CliRunner
from fakes.files import FakeFileServer, File

from geo_idlib import io
from geo_idlib.cli import cli
from geo_idlib.places import fetch, store

#: Rows of a GeoNames export (19 tab-separated columns), made-up places in Syria.
ROWS = [
    ["9000001", "Khan Mithal", "Khan Mithal", "Khan Methal,خان مثال", "36.12000", "37.03000", "P", "PPL", "SY",
     "", "09", "", "", "", "1200", "", "350", "Asia/Damascus", "2024-01-01"],
    ["9000002", "Tall Mithal", "Tall Mithal", "", "36.20000", "37.10000", "T", "HLL", "SY", "", "09", "", "", "",
     "0", "", "420", "Asia/Damascus", "2024-01-01"],
    ["9000003", "Wadi Mithal", "Wadi Mithal", "", "35.80000", "36.60000", "H", "WAD", "SY", "", "12", "", "", "",
     "0", "", "300", "Asia/Damascus", "2024-01-01"],
]


def export_zip(member: str = "SY.txt", rows=ROWS, text: str | None = None) -> bytes:
    """A GeoNames export zip as download.geonames.org serves it: the rows and a readme."""
    buf = stdio.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, text if text is not None else "".join("\t".join(r) + "\n" for r in rows))
        z.writestr("readme.txt", "GeoNames export (test fixture)\n")
    return buf.getvalue()


GOOD = export_zip()


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Any host but 127.0.0.1 fails to resolve: these tests never reach the internet."""
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if str(host) not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no network to {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(scope="module")
def server():
    files = {
        "/dump/SY.zip": File(GOOD),
        "/dump/TR.zip": File(GOOD[: len(GOOD) // 2]),                 # a truncated zip, served whole
        "/dump/IQ.zip": File(GOOD, cut=len(GOOD) // 3),               # the connection closes early
        "/dump/LB.zip": File(GOOD, delay=3.0),                        # slower than the timeout
        "/dump/JO.zip": File(export_zip(member="XX.txt")),            # not the expected member
        "/dump/IL.zip": File(export_zip(member="IL.txt", text="name,lat,lon\nA,1,2\n")),  # not GeoNames rows
        "/dump/PS.zip": File(b"busy", status=503),
        "/dump/allCountries.zip": File(export_zip(member="allCountries.txt")),
    }
    with FakeFileServer(files) as srv:
        yield srv


@pytest.fixture()
def dirs(tmp_path, monkeypatch):
    """Fresh user data and cache dirs (the index itself is shared through the test cache)."""
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(fetch.BASE_URL_ENV, raising=False)
    return tmp_path / "home"


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def leftovers() -> list[str]:
    """geo_idlib's temporary files in the cache and data dirs."""
    return sorted(p.name for d in (io.cache_dir(), io.data_dir(), store.user_index_path().parent)
                  if d.exists() for p in d.iterdir() if io.is_temp_name(p.name))


def test_fetch_downloads_checks_and_indexes(server, dirs):
    r = run("gazetteer", "fetch", "sy", "--base-url", server.url("/dump"))
    assert r.exit_code == 0, r.output
    assert server.requests[-1] == "/dump/SY.zip"
    err = r.stderr.splitlines()
    assert err[0] == f"geo-idlib: gazetteer fetch: downloading {server.url('/dump/SY.zip')} (0.0 MB)"
    assert any(line.startswith("geo-idlib: gazetteer fetch: checked SY.zip") for line in err)
    assert err[-1] == f"added gazetteer geonames_sy: 3 places from {server.url('/dump/SY.zip')}"
    [g] = json.loads(run("gazetteer", "list", "--json").stdout)
    assert (g["name"], g["rows"], g["source"], g["format"]) == ("geonames_sy", 3, server.url("/dump/SY.zip"),
                                                                "geonames")
    recs = json.loads(run("geocode", "Khan Methal", "خان مثال", "Tall Mithal").stdout)
    assert [x["place_id"] for x in recs] == ["user:geonames_sy:9000001"] * 2 + ["user:geonames_sy:9000002"]
    assert (recs[0]["lat"], recs[0]["lon"], recs[2]["feature_code"]) == (36.12, 37.03, "HLL")
    assert leftovers() == []


def test_base_url_from_the_environment_and_all_countries(server, dirs, monkeypatch):
    monkeypatch.setenv(fetch.BASE_URL_ENV, server.url("/dump/"))
    r = run("-q", "gazetteer", "fetch", "allCountries", "--name", "world")
    assert r.exit_code == 0, r.output
    assert server.requests[-1] == "/dump/allCountries.zip"
    assert r.stderr == f"added gazetteer world: 3 places from {server.url('/dump/allCountries.zip')}\n"


def user_index_digest() -> str:
    p = store.user_index_path()
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""


@pytest.mark.parametrize("code, exit_code, message", [
    ("TR", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/TR\.zip: not a complete zip archive \(.+\); try again "
              r"\(the download may have been cut\)$"),
    ("IQ", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/IQ\.zip: the download stopped after [\d,]+ of \d+ bytes; "
              r"try again$"),
    ("LB", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/LB\.zip: cannot download \(timed out\); check that you are "
              r"online, or --base-url / \$GEO_IDLIB_GEONAMES_URL$"),
    ("XK", 2, r"^Error: http://127\.0\.0\.1:\d+/dump/XK\.zip: no such file on the server \(HTTP 404\); check the "
              r"code \(ISO 3166-1 alpha-2 such as SY, or allCountries\) and --base-url$"),
    ("PS", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/PS\.zip: the server answered HTTP 503 .*; try again later$"),
    ("JO", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/JO\.zip: no JO\.txt in the archive \(it holds XX\.txt, "
              r"readme\.txt\); try again"),
    ("IL", 1, r"^Error: http://127\.0\.0\.1:\d+/dump/IL\.zip: IL\.txt is not a GeoNames export \(its first row has 1 "
              r"tab-separated columns, not 19\); check --base-url$"),
])
def test_a_failed_fetch_is_one_line_and_leaves_nothing(server, dirs, code, exit_code, message):
    assert run("-q", "gazetteer", "fetch", "SY", "--base-url", server.url("/dump")).exit_code == 0
    before = user_index_digest()
    r = run("-q", "gazetteer", "fetch", code, "--base-url", server.url("/dump"), "--timeout", "0.5")
    assert r.exit_code == exit_code, r.output
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert __import__("re").match(message, r.stderr.strip()), r.stderr
    assert "Traceback" not in r.output
    assert user_index_digest() == before        # the user gazetteers are as they were
    assert [g["name"] for g in store.list_user_gazetteers()] == ["geonames_sy"]
    assert leftovers() == []                    # no download, no half-built index


@pytest.mark.parametrize("args, message", [
    (["Syria"], "Error: gazetteer fetch 'Syria': not a country code; give an ISO 3166-1 alpha-2 code (e.g. SY, TR, "
                "UA) or allCountries"),
    (["SY", "--base-url", "ftp://example.org/dump"], "Error: --base-url 'ftp://example.org/dump': not an http(s) URL; "
                                                     "e.g. https://download.geonames.org/export/dump/"),
    (["SY", "--timeout", "0"], "Error: --timeout 0.0: give a positive number of seconds, e.g. 60"),
])
def test_bad_arguments_are_refused_before_any_request(server, dirs, args, message):
    n = server.count()
    r = run("gazetteer", "fetch", *args)
    assert (r.exit_code, r.stderr.strip()) == (2, message)
    assert server.count() == n


def test_a_taken_name_is_refused_before_the_download(server, dirs):
    assert run("-q", "gazetteer", "fetch", "SY", "--base-url", server.url("/dump")).exit_code == 0
    n = server.count()
    r = run("gazetteer", "fetch", "SY", "--base-url", server.url("/dump"))
    assert r.exit_code == 2 and server.count() == n
    assert "a user gazetteer named 'geonames_sy' exists; remove it first" in r.stderr


def test_the_default_goes_to_geonames_only_when_asked(dirs):
    """Offline by default: the URL is GeoNames' own, and with no network the error is one line."""
    assert fetch.export_url("sy") == "https://download.geonames.org/export/dump/SY.zip"
    r = run("-q", "gazetteer", "fetch", "SY", "--timeout", "2")
    assert r.exit_code == 1
    assert r.stderr.strip().startswith("Error: https://download.geonames.org/export/dump/SY.zip: cannot download (")
    assert leftovers() == []
