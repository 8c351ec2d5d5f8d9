"""Static export of a map: a PNG screenshot in Debian's headless Chromium (never downloaded)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import folium

from .. import io
from ..errors import InputError, RenderError
from .element import to_html

# --------------------------------------------------------------------------- PNG export
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


DEFAULT_CHROMIUM = "/usr/bin/chromium"


def find_chromium(chromium: str | None = None) -> str:
    """The headless Chromium to use: ``chromium``, $GEO_IDLIB_CHROMIUM, /usr/bin/chromium or PATH."""
    import shutil

    for c in (chromium, os.environ.get("GEO_IDLIB_CHROMIUM"), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if c and os.path.exists(c):
            return c
    raise RenderError("PNG export needs a headless Chromium: none at /usr/bin/chromium nor on PATH; install it "
                      "(Debian/Ubuntu: sudo apt-get install chromium) or set GEO_IDLIB_CHROMIUM to a Chrome "
                      "or Chromium binary, or write .html instead")


def _page_file(html_or_path) -> tuple[Path, Path | None]:
    """The HTML file to open, and the temporary file written for it (to remove afterwards) or None."""
    if isinstance(html_or_path, folium.Map):
        tmp = io.temp_html_file(to_html(html_or_path))
        return tmp, tmp
    if isinstance(html_or_path, (str, os.PathLike)) and not str(html_or_path).lstrip().startswith("<"):
        path = Path(html_or_path)
        if not path.exists():
            raise InputError(f"{path}: no such HTML file; give the map's .html path or its HTML text")
        return path, None
    tmp = io.temp_html_file(str(html_or_path))
    return tmp, tmp


def _screenshot(exe: str, url: str, width: int, height: int, timeout_s: float, allow_network: bool) -> bytes:
    """A PNG of the page at ``url`` once its map is ready, from headless Chromium at ``exe``."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result: dict = {}

    def shoot():  # in its own thread: playwright's sync API refuses a thread with a running asyncio loop (Jupyter)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": int(width), "height": int(height)})
                    if not allow_network:
                        page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
                    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                    page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=timeout_s * 1000)
                    result["png"] = page.screenshot(type="png", full_page=False)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            result["error"] = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    worker = threading.Thread(target=shoot, name="geo_idlib-png")
    worker.start()
    worker.join()
    if "png" not in result:
        raise RenderError(f"PNG export: headless Chromium failed ({result.get('error', 'no image')}); "
                          f"check {exe} or write .html instead")
    return result["png"]


def to_png(html_or_path, out_png, width: int = 1200, height: int = 800, *, chromium: str | None = None,
           overwrite: bool = False, timeout_s: float = 30.0, allow_network: bool = False) -> str:
    """Screenshot a map in headless Chromium and write it atomically as PNG.

    Parameters
    ----------
    html_or_path : str or path-like or folium.Map
        An HTML file path, HTML text, or a map from :func:`build_map`.
    out_png : path
    width, height : int
        The viewport (and image) size in CSS pixels.
    chromium : str, optional
        Path of the browser (see :func:`find_chromium`); it is never downloaded.
    allow_network : bool
        False (default): every request other than the file itself is blocked.

    Returns
    -------
    str
        ``out_png``.
    """
    if not (100 <= int(width) <= 8000 and 100 <= int(height) <= 8000):
        raise InputError(f"PNG size {width}x{height}: give a width and height between 100 and 8000 pixels")
    io.check_output(out_png, overwrite)
    exe = find_chromium(chromium)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise RenderError("PNG export needs playwright, a dependency of geo_idlib: reinstall geo_idlib "
                          "(pip install geo_idlib); the browser itself is Debian's chromium, never downloaded") from None
    path, tmp = _page_file(html_or_path)
    try:
        png = _screenshot(exe, Path(path).resolve().as_uri(), width, height, timeout_s, allow_network)
    finally:
        if tmp is not None:
            io.remove_temp_file(tmp)
    io.write_bytes(out_png, png, overwrite=overwrite)
    return str(out_png)
