"""The geo_idlib error hierarchy.

Every error a user can cause is a :class:`GeoIdlibError`. Like geopy's errors, each subclass also
subclasses the matching builtin, so ``except ValueError`` keeps working for callers who do not know
this package. The CLI turns :class:`InputError` into exit code 2 and every other
:class:`GeoIdlibError` into exit code 1, always as one line and never as a traceback.

Messages name the input and say how to fix it, e.g.
``report.txt: not UTF-8 text (byte 0xff at offset 12); re-save the file as UTF-8``.
"""

from __future__ import annotations


class GeoIdlibError(Exception):
    """Base class of every error raised on purpose by geo_idlib."""

    exit_code = 1


class InputError(GeoIdlibError, ValueError):
    """Bad input from the user: a file, a column, a date, an option value."""

    exit_code = 2


class InputFileNotFound(InputError, FileNotFoundError):
    """An input path that does not exist."""


class CRSError(InputError):
    """A layer without a CRS, or with one that cannot be used."""


class DateError(InputError):
    """An unparseable date, a date outside a timeline's coverage, or --from later than --to."""


class OutputError(GeoIdlibError, OSError):
    """An output that cannot be written (exists without --overwrite, unwritable directory)."""

    exit_code = 2


class OutputExists(OutputError, FileExistsError):
    """The output file exists and ``overwrite`` was not given."""


class GazetteerError(GeoIdlibError, LookupError):
    """The gazetteer index is missing, corrupt, or a user gazetteer cannot be found."""


class GeocoderServiceError(GeoIdlibError, RuntimeError):
    """An online geocoder failed (HTTP error, rate limit, timeout, malformed answer)."""


class DownloadError(GeoIdlibError, ConnectionError):
    """A download failed: no connection, a timeout, an HTTP error, a truncated or damaged file."""


class RenderError(GeoIdlibError, RuntimeError):
    """A map could not be rendered (e.g. no headless browser for PNG export)."""
