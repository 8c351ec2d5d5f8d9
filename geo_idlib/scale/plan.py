"""How partitioned work is cut: partition keys of events, and output partitions of bounded size.

Pure functions (no disk, no cluster). An event's key orders it by **date, then space**: the
snapshot interval of the timeline its date falls in (``np.searchsorted`` over the change dates, as
:func:`geo_idlib.territory.join.asof_join` does), then its cell along a **Hilbert curve** over the
timeline's extent (:meth:`geopandas.GeoSeries.hilbert_distance`, the curve dask-geopandas'
``spatial_shuffle`` uses; computed from coordinates through a table of that curve's cells), so that consecutive keys are events of one snapshot that lie close
together. The output partitions are runs of consecutive keys of about ``rows`` events: each one
touches few snapshots and a compact area, and its file's bounding box says so.

A run is cut between input pieces as well as between keys, so a key holding more than ``rows``
events (a dense city on a busy day) still yields partitions of bounded size. The client keeps one
count per (key, piece) *cell* (16 bytes each) to cut them.
"""

from __future__ import annotations

import numpy as np

#: Bits of the Hilbert cell of a key: 2**8 cells along the curve over the timeline's extent.
HILBERT_BITS = 8
#: Level of the Hilbert curve (geopandas' default: 2**16 steps per axis).
_LEVEL = 16
#: Rows of a piece, a key and a partition are addressed together in one int64: piece << 32 | row.
PIECE_SHIFT = 32


def date_blocks(interval: np.ndarray, n_dates: int) -> np.ndarray:
    """The date block of each event: 0 before the timeline, ``k + 1`` in its ``k``-th snapshot
    interval, ``n_dates + 1`` when undated (``interval`` is ``searchsorted(dates, day) - 1``).

    >>> date_blocks(np.array([-1, 0, 2, 3]), 3).tolist()
    [0, 1, 3, 4]
    """
    return np.clip(interval, -1, n_dates) + 1


def _cell_order() -> np.ndarray:
    """The position along the Hilbert curve of each of the ``2**(HILBERT_BITS/2)`` × ``2**(HILBERT_BITS/2)``
    cells of the extent, as geopandas' curve numbers them (:meth:`GeoSeries.hilbert_distance`, read
    at the cells' centres): ``order[ix, iy]``. The curve is nested, so the first bits of a point's
    distance at level 16 are its cell's position at the coarse level: the table gives them without
    building a geometry per event."""
    import geopandas as gpd
    import shapely

    side = 1 << (HILBERT_BITS // 2)
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    centres = gpd.GeoSeries(shapely.points(ix.ravel() + 0.5, iy.ravel() + 0.5))
    d = centres.hilbert_distance(total_bounds=(0, 0, side, side), level=_LEVEL).to_numpy()
    return (d.astype(np.int64) >> (2 * _LEVEL - HILBERT_BITS)).reshape(side, side)


_CELL_ORDER = _cell_order()


def _cell(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The coarse cell of each coordinate: geopandas' discretisation at level 16 (clipped to the
    extent), then its first bits."""
    n = (1 << _LEVEL) - 1
    width = hi - lo
    if width == 0:
        return np.zeros(len(v), dtype=np.int64)
    d = np.clip((v - lo) * (n / width), 0, n).astype(np.uint32)
    return (d >> (_LEVEL - HILBERT_BITS // 2)).astype(np.int64)


def event_keys(x: np.ndarray, y: np.ndarray, interval: np.ndarray, n_dates: int, bounds) -> np.ndarray:
    """The key of each event: its date block times ``2**HILBERT_BITS`` plus its Hilbert cell.

    ``x``, ``y`` are the events' coordinates (the centres of their bounds for other geometries;
    NaN when missing or empty: cell 0), ``bounds`` the extent the curve covers (the timeline's
    total bounds; events outside go to the nearest edge). The cell is the first
    ``HILBERT_BITS`` of :meth:`geopandas.GeoSeries.hilbert_distance` at level 16.

    >>> event_keys(np.array([0, 1, 0.01]), np.array([0, 1, 0.01]), np.array([0, 0, 1]), 2, (0, 0, 1, 1)).tolist()
    [256, 426, 512]
    >>> import geopandas as gpd, shapely
    >>> rng = np.random.default_rng(1); xy = rng.uniform(-5, 5, (1000, 2))
    >>> d = gpd.GeoSeries(shapely.points(xy)).hilbert_distance(total_bounds=(-4, -4, 4, 4)).to_numpy()
    >>> bool((event_keys(xy[:, 0], xy[:, 1], np.full(1000, -1), 1, (-4, -4, 4, 4)) == d >> 24).all())
    True
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    cells = np.zeros(len(x), dtype=np.int64)
    if ok.any():
        x0, y0, x1, y1 = (float(b) for b in bounds)
        cells[ok] = _CELL_ORDER[_cell(x[ok], x0, x1), _cell(y[ok], y0, y1)]
    return date_blocks(interval, n_dates).astype(np.int64) * (1 << HILBERT_BITS) + cells


