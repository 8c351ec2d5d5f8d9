"""GeoNames' full export of a country (or of the world), fetched on request and indexed.

``geo-idlib gazetteer fetch SY`` downloads ``<base URL>/SY.zip`` (GeoNames' daily export, CC BY 4.0:
every feature of the country, with alternate names in every script), checks it (a complete zip
archive, the member ``SY.txt``, rows of 19 tab-separated columns) and indexes it through the
streaming, atomic ``gazetteer add`` (:func:`geo_idlib.places.store.add_gazetteer_lines`) as the user
gazetteer ``geonames_sy``. ``allCountries`` fetches the world (about 400 MB zipped, 12 M rows).

Nothing goes online unless this is asked for. The base URL is :data:`DEFAULT_BASE_URL`, or
``$GEO_IDLIB_GEONAMES_URL``, or the ``base_url`` argument (``--base-url``): a mirror, or a server of
your own. Every failure is one line: a bad code or a file the server does not have (HTTP 404) is
bad input (:class:`~geo_idlib.errors.InputError`); no connection, a timeout, another HTTP error or
a truncated or damaged download is a :class:`~geo_idlib.errors.DownloadError`. The download goes
to a temporary file in the cache dir that is removed whatever happens, and the user gazetteers
change only when every row is in.

Examples
--------
>>> export_name("sy"), export_name("ALLCOUNTRIES")
('SY', 'allCountries')
>>> export_url("SY", "http://127.0.0.1:8000/dump")
'http://127.0.0.1:8000/dump/SY.zip'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator

from .. import io
from ..errors import DownloadError, InputError
from . import store

log = logging.getLogger("geo_idlib")

#: Where GeoNames publishes its daily export.
DEFAULT_BASE_URL = "https://download.geonames.org/export/dump/"
#: The environment variable that overrides :data:`DEFAULT_BASE_URL`.
BASE_URL_ENV = "GEO_IDLIB_GEONAMES_URL"
#: Seconds to wait for the server to answer or to send more data.
TIMEOUT_S = 60.0
#: Bytes read from the connection at a time.
_CHUNK = 1 << 16


def export_name(code: str) -> str:
    """The export a code names: an ISO 3166-1 alpha-2 code in upper case, or ``allCountries``."""
    c = (code or "").strip()
    if c.casefold() == "allcountries":
        return "allCountries"
    if re.fullmatch(r"[A-Za-z]{2}", c):
        return c.upper()
    raise InputError(f"gazetteer fetch {code!r}: not a country code; give an ISO 3166-1 alpha-2 code "
                     "(e.g. SY, TR, UA) or allCountries")


def base_url(url: str | None = None) -> str:
    """The base URL to fetch from: ``url``, else ``$GEO_IDLIB_GEONAMES_URL``, else GeoNames'."""
    u = url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not re.match(r"^https?://[^/\s]+", u):
        raise InputError(f"--base-url {u!r}: not an http(s) URL; e.g. {DEFAULT_BASE_URL}")
    return u


def export_url(code: str, url: str | None = None) -> str:
    """The URL of the export zip of ``code`` under the base URL."""
    return f"{base_url(url).rstrip('/')}/{export_name(code)}.zip"


def _chunks(response, url: str, total: int | None, progress: Callable[[str], None] | None) -> Iterator[bytes]:
    """The body of ``response`` in chunks; a line to ``progress`` at every tenth (every 8 MB when
    the size is unknown); a short body is a :class:`DownloadError`."""
    import http.client

    done, step = 0, (total // 10 if total else 8 << 20) or 1
    next_report = step
    while True:
        try:
            chunk = response.read(_CHUNK)
        except http.client.IncompleteRead as exc:
            done += len(exc.partial)
            raise DownloadError(f"{url}: the download stopped after {done:,} of {total or '?'} bytes; try again") from None
        except (TimeoutError, OSError) as exc:
            raise DownloadError(f"{url}: the download stopped after {done:,} bytes ({_reason(exc)}); "
                                "try again, or raise --timeout") from None
        if not chunk:
            break
        done += len(chunk)
        if progress is not None and done >= next_report:
            progress(f"downloaded {done / 1e6:,.1f}" + (f" of {total / 1e6:,.1f} MB" if total else " MB"))
            next_report += step
        yield chunk
    if total is not None and done < total:
        raise DownloadError(f"{url}: the download stopped after {done:,} of {total:,} bytes; try again")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason) or type(reason).__name__


