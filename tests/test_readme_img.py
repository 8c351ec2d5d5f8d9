"""The README's picture, docs/img/sample_map.png: the export the README quotes, a real map, small.

`make readme-img` (scripts/make_readme_png.py) regenerates it with the PNG export.
"""

from __future__ import annotations

import json

import numpy as np
from conftest import ROOT

from scripts import make_readme_png

PNG = ROOT / "docs" / "img" / "sample_map.png"
MAX_BYTES = 400 * 1024


def test_the_readme_shows_the_export_it_quotes():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "](docs/img/sample_map.png)" in readme
    s = make_readme_png
    quoted = f"geo-idlib map {s.REPORT} --from {s.D1} --to {s.D2} -o docs/img/sample_map.png"
    assert quoted in readme, "the README's caption and scripts/make_readme_png.py disagree"


def test_the_picture_is_a_small_map_in_the_palette():
    from PIL import Image

    assert PNG.stat().st_size < MAX_BYTES
    with Image.open(PNG) as im:
        assert im.format == "PNG" and im.size == (1200, 800)
        px = np.asarray(im.convert("RGB"), dtype=float)
    pal = json.loads((ROOT / "geo_idlib" / "data" / "palette.json").read_text(encoding="utf-8"))
    opacity = pal["area_fill_opacity"]

    def rgb(hex_colour):
        return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)

    land = rgb(pal["basemap"]["land"])
    for actor in ("government", "opposition", "unknown"):
        fill = opacity * rgb(pal["actors"][actor]["color"]) + (1 - opacity) * land  # an area over land
        share = float((np.abs(px - fill).max(axis=2) <= 4).mean())
        assert share > 0.01, f"{actor}'s fill covers {share:.2%} of the picture"

