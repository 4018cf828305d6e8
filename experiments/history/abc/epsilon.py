"""The tolerance schedule: generation 0 takes the smallest tolerance that keeps a replay of
every particle kept; each later one the median distance of the replays the previous
population accepts (:func:`next_tolerance`)."""

from __future__ import annotations

import numpy as np

from .weighted import weighted_quantile


def first_tolerance(distances: np.ndarray) -> float:
    """The smallest tolerance at which every particle (row of ``distances``, particles x
    replicates) has a replay inside it."""
    return float(distances.min(axis=1).max())


def next_tolerance(distances: np.ndarray, weights: np.ndarray, tolerance: float, quantile: float = 0.5) -> float:
    """The next generation's tolerance: the ``quantile`` of the distances of the replays that
    the current ABC posterior accepts (each replay within ``tolerance`` of particle ``i`` weighs
    ``weights_i / share_i``: the joint posterior of parameters and replay)."""
    inside = distances <= tolerance
    share = inside.mean(axis=1)
    per_replay = np.where(inside, (weights / np.where(share > 0, share, 1.0))[:, None], 0.0)
    return weighted_quantile(distances.ravel(), per_replay.ravel(), quantile)
