"""The actor palette of maps (``geo_idlib/data/palette.json``) and the actor table of one map."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

import numpy as np

from .. import io

log = logging.getLogger("geo_idlib")

#: The actor index of "no actor" (ground or a place no area covers).
_NO_ACTOR = -1


def palette() -> dict:
    """The actor palette from ``geo_idlib/data/palette.json``.

    Examples
    --------
    >>> palette()["actors"]["government"]["color"]
    '#d7191c'
    """
    return io.package_data_json("palette.json")


class _Actors:
    """Actor ids → index in the map's actor table, with palette styles; warns once per unknown actor."""

    def __init__(self, pal: dict):
        self.pal = pal
        self.index: dict[str, int] = {}
        self.table: list[dict] = []
        self.warned: set[str] = set()

    def get(self, actor) -> int:
        if actor is None or (isinstance(actor, float) and math.isnan(actor)) or str(actor).strip() == "":
            return _NO_ACTOR
        key = str(actor).strip()
        if key not in self.index:
            style = self.pal["actors"].get(key)
            if style is None:
                if key not in self.warned:
                    log.warning("map: unknown actor %r drawn in the neutral colour; known actors: %s",
                                key, ", ".join(sorted(self.pal["actors"])))
                    self.warned.add(key)
                style = dict(self.pal["neutral"], label=key)
            self.index[key] = len(self.table)
            self.table.append({"id": key, "color": style["color"], "label": style.get("label", key),
                               "hatch": bool(style.get("hatch", False)), "known": key in self.pal["actors"]})
        return self.index[key]

    def get_many(self, values: Iterable) -> np.ndarray:
        return np.array([self.get(v) for v in values], dtype=int)

    def color(self, i: int) -> str:
        return self.pal["no_actor"]["color"] if i == _NO_ACTOR else self.table[i]["color"]

    def label(self, i: int) -> str:
        return self.pal["no_actor"]["label"] if i == _NO_ACTOR else self.table[i]["label"]
