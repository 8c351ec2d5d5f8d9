"""``Gazetteer``: a geopy geocoder over the offline gazetteer (GeoNames and user gazetteers).

One geocoder per module, as in geopy: ``Gazetteer().geocode("Saraqeb")`` returns a
:class:`geopy.location.Location` whose ``.raw`` keeps the whole record. It never goes online.
"""

from __future__ import annotations

from ..errors import GazetteerError
from .rank import Match, search
from .store import GazetteerIndex, load_index


# =========================================================================== geopy
def _offline_adapter_factory(*, proxies=None, ssl_context=None):
    from geopy.adapters import BaseSyncAdapter

    class _Offline(BaseSyncAdapter):
        """geopy's HTTP adapter slot, filled by one that refuses: the gazetteer never goes online."""

        def get_json(self, url, *, timeout, headers):
            raise GazetteerError(f"the offline gazetteer does not fetch URLs ({url}); use geo_idlib.places.online")

        def get_text(self, url, *, timeout, headers):
            raise GazetteerError(f"the offline gazetteer does not fetch URLs ({url}); use geo_idlib.places.online")

    return _Offline(proxies=proxies, ssl_context=ssl_context)


def _geopy_base():
    from geopy.geocoders.base import Geocoder

    return Geocoder


class Gazetteer(_geopy_base()):
    """A geopy geocoder backed by the offline gazetteer (GeoNames + user gazetteers); no network.

    ``geocode`` returns :class:`geopy.location.Location` objects whose ``.raw`` holds the
    candidate's fields plus ``confidence``, ``precision``, ``status`` and ``match``.

    Parameters
    ----------
    index : GazetteerIndex, optional
        Defaults to :func:`load_index` (opened on first use).
    country : str, optional
        A context country (ISO2) preferred when a name is ambiguous.
    fuzzy : bool
        Fall back to fuzzy matching for names without an exact (normalised) match.

    Examples
    --------
    >>> loc = Gazetteer().geocode("Saraqeb")
    >>> loc.point.latitude, loc.point.longitude, loc.raw["place_id"]
    (35.86447, 36.80591, 'geonames:164816')
    >>> loc.address
    'Saraqib, Idlib, Syria'
    """

    def __init__(self, index: GazetteerIndex | None = None, *, country: str | None = None, fuzzy: bool = True,
                 user_agent: str | None = None):
        super().__init__(scheme="https", proxies={}, user_agent=user_agent or "geo_idlib-gazetteer",
                         adapter_factory=_offline_adapter_factory)
        self._index = index
        self.country = country.upper() if country else None
        self.fuzzy = fuzzy

    @property
    def index(self) -> GazetteerIndex:
        if self._index is None:
            self._index = load_index()
        return self._index

    def _location(self, m: Match):
        from geopy.location import Location

        c = m.candidate
        country_name = self.index.countries().get(c.country, c.country)
        parts = [c.name]
        if c.admin1 and c.admin1 != c.name and "." not in c.admin1:
            parts.append(c.admin1)
        if country_name and country_name != c.name:
            parts.append(country_name)
        raw = {"place_id": c.place_id, "name": c.name, "lat": c.lat, "lon": c.lon, "country": c.country,
               "admin1": c.admin1, "feature_code": c.feature_code, "population": c.population,
               "source": c.source, "alternatenames": list(c.alternatenames), "precision": c.precision,
               "confidence": m.confidence, "status": m.status, "match": m.match, "score": m.score}
        return Location(", ".join(parts), (c.lat, c.lon), raw)

    def geocode(self, query, *, exactly_one: bool = True, country_codes=None, limit: int | None = None,
                kind: str | None = None, timeout=None):
        """Geocode a place name offline.

        Parameters
        ----------
        query : str or dict
            A place name ("Saraqeb", "Idlib province", "إدلب"); a dict's values are joined.
        exactly_one : bool
            One :class:`~geopy.location.Location` (or None), else a list (or None when empty).
        country_codes : str or list of str, optional
            Only places in these countries (ISO 3166-1 alpha-2), as in geopy's Nominatim.
        limit : int, optional
            At most this many locations when ``exactly_one`` is false (default 5).
        kind : {"settlement", "admin2", "admin1", "country"}, optional
            The kind of place wanted.
        timeout : ignored (offline).

        Examples
        --------
        >>> g = Gazetteer()
        >>> g.geocode("Moscow").raw["country"], g.geocode("Moscow", country_codes="US").raw["country"]
        ('RU', 'US')
        >>> g.geocode("no such place qqq") is None
        True
        """
        if isinstance(query, dict):
            query = ", ".join(str(v) for v in query.values() if v)
        codes = [country_codes] if isinstance(country_codes, str) else list(country_codes or [])
        matches = search(self.index, str(query), country=self.country or (codes[0] if len(codes) == 1 else None),
                                    kind=kind, restrict=codes or None, fuzzy=self.fuzzy,
                                    limit=1 if exactly_one else (limit or 5))
        if not matches:
            return None
        locations = [self._location(m) for m in matches]
        return locations[0] if exactly_one else locations

    def reverse(self, query, *, exactly_one: bool = True, radius_km: float = 50.0, limit: int | None = None,
                timeout=None):
        """The nearest settlement(s) to a ``(lat, lon)`` point (or "lat, lon" text), within ``radius_km``.

        >>> Gazetteer().reverse((35.8645, 36.806)).raw["name"]
        'Saraqib'
        """
        from geopy.point import Point

        p = Point(query)
        found = self.index.nearest(p.latitude, p.longitude, radius_km=radius_km, limit=1 if exactly_one else (limit or 5))
        if not found:
            return None
        locs = []
        for c, km in found:
            loc = self._location(Match(c, 0.0, "reverse", 1.0, round(max(0.0, 1 - km / radius_km), 4), "resolved"))
            loc.raw["distance_km"] = km
            locs.append(loc)
        return locs[0] if exactly_one else locs

