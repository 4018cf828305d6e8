"""Running sweeps: a TOML config (:mod:`.config`) becomes a design of runs with their seeds
(:mod:`.design`), run by any executor (:mod:`.runner`: processes, Dask, shards) into Parquet
chunks with provenance (:mod:`.store`), read back as plain data (:mod:`.results`);
:mod:`.peer` runs the same design through ``mesa.batch_run`` for comparison.

Imports :mod:`experiments.history` (a ``[posterior]`` sweep draws from the calibration's
posterior) and the leaves; never :mod:`experiments.analysis`.
"""