def key_label(key: int, dates) -> str:
    """A key as text for partition names: ``YYYY-MM-DD`` of its snapshot interval (``before``,
    ``undated``) and its Hilbert cell.

    >>> key_label(256 + 5, np.array(["2025-01-01"], dtype="datetime64[ns]"))
    '2025-01-01_h0005'
    """
    block, cell = divmod(int(key), 1 << HILBERT_BITS)
    day = ("before" if block == 0 else "undated" if block > len(dates)
           else str(np.datetime64(dates[block - 1], "D")))
    return f"{day}_h{cell:04d}"


def cut_partitions(keys: np.ndarray, pieces: np.ndarray, counts: np.ndarray, rows: int) -> list[tuple]:
    """Cut the events into partitions of about ``rows`` rows, in (key, piece) order.

    ``keys[i], pieces[i], counts[i]``: piece ``pieces[i]`` holds ``counts[i]`` events of key
    ``keys[i]`` (a *cell*). A partition starts at the first cell whose events begin past a multiple
    of ``rows``, so it holds at most ``rows`` plus one cell's events; a cell is never split.
    Returns ``[(start, stop, n, pieces)]``: ``start`` and ``stop`` are ``(key, piece)`` positions
    (``stop`` excluded; the last is ``(max key + 1, 0)``), ``n`` the partition's events and
    ``pieces`` the input pieces that hold some of them. Vectorised: millions of cells take a second.

    >>> cut_partitions(np.array([5, 9, 5]), np.array([0, 0, 1]), np.array([3, 2, 4]), rows=6)
    [((5, 0), (9, 0), 7, (0, 1)), ((9, 0), (10, 0), 2, (0,))]
    """
    keep = np.asarray(counts) > 0
    k, p, n = (np.asarray(a, dtype=np.int64)[keep] for a in (keys, pieces, counts))
    order = np.lexsort((p, k))
    k, p, n = k[order], p[order], n[order]
    if not len(k):
        return []
    part = (np.cumsum(n) - n) // max(int(rows), 1)
    starts = np.r_[0, np.flatnonzero(np.diff(part)) + 1]
    ends = np.r_[starts[1:], len(k)]
    sums = np.add.reduceat(n, starts)
    out = []
    for s, e, total in zip(starts.tolist(), ends.tolist(), sums.tolist(), strict=True):
        stop = (int(k[e]), int(p[e])) if e < len(k) else (int(k[-1]) + 1, 0)
        out.append(((int(k[s]), int(p[s])), stop, int(total), tuple(np.unique(p[s:e]).tolist())))
    return out


def key_range(piece: int, start: tuple[int, int], stop: tuple[int, int]) -> tuple[int, int]:
    """The keys ``[lo, hi)`` of ``piece``'s events that fall in the partition ``[start, stop)``.

    (key, piece) ≥ (k0, p0) is key > k0, or key = k0 for pieces from p0 on; likewise for stop.

    >>> key_range(0, (5, 1), (10, 0)), key_range(1, (5, 1), (10, 0))
    ((6, 10), (5, 10))
    """
    (k0, p0), (k1, p1) = start, stop
    return k0 + (0 if piece >= p0 else 1), k1 + (1 if piece < p1 else 0)
