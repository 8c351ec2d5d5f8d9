"""Control areas inferred from dated, sourced point reports ("X took Y on D").

At each change date every place keeps its latest report, the reports' Voronoi cells are clipped to
a boundary and dissolved per actor, and cells farther than a maximum distance from their report
become unknown. Geometry work happens in a local azimuthal equidistant projection centred on the
boundary (exact distances from the centre; scale error across 0.1 % at 500 km from it, 0.4 % at
1,000 km); areas are geodesic. Boundaries wider than that get a warning.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from ..errors import DateError, InputError
from . import geom
from .timeline import canonical_actor, parse_dates

log = logging.getLogger("geo_idlib")


#: Columns an observation table must have (besides a location: lat + lon, a geometry, or place).
OBS_REQUIRED = ("date", "actor")


#: Actor of the parts of the boundary farther than ``max_distance_km`` from every report.
UNKNOWN_ACTOR = "unknown"


_OBS_COORD_DIGITS = 6  # places with the same coordinates to 1e-6° (≈ 0.1 m) are one place


def _obs_polygonal(geoms):
    """Keep only the polygonal parts of each geometry (intersections may leave lines and points)."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    for i in np.flatnonzero(mixed):  # rare: only cells cut into mixed pieces by the boundary
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    lines_or_points = ~np.isin(shapely.get_type_id(out), (3, 6)) & ~shapely.is_empty(out)
    out[lines_or_points] = shapely.Polygon()
    return out


#: Rows with the same place name are one place only when they lie within this distance (km).
PLACE_NAME_KM = 5.0


def _obs_name_keys(pkey, lat, lon):
    """Place-name keys, split where one name labels places more than PLACE_NAME_KM apart.

    Many villages share a name ("Sheikh Ali"); rows of one name are clustered by single linkage
    at PLACE_NAME_KM and each cluster gets its own key (``name#k``). Only duplicated names are
    examined.
    """


    key = pd.Series(pkey, dtype=object).where(pd.Series(pkey, dtype=object).astype(str).str.len() > 0)
    out = key.to_numpy(dtype=object).copy()
    dup = key[key.notna() & key.duplicated(keep=False)]
    for name, idx in dup.groupby(dup, sort=True).groups.items():  # one loop per shared name
        idx = np.asarray(idx)
        near = _crs.haversine_km(lat[idx][:, None], lon[idx][:, None], lat[idx][None, :], lon[idx][None, :]) \
            <= PLACE_NAME_KM
        lab = np.arange(len(idx))
        while True:
            new = np.where(near, lab[None, :], len(idx)).min(axis=1)
            if np.array_equal(new, lab):
                break
            lab = new
        if len(set(lab)) > 1:
            out[idx] = [f"{name}#{k}" for k in lab]
    return out


def _obs_place_groups(xkey, pkey):
    """Connected components of rows linked by equal coordinate key or equal (non-empty) place key.

    Returns one integer group per row (the smallest row number of the component).
    """

    n = len(xkey)
    comp = pd.Series(np.arange(n))
    keys = [pd.Series(xkey)]
    if pkey is not None:
        p = pd.Series(pkey).where(pd.Series(pkey).astype(str).str.len() > 0)
        keys.append(p)
    while True:  # label propagation: converges in a few rounds (chains of aliases are short)
        before = comp.to_numpy().copy()
        for k in keys:
            m = comp.groupby(k, dropna=True).transform("min")
            comp = comp.where(m.isna(), np.minimum(comp, m.fillna(n).astype(int)))
        if np.array_equal(before, comp.to_numpy()):
            return comp.to_numpy()


