"""Static exports of a map through Debian's headless Chromium (never downloaded): the publish layout as
PNG, PDF or SVG, and timelapses (GIF, MP4) encoded by ffmpeg."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import folium
import pandas as pd

from .. import io
from ..errors import InputError, RenderError
from .element import to_html

# --------------------------------------------------------------------------- the browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_FFMPEG = "/usr/bin/ffmpeg"


def find_chromium(chromium: str | None = None) -> str:
    """The headless Chromium to use: ``chromium``, $GEO_IDLIB_CHROMIUM, /usr/bin/chromium or PATH."""
    import shutil

    for c in (chromium, os.environ.get("GEO_IDLIB_CHROMIUM"), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if c and os.path.exists(c):
            return c
    raise RenderError("static export (PNG, PDF, SVG, GIF, MP4) needs a headless Chromium: none at /usr/bin/chromium "
                      "nor on PATH; install it (Debian/Ubuntu: sudo apt-get install chromium) or set "
                      "GEO_IDLIB_CHROMIUM to a Chrome or Chromium binary, or write .html instead")


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


#: Static export formats: the publish layout (png, pdf, svg) and timelapses (gif, mp4).
FORMATS = ("png", "pdf", "svg", "gif", "mp4")
TIMELAPSE = ("gif", "mp4")

#: Frame steps of a timelapse (``--every``).
EVERY = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}

#: Frames per second of a timelapse.
FPS = 2


def _in_chromium(exe: str, url: str, width: int, height: int, scale: float, work, timeout_s: float,
                 allow_network: bool):
    """``work(page)`` on the page at ``url`` once its map is ready, in headless Chromium at ``exe``."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result: dict = {}
    page_url = url.split("#", 1)[0]

    def run():  # in its own thread: playwright's sync API refuses a thread with a running asyncio loop (Jupyter)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": int(width), "height": int(height)},
                                            device_scale_factor=float(scale))
                    if not allow_network:
                        page.route("**/*", lambda route: route.continue_() if route.request.url == page_url
                                   else route.abort())
                    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                    page.wait_for_function("window.geoIdlib && window.geoIdlib.ready === true", timeout=timeout_s * 1000)
                    result["out"] = work(page)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            result["error"] = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    worker = threading.Thread(target=run, name="geo_idlib-static")
    worker.start()
    worker.join()
    if "out" not in result:
        raise RenderError(f"static export: headless Chromium failed ({result.get('error', 'no output')}); "
                          f"check {exe} or write .html instead")
    return result["out"]


