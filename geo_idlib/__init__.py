"""geo_idlib: from conflict reports to correct maps.

text → place mentions → geocoded places → as-of join with dated control areas → change in km² →
offline Leaflet maps and data files.

The Python API mirrors the command line (imported lazily, so ``import geo_idlib`` stays fast):

>>> import geo_idlib
>>> callable(geo_idlib.map_report) and callable(geo_idlib.find_places)
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo_idlib")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

#: Top-level names served from :mod:`geo_idlib.pipeline` (what the CLI commands do, as functions).
_API = ("map_report", "write_map", "find_places", "places_on", "read_timeline", "load_admin1", "load_countries")

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'geo_idlib' has no attribute {name!r}")
