"""Real and synthetic inputs for the scale tests and bench: a DeepState timeline, events near its
front, documents from GeoWebNews.

Events near the front are drawn around the vertices of the occupied area's boundary on a day of
the timeline (Gaussian noise of ``spread_deg``), with dates drawn uniformly from the timeline's
days, so about half fall on each side and many near the line: the hard case for a point-in-polygon
join. Written in chunks, so 50 M events never sit in memory at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_idlib import crs, pipeline
from geo_idlib.territory import timeline as timelines
from scripts.common import SHARED

DEEPSTATE = SHARED / "data" / "deepstate_ukraine"
GWN = SHARED / "eval" / "geoparsing" / "GWN.xml"


def deepstate_timeline(path: Path, first: str = "20250101", days: int = 10) -> Path:
    """A timeline of ``days`` consecutive DeepState files from ``first``, built with ``areas build``."""
    files = sorted(f for f in DEEPSTATE.glob("deepstatemap_data_*.geojson") if f.stem[-8:] >= first)[:days]
    pipeline.areas_build([str(f) for f in files], str(path), actor="russia", overwrite=True)
    return path


def front_events(timeline, n: int, *, seed: int = 13, spread_deg: float = 0.1, start: int = 0) -> pd.DataFrame:
    """``n`` events (``id, date, lat, lon``) near the front of ``timeline``'s first snapshot."""
    dates = timelines.change_dates(timeline)
    first = timelines.actor_areas(timeline, dates[0])["russia"]
    xy = shapely.get_coordinates(first.boundary)
    rng = np.random.default_rng(seed)
    at = xy[rng.integers(0, len(xy), n)]
    lon = at[:, 0] + rng.normal(0, spread_deg, n)
    lat = at[:, 1] + rng.normal(0, spread_deg, n)
    span = int((pd.Timestamp(timelines.coverage(timeline)[1] or dates[-1]) - pd.Timestamp(dates[0])).days) + 1
    day = pd.Timestamp(dates[0]) + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    return pd.DataFrame({"id": np.arange(start, start + n), "date": day.strftime("%Y-%m-%d"),
                         "lat": lat.round(6), "lon": lon.round(6)})


def write_events_parquet(timeline, directory: Path, n: int, *, files: int = 1, chunk: int = 1_000_000,
                         seed: int = 13) -> Path:
    """``n`` front events as GeoParquet: ``files`` files in ``directory``, row groups of ``chunk``."""
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    per_file = -(-n // files)
    for f in range(files):
        writer = None
        for start in range(f * per_file, min(n, (f + 1) * per_file), chunk):
            m = min(chunk, (f + 1) * per_file - start, n - start)
            df = front_events(timeline, m, seed=seed + start, start=start)
            import geopandas as gpd

            gdf = gpd.GeoDataFrame(df[["id", "date"]], geometry=crs.points_from_latlon(df["lat"], df["lon"]),
                                   crs=crs.WGS84)
            table = gdf.to_arrow(geometry_encoding="WKB")
            import pyarrow as pa

            table = pa.table(table)
            if writer is None:
                meta = json.loads(_geo_metadata(gdf))
                for col in meta["columns"].values():
                    col.pop("bbox", None)  # the first row's box; the file's is not known yet
                schema = table.schema.with_metadata({b"geo": json.dumps(meta).encode()})
                writer = pq.ParquetWriter(directory / f"events-{f:03d}.parquet", schema)
            writer.write_table(table.replace_schema_metadata(writer.schema.metadata), row_group_size=chunk)
        if writer is not None:
            writer.close()
    return directory


def _geo_metadata(gdf) -> str:
    import io as stdio

    import pyarrow.parquet as pq

    buf = stdio.BytesIO()
    gdf.iloc[:1].to_parquet(buf)
    buf.seek(0)
    return pq.read_schema(buf).metadata[b"geo"].decode()


def gwn_documents(n: int) -> list[dict]:
    """``n`` documents ``{id, text}`` cycling through GeoWebNews' 200 articles (ids stay unique)."""
    from scripts import corpora

    docs = corpora.load_gwn(GWN)
    return [{"id": f"{i:06d}-{docs[i % len(docs)]['id']}", "text": docs[i % len(docs)]["text"]} for i in range(n)]