def _publish(page, fmt: str) -> bytes:
    """The publish layout as PNG, PDF (text kept as text) or SVG (labels and furniture as <text>)."""
    if fmt == "png":
        return page.screenshot(type="png", full_page=False)
    if fmt == "pdf":
        page.emulate_media(media="screen")
        size = page.viewport_size
        return without_pdf_dates(page.pdf(width=f"{size['width']}px", height=f"{size['height']}px",
                                          print_background=True, page_ranges="1"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + page.evaluate("geoIdlib.svg()") + "\n").encode("utf-8")


def without_pdf_dates(pdf: bytes) -> bytes:
    r"""``pdf`` without the creation and modification times Chromium stamps on it, so that the same
    map gives the same bytes. Each entry becomes as many spaces (the cross-reference offsets hold).

    >>> without_pdf_dates(b"<</Title (M)\n/CreationDate (D:20240101120000+00'00')>>")
    b'<</Title (M)\n                                       >>'
    """
    return re.sub(rb"/(?:CreationDate|ModDate) \(D:[0-9+\-Z']*\)", lambda m: b" " * len(m[0]), pdf)


def check_size(width, height, scale) -> None:
    """:class:`InputError` unless the page is 100–8000 CSS pixels a side and ``scale`` 0.5–4."""
    if not (100 <= int(width) <= 8000 and 100 <= int(height) <= 8000):
        raise InputError(f"map size {width}x{height}: give a width and height between 100 and 8000 pixels")
    if not (0.5 <= float(scale) <= 4):
        raise InputError(f"--scale {scale}: give a scale between 0.5 and 4 (2 for retina)")


def _run(html_or_path, out, width, height, scale, chromium, overwrite, timeout_s, allow_network, fragment, work):
    """Check the inputs, open the map's page with ``fragment`` in Chromium, return ``work(page)``."""
    check_size(width, height, scale)
    io.check_output(out, overwrite)
    exe = find_chromium(chromium)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise RenderError("static export needs playwright, a dependency of geo_idlib: reinstall geo_idlib "
                          "(pip install geo_idlib); the browser itself is Debian's chromium, never downloaded") from None
    path, tmp = _page_file(html_or_path)
    try:
        return _in_chromium(exe, Path(path).resolve().as_uri() + fragment, width, height, scale, work,
                            timeout_s, allow_network)
    finally:
        if tmp is not None:
            io.remove_temp_file(tmp)


def export(html_or_path, out, width: int = 1200, height: int = 800, *, scale: float = 1, chromium: str | None = None,
           overwrite: bool = False, timeout_s: float = 30.0, allow_network: bool = False,
           fmt: str | None = None) -> str:
    """Write a map's publish layout as PNG, PDF or SVG (``fmt``, or ``out``'s suffix), through headless Chromium.

    The publish layout has the title, subtitle and key figures above the map and the legend and
    credit line below it, and no interactive widget (zoom buttons, slider, layer switcher, swipe,
    folding panels). PDF keeps every text as text (Chromium's PDF); SVG is the map's own SVG panes
    with the labels, title, legend and credit as ``<text>``.

    Parameters
    ----------
    html_or_path : str or path-like or folium.Map
        An HTML file path, HTML text, or a map from :func:`build_map`.
    out : path
        ``.png``, ``.pdf`` or ``.svg`` (any name with ``fmt``).
    width, height : int
        The page size in CSS pixels.
    scale : float
        Device pixels per CSS pixel (2 for retina PNGs).
    chromium : str, optional
        Path of the browser (see :func:`find_chromium`); it is never downloaded.
    allow_network : bool
        False (default): every request other than the file itself is blocked.
    fmt : {"png", "pdf", "svg"}, optional
        The format (``--format``); default: ``out``'s suffix.
    """
    fmt = fmt or Path(out).suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        raise InputError(f"{out}: a static map is .png, .pdf or .svg (a timelapse .gif or .mp4)")
    data = _run(html_or_path, out, width, height, scale, chromium, overwrite, timeout_s, allow_network,
                "#publish=1", lambda page: _publish(page, fmt))
    io.write_bytes(out, data, overwrite=overwrite)
    return str(out)


def to_png(html_or_path, out_png, width: int = 1200, height: int = 800, *, chromium: str | None = None,
           overwrite: bool = False, timeout_s: float = 30.0, allow_network: bool = False, scale: float = 1) -> str:
    """The publish layout as PNG (:func:`export` with a ``.png`` output); returns ``out_png``."""
    if Path(out_png).suffix.lower() != ".png":
        raise InputError(f"{out_png}: to_png writes .png; use export() for .pdf and .svg")
    return export(html_or_path, out_png, width, height, scale=scale, chromium=chromium, overwrite=overwrite,
                  timeout_s=timeout_s, allow_network=allow_network, fmt="png")


# --------------------------------------------------------------------------- timelapse
def frame_dates(d1, d2, every: str | None = None, change_dates=()) -> list[str]:
    """The dates of a timelapse's frames: D1, then every day/week/month (or every change date), then D2.

    Examples
    --------
    >>> frame_dates("2020-01-01", "2020-01-20", "week")
    ['2020-01-01', '2020-01-08', '2020-01-15', '2020-01-20']
    >>> frame_dates("2020-01-01", "2020-01-20", None, ["2019-12-01", "2020-01-05", "2020-02-01"])
    ['2020-01-01', '2020-01-05', '2020-01-20']
    """
    if d1 is None or d2 is None:
        raise InputError("a timelapse needs its first and last dates (--from D1 --to D2)")
    a, b = pd.Timestamp(d1).normalize(), pd.Timestamp(d2).normalize()
    if a > b:
        raise InputError(f"--from {a.date()} is after --to {b.date()}; swap them")
    if every is None:
        days = [a] + [d for d in pd.to_datetime(list(change_dates)) if a < d < b]
    elif every in EVERY:
        days, d = [], a
        while d < b:
            days.append(d)
            d = d + EVERY[every]
    else:
        raise InputError(f"--every {every!r}: use day, week or month")
    return [str(d.date()) for d in sorted(set(days + [b]))]


def find_ffmpeg() -> str:
    """ffmpeg: $GEO_IDLIB_FFMPEG, Debian's /usr/bin/ffmpeg or PATH, else the imageio-ffmpeg wheel's."""
    import shutil

    for c in (os.environ.get("GEO_IDLIB_FFMPEG"), DEFAULT_FFMPEG, shutil.which("ffmpeg")):
        if c and os.path.exists(c):
            return c
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise RenderError("a timelapse (GIF, MP4) needs ffmpeg: none at /usr/bin/ffmpeg nor on PATH; install it "
                          "(Debian/Ubuntu: sudo apt-get install ffmpeg; or pip install imageio-ffmpeg) or set "
                          "GEO_IDLIB_FFMPEG to an ffmpeg binary, or write .png or .html instead") from None


def _ffmpeg_args(fmt: str) -> list[str]:
    """Encoding of the frames: GIF with one palette for all frames and only changed rectangles redrawn;
    MP4 (H.264, yuv420p, even sides) for players."""
    if fmt == "gif":
        return ["-filter_complex", "[0:v]split[a][b];[a]palettegen=stats_mode=diff[p];"
                "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle", "-loop", "0", "-f", "gif"]
    return ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-preset", "medium", "-crf", "23", "-movflags", "+faststart", "-f", "mp4"]


def encode_frames(frames: list[bytes], out, fmt: str, overwrite: bool = False, fps: float = FPS) -> str:
    """PNG frames → ``out`` (GIF or MP4) with ffmpeg, written atomically."""
    import subprocess

    exe = find_ffmpeg()
    with io.atomic_output(out, overwrite) as tmp:
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "image2pipe", "-framerate", str(fps),
               "-c:v", "png", "-i", "-", *_ffmpeg_args(fmt), "-fflags", "+bitexact", "-flags:v", "+bitexact",
               "-map_metadata", "-1", str(tmp)]
        res = subprocess.run(cmd, input=b"".join(frames), capture_output=True)
        if res.returncode != 0:
            first = (res.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0]
            raise RenderError(f"{out}: ffmpeg failed ({first}); check {exe}")
    return str(out)


