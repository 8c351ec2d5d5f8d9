"""geo_idlib: from conflict reports to correct maps.

text → place mentions → geocoded places → as-of join with dated control areas → change in km² →
offline Leaflet maps and data files.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo_idlib")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
