"""The actor palette of maps (``geo_idlib/data/palette.json``) and the actor table of one map."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

import numpy as np

from .. import io

log = logging.getLogger("geo_idlib")

#: The actor index of "no actor" (ground or a place no area covers).
NO_ACTOR = -1


def palette() -> dict:
    """The actor palette from ``geo_idlib/data/palette.json``.

    Examples
    --------
    >>> palette()["actors"]["government"]["color"]
    '#d7191c'
    """
    return io.package_data_json("palette.json")


class Actors:
    """Actor ids → index in the map's actor table, with palette styles; warns once per unknown actor.

    ``names`` (a text table's ``actors``: id → ``label``, ``short``) renames the palette's actors in
    the map's language.
    """

    def __init__(self, pal: dict, names: dict | None = None):
        self.pal = pal
        self.names = names or {}
        self.index: dict[str, int] = {}
        self.table: list[dict] = []
        self.warned: set[str] = set()

    def get(self, actor) -> int:
        if actor is None or (isinstance(actor, float) and math.isnan(actor)) or str(actor).strip() == "":
            return NO_ACTOR
        key = str(actor).strip()
        if key not in self.index:
            style = self.pal["actors"].get(key)
            if style is None:
                if key not in self.warned:
                    shown = key if len(key) <= 80 else key[:80] + "…"
                    log.warning("map: unknown actor %r drawn in the neutral colour; known actors: %s",
                                shown, ", ".join(sorted(self.pal["actors"])))
                    self.warned.add(key)
                style = dict(self.pal["neutral"], label=key)
            style = {**style, **self.names.get(key, {})}
            self.index[key] = len(self.table)
            self.table.append({"id": key, "color": style["color"], "label": style.get("label", key),
                               "short": style.get("short", style.get("label", key)),
                               "hatch": bool(style.get("hatch", False)), "known": key in self.pal["actors"]})
        return self.index[key]

    def get_many(self, values: Iterable) -> np.ndarray:
        return np.array([self.get(v) for v in values], dtype=int)

    def label(self, i: int) -> str:
        return self.pal["no_actor"]["label"] if i == NO_ACTOR else self.table[i]["label"]


def style(pal: dict, no_actor_label: str | None = None) -> dict:
    """Every palette value a map draws with, besides the actors' own (the document's ``style``);
    ``no_actor_label`` names places without an actor in the map's language.

    Examples
    --------
    >>> style(palette())["change"]["lost_dash"]
    '6 4'
    """
    no_actor = dict(pal["no_actor"], **({"label": no_actor_label} if no_actor_label else {}))
    return {"background": pal["background"], "basemap": dict(pal["basemap"]),
            "area_opacity": pal["area_fill_opacity"], "marker_opacity": pal["marker_fill_opacity"],
            "marker_stroke": pal["marker_stroke"], "no_actor": no_actor,
            "change": dict(pal["change"])}
