"""Past one process: partitioned inputs and outputs (GeoParquet), on this process or a Dask cluster.

``plan`` (how events are keyed and cut into partitions) → ``engine`` (tasks in this process, shared
state, output directories) → ``cluster`` (the same tasks on Dask) → ``join`` (the as-of join of an
events dataset). See docs/scale.md.
"""
