"""The composed flow used by the CLI and by notebooks.

Each public function here is what one CLI command does, with plain Python arguments, so that a
notebook can call the same thing: read inputs (through :mod:`geo_idlib.io`), run the stages, and
return results or write outputs atomically.
"""

from __future__ import annotations

import logging

from . import io

log = logging.getLogger("geo_idlib")


def no_progress(items, label: str = "", length: int | None = None):
    """The default progress reporter: a context manager that yields ``items`` unchanged."""
    import contextlib

    return contextlib.nullcontext(items)


def write_output(text: str, path: str, overwrite: bool = False) -> None:
    """Atomically write a text output (GeoJSON, CSV, JSON, HTML)."""
    io.write_text(path, text, overwrite=overwrite)


# ============================================================================ places / geocode


# ============================================================================ areas / join / change


# ============================================================================ map
