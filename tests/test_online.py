"""The optional online geocoder against a real fake Nominatim/Photon/ArcGIS HTTP server on 127.0.0.1.

No request leaves 127.0.0.1: an autouse fixture makes name resolution of any other host fail (and
records the attempt), and a test proves that guard works.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time

import pytest
from fakes.nominatim import (
    ARCGIS_PATH,
    NOMINATIM_PATH,
    PHOTON_PATH,
    FakeGeocodingServer,
    Reply,
    nominatim_item,
)
from geopy.adapters import URLLibAdapter

from geo_idlib import errors, io
from geo_idlib.places import online, store
from geo_idlib.places.online import OnlineGeocoder, clear_cache

UA = "geo_idlib-tests/1.0 (+tests)"
# Coordinates are those of the real places (OSM/GeoNames); OSM ids are illustrative.
PLACES = {
    "idlib": [nominatim_item("Idlib", 35.9306, 36.6339, osm_type="relation", osm_id=5712960, addresstype="city",
                             place_rank=16, importance=0.52, state="Idlib Governorate")],
    "saraqib": [nominatim_item("Saraqib", 35.8647, 36.8006, osm_type="node", osm_id=315384421, cls="place",
                               typ="town", addresstype="town", place_rank=18, importance=0.41,
                               state="Idlib Governorate")],
    "idlib governorate": [nominatim_item("Idlib Governorate", 35.75, 36.6667, osm_id=1722601,
                                         addresstype="state", place_rank=8, importance=0.6,
                                         state="Idlib Governorate")],
    "maarrat al-nu'man district": [nominatim_item("Maarrat al-Nu'man District", 35.6, 36.7, osm_id=8112131,
                                                  addresstype="county", place_rank=12, importance=0.3,
                                                  state="Idlib Governorate")],
    "syria": [nominatim_item("Syria", 34.6401, 39.0494, osm_id=184840, addresstype="country", place_rank=4,
                             importance=0.9)],
    "jabal al-zawiya": [nominatim_item("Jabal al-Zawiya", 35.6833, 36.5667, osm_type="node", osm_id=77,
                                       cls="natural", typ="mountain_range", addresstype="mountain_range",
                                       place_rank=18, importance=None, state="Idlib Governorate")],
    "tripoli": [nominatim_item("Tripoli", 34.4367, 35.8497, osm_type="node", osm_id=31, cls="place", typ="city",
                               addresstype="city", importance=0.6, country_code="lb", state="North Governorate")],
    "aleppo": [nominatim_item("Aleppo Township", 40.5334, -80.1406, osm_id=41, addresstype="town",
                              importance=0.2, country_code="us", state="Pennsylvania"),
               nominatim_item("Aleppo", 36.2021, 37.1343, osm_id=42, addresstype="city", importance=0.7,
                              state="Aleppo Governorate")],
    # a made-up village that no offline gazetteer holds
    "tall mithal": [nominatim_item("Tall Mithal", 36.355, 37.185, osm_type="node", osm_id=51, cls="place",
                                   typ="village", addresstype="village", place_rank=19, importance=None,
                                   state="Aleppo Governorate")],
}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Refuse to resolve any host but 127.0.0.1/localhost; the blocked hosts are recorded."""
    real = socket.getaddrinfo
    blocked = []

    def guarded(host, *args, **kwargs):
        h = host.decode() if isinstance(host, bytes) else str(host)
        if h not in ("127.0.0.1", "localhost", "::1"):
            blocked.append(h)
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no network to {h}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return blocked


@pytest.fixture(scope="module")
def _server():
    with FakeGeocodingServer(PLACES) as srv:
        yield srv


@pytest.fixture
def server(_server):
    _server.reset()
    yield _server
    _server.reset()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "online_geocode.sqlite"


@pytest.fixture
def make(server, cache):
    made = []

    def factory(service="nominatim", **kw):
        opts = {"user_agent": UA, "domain": server.domain, "scheme": "http", "min_delay_seconds": 0.0,
                "error_wait_seconds": 0.01, "timeout": 0.5, "cache_path": cache, "proxies": {}}
        opts.update(kw)
        g = OnlineGeocoder(service, **opts)
        made.append(g)
        return g

    yield factory
    for g in made:
        g.close()