def download(url: str, dest, *, timeout: float = TIMEOUT_S, progress: Callable[[str], None] | None = None) -> int:
    """Download ``url`` into the new file ``dest``; return its size in bytes. One-line errors:
    HTTP 404 → :class:`InputError`; anything else → :class:`DownloadError`."""
    import urllib.error
    import urllib.request

    from .. import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"geo_idlib/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) only: base_url)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 404:
            raise InputError(f"{url}: no such file on the server (HTTP 404); check the code (ISO 3166-1 alpha-2 "
                             "such as SY, or allCountries) and --base-url") from None
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}; try again later") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError(f"{url}: cannot download ({_reason(exc)}); check that you are online, or --base-url "
                            f"/ ${BASE_URL_ENV}") from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if progress is not None:
            progress(f"downloading {url}" + (f" ({total / 1e6:,.1f} MB)" if total else ""))
        return io.write_chunks(dest, _chunks(response, url, total, progress))


def check_export(path, member: str, url: str) -> int:
    """A complete zip holding ``member``, whose first row is a GeoNames row (19 tab-separated
    columns, a numeric id): the member's size in bytes; a :class:`DownloadError` naming ``url``
    otherwise."""
    from .build import GEONAMES_COLUMNS

    try:
        size = io.check_zip(path, member, url)
        first = next((ln for ln in io.iter_zip_lines(path, member, "GeoNames export") if ln.strip()), "")
    except InputError as exc:
        raise DownloadError(f"{exc}; try again (the download may have been cut)") from None
    fields = first.rstrip("\r\n").split("\t")
    if len(fields) != len(GEONAMES_COLUMNS) or not fields[0].strip().isdigit():
        raise DownloadError(f"{url}: {member} is not a GeoNames export (its first row has {len(fields)} "
                            f"tab-separated columns, not {len(GEONAMES_COLUMNS)}); check --base-url")
    return size


def fetch_geonames(code: str, name: str | None = None, *, url: str | None = None, timeout: float = TIMEOUT_S,
                   progress: Callable[[str], None] | None = None, rows_progress=None, index=None,
                   active: bool = True) -> dict:
    """Download GeoNames' export of ``code`` and index it as a user gazetteer (default name
    ``geonames_<code>``); returns the summary of :func:`geo_idlib.places.store.add_gazetteer_lines`.

    ``progress`` gets lines about the download, ``rows_progress`` the rows indexed so far;
    ``active=False``: only runs that name the gazetteer use it.
    """
    export = export_name(code)
    where = export_url(export, url)
    if timeout is None or not timeout > 0:
        raise InputError(f"--timeout {timeout}: give a positive number of seconds, e.g. 60")
    gname = store.new_gazetteer_name(name, f"geonames_{export}", where)
    member = f"{export}.txt"
    with io.temporary_download(f"geonames-{export}.zip") as tmp:
        size = download(where, tmp, timeout=timeout, progress=progress)
        rows_size = check_export(tmp, member, where)
        if progress is not None:
            progress(f"checked {export}.zip ({size / 1e6:,.1f} MB); indexing {member} ({rows_size / 1e6:,.1f} MB)")
        lines = io.iter_zip_lines(tmp, member, "GeoNames export")
        return store.add_gazetteer_lines(lines, gname, source=where, what=f"{where}:{member}", size=rows_size,
                                         index=index, progress=rows_progress, active=active)
