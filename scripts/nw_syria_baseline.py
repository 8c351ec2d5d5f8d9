"""The NW Syria sample's 18 December 2019 baseline from the 2017–2019 changes, and its extent.

Helpers of :mod:`scripts.build_nw_syria_sample` (which documents the whole build):

* :func:`read_changes` reads ``control_changes_2017_2019.csv`` (dated changes of control from July
  2017 to 18 December 2019, with sources) into the builder's row shape;
* :func:`last_side` is the rule that gives a place its side on 18 December 2019 from its changes;
* :func:`trusted_marker` says whether a row's own 2017 map marker locates its place;
* :func:`extent` is the sample's boundary: OCHA's Idleb and Aleppo governorates and the
  sub-districts of Hama and Lattakia where the facts speak, simplified together.

The rules, in the words of docs/sample.md:

1. *Month-only dates* ("2017-11") sort before every day of that month (as the facts' README says).
2. *Contested* rows (an entry claimed, fighting inside) are no change of control: a place keeps the
   side of its last completed change. *ISIL* rows are no state on 18 December 2019 (the pocket in
   north-east Hama ended by 9 February 2018): the place keeps the last other side reported.
   A row whose note says the claim was *retracted* is not used.
3. On the last date that decides, rows that agree decide; rows that disagree (government and
   opposition claimed the same day) decide nothing: the place is left to its neighbours.
4. *Verify* rows are used, and the baseline row says the facts' compiler asked to verify them.
5. A row's 2017 marker (``map_name``, ``map_lat``, ``map_lon``) locates the place unless the note calls
   the match *probable* or *ambiguous*: then the place is located by name like any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

#: Sides that are a state on 18 Dec 2019 (contested and ISIL are not, see the module's rules).
SIDES = ("government", "opposition")
#: Notes that keep a row's 2017 marker from locating its place.
UNSURE_MARKER = ("probable match", "ambiguous")

#: The sub-district of Hama city, in the extent although no fact place lies in it: the provincial
#: capital that the reports name, between the fact sub-districts around it.
HAMA_CITY = "SY050100"
#: Governorates whose sub-districts may join the extent (Hama, Lattakia), and the core (Idleb, Aleppo).
NEXT_GOVERNORATES = ("SY05", "SY06")
CORE = ("SY07", "SY02")
#: Tolerance of the extent's simplification, degrees (about 250 m): the admin lines are drawn
#: to tens of metres, the sample's front to kilometres; it keeps the timeline file small.
SIMPLIFY_DEG = 0.0025


def read_changes(path) -> pd.DataFrame:
    """The 2017–2019 changes as builder rows (``kind`` = ``change``; ``row`` = line in the file)."""
    ch = pd.read_csv(path, dtype=str, keep_default_na=False)
    ch["kind"] = "change"
    ch["row"] = np.arange(2, len(ch) + 2)
    return ch


def date_key(date: str) -> str:
    """A sort key for a date written YYYY-MM-DD or YYYY-MM (month-only: before every day of it).

    >>> sorted(["2017-11-02", "2017-11", "2017-10-30"], key=date_key)
    ['2017-10-30', '2017-11', '2017-11-02']
    """
    return date if len(date) > 7 else f"{date}-00"


def usable(ch: pd.DataFrame) -> pd.Series:
    """Rows that may decide a side on 18 Dec 2019 (rule 2)."""
    retracted = ch["note"].str.contains("retracted", case=False)
    return ch["new_controller"].isin(SIDES) & ~retracted


def last_side(ch: pd.DataFrame):
    """``(side, deciding row, other rows of the deciding date, why not)`` for one place's changes.

    The side is None when no row decides (rule 2: only contested or ISIL rows; rule 3: the last
    date's rows disagree); ``why not`` then says so.
    """
    use = ch[usable(ch)]
    if not len(use):
        return None, None, None, "its 2017–2019 rows report no completed change to government or opposition"
    keys = use["date"].map(date_key)
    last = use[keys == keys.max()].sort_values("row", kind="stable")
    sides = sorted(set(last["new_controller"]))
    if len(sides) > 1:
        return None, None, last, f"government and opposition both claimed it on {last['date'].iloc[0]}"
    return sides[0], last.iloc[0], last.iloc[1:], ""


def trusted_marker(row) -> bool:
    """Whether the row's own 2017 marker locates its place (rule 5)."""
    note = str(row["note"]).lower()
    return bool(row["map_lat"]) and not any(w in note for w in UNSURE_MARKER)


def extent(adm1, adm3, fact_lat, fact_lon):
    """The sample's boundary as a GeoDataFrame (EPSG:4326) of OCHA units, simplified together.

    Idleb and Aleppo governorates, and, grown from them, every sub-district of Hama and Lattakia
    that holds a located fact place and touches the extent so far; and Hama city's sub-district
    (:data:`HAMA_CITY`). Columns ``pcode, name, level, governorate``.
    """
    import geopandas as gpd

    core = adm1[adm1["adm1_pcode"].isin(CORE)]
    cand = adm3[adm3["adm1_pcode"].isin(NEXT_GOVERNORATES)].reset_index(drop=True)
    holds = np.array([shapely.intersects_xy(g, fact_lon, fact_lat).any() for g in cand.geometry.values])
    chosen = cand["adm3_pcode"].eq(HAMA_CITY).to_numpy().copy()
    grown = shapely.union_all(core.geometry.values)
    while True:
        touch = shapely.intersects(cand.geometry.values, shapely.buffer(grown, 0.001))
        new = holds & touch & ~chosen
        if not new.any():
            break
        chosen |= new
        grown = shapely.union_all([grown, *cand.geometry.values[new]])
    units = pd.concat([
        pd.DataFrame({"pcode": core["adm1_pcode"], "name": core["adm1_name"], "level": "governorate",
                      "governorate": core["adm1_name"], "geometry": core.geometry.values}),
        pd.DataFrame({"pcode": cand["adm3_pcode"][chosen], "name": cand["adm3_name"][chosen], "level": "sub-district",
                      "governorate": cand["adm1_name"][chosen], "geometry": cand.geometry.values[chosen]}),
    ], ignore_index=True).sort_values("pcode", kind="stable").reset_index(drop=True)
    geoms = shapely.coverage_simplify(units["geometry"].to_numpy(), SIMPLIFY_DEG)
    return gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")