def prepare_observations(table, what: str = "observations"):
    """Validate an observation table and return it as a GeoDataFrame of points in EPSG:4326.

    Parameters
    ----------
    table : DataFrame or GeoDataFrame
        Columns ``date`` (YYYY-MM-DD), ``actor`` and a location: ``lat`` + ``lon`` (WGS84 degrees)
        or point geometries. Optional ``id`` (else the 1-based row number), ``place``, ``source``
        and ``note`` are carried through.
    what : str
        Name of the input, used in error messages.

    Returns
    -------
    GeoDataFrame
        ``id`` (str), ``date`` (datetime64[ns]), ``actor`` (lower-case str), ``place``, ``source``,
        ``note`` (str, possibly empty) and point ``geometry``; rows in input order.

    Raises
    ------
    InputError
        Missing columns, unparseable dates, missing coordinates, duplicate ids, empty actors.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"date": ["2020-02-06"], "actor": ["Government"], "lat": ["35.86447"],
    ...                   "lon": ["36.80591"]})
    >>> g = prepare_observations(t)
    >>> str(g.loc[0, "id"]), str(g.loc[0, "actor"]), g.loc[0, "geometry"].x, str(g.crs)
    ('1', 'government', 36.80591, 'EPSG:4326')
    """
    import geopandas as gpd


    df = pd.DataFrame(table).copy()
    df.columns = [str(c).strip().lower() if str(c).strip().lower() in
                  ("date", "actor", "lat", "lon", "id", "place", "source", "note") else c for c in df.columns]
    missing = [c for c in OBS_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}; observations need date, actor and "
                         "lat + lon (or a place name, or point geometries)")
    if len(df) == 0:
        raise InputError(f"{what}: no observations; give at least one row with date, actor and a location")
    dates = pd.Series(parse_dates(df["date"], what, "date"))
    actor = pd.Series(canonical_actor(df["actor"].to_numpy(dtype=object)), dtype=object)
    bad = np.flatnonzero((actor == "").to_numpy())
    if len(bad):
        raise InputError(f"{what}: row {bad[0] + 1}: empty actor ({len(bad)} row(s)); name who holds the place")
    ids = (df["id"].astype(str).str.strip() if "id" in df.columns
           else pd.Series(np.arange(1, len(df) + 1).astype(str), index=df.index))
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"{what}: duplicate id {dup.iloc[0]!r}; give each observation its own id")
    if "lat" in df.columns and "lon" in df.columns:
        lat = pd.to_numeric(df["lat"].astype(str).str.strip().replace("", "nan"), errors="coerce").to_numpy(float)
        lon = pd.to_numeric(df["lon"].astype(str).str.strip().replace("", "nan"), errors="coerce").to_numpy(float)
        badrange = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
        if len(badrange):
            i = badrange[0]
            raise InputError(f"{what}: row {i + 1} (id {ids.iloc[i]}): lat {lat[i]}, lon {lon[i]} is not a WGS84 "
                             f"position ({len(badrange)} row(s)); fix the coordinates (degrees, lat in ±90, lon in ±180)")
        geom = np.where(np.isfinite(lat) & np.isfinite(lon), _crs.points_from_latlon(lat, lon), None)
    elif isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns:
        gs = _crs.to_wgs84(_crs.require_crs(gpd.GeoSeries(table.geometry), what), what)
        geom = gs.to_numpy(dtype=object).copy()
        notpoint = ~(shapely.is_missing(geom) | shapely.is_empty(geom)) & (shapely.get_type_id(geom) != 0)
        if notpoint.any():
            i = int(np.flatnonzero(notpoint)[0])
            raise InputError(f"{what}: row {i + 1} is a {geom[i].geom_type}, not a point; give point observations")
    else:
        geom = np.full(len(df), None, dtype=object)
    nolocation = shapely.is_missing(geom) | shapely.is_empty(geom)
    if nolocation.any():
        i = int(np.flatnonzero(nolocation)[0])
        hint = "geocode the place column first (geo-idlib areas infer does it)" if "place" in df.columns \
            else "give lat and lon (WGS84 degrees) or a place column"
        raise InputError(f"{what}: row {i + 1} (id {ids.iloc[i]}) has no location ({int(nolocation.sum())} row(s)); {hint}")
    out = pd.DataFrame({"id": ids.to_numpy(), "date": dates.dt.normalize().to_numpy(), "actor": actor.to_numpy()})
    for c in ("place", "source", "note"):
        out[c] = df[c].fillna("").astype(str).to_numpy() if c in df.columns else ""
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom, crs=_crs.WGS84), crs=_crs.WGS84)


