"""The replicate seeds: how an experiment seed becomes one 64-bit seed per run. A leaf (numpy
only). This file decides which random numbers each run draws, so it is part of the model
fingerprint (:data:`experiments.provenance.ROW_CODE`): results from another derivation never mix.
"""

from __future__ import annotations

import numpy as np


def replicate_seeds(seed: int, replicates: int, first: int = 0, scenario: int | None = None) -> np.ndarray:
    """The 64-bit seeds of replicates ``first .. first + replicates - 1``: replicate ``r`` gets
    ``SeedSequence([seed, r])`` (``[seed, r, scenario]`` for a sampled scenario)
    ``.generate_state(2)`` read as one uint64. Stable across numpy versions (SeedSequence's
    hashing is specified) and independent of how many are asked for."""
    out = np.empty(replicates, dtype=np.uint64)
    for i in range(replicates):
        key = [seed, first + i] if scenario is None else [seed, first + i, scenario]
        lo, hi = np.random.SeedSequence(key).generate_state(2, dtype=np.uint32)
        out[i] = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)
    return out