def timelapse(html_or_path, out, d1, d2, *, every: str | None = None, width: int = 1200, height: int = 800,
              scale: float = 1, chromium: str | None = None, overwrite: bool = False, timeout_s: float = 60.0,
              fps: float = FPS, fmt: str | None = None) -> str:
    """A timelapse of the map from ``d1`` to ``d2``: one frame per date, GIF or MP4 (``fmt``, or ``out``'s suffix).

    Each frame is the publish layout on its date, with the date in the subtitle and each side's
    running km² since ``d1``; the view and the labels are the same in every frame. Frames: D1, every
    change date of the timeline up to D2 and D2 (or every ``day``, ``week`` or ``month``).
    """
    fmt = fmt or Path(out).suffix.lower().lstrip(".")
    if fmt not in TIMELAPSE:
        raise InputError(f"{out}: a timelapse is .gif or .mp4")
    change_dates = html_or_path.geo_idlib["time"]["dates"] if isinstance(html_or_path, folium.Map) else ()
    dates = frame_dates(d1, d2, every, change_dates)

    def frames(page):
        shots = []
        for day in dates:
            page.evaluate("(d) => geoIdlib.setDate(d)", day)
            shots.append(page.screenshot(type="png", full_page=False))
        return shots

    shots = _run(html_or_path, out, width, height, scale, chromium, overwrite, timeout_s, False,
                 "#publish=1&frame=1", frames)
    return encode_frames(shots, out, fmt, overwrite=overwrite, fps=fps)