def infer(observations, boundary, *, max_distance_km: float | None = None, until=None,
          progress=None):
    """Infer a control timeline from dated point reports (Voronoi cells dissolved per actor).

    At each change date, each place (same coordinates, or same non-empty ``place`` value within
    :data:`PLACE_NAME_KM`) keeps its latest report on or before that date; on one date a later row
    beats an earlier one. The
    reports in force are split into Voronoi cells, clipped to the boundary and dissolved per actor.

    Parameters
    ----------
    observations : GeoDataFrame
        Output of :func:`prepare_observations` (``id``, ``date``, ``actor``, point ``geometry``,
        optional ``place``).
    boundary : GeoDataFrame, GeoSeries or shapely geometry
        The area to fill (the union of its polygons); a bare shapely geometry is taken as WGS84.
    max_distance_km : float, optional
        Parts of a cell farther than this from its report (hence from every report) become the
        actor ``unknown``. ``None`` fills the whole boundary.
    until : date-like, optional
        Last day covered: the last period ends the day after (``valid_to``). Default: open-ended.
    progress : callable, optional
        ``progress(items, label, length)`` context manager (see :func:`geo_idlib.pipeline.no_progress`).

    Returns
    -------
    GeoDataFrame
        The control timeline (EPSG:4326): ``actor``, ``valid_from``, ``valid_to`` (exclusive, NaT =
        open-ended), ``geometry``, ``obs_ids`` (``;``-joined ids of the reports in force during the
        period whose cells make the polygon; empty for ``unknown``), ``uncertain_km2`` (geodesic
        area of the actor's cells that border a cell of another actor; NaN for ``unknown``).
        One row per (actor, period); periods break only where some place's actor or location
        changes. Sorted by valid_from, actor.

    Examples
    --------
    Two reports 1° of longitude apart split a square along their bisector:

    >>> import geopandas as gpd, pandas as pd, shapely
    >>> obs = prepare_observations(pd.DataFrame({"date": ["2020-01-01", "2020-01-01"],
    ...     "actor": ["government", "opposition"], "lat": [0, 0], "lon": [-0.5, 0.5]}))
    >>> t = infer(obs, shapely.box(-1, -1, 1, 1))
    >>> t[["actor", "obs_ids"]].values.tolist()
    [['government', '1'], ['opposition', '2']]
    >>> [round(b, 3) for b in t.geometry.iloc[0].bounds]
    [-1.0, -1.0, 0.0, 1.0]
    """
    import contextlib
    import logging
    import time

    import geopandas as gpd
    import shapely


    log = logging.getLogger("geo_idlib")
    t0 = time.perf_counter()
    obs = observations
    if not isinstance(obs, gpd.GeoDataFrame):
        raise InputError("observations: expected a GeoDataFrame of points; use prepare_observations() first")
    obs = _crs.to_wgs84(_crs.require_crs(obs, "observations"), "observations").reset_index(drop=True)
    if len(obs) == 0:
        raise InputError("observations: no observations; give at least one dated report")
    if max_distance_km is not None and not (float(max_distance_km) > 0):
        raise InputError(f"max_distance_km: {max_distance_km!r} is not a positive number of km; give e.g. 10")

    # ---- the boundary, as one (multi)polygon in WGS84
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        b = _crs.to_wgs84(_crs.require_crs(boundary, "boundary"), "boundary")
        bgeoms = np.asarray(b.geometry.values if isinstance(b, gpd.GeoDataFrame) else b.values, dtype=object)
    else:
        bgeoms = np.asarray([boundary], dtype=object)
    bgeoms = _obs_polygonal(shapely.make_valid(bgeoms))
    bound = shapely.union_all(bgeoms)
    if bound.is_empty:
        raise InputError("boundary: no polygons; give a polygon layer (e.g. governorates) for --within")
    x0, y0, x1, y1 = bound.bounds
    local = geom.local_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    bx0, by0, bx1, by1 = bound.bounds
    reach = float(_crs.haversine_km((by0 + by1) / 2, (bx0 + bx1) / 2, np.array([by0, by1]), np.array([bx0, bx1])).max())
    if reach > 1500:
        log.warning("boundary: reaches %.0f km from its centre; beyond about 1,000 km the local projection "
                    "bends Voronoi bisectors by more than 0.4 %%: infer region by region", reach)
    bound_l = _crs.transform([bound], _crs.WGS84, local)[0]
    shapely.prepare(bound_l)

    # ---- places: rows linked by equal coordinates or equal place name are one place
    xy = shapely.get_coordinates(obs.geometry.values)
    q = np.round(xy * 10**_OBS_COORD_DIGITS).astype(np.int64)  # one integer per position (1e-6° grid)
    xkey = pd.Series((q[:, 0] + 181 * 10**_OBS_COORD_DIGITS) * (362 * 10**_OBS_COORD_DIGITS)
                     + (q[:, 1] + 91 * 10**_OBS_COORD_DIGITS))
    pkey = obs["place"].astype(str).str.strip().str.lower().to_numpy() if "place" in obs.columns else None
    if pkey is not None:
        pkey = _obs_name_keys(pkey, xy[:, 1], xy[:, 0])
    place = _obs_place_groups(xkey.to_numpy(), pkey)
    inside = shapely.contains_xy(bound, xy[:, 0], xy[:, 1]) | shapely.intersects_xy(bound, xy[:, 0], xy[:, 1])
    if not inside.any():
        raise InputError("observations: no report lies inside the boundary; check lat/lon order and --within")
    if (~inside).any():
        log.info("%d of %d observations lie outside the boundary; their cells still count up to it",
                 int((~inside).sum()), len(obs))

    # ---- the report in force for each (place, date): a P × D matrix of row numbers, forward-filled
    dates = np.sort(obs["date"].unique())
    order = np.lexsort((np.arange(len(obs)), obs["date"].to_numpy()))  # by date, then row order
    last = (pd.DataFrame({"place": place[order], "date": obs["date"].to_numpy()[order], "row": order})
            .drop_duplicates(["place", "date"], keep="last"))
    inforce = (last.pivot(index="place", columns="date", values="row").reindex(columns=dates)
               .ffill(axis=1))
    places = inforce.index.to_numpy()
    rows = inforce.to_numpy()  # float with NaN before a place's first report
    actor_arr = obs["actor"].to_numpy().astype(str)
    ids_arr = obs["id"].astype(str).to_numpy()
    pts_l = _crs.transform(obs.geometry.values, _crs.WGS84, local)
    xy_l = shapely.get_coordinates(pts_l)

    # ---- periods: consecutive dates whose (place → actor, location) state is unchanged merge
    # the state of each date: per place, the actor and the position of the report in force
    r_int = np.where(np.isnan(rows), -1, np.nan_to_num(rows, nan=-1)).astype(int)
    a_code = np.where(r_int >= 0, pd.factorize(actor_arr)[0][r_int], -1)
    x_code = np.where(r_int >= 0, pd.factorize(xkey)[0][r_int], -1)
    changed = np.ones(len(dates), dtype=bool)
    changed[1:] = ((a_code[:, 1:] != a_code[:, :-1]) | (x_code[:, 1:] != x_code[:, :-1])).any(axis=0)
    starts = np.flatnonzero(changed).tolist()
    groups = [list(range(a, b)) for a, b in zip(starts, starts[1:] + [len(dates)], strict=True)]
    if until is not None:
        end = pd.Timestamp(until).normalize()
        if end < pd.Timestamp(dates[-1]):
            raise DateError(f"until {end.date()} is before the last observation ({pd.Timestamp(dates[-1]).date()}); "
                            "give a later --until")
        end = end + pd.Timedelta(days=1)
    else:
        end = pd.NaT

    x0, y0, x1, y1 = bound_l.bounds
    pad = max(x1 - x0, y1 - y0) + (1000.0 * float(max_distance_km) if max_distance_km else 0.0)
    extent = shapely.box(min(x0, xy_l[:, 0].min()) - pad, min(y0, xy_l[:, 1].min()) - pad,
                         max(x1, xy_l[:, 0].max()) + pad, max(y1, xy_l[:, 1].max()) + pad)
    out = []
    prog = progress or (lambda items, label, length=None: contextlib.nullcontext(items))
    with prog(range(len(starts)), "inferring areas", len(starts)) as it:
        for k in it:
            j = starts[k]
            r = rows[:, j]
            ok = ~np.isnan(r)
            ri = r[ok].astype(int)
            acts = actor_arr[ri]
            pts = xy_l[ri]
            if len(pts) == 1:
                cells = np.array([extent], dtype=object)
            else:
                cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent,
                                                                   ordered=True))
            edge = ~shapely.contains_properly(bound_l, cells)  # only cells crossing the boundary are cut
            cells[edge] = _obs_polygonal(shapely.intersection(cells[edge], bound_l))
            full = cells
            if max_distance_km:
                disks = shapely.buffer(shapely.points(pts), 1000.0 * float(max_distance_km), quad_segs=32)
                cells = _obs_polygonal(shapely.intersection(cells, disks))
            # neighbours of another actor: cells that touch (share an edge or a vertex)
            tree = shapely.STRtree(cells)
            a, bb = tree.query(cells, predicate="intersects")
            other = acts[a] != acts[bb]
            border = np.zeros(len(cells), dtype=bool)
            border[a[other]] = True
            cells_w = _crs.transform(cells, local, _crs.WGS84)
            area = _crs.geodesic_area_km2(cells_w)
            # every report in force at some date of the period, per actor
            per = rows[:, groups[k]]
            per_rows = np.unique(per[~np.isnan(per)].astype(int))
            d_from = pd.Timestamp(dates[j])
            d_to = pd.Timestamp(dates[starts[k + 1]]) if k + 1 < len(starts) else end
            full_w = _crs.transform(full, local, _crs.WGS84) if max_distance_km else cells_w
            dissolved = _obs_dissolve(cells_w, full_w, acts)
            for act, geom_l in dissolved.items():
                if act == UNKNOWN_ACTOR and max_distance_km:
                    out.append({"actor": UNKNOWN_ACTOR, "valid_from": d_from, "valid_to": d_to, "geometry": geom_l,
                                "obs_ids": "", "uncertain_km2": np.nan})
                    continue
                m = acts == act
                used = per_rows[actor_arr[per_rows] == act]  # reports whose cell reaches the boundary
                used = used[np.isin(place[used], places[ok][m & ~shapely.is_empty(cells)])]
                out.append({"actor": str(act), "valid_from": d_from, "valid_to": d_to, "geometry": geom_l,
                            "obs_ids": ";".join(sorted(ids_arr[used], key=_obs_id_sort_key)),
                            "uncertain_km2": round(float(area[m & border].sum()), 6)})
    res = pd.DataFrame(out)
    geoms = res.pop("geometry").to_numpy()
    geoms = _obs_polygonal(np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms)))
    res = gpd.GeoDataFrame(res, geometry=gpd.GeoSeries(geoms, crs=_crs.WGS84), crs=_crs.WGS84)
    res = res[~res.geometry.is_empty].reset_index(drop=True)
    res["valid_from"] = pd.to_datetime(res["valid_from"]).astype("datetime64[ns]")
    res["valid_to"] = pd.to_datetime(res["valid_to"]).astype("datetime64[ns]")
    res = res.sort_values(["valid_from", "actor"], kind="stable").reset_index(drop=True)
    log.info("inferred %d areas over %d period(s) from %d observations in %.2f s",
             len(res), len(starts), len(obs), time.perf_counter() - t0)
    return res[["actor", "valid_from", "valid_to", "obs_ids", "uncertain_km2", "geometry"]]


