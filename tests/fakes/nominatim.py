"""A real HTTP server on 127.0.0.1 that plays Nominatim, Photon and ArcGIS for tests.

It listens on a random free port of 127.0.0.1 only, answers from a small table of places (the
coordinates are those of the real towns; OSM ids are illustrative), and can be scripted to fail:
HTTP 429 with Retry-After, HTTP 500, slow answers, malformed JSON. It records every request so a
test can count them (e.g. to prove a cache hit made none).

    with FakeGeocodingServer(PLACES) as srv:
        srv.script(Reply(429, headers={"Retry-After": "1"}))   # the next request gets a 429
        g = OnlineGeocoder(domain=srv.domain, scheme="http", proxies={}, ...)
        ...
        assert srv.count("/search") == 2
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NOMINATIM_PATH = "/search"
PHOTON_PATH = "/api"
ARCGIS_PATH = "/arcgis/rest/services/World/GeocodeServer/findAddressCandidates"
#: ISO2 (lower case, as Nominatim writes it) → (English name, ISO3 as ArcGIS writes it)
COUNTRIES = {"sy": ("Syria", "SYR"), "lb": ("Lebanon", "LBN"), "tr": ("Türkiye", "TUR"),
             "us": ("United States", "USA")}


@dataclass
class Reply:
    """One scripted HTTP answer. ``body``: str/bytes sent as is; anything else JSON-encoded."""

    status: int = 200
    body: object = "[]"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json; charset=utf-8"


def nominatim_item(name, lat, lon, *, osm_type="relation", osm_id=1, cls="boundary", typ="administrative",
                   addresstype="city", place_rank=16, importance=0.5, country_code="sy", state=None):
    """A Nominatim ``format=json&addressdetails=1`` item as the public instance returns it."""
    address = {addresstype: name, "country": COUNTRIES[country_code][0], "country_code": country_code}
    if state:
        address["state"] = state
    return {"place_id": osm_id + 1000, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
            "osm_type": osm_type, "osm_id": osm_id, "lat": f"{lat}", "lon": f"{lon}", "class": cls,
            "type": typ, "place_rank": place_rank, "importance": importance, "addresstype": addresstype,
            "name": name, "display_name": ", ".join(x for x in (name, state, address["country"]) if x),
            "address": address, "boundingbox": [f"{lat - 0.05}", f"{lat + 0.05}", f"{lon - 0.05}", f"{lon + 0.05}"]}


class FakeGeocodingServer:
    """Nominatim (``/search``), Photon (``/api``) and ArcGIS (``findAddressCandidates``) on 127.0.0.1.

    ``places`` maps a case-folded query to a list of Nominatim items; Photon and ArcGIS answers
    are derived from the same items. Scripted replies (:meth:`script`) are served first, in order.
    """

    def __init__(self, places: dict[str, list[dict]] | None = None):
        self.places = {k.casefold(): v for k, v in (places or {}).items()}
        self._script: deque[Reply] = deque()
        self.requests: list[tuple[str, dict, dict]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control
    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        """Forget the requests seen and any scripted replies not yet served."""
        with self._lock:
            self._script.clear()
            self.requests.clear()

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for p, _, _ in self.requests if path is None or p == path)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeGeocodingServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                parts = urlsplit(self.path)
                params = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append((parts.path, params, {k.lower(): v for k, v in self.headers.items()}))
                    reply = fake._script.popleft() if fake._script else None
                if reply is None:
                    reply = fake._answer(parts.path, params)
                if reply.delay and fake._stop.wait(reply.delay):
                    return
                body = reply.body if isinstance(reply.body, (bytes, str)) else json.dumps(reply.body)
                data = body.encode("utf-8") if isinstance(body, str) else body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)

    def __enter__(self) -> FakeGeocodingServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- default answers
    def _items(self, query: str, countries: list[str] | None) -> list[dict]:
        items = self.places.get(" ".join(query.split()).casefold(), [])
        if countries:
            items = [i for i in items if i["address"].get("country_code") in countries]
        return items

    def _answer(self, path: str, params: dict) -> Reply:
        if path == NOMINATIM_PATH:
            cc = params.get("countrycodes")
            items = self._items(params.get("q", ""), cc.split(",") if cc else None)
            return Reply(body=items[: int(params.get("limit", 10))])
        if path == PHOTON_PATH:
            items = self._items(params.get("q", ""), None)[: int(params.get("limit", 10))]
            return Reply(body={"type": "FeatureCollection", "features": [_photon(i) for i in items]})
        if path == ARCGIS_PATH:
            items = self._items(params.get("singleLine", ""), None)
            return Reply(body={"spatialReference": {"wkid": 4326}, "candidates": [_arcgis(i) for i in items]})
        return Reply(404, body={"error": f"no such path {path}"})


def _photon(item: dict) -> dict:
    props = {"osm_type": item["osm_type"][0].upper(), "osm_id": item["osm_id"], "osm_key": item["class"],
             "osm_value": item["type"], "type": {"city": "city", "town": "city", "village": "city",
                                                 "county": "county", "state": "state",
                                                 "country": "country"}.get(item["addresstype"], "other"),
             "name": item["name"], "countrycode": item["address"]["country_code"].upper(),
             "country": item["address"]["country"]}
    if "state" in item["address"]:
        props["state"] = item["address"]["state"]
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(item["lon"]), float(item["lat"])]},
            "properties": props}


def _arcgis(item: dict) -> dict:
    kind = {"city": "City", "town": "Town", "village": "Village", "county": "County",
            "state": "State or Province", "country": "Country"}.get(item["addresstype"], "POI")
    return {"address": item["display_name"], "location": {"x": float(item["lon"]), "y": float(item["lat"])},
            "score": 100, "attributes": {"PlaceName": item["name"], "Type": kind, "Addr_type": "Locality",
                                         "Region": item["address"].get("state", ""),
                                         "Country": COUNTRIES[item["address"]["country_code"]][1],
                                         "Score": 100},
            "extent": {}}