def cache_state(path):
    """All rows and SQLite's own integrity verdict, read independently of the code under test."""
    con = sqlite3.connect(path)
    try:
        rows = sorted(con.execute("SELECT service, endpoint, query, country, answer, fetched_at FROM answers"))
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    return rows, ok


# --------------------------------------------------------------------------- normal answers
@pytest.mark.parametrize("query, country, expected", [
    ("Idlib", "SY", dict(name="Idlib", lat=35.9306, lon=36.6339, place_id="online:nominatim:R5712960",
                         country="SY", admin1="Idlib", feature_code="PPL", precision="settlement",
                         confidence=0.66)),
    ("Saraqib", None, dict(name="Saraqib", lat=35.8647, lon=36.8006, place_id="online:nominatim:N315384421",
                           country="SY", feature_code="PPL", precision="settlement", confidence=0.605)),
    ("Idlib Governorate", "SY", dict(place_id="online:nominatim:R1722601", feature_code="ADM1",
                                     precision="admin1", confidence=0.7)),
    ("Maarrat al-Nu'man District", "sy", dict(feature_code="ADM2", precision="admin2", confidence=0.55)),
    ("Syria", None, dict(feature_code="PCLI", precision="country", country="SY", confidence=0.85)),
    ("Jabal al-Zawiya", "SY", dict(feature_code="MTS", precision="region", confidence=0.4)),
])
def test_nominatim_answers_become_places_records(make, server, query, country, expected):
    rec = make().lookup(query, country=country)
    assert rec is not None
    for key, value in expected.items():
        assert rec[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    assert rec["source"] == "online:nominatim"
    assert rec["raw"] == PLACES[query.casefold()][0]
    assert server.count(NOMINATIM_PATH) == 1


def test_answers_of_older_nominatim_versions(make, server):
    """Nominatim before 4.3 sends neither addresstype, name nor place_rank: the address decides."""
    old = {"place_id": 1, "osm_type": "relation", "osm_id": 1722601, "lat": "35.75", "lon": "36.6667",
           "display_name": "Idlib Governorate, Syria", "class": "boundary", "type": "administrative",
           "importance": 0.6, "address": {"state": "Idlib Governorate", "country": "Syria", "country_code": "sy"}}
    server.script(Reply(body=[old]))
    rec = make().lookup("Idlib Governorate")
    assert (rec["name"], rec["precision"], rec["feature_code"], rec["admin1"], rec["country"]) == \
        ("Idlib Governorate", "admin1", "ADM1", "Idlib", "SY")


def test_request_is_polite_and_restricted_to_the_country(make, server):
    make().lookup("  Idlib ", country="SY")
    (path, params, headers), = server.requests
    assert path == NOMINATIM_PATH
    assert params["q"] == "Idlib"
    assert params["countrycodes"] == "sy"
    assert params["format"] == "json" and params["addressdetails"] == "1" and params["limit"] == "1"
    assert params["accept-language"] == "en"
    assert headers["user-agent"] == UA


def test_country_filter_picks_the_place_in_that_country(make, server):
    g = make()
    assert g.lookup("Aleppo", country="SY")["lat"] == pytest.approx(36.2021)
    assert g.lookup("Aleppo")["country"] == "US"  # the service's own first answer without a country
    assert g.lookup("Tripoli", country="SY") is None
    assert g.lookup("Tripoli", country="LB")["country"] == "LB"
    assert server.count() == 4


def test_empty_answer_is_none_and_cached_as_not_found(make, server, cache):
    g = make()
    assert g.lookup("Nowhere-al-Sharqi", country="SY") is None
    assert g.lookup("nowhere-al-sharqi", country="SY") is None
    assert server.count() == 1 and g.cache_hits == 1
    rows, ok = cache_state(cache)
    assert ok == "ok"
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [("nominatim", "nowhere-al-sharqi", "SY", None)]


def test_not_found_expires_but_found_answers_do_not(make, server, cache):
    g = make()
    g.lookup("Nowhere-al-Sharqi")
    g.lookup("Idlib")
    con = sqlite3.connect(cache)
    with con:  # age both rows: 31 days (not found) and 400 days (found)
        con.execute("UPDATE answers SET fetched_at = fetched_at - 31 * 86400 WHERE answer IS NULL")
        con.execute("UPDATE answers SET fetched_at = fetched_at - 400 * 86400 WHERE answer IS NOT NULL")
    con.close()
    assert server.count() == 2
    assert make().lookup("Idlib")["name"] == "Idlib"
    assert server.count() == 2  # still a cache hit
    assert make().lookup("Nowhere-al-Sharqi") is None
    assert server.count() == 3  # asked again after 31 days (default expiry 30 days)
    assert online.DEFAULT_NEGATIVE_TTL_DAYS == 30.0


def test_second_call_is_a_cache_hit_that_makes_no_request(make, server, cache):
    first = make().lookup("Saraqib", country="SY")
    assert server.count() == 1
    g = make()  # a new geocoder (as in a later run) on the same cache file
    again = g.lookup("SARAQIB", country="sy")
    assert again == first
    assert server.count() == 1 and g.cache_hits == 1 and g.requests == 0
    g.lookup("Saraqib")  # another country key is another question
    assert server.count() == 2
    assert store.online_cache_stats(cache) == {"path": str(cache), "rows": 2, "found": 2, "not_found": 0}


def test_empty_query_asks_nothing(make, server):
    assert make().lookup("  \n ") is None
    assert server.count() == 0


# --------------------------------------------------------------------------- failures
def _seed(g):
    """Put one found and one not-found answer in the cache; return the state before the failure."""
    assert g.lookup("Idlib") is not None
    assert g.lookup("Nowhere-al-Sharqi") is None
    return cache_state(g.cache_path)


FAILURES = {
    "429 always": ([Reply(429, {"error": "Too Many Requests"}, {"Retry-After": "0"})] * 3, 3,
                   "nominatim: rate limited (HTTP 429) after 3 attempts; try again later or run without --online"),
    "429 Retry-After too long": ([Reply(429, "", {"Retry-After": "3600"})], 1,
                                 "nominatim: rate limited (HTTP 429, Retry-After 3600 s is longer than the 30 s "
                                 "we wait); try again later or run without --online"),
    "500 always": ([Reply(500, "<h1>Internal Server Error</h1>", content_type="text/html")] * 3, 3,
                   "nominatim: server error (HTTP 500) after 3 attempts from http://127.0.0.1:{port}; "
                   "try again later or run without --online"),
    "503 always": ([Reply(503, "Service Unavailable", content_type="text/plain")] * 3, 3,
                   "nominatim: server error (HTTP 503) after 3 attempts from http://127.0.0.1:{port}; "
                   "try again later or run without --online"),
    "400 bad query": ([Reply(400, {"error": {"code": 400, "message": "Nothing to search for."}})], 1,
                      "nominatim: the service rejected the query (HTTP 400: Nothing to search for.); check the "
                      "place name, or run without --online"),
    "timeout": ([Reply(delay=3.0)] * 3, 3,
                "nominatim: no answer from http://127.0.0.1:{port} within 0.2 s after 3 attempts (timed out); "
                "check the network, try again later or run without --online"),
    "malformed JSON": ([Reply(200, "<html>Service temporarily unavailable")], 1,
                       "nominatim: malformed answer from http://127.0.0.1:{port} (not JSON: "
                       "'<html>Service temporarily unavailable'); the service or a proxy sent something else; "
                       "try again later or run without --online"),
    "truncated JSON": ([Reply(200, '[{"lat": "35.86", "lon": ')], 1, "nominatim: malformed answer"),
    "JSON of another shape": ([Reply(200, [{"name": "Saraqib"}])], 1,
                              "nominatim: malformed answer from http://127.0.0.1:{port} (JSON without the expected "
                              "fields: `address` must not be None); the service or a proxy sent something that is "
                              "not a geocoding answer; try again later or run without --online"),
    "JSON with bad coordinates": ([Reply(200, [{"display_name": "Saraqib", "lat": "north", "lon": "36.8"}])], 1,
                                  "nominatim: malformed answer from http://127.0.0.1:{port} (JSON without the "
                                  "expected fields"),
    "403 bad user agent": ([Reply(403, "Access blocked")], 1,
                           "nominatim: refused by http://127.0.0.1:{port} (HTTP 403); the usage policy needs a "
                           "real user agent"),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_each_failure_is_one_clear_line_and_leaves_the_cache_intact(make, server, name):
    replies, attempts, message = FAILURES[name]
    g = make(timeout=0.2)
    before = _seed(g)
    assert before[1] == "ok" and len(before[0]) == 2
    n0 = server.count()
    server.script(*replies)
    t0 = time.monotonic()
    with pytest.raises(errors.GeocoderServiceError) as info:
        g.lookup("Saraqib", country="SY")
    elapsed = time.monotonic() - t0
    text = str(info.value)
    assert text.startswith(message.format(port=server.port)), text
    assert "\n" not in text and len(text) < 300
    assert server.count() - n0 == attempts
    assert elapsed < 2.0  # timeouts of 0.2 s, short retry pauses, no 3600 s wait
    assert cache_state(g.cache_path) == before  # same rows, integrity ok: errors are not cached
    # the error was not cached: once the service is back, the query is asked and answered
    assert g.lookup("Saraqib", country="SY")["name"] == "Saraqib"
    assert server.count() - n0 == attempts + 1


def test_retry_after_is_honoured_then_the_retry_succeeds(make, server, cache, caplog):
    g = make()
    server.script(Reply(429, {"error": "slow down"}, {"Retry-After": "1"}))
    t0 = time.monotonic()
    with caplog.at_level(logging.INFO):
        rec = g.lookup("Saraqib")
    elapsed = time.monotonic() - t0
    assert rec["place_id"] == "online:nominatim:N315384421"
    assert server.count() == 2
    assert 0.95 <= elapsed < 2.0
    assert cache_state(cache)[0][0][2] == "saraqib"
    ours = [r.getMessage() for r in caplog.records if r.name == "geo_idlib"]
    assert ours == ["nominatim: rate limited (HTTP 429); retrying in 1.0 s (attempt 2 of 3)"]
    assert not [r for r in caplog.records if r.name.startswith("geopy") and r.levelno >= logging.WARNING]


def test_a_transient_500_is_retried(make, server):
    server.script(Reply(500, "oops", content_type="text/plain"), Reply(502, "bad gateway", content_type="text/plain"))
    assert make().lookup("Idlib")["name"] == "Idlib"
    assert server.count() == 3


def test_connection_refused(make, cache):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    g = make(domain=f"127.0.0.1:{port}", max_retries=1)
    with pytest.raises(errors.GeocoderServiceError, match=rf"^nominatim: cannot connect to http://127\.0\.0\.1:{port} "
                       r"after 2 attempts \(connection refused\); check the network"):
        g.lookup("Idlib")
    assert not cache.exists() or cache_state(cache)[0] == []


def test_a_corrupt_cache_file_is_named_with_its_fix(make, server, cache):
    cache.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(errors.GeocoderServiceError, match=r"online_geocode\.sqlite: the online geocoder cache is "
                                                          r"unusable \(file is not a database\); delete the file"):
        make().lookup("Idlib")
    assert server.count() == 0


def test_urllib_adapter_gives_the_same_results(make, server):
    g = make(adapter_factory=URLLibAdapter, timeout=0.3, max_retries=0)
    assert g.lookup("Idlib", country="SY")["place_id"] == "online:nominatim:R5712960"
    server.script(Reply(500, "oops", content_type="text/plain"))
    with pytest.raises(errors.GeocoderServiceError, match=r"server error \(HTTP 500\) after 1 attempt "):
        g.lookup("Saraqib")
    server.script(Reply(200, "<html>"))
    with pytest.raises(errors.GeocoderServiceError, match="malformed answer"):
        g.lookup("Saraqib")
    server.script(Reply(delay=2.0))
    with pytest.raises(errors.GeocoderServiceError, match=r"within 0\.3 s after 1 attempt \(timed out\)"):
        g.lookup("Saraqib")


# --------------------------------------------------------------------------- other services
def test_photon_answers_and_client_side_country_filter(make, server):
    g = make("photon")
    rec = g.lookup("Saraqib")
    assert rec["place_id"] == "online:photon:N315384421"
    assert (rec["lat"], rec["lon"], rec["country"], rec["precision"], rec["feature_code"]) == \
        (pytest.approx(35.8647), pytest.approx(36.8006), "SY", "settlement", "PPL")
    assert g.lookup("Aleppo", country="SY")["name"] == "Aleppo"  # the 2nd candidate, the one in SY
    assert g.lookup("Tripoli", country="SY") is None
    assert [p for p, _, _ in server.requests] == [PHOTON_PATH] * 3
    assert server.requests[1][1]["limit"] == "5"


def test_arcgis_answers(make, server):
    g = make("arcgis")
    rec = g.lookup("Idlib Governorate", country="SY")
    assert rec["place_id"] == "online:arcgis:35.75000,36.66670"
    assert (rec["country"], rec["precision"], rec["feature_code"], rec["confidence"]) == ("SY", "admin1", "ADM1", 0.9)
    assert g.lookup("Aleppo", country="SY")["lat"] == pytest.approx(36.2021)
    assert server.requests[0][0] == ARCGIS_PATH


# --------------------------------------------------------------------------- configuration
def test_bad_service_and_country_are_input_errors(make):
    with pytest.raises(errors.InputError, match="unknown service; use one of arcgis, nominatim, photon"):
        OnlineGeocoder("google")
    with pytest.raises(errors.InputError, match=r"--country Syria: not an ISO 3166-1 alpha-2 code"):
        make().lookup("Idlib", country="Syria")


def test_defaults_are_the_polite_public_service(monkeypatch):
    monkeypatch.delenv("GEO_IDLIB_USER_AGENT", raising=False)
    with OnlineGeocoder() as g:
        assert g.endpoint == "https://nominatim.openstreetmap.org"
        assert g.min_delay_seconds == 1.0 and g.timeout == 10
        assert g.user_agent.startswith("geo_idlib/")
        assert g.cache_path == io.cache_dir() / "online_geocode.sqlite"
    monkeypatch.setenv("GEO_IDLIB_USER_AGENT", "newsroom-maps/2 (maps@example.org)")
    with OnlineGeocoder() as g:
        assert g.user_agent == "newsroom-maps/2 (maps@example.org)"


def test_environment_points_the_cli_at_another_instance(monkeypatch):
    monkeypatch.setenv("GEO_IDLIB_ONLINE_URL", "http://nominatim.internal:8080/")
    monkeypatch.setenv("GEO_IDLIB_ONLINE_SERVICE", "photon")
    with OnlineGeocoder() as g:
        assert (g.service.name, g.endpoint) == ("photon", "http://nominatim.internal:8080")
    with OnlineGeocoder("nominatim", domain="osm.example.org") as g:  # explicit arguments win
        assert (g.service.name, g.endpoint) == ("nominatim", "https://osm.example.org")
    monkeypatch.setenv("GEO_IDLIB_ONLINE_URL", "nominatim.internal")
    with pytest.raises(errors.InputError, match=r"GEO_IDLIB_ONLINE_URL=nominatim\.internal: not an http\(s\) "
                                                r"address; use e\.g\. https://nominatim\.example\.org"):
        OnlineGeocoder()


def test_the_loopback_guard_stops_real_network(only_loopback, cache):
    with OnlineGeocoder(cache_path=cache, min_delay_seconds=0, error_wait_seconds=0, max_retries=0,
                        timeout=0.5, proxies={}) as g, pytest.raises(errors.GeocoderServiceError,
                                                                    match="cannot connect"):
        g.lookup("Idlib")
    assert only_loopback and set(only_loopback) == {"nominatim.openstreetmap.org"}


def test_clear_cache(make, server, cache):
    make().lookup("Idlib")
    make("photon").lookup("Idlib")
    make().lookup("Nowhere-al-Sharqi")
    assert clear_cache("photon", cache_path=cache) == 1
    assert store.online_cache_stats(cache)["rows"] == 2
    assert clear_cache(cache_path=cache) == 2
    assert cache_state(cache) == ([], "ok")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(online, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_lookup_many_asks_each_distinct_name_once(make, server):
    seen = []

    def progress(items, label, length=None):
        import contextlib

        seen.append((label, length))
        return contextlib.nullcontext(items)

    got = make().lookup_many(["Idlib", "Saraqib", "Idlib", "Nowhere-al-Sharqi"], country="SY", progress=progress)
    assert list(got) == ["Idlib", "Saraqib", "Nowhere-al-Sharqi"]
    assert got["Saraqib"]["place_id"] == "online:nominatim:N315384421" and got["Nowhere-al-Sharqi"] is None
    assert server.count() == 3 and seen == [("nominatim (online)", 3)]


def test_public_nominatim_is_never_asked_faster_than_once_a_second(cache):
    with OnlineGeocoder(min_delay_seconds=0.1, cache_path=cache) as g:
        assert g.min_delay_seconds == 1.0
    with OnlineGeocoder(min_delay_seconds=0.1, domain="nominatim.example.org", cache_path=cache) as g:
        assert g.min_delay_seconds == 0.1  # your own instance, your own policy


def test_a_crash_in_the_middle_of_a_write_leaves_the_cache_intact(make, server, cache):
    """A process killed inside a write transaction: SQLite rolls it back on the next open."""
    import subprocess
    import sys

    before = _seed(make())
    code = ("import os, sys\nfrom geo_idlib.places import store\n"
            "with store.online_db(sys.argv[1]) as con:\n"
            "    con.execute('BEGIN IMMEDIATE')\n"
            "    con.execute(\"DELETE FROM answers\")\n"
            "    con.execute(\"INSERT INTO answers VALUES ('nominatim', 'x', 'half', '', '{', 0)\")\n"
            "    os._exit(3)\n")
    done = subprocess.run([sys.executable, "-c", code, str(cache)], timeout=60)
    assert done.returncode == 3
    assert cache_state(cache) == before
    assert make().lookup("Idlib")["name"] == "Idlib" and server.count() == 2  # still served from the cache


def test_admin1_is_spelt_as_the_gazetteer_spells_it(make, server):
    assert online.canonical_admin1("SY", "Idlib Governorate") == "Idlib"
    assert online.canonical_admin1("SY", "Rif-Dimashq Governorate") == "Rif-dimashq"
    assert online.canonical_admin1("TR", "Hatay Province") == "Hatay"
    assert online.canonical_admin1("LB", "North Governorate") == "North Governorate"  # unknown: as given
    assert online.canonical_admin1("SY", None) is None
    assert make().lookup("Tripoli")["admin1"] == "North Governorate"
    assert make("photon").lookup("Saraqib")["admin1"] == "Idlib"


def test_lookup_many_stops_at_the_first_failure_and_keeps_what_it_got(make, server, cache):
    server.script(Reply(body=PLACES["idlib"]), *[Reply(500, "down", content_type="text/plain")] * 3)
    with pytest.raises(errors.GeocoderServiceError, match=r"^nominatim: server error \(HTTP 500\) after 3 attempts"):
        make().lookup_many(["Idlib", "Saraqib", "Syria"])
    assert server.count() == 4  # Syria was never asked
    assert [r[2] for r in cache_state(cache)[0]] == ["idlib"]


@pytest.mark.slow  # builds the GeoNames index when the test cache is cold (about a minute)
def test_cli_online_end_to_end(server, monkeypatch, tmp_path):
    """geo-idlib geocode --online: offline first, the fake Nominatim for the rest, cache on rerun."""
    import json

    from click.testing import CliRunner

    from geo_idlib.cli import cli

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEO_IDLIB_HOME", str(tmp_path / "home"))  # no user gazetteers
    monkeypatch.setenv("GEO_IDLIB_ONLINE_URL", f"http://{server.domain}")
    monkeypatch.setenv("GEO_IDLIB_USER_AGENT", UA)
    clear_cache()
    args = ["geocode", "Saraqeb", "Tall Mithal", "--country", "SY", "--online"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    saraqeb, mithal = json.loads(first.stdout)
    assert saraqeb["place_id"].startswith("geonames:")  # the offline gazetteer answers first
    assert (mithal["place_id"], mithal["status"], mithal["precision"], mithal["country"]) == \
        ("online:nominatim:N51", "resolved", "settlement", "SY")
    assert (mithal["lat"], mithal["lon"]) == (pytest.approx(36.355), pytest.approx(37.185))
    (path, params, headers), = server.requests
    assert (params["q"], params["countrycodes"], headers["user-agent"]) == ("Tall Mithal", "sy", UA)

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and again.stdout == first.stdout
    assert server.count() == 1  # the second run was answered by the cache

    server.script(Reply(403, "Access blocked"))
    failed = CliRunner().invoke(cli, ["geocode", "Tall Mithal Thani", "--country", "SY", "--online"])
    assert failed.exit_code == 0  # the geocode stage's documented fallback: warn, leave unresolved
    assert json.loads(failed.stdout)[0]["status"] == "unresolved"
    assert "nominatim: refused by http://127.0.0.1:" in failed.stderr and failed.stderr.count("\n") == 1