def _obs_dissolve(known, full, acts) -> dict:
    """``{actor: polygon}`` dissolved from the cells (WGS84), as one exact planar coverage.

    ``full`` are the Voronoi cells clipped to the boundary (they tile it), ``known`` the same cells
    cut to the maximum distance (``known is full`` without one). Cells clipped one by one, and
    transformed from the local projection, do not share bit-identical edges, so dissolving them
    per actor would leave hairline overlaps between actors. The outlines of all cells are
    therefore noded together and polygonised into faces, in the CRS the result is stored in. A
    face inside a known cell goes to that cell's actor; one inside a full cell only is ``unknown``;
    hairline faces (under about 1 m²) in neither go to the nearest known cell, larger ones are
    outside the boundary. Faces are merged per actor with a coverage union, so neighbouring actors
    share their edges vertex for vertex.
    """
    import shapely

    ok = ~shapely.is_empty(known)
    outlines = [shapely.boundary(known[ok])]
    if full is not known:
        outlines.append(shapely.boundary(full[~shapely.is_empty(full)]))
    lines = shapely.union_all(np.concatenate(outlines))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    rp = shapely.point_on_surface(faces)
    ktree = shapely.STRtree(known)
    owner = np.full(len(faces), -1)
    fi, ci = ktree.query(rp, predicate="within")
    owner[fi] = ci
    in_full = np.zeros(len(faces), dtype=bool)
    if full is known:
        in_full[fi] = True
    else:
        in_full[shapely.STRtree(full).query(rp, predicate="within")[0]] = True
    hairline = shapely.area(faces) < 1e-10  # deg² (≈ 1 m²)
    orphan = (owner < 0) & hairline & ((full is known) | ~in_full)
    if orphan.any():
        owner[np.flatnonzero(orphan)] = ktree.query_nearest(rp[orphan], all_matches=False)[1]
    keep = (owner >= 0) | in_full
    label = np.where(owner >= 0, acts[np.maximum(owner, 0)], UNKNOWN_ACTOR)[keep]
    faces = faces[keep]
    return {str(a): shapely.coverage_union_all(faces[label == a]) for a in np.unique(label)}


def _obs_id_sort_key(s: str):
    """Natural order of ids: numeric ids by value, then text ids."""
    return (0, int(s), "") if s.isdigit() else (1, 0, s)

